"""Where epizoo keeps its files: the cache, and the offline mirrors searched before a download.

* ``EPIZOO_CACHE``: downloaded and converted weights, FASTA indexes, the mirror index.
  Default: ``$XDG_CACHE_HOME/epizoo`` (``~/.cache/epizoo``).
* ``EPIZOO_MIRROR``: one or more folders (``os.pathsep``-separated) holding published files
  under any path; a file is found there by its checksum (see `epizoo.weights`).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir_setting() -> Path:
    """The cache folder that the environment names (not created)."""
    root = os.environ.get("EPIZOO_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = os.path.join(xdg, "epizoo")
    return Path(root).expanduser().absolute()


def cache_dir() -> Path:
    """The cache folder, created on first use."""
    path = cache_dir_setting()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        from .atomic import NotWritableError

        raise NotWritableError(f"EPIZOO_CACHE ({path}) cannot be created: {error.strerror or error}. "
                               "Fix: set EPIZOO_CACHE to a writable folder.") from None
    return path


def mirror_dirs() -> list[Path]:
    """The offline mirror folders named by ``EPIZOO_MIRROR`` that exist."""
    value = os.environ.get("EPIZOO_MIRROR", "")
    folders = [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]
    return [folder for folder in folders if folder.is_dir()]


def cache_file_for(path: Path, folder: str, suffix: str = "") -> Path:
    """The cache's file in ``folder`` made from ``path`` as it is now (an index of it, a plain copy):
    named by a hash of its resolved path, size and modification time, so that a changed file
    gets a new one."""
    stat = path.stat()
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    return cache_dir() / folder / (hashlib.sha256(key).hexdigest()[:24] + suffix)
