"""The weights store: checksummed references, an offline mirror, a cache, and safetensors I/O.

A published file is referenced by a `FileRef` (``url`` + ``md5``, and where known ``sha256`` and
``bytes``). `WeightStore.fetch` returns a local path to a verified copy, trying in order:

1. the cache (``EPIZOO_CACHE``), where earlier downloads are kept under their checksum;
2. the offline mirrors (``EPIZOO_MIRROR``): any file there with the right checksum, whatever its
   path or name (the mirror is indexed by size first, so only same-sized files are hashed);
3. the URL, downloaded to a temporary file, verified, then moved into the cache.

Model weights are stored as safetensors, never pickles. `save_safetensors` writes atomically and
returns the file's sha256; `load_safetensors` checks that sha256 on every load.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .atomic import NotWritableError, atomic_path, write_text
from .cache import cache_dir, cache_dir_setting, mirror_dirs

logger = logging.getLogger(__name__)
_CHUNK = 1 << 20
#: safetensors header key under which epizoo stores a file's provenance (one JSON object)
METADATA_KEY = "epizoo"


class IntegrityError(ValueError):
    """A file's checksum differs from the one its reference promises."""


@dataclass(frozen=True)
class FileRef:
    """A published file: where it lives and what it must hash to.

    At least one of ``md5`` and ``sha256`` is required; both are checked when both are given.
    """

    url: str | None = None
    md5: str | None = None
    sha256: str | None = None
    bytes: int | None = None

    def __post_init__(self) -> None:
        if not (self.md5 or self.sha256):
            raise ValueError(f"reference to {self.url or 'a file'} has neither md5 nor sha256")

    @classmethod
    def from_any(cls, obj: Any) -> "FileRef":
        """Build from a mapping (``url``, ``md5``, ``sha256``, ``bytes``) or Kipoi ``RemoteFile``."""
        if isinstance(obj, FileRef):
            return obj
        if not isinstance(obj, Mapping):
            obj = {key: getattr(obj, key, None) for key in ("url", "md5", "sha256", "bytes")}
        size = obj.get("bytes")
        return cls(
            url=obj.get("url") or None,
            md5=obj.get("md5") or None,
            sha256=obj.get("sha256") or None,
            bytes=int(size) if size not in (None, "") else None,
        )

    @property
    def name(self) -> str:
        """File name from the URL's path (``file`` when there is none)."""
        return Path(urllib.parse.urlparse(self.url).path).name if self.url else "file"

    @property
    def key(self) -> str:
        return self.sha256 or self.md5

    def matches(self, path: Path) -> bool:
        """True when ``path`` has this reference's size and checksums."""
        if self.bytes is not None and path.stat().st_size != self.bytes:
            return False
        digests = file_digests(path)
        return (not self.md5 or digests["md5"] == self.md5) and (
            not self.sha256 or digests["sha256"] == self.sha256
        )


def file_digests(path: str | Path) -> dict[str, str]:
    """md5 and sha256 of a file, read once."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def sha256sum(path: str | Path) -> str:
    """sha256 of a file."""
    return file_digests(path)["sha256"]


def file_record(path: str | Path) -> dict:
    """``{file, sha256, bytes}``: a file named by its name and checksum for provenance, never by a
    path of this machine (the size lets a mirror be searched without hashing every file)."""
    path = Path(path)
    return {"file": path.name, "sha256": sha256sum(path), "bytes": path.stat().st_size}


class WeightStore:
    """Find, download and verify published files.

    Parameters
    ----------
    cache
        Cache folder. Default: `epizoo.cache.cache_dir`.
    mirrors
        Offline mirror folders. Default: `epizoo.cache.mirror_dirs` (``EPIZOO_MIRROR``).
    allow_download
        Whether a file absent from cache and mirrors may be downloaded.
    """

    def __init__(
        self,
        cache: str | Path | None = None,
        mirrors: list[str | Path] | None = None,
        allow_download: bool = True,
    ) -> None:
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.mirrors = [Path(m) for m in mirrors] if mirrors is not None else mirror_dirs()
        self.allow_download = allow_download

    def fetch(self, ref: FileRef | Mapping) -> Path:
        """Local path to a verified copy of ``ref``.

        Raises
        ------
        FileNotFoundError
            When the file is in neither cache nor mirror and cannot be downloaded.
        IntegrityError
            When a download does not match its checksums.
        """
        ref = FileRef.from_any(ref)
        cached = self.cache / "files" / ref.key / ref.name
        if cached.exists():
            if ref.matches(cached):
                return cached
            cached.unlink()
            logger.warning("%s did not match its checksums (a corrupt copy): removed it, fetching %s again",
                           cached, ref.name)
        mirrored = self.find_in_mirrors(ref)
        if mirrored is not None:
            return mirrored
        if not (self.allow_download and ref.url):
            raise FileNotFoundError(self._not_found(ref))
        return self._download(ref, cached)

    def _not_found(self, ref: FileRef) -> str:
        """Why ``ref`` cannot be had offline."""
        wanted = f"md5 {ref.md5}" if ref.md5 else f"sha256 {ref.sha256}"
        return self._namesake(ref) or (
            f"{ref.name} ({wanted}) is not in the cache or in any mirror "
            f"({', '.join(map(str, self.mirrors)) or 'EPIZOO_MIRROR unset'}) and cannot be "
            "downloaded. Fix: set EPIZOO_MIRROR to a folder holding it, or allow network access.")

    def _namesake(self, ref: FileRef) -> str | None:
        """A message naming a mirror file called like ``ref`` but with other checksums, or None."""
        for mirror in self.mirrors:
            for candidate in _MirrorIndex(mirror, self.cache).named(ref.name):
                kind = "md5" if ref.md5 else "sha256"
                digests = file_digests(candidate)
                return (f"{candidate} in EPIZOO_MIRROR has the name of {ref.name} but {kind} {digests[kind]}, not "
                        f"{ref.md5 or ref.sha256} (another version of the file, or a corrupt copy). Fix: replace it "
                        f"with the published file{f' ({ref.url})' if ref.url else ''}.")
        return None

    def find_in_mirrors(self, ref: FileRef) -> Path | None:
        """A mirror file with ``ref``'s checksums, whatever its name, or None."""
        for mirror in self.mirrors:
            for candidate in _MirrorIndex(mirror, self.cache).candidates(ref):
                if ref.matches(candidate):
                    logger.info("using %s from mirror %s", ref.name, mirror)
                    return candidate
        return None

    def _download(self, ref: FileRef, target: Path) -> Path:
        logger.info("downloading %s", ref.url)
        with atomic_path(target) as tmp:
            try:
                with urllib.request.urlopen(ref.url, timeout=60) as response, open(tmp, "wb") as out:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
            except OSError as error:
                raise FileNotFoundError(self._namesake(ref) or (
                    f"could not download {ref.url}: {error}. Fix: check the network, or set "
                    "EPIZOO_MIRROR to a folder that holds the file.")) from None
            if not ref.matches(tmp):
                raise IntegrityError(
                    f"{ref.url} does not match its md5 {ref.md5} / sha256 {ref.sha256}; "
                    "the upstream file changed or the download was corrupted."
                )
        return target


class _MirrorIndex:
    """The files of a mirror folder grouped by size, remembered between runs in the cache."""

    def __init__(self, mirror: Path, cache: Path) -> None:
        self.mirror = mirror
        self.index_file = cache / "mirror-index" / (hashlib.sha256(str(mirror.resolve()).encode()).hexdigest()[:24] + ".json")

    def candidates(self, ref: FileRef) -> list[Path]:
        sizes = self._sizes()
        if ref.bytes is not None:
            return [Path(p) for p in sizes.get(str(ref.bytes), [])]
        return [Path(p) for paths in sizes.values() for p in paths]

    def named(self, name: str) -> list[Path]:
        """The mirror's files called ``name``."""
        return [Path(p) for paths in self._sizes().values() for p in paths if Path(p).name == name]

    def _sizes(self) -> dict[str, list[str]]:
        stamp = _tree_stamp(self.mirror)
        if self.index_file.exists():
            saved = json.loads(self.index_file.read_text())
            if saved.get("stamp") == stamp:
                return saved["sizes"]
        sizes: dict[str, list[str]] = {}
        for path in sorted(self.mirror.rglob("*")):
            if path.is_file():
                sizes.setdefault(str(path.stat().st_size), []).append(str(path))
        try:
            write_text(self.index_file, json.dumps({"stamp": stamp, "sizes": sizes}))
        except NotWritableError:  # a read-only cache: the index is only a speed-up
            logger.info("cannot save the mirror index in a read-only cache; it is rebuilt on each run")
        return sizes


def _tree_stamp(folder: Path) -> str:
    """Cheap fingerprint of a folder tree: its directories' modification times."""
    digest = hashlib.sha256()
    for root, dirs, _ in os.walk(folder):
        dirs.sort()
        digest.update(f"{root}:{os.stat(root).st_mtime_ns}".encode())
    return digest.hexdigest()


# -- safetensors -------------------------------------------------------------------------------
def save_safetensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any] | None = None
) -> str:
    """Write tensors and their provenance to ``path`` atomically; return the file's sha256.

    ``metadata`` (JSON-serialisable) is stored as one sorted JSON string under the header key
    ``epizoo``: safetensors keeps header metadata in a hash map whose order varies between
    processes, so several keys would make the same weights hash differently from run to run.
    """
    header = {METADATA_KEY: json.dumps(dict(metadata or {}), sort_keys=True)}
    contiguous = {key: tensor.detach().cpu().contiguous() for key, tensor in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(contiguous, str(tmp), metadata=header)
    return sha256sum(path)


def _decoded(header: Mapping[str, str]) -> dict[str, Any]:
    """Header metadata not written by epizoo: each value JSON-decoded where it is JSON."""
    decoded = {}
    for key, value in header.items():
        try:
            decoded[key] = json.loads(value)
        except ValueError:
            decoded[key] = value
    return decoded


def load_safetensors(
    path: str | Path, sha256: str | None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read tensors and metadata from a safetensors file after checking its sha256.

    Parameters
    ----------
    path
        The file.
    sha256
        Its expected sha256. Pass None only for files that were just written by this process.

    Raises
    ------
    IntegrityError
        When the file's sha256 differs.
    """
    path = Path(path)
    if sha256 is not None:
        actual = sha256sum(path)
        if actual != sha256:
            fix = ("delete it to have it fetched or converted again" if cache_dir_setting() in path.absolute().parents
                   else "it is the entry's own file: restore it (git checkout, or reinstall epizoo)")
            raise IntegrityError(f"{path} has sha256 {actual}, expected {sha256}: the file is corrupt or not the "
                                 f"one this entry was made with. Fix: {fix}.")
    tensors: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata() or {}
        metadata = json.loads(header[METADATA_KEY]) if METADATA_KEY in header else _decoded(header)
        for key in handle.keys():
            tensors[key] = handle.get_tensor(key)
    return tensors, metadata
