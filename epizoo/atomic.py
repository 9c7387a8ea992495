"""Atomic file output: write beside the target under a temporary name, then rename.

A crash or an error leaves the previous file (or none) under the final name, never a truncated
one. Every epizoo output goes through `atomic_path`. A temporary name records the host and the
process that made it (``.<name>.<host>.<pid>-<random>.tmp``), so that after a ``kill -9`` the next
successful write of the same target removes what dead processes of this host left behind.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOST = socket.gethostname().replace(os.sep, "_")


class NotWritableError(PermissionError):
    """An output folder that cannot be written (read-only, or not a folder)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    The file gets the permissions a new file would (0666 minus the umask), not the private
    0600 of temporary files. On an exception the temporary file is removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=".tmp")
    except OSError as error:
        raise _not_writable(path, error) from None
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        remove_stale_temporaries(path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; when the block succeeds it replaces ``path``
    (an older folder of that name is removed). On an exception the temporary folder is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=_prefix(path), suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
        remove_stale_temporaries(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _not_writable(path: Path, error: OSError) -> NotWritableError:
    from .cache import cache_dir_setting

    cache = cache_dir_setting()
    where = f"cannot write {path}: {error.strerror or error}"
    if cache in path.parents:
        return NotWritableError(f"{where}. EPIZOO_CACHE ({cache}) must be writable: epizoo keeps converted "
                                "weights and indexes there. Fix: set EPIZOO_CACHE to a writable folder.")
    return NotWritableError(f"{where}. Fix: write the output to a folder you can write to.")


def _prefix(path: Path) -> str:
    return f".{path.name}.{_HOST}.{os.getpid()}-"


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files and folders of ``path`` left by dead processes of this host
    (killed before they could clean up); those of live processes, or of other hosts sharing the
    folder, are kept. Returns what was removed."""
    path = Path(path)
    start = f".{path.name}.{_HOST}."
    removed = []
    for sibling in path.parent.glob(glob.escape(start) + "*-*.tmp"):
        pid = sibling.name[len(start):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)
        removed.append(sibling)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
