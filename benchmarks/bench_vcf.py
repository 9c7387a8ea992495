"""VCF streaming: epizoo's five-column reader against cyvcf2 on the same bgzipped VCF.

epizoo splits the first five columns itself (see the docstring of
`epizoo.dataloaders.variants`: htslib refuses 7-column records and gives no line number on a
malformed one). This measures what that costs: records/s for cyvcf2 (reading CHROM, POS, ID,
REF, ALT of every record) and for `VcfVariants` (no genome checks), on a synthetic 8-column
VCF that both can read.

    python benchmarks/bench_vcf.py [--records 500000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pysam


def write_vcf(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    bases = np.array(list("ACGT"))
    positions = np.sort(rng.choice(np.arange(1, 50_000_000), n, replace=False))
    refs, alts = bases[rng.integers(0, 4, n)], bases[rng.integers(0, 4, n)]
    plain = path.with_suffix("")
    with open(plain, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=50000000>\n")
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i, (pos, ref, alt) in enumerate(zip(positions, refs, alts)):
            handle.write(f"chr1\t{pos}\trs{i}\t{ref}\t{alt}\t50\tPASS\t.\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    return path


def time_cyvcf2(path: Path) -> float:
    import cyvcf2

    t0 = time.perf_counter()
    for record in cyvcf2.VCF(str(path)):
        (record.CHROM, record.POS, record.ID, record.REF, record.ALT)
    return time.perf_counter() - t0


def time_epizoo(path: Path) -> float:
    from epizoo.dataloaders.variants import VcfVariants

    t0 = time.perf_counter()
    for variant in VcfVariants(path):
        pass
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_vcf(Path(folder) / "bench.vcf.gz", args.records)
        baseline, ours = time_cyvcf2(path), time_epizoo(path)
    n = args.records
    print(f"{n:,} bgzipped 8-column SNV records")
    print(f"cyvcf2 (CHROM POS ID REF ALT)   : {n / baseline:12,.0f} records/s")
    print(f"epizoo VcfVariants (no genome)  : {n / ours:12,.0f} records/s")
    print(f"ratio epizoo / cyvcf2: {baseline / ours:.2f}")


if __name__ == "__main__":
    main()
