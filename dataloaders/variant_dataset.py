"""The Kipoi dataloader for variants: reference and alternative windows centred on each VCF allele.

`VariantWindowDataset` streams a VCF (see `epizoo.dataloaders.variants.VcfVariants`) and yields
batches with the one-hot reference and alternative windows of each scoreable allele (see
`epizoo.dataloaders.variant_windows`), plus the variant's identity as metadata. Alleles that
cannot be scored are collected in ``rejected`` with their reason; ``counts`` reconciles the two.
Memory is bounded by the batch size: the VCF is never read whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from kipoi.data import SampleIterator

from .files import sample
from .genome import Genome
from .onehot import DNA, encode_bytes
from .variant_windows import variant_windows, window_start
from .variants import RejectedAllele, Variant, VcfVariants


class VariantWindowDataset(SampleIterator):
    """Variant-centred reference/alternative windows from a VCF.

    Parameters
    ----------
    vcf_file
        VCF, plain, gzip or bgzip.
    fasta_file
        Reference genome FASTA.
    width
        Window width in bases.
    allow_ref_mismatch
        Score alleles whose REF differs from the genome (flagged ``ref_match=False``).
    region
        ``chrom:start-end`` to read from a tabix-indexed VCF.
    alphabet, n_value, channels_first, dtype
        One-hot encoding (see `epizoo.dataloaders.onehot.encode_bytes`).
    """

    def __init__(
        self,
        vcf_file: str | Path,
        fasta_file: str | Path,
        width: int,
        allow_ref_mismatch: bool = False,
        region: str | None = None,
        alphabet: str = DNA,
        n_value: float = 0.0,
        channels_first: bool = False,
        dtype: np.dtype | str = np.float32,
    ) -> None:
        self.genome = Genome(fasta_file)
        self.width = int(width)
        self.variants = VcfVariants(vcf_file, self.genome, allow_ref_mismatch, region)
        self.encoding = dict(
            alphabet=alphabet, n_value=n_value, dtype=np.dtype(dtype), channels_first=channels_first
        )
        self._samples: Iterator[dict] | None = None

    @property
    def rejected(self) -> list[RejectedAllele]:
        return self.variants.rejected

    @property
    def counts(self):
        return self.variants.counts

    def batches(self, batch_size: int = 32) -> Iterator[dict]:
        """Stream batches of at most ``batch_size`` scoreable alleles."""
        stream = iter(self.variants)
        while chunk := list(islice(stream, batch_size)):
            yield self.batch_for_variants(chunk)

    def batch_iter(self, batch_size: int = 32, **kwargs) -> Iterator[dict]:
        return self.batches(batch_size)

    def batch_for_variants(self, variants: list[Variant]) -> dict:
        """Inputs (``ref``, ``alt``) and metadata for a list of variants."""
        ref_bytes, alt_bytes, padded = variant_windows(self.genome, variants, self.width)
        inputs = {
            "ref": encode_bytes(ref_bytes, **self.encoding),
            "alt": encode_bytes(alt_bytes, **self.encoding),
        }
        return {"inputs": inputs, "metadata": variant_metadata(variants, self.width, padded)}

    def __iter__(self) -> "VariantWindowDataset":
        self._samples = (
            sample(batch, i) for batch in self.batches(256) for i in range(len(batch["metadata"]["padded"]))
        )
        return self

    def __next__(self) -> dict:
        if self._samples is None:
            iter(self)
        return next(self._samples)


def variant_metadata(variants: list[Variant], width: int, padded: np.ndarray) -> dict:
    """Metadata of a batch of variants: their VCF identity, their windows, the padding flags."""
    pos = np.fromiter((v.pos for v in variants), dtype=np.int64, count=len(variants))
    starts = window_start(pos, width)
    chroms = np.array([v.chrom for v in variants], dtype=object)
    ids = np.array([v.id for v in variants], dtype=object)
    return {
        "variant": {
            "chr": chroms,
            "pos": pos,
            "id": ids,
            "ref": np.array([v.ref for v in variants], dtype=object),
            "alt": np.array([v.alt for v in variants], dtype=object),
            "ref_match": np.fromiter((v.ref_match for v in variants), dtype=bool, count=len(variants)),
        },
        "ranges": {
            "chr": chroms,
            "start": starts,
            "end": starts + width,
            "id": ids,
            "strand": np.full(len(variants), "*", dtype=object),
        },
        "padded": padded,
    }

