"""Dinucleotide shuffles of one-hot sequences: DeepLiftShap's references and GIA's backgrounds.

tangermeme's `dinucleotide_shuffle` does the shuffling (it keeps every dinucleotide count, and the
first and last base); this lays the shuffles out as the sequences are (channels first or last,
track channels after the bases kept), seeded per sequence so that a sequence's shuffles do not
depend on what else is in the call.
"""
from __future__ import annotations

import numpy as np
import torch


def shuffled_backgrounds(sequences: np.ndarray, n_per_sequence: int = 1, channels_axis: int = -1,
                         random_state: int = 0) -> np.ndarray:
    """``n_per_sequence`` dinucleotide shuffles of each sequence's bases, shaped and laid out as the
    sequences (track channels, if any, copied unchanged), shuffle ``k`` of sequence ``i`` at row
    ``i * n_per_sequence + k``."""
    from tangermeme.ersatz import dinucleotide_shuffle

    sequences = np.asarray(sequences, dtype=np.float32)
    channels_first = torch.from_numpy(np.moveaxis(sequences, channels_axis, 1).copy())
    seeds = [random_state + i for i in range(len(sequences))]
    shuffled = dinucleotide_shuffle(channels_first[:, :4], n=n_per_sequence, random_state=seeds, allow_N=True)
    out = channels_first.repeat_interleave(n_per_sequence, dim=0)
    out[:, :4] = shuffled.reshape(-1, *shuffled.shape[2:])
    return np.moveaxis(out.numpy(), 1, channels_axis)
