"""``epizoo info``: versions and the folders epizoo uses."""
from __future__ import annotations

import argparse
import platform

from epizoo import __version__
from epizoo.cache import cache_dir, mirror_dirs
from epizoo.zoo import ZOO_ROOT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    import kipoi
    import torch

    print(f"epizoo   {__version__}")
    print(f"python   {platform.python_version()}")
    print(f"torch    {torch.__version__} (cuda: {torch.cuda.is_available()})")
    print(f"kipoi    {kipoi.__version__}")
    print(f"zoo      {ZOO_ROOT}")
    print(f"cache    {cache_dir()}  (EPIZOO_CACHE)")
    print(f"mirrors  {', '.join(map(str, mirror_dirs())) or '-'}  (EPIZOO_MIRROR)")
    return 0
