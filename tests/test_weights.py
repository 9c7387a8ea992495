
import pandas as pd
import pytest
import torch

from epizoo.weights import FileRef, IntegrityError, WeightStore, file_digests, load_safetensors, save_safetensors


def test_mirror_finds_a_file_by_checksum_whatever_its_name(tmp_path):
    mirror = tmp_path / "mirror" / "deep" / "folder"
    mirror.mkdir(parents=True)
    (mirror / "renamed.bin").write_bytes(b"published weights")
    (mirror / "other.bin").write_bytes(b"something else!!!")
    digests = file_digests(mirror / "renamed.bin")
    store = WeightStore(cache=tmp_path / "cache", mirrors=[tmp_path / "mirror"], allow_download=False)
    ref = FileRef(url="https://example.org/weights.h5", md5=digests["md5"], bytes=17)
    assert store.fetch(ref) == mirror / "renamed.bin"
    assert store.fetch({"url": ref.url, "md5": ref.md5}) == mirror / "renamed.bin"


def test_absent_file_without_download_is_a_clear_error(tmp_path):
    store = WeightStore(cache=tmp_path, mirrors=[], allow_download=False)
    with pytest.raises(FileNotFoundError, match="EPIZOO_MIRROR"):
        store.fetch(FileRef(url="https://example.org/x.h5", md5="0" * 32))


def test_download_is_verified_and_cached(tmp_path):
    source = tmp_path / "upstream.bin"
    source.write_bytes(b"abc" * 1000)
    good = FileRef(url=source.as_uri(), **{k: v for k, v in file_digests(source).items()})
    store = WeightStore(cache=tmp_path / "cache", mirrors=[])
    cached = store.fetch(good)
    assert cached.read_bytes() == source.read_bytes() and str(tmp_path / "cache") in str(cached)
    source.unlink()
    assert store.fetch(good) == cached  # served from the cache now
    bad_source = tmp_path / "tampered.bin"
    bad_source.write_bytes(b"evil")
    with pytest.raises(IntegrityError):
        store.fetch(FileRef(url=bad_source.as_uri(), md5=good.md5))
    assert not list((tmp_path / "cache" / "files" / good.md5).glob("tampered*"))


def test_reference_needs_a_checksum():
    with pytest.raises(ValueError, match="neither md5 nor sha256"):
        FileRef(url="https://example.org/x")


def test_safetensors_round_trip_with_metadata_and_integrity(tmp_path):
    tensors = {"conv.weight": torch.randn(4, 3, 5), "bias": torch.arange(3.0)}
    sha = save_safetensors(tmp_path / "w.safetensors", tensors, {"config": {"k": 4}, "trained_on": "sim"})
    loaded, metadata = load_safetensors(tmp_path / "w.safetensors", sha)
    assert metadata == {"config": {"k": 4}, "trained_on": "sim"}
    for key in tensors:
        torch.testing.assert_close(loaded[key], tensors[key])
    data = bytearray((tmp_path / "w.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "w.safetensors").write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="expected"):
        load_safetensors(tmp_path / "w.safetensors", sha)


def test_shared_data_serves_as_mirror_for_published_factornet_files(mirror, tmp_path):
    manifest = pd.read_csv(mirror / "factornet" / "upstream_manifest.tsv", sep="\t")
    row = manifest[manifest["path"].str.endswith("FOXA1/onePeak_DGF/best_model.hdf5")].iloc[0]
    ref = FileRef(url=f"https://github.com/uci-cbcl/FactorNet/raw/master/{row['path']}",
                  md5=row["md5"], sha256=row["sha256"], bytes=int(row["bytes"]))
    store = WeightStore(cache=tmp_path / "cache", allow_download=False)
    assert store.fetch(ref) == mirror / "factornet" / row["path"]
