"""Variants with exact ground truth: motif-breaking and -weakening SNVs, indels, neutral changes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from epizoo.dataloaders.motifs import Motif

from .config import LETTERS, N_CODE, VARIANT_KINDS, SimulationConfig
from .genome import interval_mask
from .pwm import information_content, log_odds


def draw_variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    motifs: dict[str, Motif], config: SimulationConfig,
) -> pd.DataFrame:
    """All variants with their truth, sorted by chromosome and position, with IDs."""
    bound_any = sites.filter(like="bound_").to_numpy().any(axis=1)
    used = np.zeros(len(sites), dtype=bool)
    records: list[dict] = []
    n = config.variants_per_kind
    for kind in ("breaks_site", "weakens_site"):
        records += _motif_snvs(rng, sites, motifs, bound_any & ~used, used, kind, n, config.gc)
    records += _site_indels(rng, genome, sites, bound_any & ~used, used, n)
    records += _outside_variants(rng, genome, sites, n, n, config.far_distance)
    return _sorted_with_ids(records, list(genome))


def _motif_snvs(
    rng: np.random.Generator, sites: pd.DataFrame, motifs: dict[str, Motif], eligible: np.ndarray,
    used: np.ndarray, kind: str, n: int, gc: float,
) -> list[dict]:
    """SNVs at the highest- (breaks) or lowest- (weakens) information position of sites."""
    choices: dict[int, tuple[int, int, int]] = {}
    for row in np.flatnonzero(eligible):
        ppm = motifs[sites["tf"].iat[row]].probabilities
        info = information_content(ppm, gc)
        offset = int(info.argmax() if kind == "breaks_site" else info.argmin())
        ref = int(sites["codes"].iat[row][offset])
        others = [b for b in range(4) if b != ref]
        alt = others[int(np.argmin(ppm[others, offset]))]
        column = log_odds(ppm, gc)[:, offset]
        if column[alt] < column[ref]:                      # the site's score strictly drops
            choices[row] = (offset, ref, alt)
    rows = _pick_both_strands(rng, sites, np.array(sorted(choices), dtype=np.int64), n)
    used[rows] = True
    return [_site_snv(sites.iloc[row], *choices[row], kind) for row in rows]


def _site_snv(site: pd.Series, offset: int, ref: int, alt: int, kind: str) -> dict:
    minus = site["strand"] == "-"
    position = site["core_end"] - 1 - offset if minus else site["core_start"] + offset
    ref, alt = (3 - ref, 3 - alt) if minus else (ref, alt)
    return _record(site["chrom"], int(position), "ACGT"[ref], "ACGT"[alt], kind, site, offset)


def _site_indels(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    eligible: np.ndarray, used: np.ndarray, n: int,
) -> list[dict]:
    rows = _pick_both_strands(rng, sites, np.flatnonzero(eligible), n)
    used[rows] = True
    records = []
    for i, row in enumerate(rows):
        site = sites.iloc[row]
        middle = int(site["core_start"] + (site["core_end"] - site["core_start"]) // 2)
        records.append(_indel(rng, genome, site["chrom"], middle - 1, i < (len(rows) + 1) // 2,
                              "indel_in_site", site))
    return records


def _outside_variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    n_snvs: int, n_indels: int, far: int,
) -> list[dict]:
    """Neutral SNVs and indels at grid positions far from every site and from N."""
    candidates = [(chrom, pos) for chrom, codes in genome.items()
                  for pos in _far_positions(chrom, codes, sites, far)]
    total = min(n_snvs + n_indels, len(candidates))
    picks = rng.choice(len(candidates), size=total, replace=False)
    records = []
    for i, pick in enumerate(picks):
        chrom, pos = candidates[pick]
        if i < n_snvs:
            ref = int(genome[chrom][pos])
            alt = (ref + int(rng.integers(1, 4))) % 4
            records.append(_record(chrom, pos, "ACGT"[ref], "ACGT"[alt], "neutral"))
        else:
            deletion = (i - n_snvs) < (n_indels + 1) // 2
            records.append(_indel(rng, genome, chrom, pos, deletion, "indel_outside"))
    return records


def _far_positions(chrom: str, codes: np.ndarray, sites: pd.DataFrame, far: int) -> np.ndarray:
    """Grid positions (every 25 bp) at least ``far`` bp from any site element and 10 bp from N."""
    here = sites[sites["chrom"] == chrom]
    near = interval_mask(len(codes), here["start"].to_numpy() - far, here["end"].to_numpy() + far)
    n_count = np.concatenate([[0], np.cumsum(codes == N_CODE)])
    grid = np.arange(12, len(codes) - 12, 25)
    clean = (n_count[grid + 11] - n_count[grid - 10]) == 0
    return grid[clean & ~near[grid]]


def _indel(
    rng: np.random.Generator, genome: dict[str, np.ndarray], chrom: str, anchor: int, deletion: bool,
    kind: str, site: pd.Series | None = None,
) -> dict:
    """A deletion of 1-3 bases after ``anchor``, or an insertion of 1-3 random bases after it."""
    size = int(rng.integers(1, 4))
    codes = genome[chrom]
    base = codes[anchor : anchor + 1]
    if deletion:
        ref, alt = codes[anchor : anchor + 1 + size], base
    else:
        ref, alt = base, np.concatenate([base, rng.integers(0, 4, size=size).astype(np.uint8)])
    return _record(chrom, anchor, _text(ref), _text(alt), kind, site)


def _text(codes: np.ndarray) -> str:
    return LETTERS[codes].tobytes().decode("ascii")


def _pick_both_strands(
    rng: np.random.Generator, sites: pd.DataFrame, rows: np.ndarray, n: int
) -> np.ndarray:
    """Up to ``n`` of ``rows``: half on '+' sites, half on '-' sites where possible."""
    strands = sites["strand"].to_numpy()[rows]
    plus, minus = rows[strands == "+"], rows[strands == "-"]
    n_plus = min(len(plus), max(n // 2, n - len(minus)))
    n_minus = min(len(minus), n - n_plus)
    picked = [rng.choice(plus, n_plus, replace=False), rng.choice(minus, n_minus, replace=False)]
    return np.concatenate(picked).astype(np.int64)


def _record(
    chrom: str, position: int, ref: str, alt: str, kind: str, site: pd.Series | None = None,
    offset: int | None = None,
) -> dict:
    """One truth row; ``position`` is 0-based, the row's ``pos`` 1-based as in VCF."""
    return {
        "chrom": chrom, "pos": position + 1, "ref": ref, "alt": alt, "kind": kind,
        "site_id": "" if site is None else site["site_id"], "tf": "" if site is None else site["tf"],
        "site_strand": "" if site is None else site["strand"],
        "motif_offset": "" if offset is None else offset,
        "bound_in": "" if site is None else ",".join(
            k.removeprefix("bound_") for k, v in site.items() if k.startswith("bound_") and v == 1
        ),
    }


def _sorted_with_ids(records: list[dict], chroms: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    frame["_order"] = frame["chrom"].map({c: i for i, c in enumerate(chroms)})
    frame = frame.sort_values(["_order", "pos"], kind="stable").drop(columns="_order")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", [f"var{i + 1:04d}" for i in range(len(frame))])
    return frame


def vcf_text(variants: pd.DataFrame, sizes: dict[str, int], config: SimulationConfig) -> str:
    header = [
        "##fileformat=VCFv4.2",
        f"##source=epizoo.dataloaders.simulate (seed={config.seed})",
        "##reference=genome/genome.fa",
        *(f"##contig=<ID={c},length={n}>" for c, n in sizes.items()),
        '##INFO=<ID=KIND,Number=1,Type=String,Description="Ground truth: '
        + "|".join(VARIANT_KINDS) + '">',
        '##INFO=<ID=SITE,Number=1,Type=String,Description="site_id of the planted site hit">',
        '##INFO=<ID=TF,Number=1,Type=String,Description="TF whose motif the site carries">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines = []
    for row in variants.itertuples(index=False):
        info = f"KIND={row.kind}" + (f";SITE={row.site_id};TF={row.tf}" if row.site_id else "")
        lines.append(f"{row.chrom}\t{row.pos}\t{row.id}\t{row.ref}\t{row.alt}\t.\tPASS\t{info}")
    return "\n".join(header + lines) + "\n"
