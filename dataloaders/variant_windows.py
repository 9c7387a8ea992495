"""Fixed-width reference and alternative windows centred on variants.

The windows follow kipoi-veff2, which takes kipoiseq's ``VariantSeqExtractor`` with
``fixed_len=True``: the window is ``Interval(chrom, pos - 1, pos).resize(width)``, i.e.
``[pos - width // 2 - width % 2, pos - width % 2 + width // 2)`` 0-based, the anchor is ``pos``
(0-based, just after the variant's first base), and the alternative sequence is built outwards
from the anchor:

* a REF of one base is replaced as a whole left of the anchor, so an insertion pushes the left
  flank out of the window (its leftmost bases drop);
* a longer REF is split at the anchor: its first base is replaced left of the anchor, the rest
  right of it, so a deletion pulls bases in from the right and an insertion after the first base
  pushes the right flank out.

A ``shift`` moves the window by that many bp (the variant then sits ``shift`` bp left of the
centre for a positive shift); the alternative sequence is still built outwards from the anchor.

SNVs, by far the most common records, are done for a whole batch at once (one strided gather and
one byte assignment); indels go one by one through `alt_window`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .genome import Genome
from .onehot import as_bytes
from .variants import Variant


def window_start(pos: int | np.ndarray, width: int) -> int | np.ndarray:
    """0-based start of the ``width``-bp window centred on 1-based position ``pos``."""
    return pos - width // 2 - width % 2


def variant_offset(width: int) -> int:
    """Index of the variant's first base within its window."""
    return width // 2 + width % 2 - 1


def check_shift(width: int, shift: int) -> None:
    """A shift must keep the variant's anchor inside the window."""
    if not -(width // 2) < shift < width // 2:
        raise ValueError(f"a window shift of {shift} bp moves the variant out of its {width}-bp window; "
                         f"shift by less than {width // 2} bp")


def alt_window(genome: Genome, variant: Variant, width: int, shift: int = 0) -> tuple[np.ndarray, bool]:
    """Bytes of the alternative window of one variant (kipoiseq ``fixed_len=True`` semantics),
    moved ``shift`` bp.

    Returns
    -------
    (numpy.ndarray, bool)
        ``width`` upper-case bytes, and whether the window needed N padding.
    """
    start = window_start(variant.pos, width) + shift
    anchor = variant.pos
    ref, alt = variant.ref, variant.alt
    if len(ref) == 1:
        left_alt, right_ref, right_alt = alt, "", ""
    else:
        left_alt, right_ref, right_alt = alt[:1], ref[1:], alt[1:]
    pulled_in = max(0, len(right_ref) - len(right_alt))
    span_end = start + width + pulled_in + len(ref)
    span, padded = genome.fetch(variant.chrom, start, span_end)
    left = np.concatenate([span[: variant.start - start], as_bytes(left_alt)])
    right = np.concatenate([as_bytes(right_alt), span[variant.end - start :]])
    window = np.concatenate([left[len(left) - (anchor - start) :], right[: start + width - anchor]])
    return window, padded


def variant_windows(
    genome: Genome, variants: Sequence[Variant], width: int, shift: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference and alternative windows of a batch of variants.

    Parameters
    ----------
    genome
        The reference genome.
    variants
        Variants that passed `epizoo.dataloaders.variants.VcfVariants`'s checks.
    width
        Window width in bases.
    shift
        bp by which every window is moved from the variant-centred one.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``(batch, width)`` reference bytes, ``(batch, width)`` alternative bytes, and a bool per
        variant: True where a window ran past a chromosome end and was padded with N.
    """
    check_shift(width, shift)
    chroms = [v.chrom for v in variants]
    starts = window_start(np.fromiter((v.pos for v in variants), dtype=np.int64, count=len(variants)), width) + shift
    ref_bytes, padded = genome.fetch_batch(chroms, starts, width)
    alt_bytes = ref_bytes.copy()
    snv = np.fromiter((v.is_snv for v in variants), dtype=bool, count=len(variants))
    if snv.any():
        rows = np.flatnonzero(snv)
        alt_bytes[rows, variant_offset(width) - shift] = [ord(variants[i].alt) for i in rows]
    for row in np.flatnonzero(~snv):
        alt_bytes[row], alt_padded = alt_window(genome, variants[row], width, shift)
        padded[row] |= alt_padded
    return ref_bytes, alt_bytes, padded
