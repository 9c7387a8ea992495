"""Finding models: `epizoo list` (and the README's table it generates) and the HTML catalogue,
opened in headless Chromium."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
import pytest

from conftest import REPO, chromium
from epizoo.catalogue import write_catalogue
from epizoo.cli import COMMANDS, main
from epizoo.entry_summary import markdown_table, summaries
from epizoo.entry_yaml import WEIGHTS_ORIGINS


@pytest.fixture(scope="module")
def entries():
    return summaries()


def test_list_json_gives_every_entry_its_genome_origin_and_held_out_metrics(capsys, entries):
    assert main(["list", "--json"]) == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert set(listed) == {entry.name for entry in entries} and len(listed) > 70
    assert all(entry["weights_origin"] in WEIGHTS_ORIGINS and entry["genome"] != "unspecified"
               for entry in listed.values())
    gopher = listed["GOPHER/BPNet-base"]
    assert gopher["weights_origin"] == "trained on the synthetic benchmark" and gopher["split"] == "test_chroms: chr8"
    assert 0.5 < gopher["metrics"]["pearson_whole"] < 0.7 and [o["name"] for o in gopher["outputs"]] == ["counts", "profile"]
    assert any(d["file"] == "genome.fa" and d["checksum"].startswith("sha256:") for d in gopher["data"])
    factornet = listed["FactorNet/FOXA1/onePeak_DGF"]
    assert (factornet["genome"], factornet["weights_origin"], factornet["metrics"]) == ("hg19", "converted", {})
    assert factornet["status"] == "fetched" and all(d["checksum"].startswith("md5:") for d in factornet["data"])
    avocado = listed["Avocado/pilot"]
    assert not avocado["variant_effects"] and [i["kind"] for i in avocado["inputs"]] == ["index"] * 3
    scored = listed["VariantEffects/GOPHER/BPNet-base"]
    assert (scored["genome"], scored["status"], scored["scores"]) == ("synthetic", "derived", "GOPHER/BPNet-base")


def test_the_readme_table_is_generated_by_epizoo_list(entries):
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- epizoo list --markdown: begin -->\n(.*?)<!-- epizoo list --markdown: end -->", readme, re.S)
    assert block, "README.md lost its generated table's markers"
    assert block.group(1) == markdown_table(entries), (
        "README.md's table of entries is out of date: replace it with the output of `epizoo list --markdown`")


@pytest.fixture(scope="module")
def site(tmp_path_factory, entries) -> Path:
    return write_catalogue(tmp_path_factory.mktemp("catalogue") / "site", entries)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("href", "src") and value]


def test_every_link_of_the_catalogue_resolves(site, entries):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == len(entries) + 1
    broken = []
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text())
        for link in parser.links:
            if urlsplit(link).scheme in ("http", "https"):
                assert urlsplit(link).netloc, f"{page}: malformed link {link}"
            elif not (page.parent / urlsplit(link).path).resolve().is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, broken


def _chromium(url: str, *flags: str) -> str:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", *flags, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


def _dom(site: Path, page: str, query: str = "") -> str:
    return _chromium(f"file://{quote(str(site / page))}{query}", "--dump-dom")


@pytest.mark.needs("chromium")
def test_every_entry_page_renders_in_chromium(site, entries):
    def rendered(entry):
        dom = _dom(site, f"entries/{entry.name}.html")
        return entry, dom

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(rendered, entries))
    for entry, dom in results:
        assert f'<h1 id="name">{entry.name}</h1>' in dom, f"{entry.name}'s page did not render"
        assert "kipoi predict " + entry.name in dom
        if entry.metrics:  # the held-out metrics, with their split
            assert 'id="metrics"' in dom and "Measured on the test split" in dom


class _Rows(HTMLParser):
    """The index's rows: each entry's name and whether the page's script hid it."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, bool] = {}
        self._hidden: bool | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and "data-method" in dict(attrs):
            self._hidden = "hidden" in dict(attrs)

    def handle_data(self, data):
        if self._hidden is not None and data.strip():
            self.rows[data.strip()], self._hidden = self._hidden, None


@pytest.mark.needs("chromium")
def test_the_index_searches_and_filters_in_chromium(site, entries, tmp_path):
    def shown(query: str) -> set[str]:
        dom = _dom(site, "index.html", query)
        parser = _Rows()
        parser.feed(dom)
        assert set(parser.rows) == {entry.name for entry in entries}
        names = {name for name, hidden in parser.rows.items() if not hidden}
        assert f'id="count" class="muted">{len(names)} of {len(entries)} entries<' in dom
        return names

    assert shown("") == {entry.name for entry in entries}
    assert shown("?q=foxa1%20multitask") == {"FactorNet/FOXA1/multiTask_DGF", "VariantEffects/FactorNet/FOXA1/multiTask_DGF"}
    hg38 = shown("?genome=hg38")
    assert hg38 == {e.name for e in entries if e.genome == "hg38"} and len(hg38) > 4
    assert shown("?method=tftransfer&genome=hg19") == set()
    synthetic_atac = shown("?origin=trained%20on%20the%20synthetic%20benchmark&task=atac-seq")
    assert synthetic_atac == {e.name for e in entries if e.weights_origin == "trained on the synthetic benchmark"
                              and "atac-seq" in [t.lower() for t in e.tags]} != set()
    for page, picture in (("index.html", "index.png"), ("entries/GOPHER/BPNet-base.html", "entry.png")):
        _chromium(f"file://{quote(str(site / page))}", f"--screenshot={tmp_path / picture}", "--window-size=1400,1000")
        assert (tmp_path / picture).stat().st_size > 20_000


def test_an_entry_with_motifs_gets_their_logos_and_a_usage_that_parses(tmp_path):
    from epizoo.dataloaders.motifs import Motif, write_meme
    from epizoo.entry_summary import summarize
    from test_docs import _Parser, _Refused  # the documentation's own command check

    entry = tmp_path / "BPNet"
    shutil.copytree(REPO / "zoo" / "GOPHER" / "BPNet-base", entry)
    ctcf = np.array([[0.9, 0.05, 0.05, 0.0], [0.0, 0.0, 1.0, 0.0], [0.1, 0.8, 0.1, 0.0], [0.25] * 4]).T
    write_meme(entry / "motifs.meme", {"pattern_0": Motif("pattern_0", "CTCF_f1 q 0.001", ctcf),
                                       "pattern_1": Motif("pattern_1", None, ctcf[::-1].copy())})
    summary = summarize(entry)
    assert summary.method == "GOPHER"  # outside the zoo: the method whose architecture it uses
    site = write_catalogue(tmp_path / "site", [summary])
    slug = str(entry).lstrip("/")
    page = (site / f"entries/{slug}.html").read_text()
    assert page.count('alt="motif logo') == 2 and all((site / "logos" / slug / f"{i}.png").stat().st_size > 2000
                                                      for i in (0, 1))
    for line in summary_usage_commands(page):
        module = import_module(COMMANDS[line[0]][0])
        parser = _Parser(prog=line[0])
        module.add_arguments(parser)
        try:
            parser.parse_args(line[1:])
        except _Refused as refused:
            pytest.fail(f"the usage snippet's `epizoo {' '.join(line)}`: {refused}")
    with pytest.raises(FileExistsError, match="not a catalogue"):
        write_catalogue(tmp_path, [summary])  # never replaces a folder it did not write
    assert write_catalogue(site, [summary]) == site  # an earlier catalogue is replaced


def summary_usage_commands(page: str) -> list[list[str]]:
    usage = re.search(r"<pre>(.*?)</pre>", page, re.S).group(1).replace("&#39;", "'").replace("&#34;", '"')
    return [shlex.split(line.split("#")[0])[1:] for line in usage.splitlines() if line.startswith("epizoo ")]
