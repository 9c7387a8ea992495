"""The views of a variant that go through a model together: (allele, strand, shift).

A batch of ``n`` variants is scored from one forward pass per entry over the stacked views: for
every window shift, the reference and alternative windows, and (with reverse-complement merging,
for models that do not average their strands themselves) their reverse complements. Rows
``[k * n, (k + 1) * n)`` of the stack are view ``k``; `Views.position` finds a view by what it
is, not by where it happens to be.

Shifts follow GOPHER's robust scoring and ChromBPNet's variant-scorer: the window is moved by
``shift`` bp (the variant sits ``shift`` bp off its centre), each shifted view is scored, and
the scores are averaged.
"""
from __future__ import annotations

from dataclasses import dataclass

REF, ALT = 0, 1
FORWARD, REVERSE = 0, 1


@dataclass(frozen=True)
class View:
    """One view of every variant of a batch."""

    allele: int  # REF or ALT
    strand: int  # FORWARD or REVERSE (the reverse complement of the window)
    shift: int  # bp the window is moved by, relative to the variant-centred window


class Views(tuple):
    """The views of a run, in stacking order: shift, then strand, then allele."""

    @classmethod
    def build(cls, reverse_complements: bool, shifts: tuple[int, ...] = (0,)) -> "Views":
        strands = (FORWARD, REVERSE) if reverse_complements else (FORWARD,)
        return cls(View(allele, strand, shift) for shift in shifts for strand in strands for allele in (REF, ALT))

    @property
    def shifts(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(view.shift for view in self))

    @property
    def reverse_complements(self) -> bool:
        return any(view.strand == REVERSE for view in self)

    def position(self, allele: int, strand: int, shift: int) -> int:
        """Position of a view in the stack."""
        return self.index(View(allele, strand, shift))


def shift_offsets(n_shifts: int, max_shift: int) -> tuple[int, ...]:
    """0 and ``n_shifts`` further offsets evenly spread over ``[-max_shift, max_shift]``.

    The offsets alternate in sign and grow in steps of ``max_shift / ceil(n_shifts / 2)``:
    ``n_shifts=2, max_shift=10`` -> ``(0, 10, -10)``; ``4, 10`` -> ``(0, 5, -5, 10, -10)``.
    """
    if n_shifts < 0 or max_shift < 0:
        raise ValueError(f"shifts ({n_shifts}) and max_shift ({max_shift}) must not be negative")
    if n_shifts and not max_shift:
        raise ValueError(f"{n_shifts} shifts need a max_shift of at least 1 bp")
    steps = -(-n_shifts // 2)
    offsets = [sign * round(max_shift * j / steps) for j in range(1, steps + 1) for sign in (1, -1)]
    return (0, *dict.fromkeys(o for o in offsets[:n_shifts] if o))
