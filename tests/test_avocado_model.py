"""Avocado's architecture (spec §2), its sharded genome factors and the position layout."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from epizoo.dataloaders.positions import OutsideLayoutError, PositionLayout
from epizoo.sharded import RowsNotStoredError, ShardedTables, write_sharded
from epizoo.weights import IntegrityError
from epizoo.zoo.Avocado.architecture import Avocado, DotProduct, PositionError, table_rows


def test_the_paper_sizes_give_its_parameter_counts():
    model = Avocado(127, 24, 2_000)  # §2.1: 127 cell types, 24 assays
    network = sum(p.numel() for name, p in model.named_parameters() if name.startswith(("dense", "output")))
    assert network == 5_015_553  # 398 x 2048 + 2048, 2048 x 2048 + 2048, 2048 + 1
    assert model.celltype_embedding.weight.shape == (127, 32) and model.assay_embedding.weight.shape == (24, 256)
    tables = {name: t.weight.shape for name, t in model.genome.tables.items()}
    assert tables == {"genome_25bp": (2000, 25), "genome_250bp": (201, 40), "genome_5kbp": (11, 45)}
    # hg19 chr1-22 (§1.1): the 25-bp positions and the authors' table sizes
    assert (table_rows(115_241_319, 10), table_rows(115_241_319, 200)) == (11_524_132, 576_207)


def test_a_position_reads_its_rows_at_every_scale_and_positions_outside_are_refused():
    torch.manual_seed(0)
    model = Avocado(3, 2, 1_000, celltype_factors=2, assay_factors=2, genome_factors=(3, 4, 5), n_nodes=8)
    tables = model.genome.tables
    latent = model.latent(torch.tensor([0, 9, 10, 199, 200, 999]))
    for row, position in enumerate([0, 9, 10, 199, 200, 999]):
        expected = torch.cat([tables["genome_25bp"].weight[position], tables["genome_250bp"].weight[position // 10],
                              tables["genome_5kbp"].weight[position // 200]])
        assert torch.equal(latent[row], expected)
    assert torch.equal(latent[1, 3:7], latent[0, 3:7]) and not torch.equal(latent[2, 3:7], latent[1, 3:7])
    with pytest.raises(PositionError, match="position 1000 is outside"):
        model(torch.tensor([0]), torch.tensor([0]), torch.tensor([1000]))


def test_embeddings_start_uniform_in_half_and_dense_layers_glorot():
    torch.manual_seed(0)
    model = Avocado(50, 50, 40_000, n_nodes=64)
    weights = model.genome.tables["genome_25bp"].weight.detach()
    assert -0.5 <= float(weights.min()) < -0.49 and 0.49 < float(weights.max()) <= 0.5
    first = model.dense[0].weight.detach()
    bound = (6 / sum(first.shape)) ** 0.5
    assert float(first.abs().max()) <= bound and float(first.abs().max()) > 0.95 * bound
    assert float(model.dense[0].bias.abs().max()) == 0


def test_the_dot_product_baseline_is_the_sum_of_the_factors_products_and_biases():
    model = DotProduct(2, 2, 400, factors=3)
    c, a, g = (t.weight for t in (model.celltype_embedding, model.assay_embedding, model.genome.tables["genome_25bp"]))
    got = model(torch.tensor([1]), torch.tensor([0]), torch.tensor([7]))
    expected = (c[1, :3] * a[0, :3] * g[7, :3]).sum() + c[1, 3] + a[0, 3] + g[7, 3]
    assert float(got) == pytest.approx(float(expected), abs=1e-6)


def _tables(n: int = 1_000) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {"a": torch.randn(n, 3, generator=generator), "b": torch.randn(n // 10 + 1, 2, generator=generator)}


def _blocks(n: int, step: int) -> list[dict]:
    return [{"a": (s, min(s + step, n)), "b": (s // 10, min(s + step, n) // 10 if s + step < n else n // 10 + 1)}
            for s in range(0, n, step)]


def test_sharded_tables_read_back_exactly_and_only_the_shards_they_need(tmp_path):
    tables = _tables()
    sha = write_sharded(tmp_path, tables, _blocks(1_000, 400))
    store = ShardedTables(tmp_path / "manifest.json", sha)
    index = np.array([[999, 0], [401, 400]])
    assert torch.equal(store.rows("a", index), tables["a"][torch.from_numpy(index)])
    assert torch.equal(store.table("b"), tables["b"])
    # a corrupt shard fails when (and only when) its rows are read
    corrupt = tmp_path / "shard-00002.safetensors"
    corrupt.write_bytes(corrupt.read_bytes()[:-1] + b"\x00")
    fresh = ShardedTables(tmp_path / "manifest.json", sha)
    assert torch.equal(fresh.rows("a", np.array([5, 500])), tables["a"][[5, 500]])
    with pytest.raises(IntegrityError, match="shard-00002"):
        fresh.rows("a", np.array([900]))
    with pytest.raises(IntegrityError, match="manifest"):
        ShardedTables(tmp_path / "manifest.json", "0" * 64)


def test_a_subset_of_a_table_can_be_stored_and_rows_outside_it_are_named(tmp_path):
    tables = _tables()
    sha = write_sharded(tmp_path, tables, _blocks(1_000, 400)[:1])
    store = ShardedTables(tmp_path / "manifest.json", sha)
    assert store.n_rows("a") == 1_000 and torch.equal(store.rows("a", np.arange(400)), tables["a"][:400])
    with pytest.raises(RowsNotStoredError, match="row 400 of 'a' is not stored .* rows 0-399 of 1000"):
        store.rows("a", np.array([3, 400]))
    with pytest.raises(ValueError, match="stored once"):
        write_sharded(tmp_path / "x", tables, [{"a": (0, 500), "b": (0, 50)}, {"a": (400, 1000), "b": (50, 101)}])


def test_a_layout_maps_regions_to_positions_and_back(tmp_path):
    bed = tmp_path / "layout.bed"
    bed.write_text("chr2\t1000\t1510\nchr1\t0\t100\n")  # 20 bins (a partial 10 bp dropped), then 4
    layout = PositionLayout.from_bed(bed)
    assert layout.n_positions == 24 and layout.chrom_sizes() == {"chr2": 1500, "chr1": 100}
    regions = pd.DataFrame({"chrom": ["chr2", "1", "chr2"], "start": [1010, 30, 1000], "end": [1060, 31, 1025],
                            "line": [1, 2, 3]})
    found = layout.positions(regions, "query.bed")
    assert [list(p) for p in found] == [[0, 1, 2], [21], [0]]
    chroms, starts, ends = layout.locate(np.array([0, 19, 20, 23]))
    assert list(chroms) == ["chr2", "chr2", "chr1", "chr1"] and list(starts) == [1000, 1475, 0, 75]
    with pytest.raises(OutsideLayoutError, match="query.bed, line 7: chr1:90-110"):
        layout.positions(pd.DataFrame({"chrom": ["chr1"], "start": [90], "end": [110], "line": [7]}), "query.bed")
    index = PositionLayout.indices(40)
    assert [list(p) for p in index.positions(pd.DataFrame({"chrom": ["positions"], "start": [250], "end": [300]}))] == \
        [[10, 11]]


def test_imputation_metrics_follow_the_papers_definitions():
    from epizoo.plugins.evaluate.imputation import imputation_metrics, region_mse

    observed = np.zeros(1_000)
    observed[:10] = 5.0                      # the top 1% of observed signal: ten peaks
    imputed = np.zeros(1_000)
    imputed[5:15] = 4.0                      # half of them found, five false peaks, each off by 1 or 4
    metrics = imputation_metrics(observed, imputed)
    assert metrics["mse"] == pytest.approx((5 * 25 + 5 * 1 + 5 * 16) / 1_000)
    assert metrics["mse_1obs"] == pytest.approx((5 * 25 + 5 * 1) / 10)   # over positions 0-9
    assert metrics["mse_1imp"] == pytest.approx((5 * 1 + 5 * 16) / 10)   # over positions 5-14
    assert metrics["pearson"] == pytest.approx(np.corrcoef(observed, imputed)[0, 1])
    assert region_mse(observed, imputed, np.arange(1_000) < 5) == pytest.approx(25.0)


def test_bigwig_tracks_are_averaged_over_the_layouts_bins_and_transformed(tmp_path):
    import pyBigWig

    from epizoo.plugins.train.track_matrix import load_tracks

    signal = {"chr1": np.arange(1_000, dtype=np.float64) / 10, "chr2": np.full(500, 2.0)}
    for name in ("E003.H3K4me3.pval.bw", "E017.H3K4me3.pval.bw"):
        with pyBigWig.open(str(tmp_path / name), "w") as handle:
            handle.addHeader([("chr1", 1_000), ("chr2", 500)])
            for chrom, values in signal.items():
                handle.addEntries(chrom, 0, values=values.tolist(), span=1, step=1)
    layout_file = tmp_path / "layout.bed"
    layout_file.write_text("chr2\t100\t160\nchr1\t50\t100\n")  # 2 bins (10 bp left over), then 2
    layout = PositionLayout.from_bed(layout_file)
    matrix = load_tracks([tmp_path / "E003.H3K4me3.pval.bw", tmp_path / "E017.H3K4me3.pval.bw"], layout,
                         "arcsinh", cache=tmp_path / "cache")
    expected = np.arcsinh([2.0, 2.0, np.arange(50, 75).mean() / 10, np.arange(75, 100).mean() / 10])
    assert matrix.names == ["E003.H3K4me3", "E017.H3K4me3"]
    np.testing.assert_allclose(matrix.column("E017.H3K4me3"), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="give data.layout"):
        load_tracks([tmp_path / "E003.H3K4me3.pval.bw"], None, cache=tmp_path / "cache")
    with pytest.raises(ValueError, match="named <celltype>.<assay>.<suffix>"):
        load_tracks([tmp_path / "layout.bed"], layout, cache=tmp_path / "cache")


def test_genome_factors_shard_by_64000_positions_at_every_scale_and_a_subset_refuses_the_rest(tmp_path):
    from epizoo.zoo.Avocado.architecture import SCALES
    from epizoo.zoo.Avocado.entries import write_genome_factors

    n = 150_123  # three shards, the last partial; n % 200 != 0
    model = Avocado(2, 2, n, celltype_factors=2, assay_factors=2, genome_factors=(2, 2, 2), n_nodes=4)
    tables = {name: table.weight.detach() for name, table in model.genome.tables.items()}
    sha = write_genome_factors(tmp_path / "all", tables, n)
    store = ShardedTables(tmp_path / "all" / "manifest.json", sha)
    assert [shard["rows"]["genome_5kbp"] for shard in store.shards] == [[0, 320], [320, 640], [640, 751]]
    assert all(torch.equal(store.table(name), tables[name]) for name in SCALES)
    subset = write_genome_factors(tmp_path / "part", tables, n, positions=(70_000, 80_000), dtype=torch.float16)
    stored = Avocado(2, 2, n, celltype_factors=2, assay_factors=2, genome_factors=(2, 2, 2), n_nodes=4,
                     genome="stored")
    stored.genome.attach(ShardedTables(tmp_path / "part" / "manifest.json", subset))
    assert stored.genome.stored == (64_000, 128_000)  # whole shards
    positions = torch.tensor([64_000, 127_999])
    torch.testing.assert_close(stored.latent(positions), model.latent(positions).detach(), atol=1e-3, rtol=1e-3)
    with pytest.raises(PositionError, match="position 128000's genome factors are not shipped.*64000 to 127999"):
        stored.latent(torch.tensor([100_000, 128_000]))
