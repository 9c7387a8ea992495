"""Novakovsky et al. 2021: the CNN, weight transfer, the binding matrix, and the training recipe."""
import gzip

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from epizoo.plugins.train.binding_matrix import load_binding_matrix, region_runs, runs_to_indices
from epizoo.plugins.train.config import ConfigError
from epizoo.plugins.train.runs import load_config
from epizoo.plugins.train.data import Samples, WindowBatches
from epizoo.plugins.train.recipes.tftransfer import TFTransferRecipe
from epizoo.plugins.train.trainer import train
from epizoo.zoo.TFTransfer import TFBindingCNN, transfer_weights
from epizoo.zoo.TFTransfer.dataloader import TFBindingWindows, TFBindingWindows500

from epizoo.weights import load_safetensors


@pytest.fixture(scope="module")
def tf_data(shared_data):
    return shared_data / "tf_binding"


@pytest.fixture(scope="module")
def matrix(tf_data):
    return load_binding_matrix(tf_data / "labels.npz", tf_data / "sequences.200bp.chr21_chr22_chrY.fa.gz")


def write_config(path, tf_data, **sections):
    config = {"recipe": "tftransfer", "seed": 3,
              "data": {"labels": str(tf_data / "labels.npz"),
                       "sequences": str(tf_data / "sequences.200bp.chr21_chr22_chrY.fa.gz"),
                       "tasks": ["JUND"], "chroms": ["chr22"], "max_positives": 60},
              "training": {"max_epochs": 1}}
    for section, values in sections.items():
        config[section].update(values)
    path.write_text(yaml.safe_dump(config))
    return path


# -- architecture -------------------------------------------------------------------------------


@pytest.mark.parametrize("n_tasks, parameters", [(1, 2_316_101), (5, 2_320_105), (50, 2_365_150)])
def test_parameter_counts_are_the_papers(n_tasks, parameters):
    # spec §2.1: derived counts of the paper's layer list, BN affine included
    assert sum(p.numel() for p in TFBindingCNN(n_tasks).parameters()) == parameters


@pytest.mark.parametrize("seq_len, flatten", [(200, 1000), (500, 3200), (1000, 6800)])
def test_flatten_size_follows_the_input_length(seq_len, flatten):
    model = TFBindingCNN(2, seq_len)
    assert model.flatten_size == flatten
    x = torch.rand(3, 4, seq_len)
    assert torch.allclose(model(x), torch.sigmoid(model.logits(x)))
    assert model(x).shape == (3, 2)


def test_transfer_copies_all_but_the_output_with_batch_norm_statistics():
    source = TFBindingCNN(5)
    with torch.no_grad():
        for module in source.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_()
    target = TFBindingCNN(1)
    fresh_output = target.output.weight.clone()
    copied = transfer_weights(source.state_dict(), target)
    state = target.state_dict()
    for name, value in source.state_dict().items():
        if name.startswith("output."):
            assert name not in copied
        else:
            assert torch.equal(state[name], value), name
    assert torch.equal(target.output.weight, fresh_output) and target.output.weight.shape == (1, 1000)


def test_conv1_transfer_and_frozen_convolutions():
    source, target = TFBindingCNN(5), TFBindingCNN(1)
    before = target.conv2.weight.clone()
    copied = transfer_weights(source.state_dict(), target, mode="conv1", freeze_conv=True)
    assert {n.split(".")[0] for n in copied} == {"conv1", "bn1"}
    assert torch.equal(target.conv1.weight, source.conv1.weight) and torch.equal(target.conv2.weight, before)
    frozen = {n for n, p in target.named_parameters() if not p.requires_grad}
    assert frozen == {f"{layer}.{p}" for layer in ("conv1", "conv2", "conv3", "bn1", "bn2", "bn3") for p in ("weight", "bias")}
    with pytest.raises(ValueError, match="do not fit"):
        transfer_weights(TFBindingCNN(5, 500).state_dict(), TFBindingCNN(1))


# -- the binding matrix -------------------------------------------------------------------------


def test_matrix_reads_labels_and_sequences_in_step(matrix, tf_data):
    assert matrix.labels["sparse"].shape == (53_274, 163) and len(matrix.tfs) == 163
    assert matrix.regions["has_n"].sum() == 6  # the data README: 2 per chromosome
    genome = matrix.genome()
    row = 30_000
    sequence = genome.sequence(matrix.regions["contig"][row], 0, 200)
    assert matrix.regions["gc"][row] == pytest.approx((sequence.count("G") + sequence.count("C")) / 200)
    # README: both variants have the same ones, and sparse 0 implies less-sparse 0
    assert ((matrix.labels["sparse"] == 1) == (matrix.labels["less_sparse"] == 1)).all()
    assert (matrix.labels["less_sparse"][matrix.labels["sparse"] == 0] == 0).all()


def test_sequences_out_of_label_order_are_refused_with_the_record(tmp_path, tf_data):
    with gzip.open(tf_data / "sequences.200bp.chr21_chr22_chrY.fa.gz", "rt") as handle:
        lines = handle.read().splitlines()
    lines[2:4], lines[4:6] = lines[4:6], lines[2:4]  # swap records 2 and 3
    bad = tmp_path / "swapped.fa"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"swapped.fa, record 2 .*label row 1"):
        load_binding_matrix(tf_data / "labels.npz", bad)


def test_individual_sample_is_balanced_and_gc_matched(matrix):
    rows = matrix.usable_rows(["chr22"])
    chosen, targets = matrix.balanced_rows("MAX", rows, rng=1)
    assert targets.sum() == 974 == len(targets) - targets.sum()  # every chr22 MAX positive
    assert (matrix.column("MAX")[chosen] == targets).all() and np.isin(chosen, rows).all()
    gc = matrix.regions["gc"].to_numpy()

    def histogram(rows):  # the authors' 10 bins of 10% GC
        return np.bincount(np.clip(np.floor(gc[rows] * 10).astype(int), 0, 9), minlength=10)

    positives, negatives = histogram(chosen[targets == 1]), histogram(chosen[targets == 0])
    all_negatives = histogram(rows[matrix.column("MAX")[rows] == 0])
    # matched bin by bin wherever unbound regions suffice; the unbalanced pool is far from it
    assert (positives == np.minimum(negatives, all_negatives)).all() or (positives == negatives).all()
    assert np.abs(positives / positives.sum() - all_negatives / all_negatives.sum()).sum() > 0.2
    few, few_targets = matrix.balanced_rows("MAX", rows, rng=1, max_positives=50)
    assert few_targets.sum() == 50 and len(few) == 100


def test_multi_model_regions_are_resolved_for_every_task(matrix):
    tasks = ["MYC", "REST", "MAX", "GABPA", "JUND"]
    rows = matrix.resolved_rows(tasks, "less_sparse", matrix.usable_rows(["chr21"]))
    assert len(rows) == 8_371  # the data README's 8,372, less a region holding N
    assert (matrix.labels["less_sparse"][np.ix_(rows, [matrix.tf_index(t) for t in tasks])] >= 0).all()


def test_region_runs_round_trip():
    values = np.array([5, 3, 4, 10, 11, 20])
    assert region_runs(values) == [[3, 5], [10, 11], [20, 20]]
    assert runs_to_indices(region_runs(values)).tolist() == [3, 4, 5, 10, 11, 20]


# -- dataloader and samples ---------------------------------------------------------------------


def test_dataloader_centres_regions_channels_first(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">c\n" + "A" * 300 + "C" * 10 + "N" * 10 + "G" * 680 + "\n")
    bed = tmp_path / "r.bed"
    bed.write_text("c\t300\t320\n")
    inputs = next(TFBindingWindows(bed, fasta).batch_iter(batch_size=4))["inputs"]["seq"]
    assert inputs.shape == (1, 4, 200)
    window = inputs[0]                                    # 310 - 100 ... 310 + 100
    assert (window[:, :90] == np.array([[1], [0], [0], [0]])).all()
    assert (window[:, 90:100] == np.array([[0], [1], [0], [0]])).all()
    assert (window[:, 100:110] == 0.25).all()             # N, as the authors' dna_one_hot
    assert TFBindingWindows500(None, fasta).width == 500


def test_reverse_complement_samples_are_served_reversed(matrix):
    builder = TFBindingWindows(None, matrix.genome())
    contig = matrix.regions["contig"][0]
    windows = pd.DataFrame({"source": 0, "chrom": [contig, contig], "start": 0, "reverse": [False, True]})
    inputs, _, _ = WindowBatches([builder], Samples(windows, np.ones((2, 1), np.float32)), batch_size=2)[0]
    forward, reverse = inputs["seq"][0], inputs["seq"][1]
    assert torch.equal(reverse, forward.flip(0).flip(1))  # A<->T, C<->G rows; positions reversed


# -- the recipe ---------------------------------------------------------------------------------


def test_recipe_adds_reverse_complements_to_training_and_validation_only(tmp_path, tf_data):
    run = load_config(write_config(tmp_path / "c.yaml", tf_data))
    prepared = TFTransferRecipe().prepare(run)
    train_samples = prepared.train_epoch(0)
    assert len(train_samples) == 2 * 96 and train_samples.windows["reverse"].sum() == 96  # 80% of 120, twice
    assert prepared.valid.windows["reverse"].sum() == len(prepared.valid) // 2
    assert not prepared.test.windows["reverse"].any() and len(prepared.test) == 12
    regions = [set(s.windows["chrom"]) for s in (train_samples, prepared.valid, prepared.test)]
    assert not (regions[0] & regions[1]) and not (regions[0] & regions[2]) and not (regions[1] & regions[2])
    assert all(c.split("::")[1].startswith("chr22:") for c in regions[0])


def test_recipe_config_errors(tmp_path, tf_data):
    with pytest.raises(ConfigError, match="NOSUCHTF"):
        TFTransferRecipe().prepare(load_config(write_config(tmp_path / "a.yaml", tf_data, data={"tasks": ["NOSUCHTF"]})))
    with pytest.raises(ConfigError, match="model.transfer"):
        load_config(_with_model(tmp_path / "b.yaml", tf_data, {"transfer": "everything"}))
    with pytest.raises(ConfigError, match="usable regions for SMAD3"):
        TFTransferRecipe().prepare(load_config(write_config(tmp_path / "d.yaml", tf_data, data={"tasks": ["SMAD3"]})))


def _with_model(path, tf_data, model):
    write_config(path, tf_data)
    config = yaml.safe_load(path.read_text())
    config["model"] = model
    path.write_text(yaml.safe_dump(config))
    return path


def test_pretrain_then_fine_tune_writes_checked_entries_without_shared_regions(tmp_path, tf_data):
    pre = train(write_config(tmp_path / "pre.yaml", tf_data,
                             data={"tasks": ["MAX", "MYC"], "chroms": ["chr22"], "max_regions": 400, "max_positives": None},
                             training={"weights_dtype": "float16"}),
                tmp_path / "pre", quiet=True, check=False)
    pre_state, pre_meta = load_safetensors(pre / "weights.safetensors", None)
    assert pre_state["conv1.weight"].dtype == torch.float16 and pre_meta["task_names"] == ["MAX", "MYC"]
    pre_regions = runs_to_indices(pre_meta["data"]["regions"])
    assert len(pre_regions) == 400

    config = _with_model(tmp_path / "fine.yaml", tf_data, {"pretrained": str(pre)})
    run = load_config(config, {"training.learning_rate": 3e-4})
    prepared = TFTransferRecipe().prepare(run)
    network = TFBindingCNN(1)
    prepared.initialise(network)
    assert torch.equal(network.fc2.weight, pre_state["fc2.weight"].float())
    used = np.concatenate([s.windows["chrom"].str.partition("::")[0].astype(int).to_numpy()
                           for s in (prepared.train_epoch(0), prepared.valid, prepared.test)])
    assert not np.isin(used, pre_regions).any()  # §1.6: no region of the pre-training is fine-tuned on

    fine = train(run, tmp_path / "fine", quiet=True, check=True)  # epizoo check runs kipoi test
    model_yaml = yaml.safe_load((fine / "model.yaml").read_text())
    assert "fine-tuned from pre (MAX, MYC" in model_yaml["info"]["training_procedure"]
    assert model_yaml["schema"]["targets"]["column_labels"] == ["JUND"]
    assert "chr22" in model_yaml["info"]["trained_on"] and "sparse labels of JUND" in model_yaml["info"]["trained_on"]


def test_multi_model_masks_unresolved_labels_when_asked(tmp_path, tf_data, matrix):
    tasks = ["JUNB", "FOS", "ATF3"]
    dropped = TFTransferRecipe().prepare(load_config(write_config(
        tmp_path / "drop.yaml", tf_data, data={"tasks": tasks, "chroms": ["chr21"], "max_positives": None})))
    masked = TFTransferRecipe().prepare(load_config(write_config(
        tmp_path / "mask.yaml", tf_data, data={"tasks": tasks, "chroms": ["chr21"], "max_positives": None, "unresolved": "mask"})))
    assert dropped.test.mask is None and masked.test.mask is not None
    assert dropped.description["n_regions"] < masked.description["n_regions"]
    assert masked.test.mask.any(axis=1).all() and not masked.test.mask.all()  # each region counts for some task
    # a masked label is an unresolved one; the counted ones are the matrix's labels
    contigs = masked.test.windows["chrom"].to_numpy()
    rows = matrix.regions.reset_index().set_index("contig").loc[contigs, "index"].to_numpy()
    labels = matrix.labels["less_sparse"][np.ix_(rows, [matrix.tf_index(t) for t in tasks])]
    assert ((labels >= 0) == masked.test.mask).all() and (masked.test.targets[masked.test.mask] == labels[labels >= 0]).all()
