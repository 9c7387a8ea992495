"""``epizoo catalogue``: a static HTML site of the zoo, from the entries' own files.

``index.html`` is a table of every entry with a search box and filters (method, task, genome,
weights origin; kept in the query string, so a filtered view is a link); each entry has a page
under ``entries/`` with its inputs and outputs, held-out metrics and their split, provenance
(data by name and checksum), a usage snippet for ``kipoi predict`` and Python, the logos of its
top motifs when it ships a ``motifs.meme``, and its citation. Everything comes from
`epizoo.entry_summary`, the summary that ``epizoo list`` prints.
"""
from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2

from epizoo import __version__
from epizoo.atomic import atomic_dir
from epizoo.entry_summary import HEADLINE, VARIANT_EFFECTS, EntrySummary, summaries
from epizoo.registry import get_dataloader, resolve

SITE = Path(__file__).resolve().parent / "catalogue_site"
#: written into every site, so that a later run replaces a catalogue and never another folder
MARKER = ".epizoo-catalogue"
BADGES = {"converted": "converted", "trained on real data": "real", "trained on the synthetic benchmark": "synthetic"}
N_LOGOS = 5


def write_catalogue(out: str | Path, entries: list[EntrySummary] | None = None) -> Path:
    """Write the site into the folder ``out`` (built beside it and renamed into place; an existing
    ``out`` is replaced only when it is an earlier catalogue).

    Raises
    ------
    FileExistsError
        When ``out`` exists and is not a catalogue.
    """
    out = Path(out)
    if out.exists() and not (out / MARKER).is_file():
        raise FileExistsError(f"{out} exists and is not a catalogue that epizoo wrote; "
                              "fix: give a new folder (or remove it)")
    entries = summaries() if entries is None else entries
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(SITE), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    with atomic_dir(out) as folder:
        for asset in ("style.css", "catalogue.js"):
            shutil.copyfile(SITE / asset, folder / asset)
        (folder / MARKER).write_text(f"epizoo {__version__}\n")
        pages = [_page_values(entry, folder) for entry in entries]
        for page in pages:
            path = folder / page["page"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(environment.get_template("entry.html.j2").render(e=page, root=page["root"]))
        (folder / "index.html").write_text(environment.get_template("index.html.j2").render(
            entries=pages, filters=_filters(entries), version=__version__))
    return out


def _page_values(entry: EntrySummary, folder: Path) -> dict[str, Any]:
    page = f"entries/{_slug(entry.name)}.html"
    root = "../" * page.count("/")
    return {**asdict(entry), "page": page, "root": root, "badge": BADGES.get(entry.weights_origin, ""),
            "headline": [(k, v) for k, v in entry.metrics.items() if k in HEADLINE],
            "usage": usage(entry), "logos": _logos(entry, folder, root)}


def _slug(name: str) -> str:
    """A zoo name as it is; an entry folder's path without its root or ``..`` parts."""
    return "/".join(part for part in Path(name).parts if part not in ("/", ".", ".."))


def _filters(entries: list[EntrySummary]) -> list[tuple[str, str, list[str]]]:
    def values(key):
        return sorted({value for entry in entries for value in key(entry)})

    return [("method", "method", values(lambda e: [e.method])), ("task", "task", values(lambda e: e.tags)),
            ("genome", "genome", values(lambda e: [e.genome])), ("origin", "weights origin", values(lambda e: [e.weights_origin]))]


def usage(entry: EntrySummary) -> str:
    """How to run the entry: ``kipoi predict`` with its dataloader's required arguments, Python,
    and variant effects where they apply."""
    arguments = ", ".join(f'"{name}": "{value}"' for name, value in _required_arguments(entry.name).items())
    lines = ["epizoo source register   # once: the zoo becomes Kipoi's source 'epizoo'",
             f"kipoi predict {entry.name} --source epizoo \\",
             f"    --dataloader_args '{{{arguments}}}' -o predictions.tsv", "",
             "import kipoi", f'model = kipoi.get_model("{entry.name}", source="epizoo")',
             f"predictions = model.pipeline.predict({{{arguments}}})"]
    if entry.variant_effects and not entry.name.startswith(VARIANT_EFFECTS):
        lines += ["", f"epizoo score-variants {entry.name} --vcf variants.vcf --fasta genome.fa --out effects.tsv"]
    return "\n".join(lines)


def _required_arguments(name: str) -> dict[str, str]:
    """The dataloader's required arguments, each with its example's file name (or value)."""
    arguments = {}
    for argument, spec in get_dataloader(name).args.items():
        if spec.optional:
            continue
        example = spec.example if isinstance(spec.example, (str, int, float)) else argument
        arguments[argument] = Path(str(example)).name
    return arguments


def _logos(entry: EntrySummary, folder: Path, root: str) -> list[str]:
    """Logos of the first motifs of the entry's ``motifs.meme``, drawn into the site."""
    if entry.name.startswith(VARIANT_EFFECTS):
        return []
    source_root, name = resolve(entry.name)
    meme = source_root / name / "motifs.meme"
    if not meme.exists():
        return []
    from epizoo.dataloaders.motifs import read_meme
    from epizoo.plugins.interpret.plots import information_logo, save_figure
    import matplotlib.pyplot as plt

    logos = []
    for i, (motif_name, motif) in enumerate(list(read_meme(meme).items())[:N_LOGOS]):  # the file's order
        figure, ax = plt.subplots(figsize=(max(2.5, motif.probabilities.shape[1] * 0.3), 1.6))
        information_logo(motif.probabilities, ax=ax, title=f"{motif_name}: {motif.alt}" if motif.alt else motif_name)
        relative = f"logos/{_slug(entry.name)}/{i}.png"
        save_figure(figure, folder / relative)
        logos.append(root + relative)
    return logos
