"""Progress bars: tqdm, shown only on a terminal and never with ``--quiet``."""
from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm


def progress(iterable: Iterable | None = None, quiet: bool = False, **kwargs) -> tqdm:
    """A tqdm bar on stderr, disabled when stderr is not a TTY or ``quiet`` is set."""
    return tqdm(iterable, disable=quiet or not sys.stderr.isatty(), **kwargs)
