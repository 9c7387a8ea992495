"""Write the synthetic parts of the example data (seeded, so the committed files are reproducible).

* ``dnase.bw``: a DNase-like cut-count track over ``genome.fa`` (Poisson counts per base: rate
  0.02 in background, 0.5 in 300-bp "open" elements around each example region and a few
  variants), standing in for a real FactorNet DGF track, which is not public in a small slice.
* ``mappability.bw``: a Unique35-like track: 1.0 (unique) except a few stretches at 0.5, 0.25
  and 0 (repeats).
* ``variants.vcf``: records on the slice: SNVs, indels and multi-allelic records whose REF is
  the slice's sequence, plus awkward records that must be reported (REF mismatch, symbolic,
  missing and ``*`` alleles, IUPAC codes, a contig absent from the FASTA, ``22`` naming).

    python examples/make_examples.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig

HERE = Path(__file__).resolve().parent
CHROM = "chr22"


def read_slice() -> str:
    lines = (HERE / "genome.fa").read_text().splitlines()
    return "".join(lines[1:]).upper()


def write_bigwig(path: Path, values: np.ndarray) -> None:
    """Write per-base values as runs of equal value (compact for sparse counts)."""
    change = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(values)]])
    keep = values[starts] != 0
    tmp = path.with_suffix(".tmp")
    with pyBigWig.open(str(tmp), "w") as bw:
        bw.addHeader([(CHROM, len(values))], maxZooms=4)
        bw.addEntries([CHROM] * int(keep.sum()), starts[keep].tolist(), ends=ends[keep].tolist(),
                      values=values[starts[keep]].astype(float).tolist())
    tmp.replace(path)


def dnase_track(length: int, open_centres: list[int], rng: np.random.Generator) -> np.ndarray:
    rate = np.full(length, 0.02)
    for centre in open_centres:
        rate[max(centre - 150, 0) : centre + 150] = 0.5
    return rng.poisson(rate).astype(np.float32)


def mappability_track(length: int, rng: np.random.Generator) -> np.ndarray:
    values = np.ones(length, dtype=np.float32)
    for value in (0.5, 0.25, 0.0, 0.0):
        start = int(rng.integers(0, length - 2000))
        values[start : start + int(rng.integers(200, 2000))] = value
    return values


def variant_lines(sequence: str, rng: np.random.Generator) -> list[str]:
    def ref(pos: int, n: int = 1) -> str:
        return sequence[pos - 1 : pos - 1 + n]

    def other(base: str) -> str:
        return "ACGT"[("ACGT".index(base) + 1 + int(rng.integers(0, 3))) % 4]

    positions = np.sort(rng.choice(np.arange(2_000, 298_000), 40, replace=False))
    lines = []
    for i, pos in enumerate(positions, start=1):
        pos = int(pos)
        kind = i % 8
        if kind == 5:
            record = (ref(pos, 3), ref(pos))                       # deletion
        elif kind == 6:
            record = (ref(pos), ref(pos) + "GATTACA")              # insertion
        elif kind == 7:
            record = (ref(pos), f"{other(ref(pos))},{ref(pos)}T")  # multi-allelic
        else:
            record = (ref(pos), other(ref(pos)))                   # SNV
        lines.append(f"{CHROM}\t{pos}\tex{i:02d}\t{record[0]}\t{record[1]}\t.\tPASS\t.")
    p = 150_000
    awkward = [
        (p + 1, "mismatch", other(ref(p + 1)), ref(p + 1)),
        (p + 2, "symbolic", ref(p + 2), "<DEL>"),
        (p + 3, "missing_alt", ref(p + 3), "."),
        (p + 4, "star", ref(p + 4), f"{other(ref(p + 4))},*"),
        (p + 5, "iupac", ref(p + 5), "R"),
    ]
    lines += [f"{CHROM}\t{pos}\t{name}\t{r}\t{a}\t.\tPASS\t." for pos, name, r, a in awkward]
    lines.append(f"22\t{p + 6}\tensembl_name\t{ref(p + 6)}\t{other(ref(p + 6))}\t.\tPASS\t.")
    lines.append("chrUn_gl000220\t100\tno_contig\tA\tC\t.\tPASS\t.")
    return lines


def main() -> None:
    rng = np.random.default_rng(2026)
    sequence = read_slice()
    lines = variant_lines(sequence, rng)
    header = [
        "##fileformat=VCFv4.2",
        "##source=epizoo examples/make_examples.py (synthetic records on a real hg38 chr22 slice)",
        f"##contig=<ID={CHROM},length={len(sequence)}>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    (HERE / "variants.vcf").write_text("\n".join(header + lines) + "\n")
    regions = [line.split("\t") for line in (HERE / "regions.bed").read_text().splitlines()]
    centres = [(int(s) + int(e)) // 2 for _, s, e, *_ in regions]
    centres += [int(line.split("\t")[1]) for line in lines[:40:4]]
    write_bigwig(HERE / "dnase.bw", dnase_track(len(sequence), centres, rng))
    write_bigwig(HERE / "mappability.bw", mappability_track(len(sequence), rng))


if __name__ == "__main__":
    main()
