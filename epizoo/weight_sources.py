"""Resolve a zoo entry's ``weights`` specification to a verified safetensors file.

model.yaml ``args.weights`` takes one of three forms; the sha256 of the safetensors file is
checked on every load:

``{file: weights.safetensors, sha256: ...}``
    weights committed with the entry (path relative to the entry's folder);
``{download: {url: ..., md5: ...}, sha256: ...}``
    a published safetensors file, fetched through the `epizoo.weights.WeightStore`;
``{convert: <converter>, from: {<role>: {url: ..., md5: ...}, ...}[, sha256: ...]}``
    the authors' files, fetched through the store (checked against their md5) and converted on
    first load into the cache (see `epizoo.conversion.CONVERTERS`). The conversion records the
    sha256 of what it wrote beside it, and every later load checks it; an entry may also pin
    the sha256 (then a cached conversion that differs, e.g. after a converter change, is redone).

Kipoi turns any nested mapping with a ``url`` into a ``RemoteFile`` (keeping url and md5 only),
which is why the sha256 sits beside the reference rather than inside it; the sha256 and size of
published source files come from the zoo's ``files.tsv`` manifests.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from .cache import cache_dir
from .atomic import write_text
from .weights import FileRef, WeightStore, save_safetensors, sha256sum

logger = logging.getLogger(__name__)


def resolve_weights(spec: Mapping[str, Any], base_dir: str | Path = ".", store: WeightStore | None = None) -> tuple[Path, str]:
    """``(path, sha256)`` of the safetensors file that ``spec`` describes.

    Parameters
    ----------
    spec
        The ``weights`` mapping of a model.yaml (see the module docstring).
    base_dir
        Folder that relative ``file`` paths are relative to.
    store
        Where published files come from. Default: a `WeightStore` from the environment.
    """
    store = store or WeightStore()
    if "convert" in spec:
        path = converted_weights(spec["convert"], spec["from"], store, spec.get("sha256"))
        return path, spec.get("sha256") or _recorded_sha256(path)
    if "sha256" not in spec:
        raise ValueError(f"weights specification {dict(spec)} has no sha256 of the safetensors file")
    if "file" in spec:
        return Path(base_dir) / spec["file"], spec["sha256"]
    if "download" in spec:
        return store.fetch(with_manifest(spec["download"])), spec["sha256"]
    raise ValueError(f"weights specification needs one of file, download, convert; got {sorted(spec)}")


def converted_weights(
    converter: str, sources: Mapping[str, Any], store: WeightStore, sha256: str | None = None
) -> Path:
    """Cached safetensors converted from ``sources``.

    Converts when the cache has no copy, or one whose sha256 is neither the one recorded when it
    was written nor the entry's pinned ``sha256`` (a corrupt file, or a conversion by an older
    converter): that copy is removed, with a warning naming it.
    """
    from epizoo.conversion import get_converter

    refs = {role: with_manifest(ref) for role, ref in sources.items()}
    key = hashlib.sha256(
        json.dumps([converter, sorted((r, ref.md5 or ref.sha256) for r, ref in refs.items())]).encode()
    ).hexdigest()[:24]
    target = cache_dir() / "converted" / converter / key / "weights.safetensors"
    removed = _discard_if_stale(target, sha256) if target.exists() else None
    if target.exists():
        return target
    try:
        paths = {role: store.fetch(ref) for role, ref in refs.items()}
    except FileNotFoundError as error:
        if removed is None:
            raise
        raise FileNotFoundError(f"{removed}; converting again needs the published files, but {error}") from None
    logger.info("converting %s with %s", ", ".join(p.name for p in paths.values()), converter)
    config, state_dict = get_converter(converter)(paths)
    written = save_safetensors(target, state_dict, conversion_metadata(converter, config, refs))
    write_text(_sha256_file(target), written + "\n")
    return target


def _discard_if_stale(target: Path, pinned: str | None) -> str | None:
    """Remove a cached conversion whose sha256 is not the expected one; say what was done."""
    expected = pinned or _recorded_sha256(target, missing_ok=True)
    actual = sha256sum(target)
    if expected == actual:
        return None
    why = "pinned by the entry" if pinned else "recorded when it was converted"
    target.unlink()
    _sha256_file(target).unlink(missing_ok=True)
    message = (f"the cached conversion {target} had sha256 {actual[:16]}..., not the {str(expected)[:16]}... {why} "
               "(a corrupt file, or an older converter's): it was removed")
    logger.warning("%s; converting again", message)
    return message


def _sha256_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _recorded_sha256(path: Path, missing_ok: bool = False) -> str | None:
    """The sha256 recorded beside a converted file when it was written."""
    record = _sha256_file(path)
    if not record.exists():
        if missing_ok:
            return None
        raise FileNotFoundError(f"{path} has no recorded sha256 ({record}); delete it to convert again")
    return record.read_text().strip()


def conversion_metadata(converter: str, config: Mapping, refs: Mapping[str, FileRef]) -> dict:
    """Provenance stored in converted weights: what they were made from, and by which converter.

    No timestamps or package versions, so that a conversion is byte-reproducible and an entry can
    pin its sha256.
    """
    return {
        "config": dict(config),
        "converter": converter,
        "converted_from": {
            role: {"url": ref.url, "md5": ref.md5, "sha256": ref.sha256} for role, ref in sorted(refs.items())
        },
    }


def published_file(url: str, store: WeightStore | None = None) -> Path:
    """Local verified copy of a file listed by URL in a zoo ``files.tsv`` manifest."""
    row = _manifest().get(url)
    if row is None:
        raise ValueError(f"{url} is not listed in any files.tsv of the zoo, so it has no checksum")
    return (store or WeightStore()).fetch(with_manifest({"url": url, "md5": row["md5"], "sha256": row["sha256"]}))


def with_manifest(ref: Any) -> FileRef:
    """A `FileRef` completed (sha256, size) from the zoo's ``files.tsv`` manifests when listed."""
    ref = FileRef.from_any(ref)
    row = _manifest().get(ref.md5 or "") or _manifest().get(ref.sha256 or "")
    if row is None:
        return ref
    return FileRef(
        url=ref.url or row["url"] or None,
        md5=ref.md5 or row["md5"] or None,
        sha256=ref.sha256 or row["sha256"] or None,
        bytes=ref.bytes or (int(row["bytes"]) if row["bytes"] else None),
    )


@lru_cache(maxsize=1)
def _manifest() -> dict[str, dict]:
    """Rows of every ``files.tsv`` under the zoo, keyed by md5, by sha256 and by URL."""
    from epizoo.zoo import ZOO_ROOT

    rows: dict[str, dict] = {}
    for path in sorted(ZOO_ROOT.rglob("files.tsv")):
        table = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
        for row in table.to_dict("records"):
            for key in (row["md5"], row["sha256"], row["url"]):
                if key:
                    rows[key] = row
    return rows
