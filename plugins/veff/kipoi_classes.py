"""Variant effects through stock Kipoi: ``kipoi predict VariantEffects/<entry> ...``.

Kipoi 0.8 dropped kipoi-veff's hook, so the variant-effect form of an entry is an entry of its
own, in the zoo's ``VariantEffects`` template group (one generated row per sequence entry, see
`epizoo.plugins.veff.kipoi_group`):

* `VariantDataset`: its dataloader. Arguments: ``vcf_file``, ``fasta_file``, the underlying
  entry's own non-sequence arguments (``dnase_file``, ``cell_line``, ...) and
  ``allow_ref_mismatch``. Each batch holds the reference and alternative inputs of the scoreable
  alleles (``ref/<input>``, ``alt/<input>``) and the identity of *every* allele, scoreable or not
  (``variant/...``, with the reason an allele is not scored).
* `VariantEffectModel`: its model. It runs the underlying entry on the ref and alt inputs in one
  forward pass and returns, per allele, its identity and every built-in score that applies to
  each declared output (`KIPOI_SCORES`), per task; alleles that are not scored come out as rows
  with empty scores and their reason.

So ``kipoi predict VariantEffects/FactorNet/FOXA1/onePeak_DGF --dataloader_args '{"vcf_file":
..., "fasta_file": ..., "dnase_file": ...}' -o effects.tsv`` writes one row per ALT allele of the
VCF: ``preds/variant/{chrom,pos,id,ref,alt,reason}`` and ``preds/<output>/<task>/<score>``.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import numpy as np
from kipoi.data import SampleIterator
from kipoi.model import BaseModel

from epizoo.contract import Contract
from epizoo.dataloaders.files import sample
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.variants import RejectedAllele, Variant, VcfVariants
from epizoo.kipoi_model import lists_torch
from epizoo.registry import get_contract, get_dataloader, get_model

from .engine import Entry, score_outputs
from .entry_model import EntryInputs, EntryModel
from .scores import Score, get_scores
from .views import Views

#: the built-in scores; the Kipoi form reports each that applies to an output
KIPOI_SCORES = ("ref", "alt", "diff", "logit", "logit_ref", "logit_alt", "deepsea_effect",
                "total_ref", "total_alt", "total_diff", "log2fc", "jsd", "max_abs_diff", "gopher_log2fc",
                "gopher_mean_log2fc")
IDENTITY = ("chrom", "pos", "id", "ref", "alt", "reason")


def kipoi_scores(contract: Contract) -> dict[str, list[Score]]:
    """``{output: the built-in scores that apply to it}``."""
    return {name: [s for s in get_scores(KIPOI_SCORES) if s.applies_to(spec)] for name, spec in contract.outputs.items()}


class VariantDataset(SampleIterator):
    """Every ALT allele of a VCF, with entry inputs for those that can be scored.

    Parameters
    ----------
    vcf_file, fasta_file
        The variants and the reference genome.
    entry
        The underlying zoo entry (set by the VariantEffects template; not for users).
    allow_ref_mismatch
        Score alleles whose REF differs from the genome instead of reporting them.
    **kwargs
        The entry's own dataloader arguments except its intervals and FASTA.
    """

    def __init__(self, vcf_file, fasta_file, entry, allow_ref_mismatch=False, **kwargs):
        self.genome = Genome(fasta_file)
        self.inputs = EntryInputs(entry, get_dataloader(entry), self.genome, kwargs)
        self.reader = VcfVariants(vcf_file, self.genome, bool(allow_ref_mismatch))
        self._samples: Iterator[dict] | None = None

    def batch_iter(self, batch_size: int = 32, **kwargs) -> Iterator[dict]:
        """Batches of at most ``batch_size`` alleles, in VCF order."""
        stream = all_alleles(self.reader)
        while chunk := list(islice(stream, batch_size)):
            yield self.batch(chunk)

    def batch(self, alleles: list[Variant | RejectedAllele]) -> dict:
        """Inputs and metadata of a list of alleles (scoreable or not)."""
        scored = [a for a in alleles if isinstance(a, Variant)]
        identity = allele_identity(alleles)
        inputs = {f"variant/{key}": values for key, values in identity.items()}
        if scored:
            ref, alt = self.inputs.alleles(scored)
            inputs.update({f"ref/{k}": v for k, v in ref.items()})
            inputs.update({f"alt/{k}": v for k, v in alt.items()})
        return {"inputs": inputs, "metadata": identity}

    def __iter__(self) -> "VariantDataset":
        """Single alleles (Kipoi's per-sample protocol; `batch_iter` is the fast path)."""
        self._samples = (sample(self.batch([allele])) for allele in all_alleles(self.reader))
        return self

    def __next__(self) -> dict:
        if self._samples is None:
            iter(self)
        return next(self._samples)


class VariantEffectModel(BaseModel):
    """The built-in scores of an entry's predictions on ref and alt windows, per allele.

    Parameters
    ----------
    entry
        The underlying zoo entry.
    """

    MODEL_PACKAGE = "pytorch"
    VIEWS = Views.build(reverse_complements=False)

    def __init__(self, entry):
        self.entry = entry
        contract = get_contract(entry)
        model = EntryModel(str(entry), get_model(entry, with_dataloader=False), contract)
        self.scored = Entry(None, model, kipoi_scores(contract))

    def predict_on_batch(self, x: dict) -> dict:
        identity = {key: x[f"variant/{key}"] for key in IDENTITY}
        scored = identity["reason"] == ""
        out: dict = {"variant": identity}
        columns = {name: np.full(len(scored), np.nan, dtype=np.float32)
                   for group in self.scored.layout for name in group.names}
        n = int(scored.sum())
        if n:
            stacked = {key[4:]: np.concatenate([x[key], x[f"alt/{key[4:]}"]]) for key in x if key.startswith("ref/")}
            outputs = self.scored.model.predict(stacked)
            for name, values in score_outputs(self.scored, outputs, self.VIEWS, n, None).items():
                columns[name][scored] = values
        for group in self.scored.layout:
            for task, name in zip(group.tasks, group.names):
                out.setdefault(group.output, {}).setdefault(task, {})[group.score] = columns[name]
        return out

    _sufficient_deps = staticmethod(lists_torch)


def all_alleles(reader: VcfVariants) -> Iterator[Variant | RejectedAllele]:
    """Every allele of a VCF in file order: scoreable ones as `Variant`, the others as
    `RejectedAllele` (with their reason)."""
    pending: list[RejectedAllele] = []
    reader.on_reject = pending.append
    for variant in reader:
        yield from pending
        pending.clear()
        yield variant
    yield from pending


def allele_identity(alleles: list[Variant | RejectedAllele]) -> dict[str, np.ndarray]:
    """``chrom, pos, id, ref, alt, reason`` of each allele (reason empty when scored)."""
    rows = [
        (a.chrom, str(a.pos), a.id, a.ref, a.alt, "" if isinstance(a, Variant) else a.row()[5])
        for a in alleles
    ]
    columns = list(zip(*rows)) if rows else [()] * len(IDENTITY)
    # fixed-width unicode, as Kipoi's batching makes text (its HDF5 writer needs it)
    return {key: np.array(values, dtype=str) for key, values in zip(IDENTITY, columns)}

