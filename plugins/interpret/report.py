"""HTML reports: a run's attributions (`attribution_report`), and a motif report (`motif_report`):
TF-MoDISco's patterns, their best database matches, and how far to trust them.

`attribution_report` writes ``report.html`` with the logos of the strongest regions beside their
tracks (or their ISM heat maps), and what was explained, in ``regions/``. `motif_report` writes
one folder, atomically:

* ``report.html``: per pattern, the logo of its contributions (CWM) and of its letters, its
  seqlets, its best Tomtom match with the match's logo, q-value and the share of the pattern's
  column-shuffled controls that match as well (`best_matches_with_controls`), and the run's
  provenance (what was explained, data by file name and checksum);
* ``motifs.tsv``: the same table; ``patterns.meme``: the patterns' letter probabilities;
* ``logos/``: the PNG logos; ``modisco/``: TF-MoDISco's own report (``motifs.html``), when its
  HDF5 results are given.
"""
from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from epizoo.atomic import atomic_dir
from epizoo.dataloaders.motifs import read_meme, write_meme

from .modisco import Pattern
from .motifs import best_matches_with_controls
from .plots import information_logo, logo, plot_region, save_figure, strongest_regions

COLUMNS = ["pattern", "n_seqlets", "target", "target_alt", "p_value", "q_value", "matched", "control_rate",
           "n_controls", "strand", "offset"]


def motif_report(
    patterns: Sequence[Pattern],
    database: str | Path,
    out_dir: str | Path,
    provenance: Mapping[str, Any] | None = None,
    n_controls: int = 20,
    q_threshold: float = 0.05,
    seed: int = 0,
    modisco_h5: str | Path | None = None,
) -> pd.DataFrame:
    """Write the report of ``patterns`` matched against the MEME file ``database`` to ``out_dir``.

    Parameters
    ----------
    patterns
        TF-MoDISco's patterns (`epizoo.plugins.interpret.modisco.tfmodisco`).
    database
        A MEME motif file (HOCOMOCO, JASPAR, ...).
    out_dir
        The report's folder (replaced when it exists).
    provenance
        What the report explains (entry, method, inputs by name and checksum), shown at its top.
    n_controls, q_threshold, seed
        As in `epizoo.plugins.interpret.motifs.best_matches_with_controls`.
    modisco_h5
        TF-MoDISco's results file, for its own report in ``modisco/``.

    Returns
    -------
    pandas.DataFrame
        The table of ``motifs.tsv``, one row per pattern (`COLUMNS`).
    """
    targets = read_meme(database)
    table = _table(patterns, database, n_controls, q_threshold, seed)
    with atomic_dir(replaceable(out_dir)) as tmp:
        (tmp / "logos").mkdir()
        for i, (pattern, row) in enumerate(zip(patterns, table.itertuples())):  # files by index: names may hold '/'
            save_figure(logo(pattern.cwm, title=f"{pattern.name} (contributions)").figure,
                        tmp / "logos" / f"pattern{i}.cwm.png")
            save_figure(information_logo(pattern.ppm, title=pattern.name).figure, tmp / "logos" / f"pattern{i}.ppm.png")
            if isinstance(row.target, str):
                save_figure(information_logo(targets[row.target].probabilities, title=row.target).figure,
                            tmp / "logos" / f"match{i}.png")
        table.to_csv(tmp / "motifs.tsv", sep="\t", index=False)
        if patterns:
            write_meme(tmp / "patterns.meme", {p.name: p.ppm for p in patterns},
                       nsites={p.name: p.n_seqlets for p in patterns})
        (tmp / "report.html").write_text(_html(table, provenance or {}, q_threshold, modisco_h5 is not None))
        if modisco_h5 is not None and patterns:
            _modisco_report(modisco_h5, database, tmp / "modisco")
    return table


def replaceable(out_dir: str | Path) -> Path:
    """``out_dir``, when replacing it loses nothing but an earlier report: it is absent, empty, or
    holds a ``report.html``; never the working folder or one above it."""
    out_dir = Path(out_dir)
    if Path.cwd().resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"{out_dir}: a report replaces its folder; give a folder of its own, not the working one")
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "report.html").is_file():
        raise ValueError(f"{out_dir} holds files that are not an epizoo report, which writing the report there "
                         "would delete; give a new folder")
    return out_dir


def _table(patterns, database, n_controls, q_threshold, seed) -> pd.DataFrame:
    if not patterns:
        return pd.DataFrame({column: [] for column in COLUMNS})
    matches = best_matches_with_controls({p.name: p.ppm for p in patterns}, database, n_controls=n_controls,
                                         q_threshold=q_threshold, seed=seed)
    matches = matches.rename(columns={"query": "pattern"})
    matches.insert(1, "n_seqlets", [p.n_seqlets for p in patterns])
    return matches[COLUMNS]


def _html(table: pd.DataFrame, provenance: Mapping[str, Any], q_threshold: float, with_modisco: bool) -> str:
    rows = "".join(_html_row(i, row) for i, row in enumerate(table.itertuples()))
    modisco = ', <a href="modisco/motifs.html">TF-MoDISco\'s report</a>' if with_modisco and len(table) else ""
    return _page("Motifs", provenance, f"""<p>Each pattern is TF-MoDISco's, matched with Tomtom (memelite,
Euclidean distance). A match counts at q &lt; {q_threshold}. The control rate is the share of the pattern's
column-shuffled copies whose best match also reaches it: a q-value is evidence only where that rate is low.</p>
<table><tr><th>pattern</th><th>seqlets</th><th>contributions</th><th>letters</th><th>best match</th>
<th>q-value</th><th>control rate</th><th>match logo</th></tr>
{rows}</table>
<p>Files: <a href="motifs.tsv">motifs.tsv</a>, <a href="patterns.meme">patterns.meme</a>{modisco}</p>""")


def _page(title: str, provenance: Mapping[str, Any], body: str) -> str:
    """An HTML page: its title, the table of what it explains, then ``body``."""
    about = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_shown(v))}</td></tr>"
                    for k, v in provenance.items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>epizoo: {html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:middle}} img{{height:70px}}
img.region{{height:auto;max-width:100%}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<table>{about}</table>
{body}
</body></html>
"""


def _shown(value: Any) -> str:
    """A provenance value as text: a file record as its name, checksum and size."""
    if isinstance(value, Mapping) and {"file", "sha256"} <= set(value):
        return f"{value['file']} (sha256 {value['sha256']}, {value.get('bytes', '?')} bytes)"
    return json.dumps(value) if isinstance(value, (Mapping, list)) else str(value)


def attribution_report(arrays: Mapping[str, Any], out_dir: str | Path, provenance: Mapping[str, Any] | None = None,
                       n_regions: int = 5, width: int = 100, title: str = "Attributions") -> Path:
    """Write ``out_dir/report.html`` (replacing the folder): the ``n_regions`` strongest regions of
    `attribute_regions`' arrays, each drawn with `plot_region` around its strongest ``width``
    positions, under what was explained (``provenance``). Returns the page's path."""
    with atomic_dir(replaceable(out_dir)) as tmp:
        (tmp / "regions").mkdir()
        rows = []
        for rank, index in enumerate(strongest_regions(arrays)[:n_regions], start=1):
            region = f"{arrays['chrom'][index]}:{int(arrays['start'][index])}-{int(arrays['end'][index])}"
            shown = plot_region(arrays, int(index), tmp / "regions" / f"{rank}.png", width, title)
            rows.append(f'<tr><td>{rank}</td><td>{html.escape(region)}</td><td>{html.escape(shown)}</td>'
                        f'<td><img class="region" src="regions/{rank}.png"></td></tr>\n')
        body = ("<p>The strongest regions (largest total absolute attribution), each around its strongest "
                f"{width} positions.</p>\n<table><tr><th>rank</th><th>region</th><th>shown</th><th></th></tr>\n"
                + "".join(rows) + "</table>")
        (tmp / "report.html").write_text(_page(title, provenance or {}, body))
    return Path(out_dir) / "report.html"


def _html_row(i: int, row) -> str:
    target = html.escape(f"{row.target} ({row.target_alt})" if row.target_alt else str(row.target))
    match_logo = f'<img src="logos/match{i}.png">' if isinstance(row.target, str) else ""
    return (f'<tr><td>{html.escape(row.pattern)}</td><td>{row.n_seqlets}</td><td><img src="logos/pattern{i}.cwm.png">'
            f'</td><td><img src="logos/pattern{i}.ppm.png"></td><td>{target}</td><td>{row.q_value:.3g}</td>'
            f"<td>{row.control_rate:.0%} of {row.n_controls}</td><td>{match_logo}</td></tr>\n")


def _modisco_report(modisco_h5: str | Path, database: str | Path, out_dir: Path) -> None:
    """TF-MoDISco's own report, matched with its Tomtom-lite (memelite) against ``database``."""
    from modiscolite.report import report_motifs

    out_dir.mkdir()
    report_motifs(Path(modisco_h5), str(out_dir), img_path_suffix="./", meme_motif_db=str(database),
                  is_writing_tomtom_matrix=False, ttl=True)
