"""ChromDragoNN's data: the bin labels from peaks (>50% overlap), the mean-accessibility track, and
the dataloader's expression vector, mean lookup and errors (spec seed_003_chromdragonn.md §1, §7.1)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from epizoo.plugins.train.accessibility_bins import (genome_bins, mean_accessibility, peak_bin_labels,
                                                     read_label_matrix, write_mean_bigwig)
from zoo.ChromDragoNN.dataloader import CellTypeBins, SequenceBins, cell_expression


def _write(path, text):
    path.write_text(text)
    return path


def test_a_bin_is_accessible_when_more_than_half_of_it_lies_in_peaks(tmp_path):
    # bins of 200 bp every 50: [0,200) [50,250) [100,300) [150,350) [200,400) ... on a 600-bp chromosome
    peaks = _write(tmp_path / "a.bed", "chr1\t120\t300\nchr1\t300\t330\n")   # 120-330 covered (one run)
    other = _write(tmp_path / "b.bed", "chr1\t0\t101\n")
    half = _write(tmp_path / "h.bed", "chr1\t0\t100\n")
    labels = peak_bin_labels({"A": peaks, "B": other, "H": half}, {"chr1": 600, "chr2": 150})
    assert list(labels.bins["start"]) == [0, 50, 100, 150, 200, 250, 300, 350, 400]  # chr2 is shorter than a bin
    covered = [max(0, min(s + 200, 330) - max(s, 120)) for s in labels.bins["start"]]
    np.testing.assert_array_equal(labels.labels[:, 0], [c > 100 for c in covered])
    np.testing.assert_array_equal(labels.labels[:, 1], [1, 0, 0, 0, 0, 0, 0, 0, 0])  # 101 of 200 bp > half
    assert labels.labels[:, 2].sum() == 0                                            # exactly half is not
    np.testing.assert_array_equal(labels.columns(["B"])[:, 0], labels.labels[:, 1])
    with pytest.raises(ValueError, match="not in the genome"):
        peak_bin_labels({"A": _write(tmp_path / "c.bed", "chrX\t0\t500\n")}, {"chr1": 600})


def test_the_mean_track_gives_each_bin_its_mean_over_the_training_cells_at_its_centre(tmp_path):
    import pyBigWig

    sizes = {"chr1": 1000}
    bins = genome_bins(sizes)
    table = bins.assign(A=(bins["start"] < 300).astype(int), B=(bins["start"] % 100 == 0).astype(int), C=1)
    table.rename(columns={"chrom": "chr"}).to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    labels = read_label_matrix(tmp_path / "labels.tsv")
    means = mean_accessibility(labels, ["A", "B"])
    np.testing.assert_allclose(means, (table["A"] + table["B"]) / 2)
    path = write_mean_bigwig(tmp_path / "mean.bw", labels.bins, means, sizes)
    handle = pyBigWig.open(str(path))
    for start, mean in zip(labels.bins["start"], means):
        assert handle.values("chr1", start + 75, start + 125) == [pytest.approx(mean)] * 50


@pytest.fixture()
def expression(tmp_path):
    frame = pd.DataFrame({"gene": ["GATA1", "CTCF", "OTHER"], "K562": [4.0, 9.0, 1.0], "HepG2": [0.0, 16.0, 2.0]})
    return _write(tmp_path / "rna.tsv", frame.to_csv(sep="\t", index=False))


def test_the_expression_vector_is_the_models_tfs_in_its_order_transformed(expression):
    np.testing.assert_allclose(cell_expression(expression, "K562", ["CTCF", "GATA1"]), np.arcsinh([9.0, 4.0]), rtol=1e-6)
    np.testing.assert_allclose(cell_expression(expression, "HepG2", ["CTCF"], "log1p"), np.log1p([16.0]), rtol=1e-6)
    with pytest.raises(KeyError, match="no column 'GM12878'.*K562, HepG2"):
        cell_expression(expression, "GM12878", ["CTCF"])
    with pytest.raises(KeyError, match="lacks 2 of the model's 3 TFs: SPI1, REST"):
        cell_expression(expression, "K562", ["CTCF", "SPI1", "REST"])


def test_the_dataloader_serves_sequence_expression_and_the_bins_mean(tmp_path, expression):
    sizes = {"chr1": 3000}
    rng = np.random.default_rng(0)
    _write(tmp_path / "g.fa", ">chr1\n" + "".join(rng.choice(list("ACGT"), 3000)) + "\n")
    bins = genome_bins(sizes)
    means = (bins["start"].to_numpy() / 3000).astype(np.float32)
    write_mean_bigwig(tmp_path / "mean.bw", bins, means, sizes)
    _write(tmp_path / "tfs.txt", "GATA1\nCTCF\n")
    _write(tmp_path / "bins.bed", "chr1\t1000\t1200\nchr1\t1500\t1700\n")
    loader = CellTypeBins(tmp_path / "bins.bed", tmp_path / "g.fa", expression, "K562", tmp_path / "tfs.txt",
                          tmp_path / "mean.bw")
    batch = next(loader.batch_iter(batch_size=2))
    assert batch["inputs"]["seq"].shape == (2, 1000, 4)
    np.testing.assert_allclose(batch["inputs"]["expression"], np.arcsinh([[4.0, 9.0]] * 2), rtol=1e-6)
    np.testing.assert_allclose(batch["inputs"]["mean_accessibility"][:, 0], [1000 / 3000, 1500 / 3000], rtol=1e-6)
    assert list(batch["metadata"]["ranges"]["start"]) == [600, 1100]  # 1,000 bp centred on each bin
    sequence_only = next(SequenceBins(tmp_path / "bins.bed", tmp_path / "g.fa").batch_iter(batch_size=2))
    np.testing.assert_array_equal(sequence_only["inputs"]["seq"], batch["inputs"]["seq"])
    assert set(sequence_only["inputs"]) == {"seq"}


@pytest.mark.parametrize("damage, where", [
    (lambda t: t.drop(index=3), r"data row 4 \(chr1:200\)"),          # a gap in the ladder: 100 -> 200
    (lambda t: t.assign(end=t["start"] + 150), "data row 1"),      # 150-bp bins
    (lambda t: pd.concat([t.iloc[4:], t.iloc[:4]]), "each chromosome's in order and together"),
])
def test_a_label_matrix_that_is_not_the_full_bin_ladder_is_refused(tmp_path, damage, where):
    bins = genome_bins({"chr1": 600, "chr2": 600})
    table = damage(bins.assign(A=1)).rename(columns={"chrom": "chr"})
    table.to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=where):
        read_label_matrix(tmp_path / "labels.tsv")
