"""FactorNet's dataloaders: Kipoi's FactorNet interface on epizoo's data path.

The arguments are those of Kipoi's FactorNet entries (kipoi/models FactorNet/template), so that
switching a pipeline to epizoo is a change of source only: ``intervals_file``, ``fasta_file``,
``dnase_file``, ``mappability_file`` (Unique35 models), ``cell_line`` / ``RNAseq_PC_file``
(meta models; ``cell_line`` wins when both are given, as in Kipoi, and is accepted but unused by
GENCODE-only models, as there), ``GENCODE_dir`` (GENCODE models) and ``use_linecache`` (Kipoi's BED
access option; the BED is read once here, so it changes nothing). Each interval is re-centred to
1,002 bp as Kipoi's FactorNet dataloader does (centre ``(start + end) // 2``, window
``centre - 501`` to ``centre + 501``). Inputs:

* ``seq``: ``(1002, 4 + n_tracks)``: A, C, G, T (N -> 0), then the tracks in the model's
  ``bigwig.txt`` order (Unique35 mappability, then DGF DNase cuts), NaN -> 0. The model builds the
  reverse-complement strand itself, so there is no ``seq_rc`` input (the model still accepts
  Kipoi's ``[seq, seq_rc(, meta_features)]`` and checks that ``seq_rc`` is that strand).
* ``meta_features`` (meta/GENCODE models): the cell type's 8 expression PCs (the authors'
  ``data/<cell>/meta.txt``), then the 6 GENCODE flags, in the authors' order ``cpg, cds, intron,
  promoter, utr5, utr3`` (FactorNet utils.extract_data_from_bed). A flag is 1 when the *input
  interval* (the 200-bp bin, before re-centring) overlaps the annotation by at least one base:
  ``bedtools intersect -c`` cast to bool, as in the authors' prediction code (load_beddata) and
  Kipoi's dataloader.

Metadata, as Kipoi's: ``ranges`` (the window, with a 6-column BED's strand) and ``ranges_rc`` (the
same window on the ``-`` strand), and epizoo's ``padded``.

Published inputs that a user does not pass (the mappability track, a cell type's PCs, the
annotation BEDs) come through the weights store: from ``EPIZOO_MIRROR`` or the cache when there,
otherwise downloaded from the authors' URL and checked against ``zoo/FactorNet/files.tsv``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from epizoo.dataloaders.descriptions import describe
from epizoo.dataloaders.intervals import OverlapIndex, read_bed
from epizoo.dataloaders.interval_dataset import IntervalDataset, read_feature_vector
from epizoo.weight_sources import published_file

SEQ_WIDTH = 1002
#: the example inputs that dataloader-template.yaml names (the repository's examples/)
EXAMPLE_FILES = tuple(
    Path(__file__).resolve().parents[2] / "examples" / name
    for name in ("regions.bed", "genome.fa", "dnase.bw", "mappability.bw")
)
AUTHORS = "https://github.com/uci-cbcl/FactorNet/raw/master"
MAPPABILITY_URL = (
    "http://hgdownload.cse.ucsc.edu/goldenPath/hg19/encodeDCC/wgEncodeMapability/"
    "wgEncodeDukeMapabilityUniqueness35bp.bigWig"
)
GENCODE_FILES = {
    "cpg": "cpgisland.bed.gz",
    "cds": "wgEncodeGencodeBasicV19.cds.merged.bed.gz",
    "intron": "wgEncodeGencodeBasicV19.intron.merged.bed.gz",
    "promoter": "wgEncodeGencodeBasicV19.promoter.merged.bed.gz",
    "utr5": "wgEncodeGencodeBasicV19.utr5.merged.bed.gz",
    "utr3": "wgEncodeGencodeBasicV19.utr3.merged.bed.gz",
}
CELL_LINES = (
    "A549", "GM12878", "H1-hESC", "HCT116", "HeLa-S3", "HepG2", "IMR-90", "K562", "MCF-7",
    "PC-3", "Panc1", "induced_pluripotent_stem_cell", "liver",
)


class FactorNetDataset(IntervalDataset):
    """FactorNet inputs for the intervals of a BED file.

    Parameters
    ----------
    intervals_file, fasta_file
        Regions (BED3+) and the hg19 reference.
    tracks
        ``{track name: bigWig path}`` in the model's channel order (``bigwig.txt``).
    cell_line, RNAseq_PC_file
        Expression PCs: one of the authors' cell types (any letter case), or a file in their
        ``meta.txt`` format; ``cell_line`` wins when both are given. Only for models that take
        them (``rnaseq=True``).
    GENCODE_dir
        Folder with the six annotation BEDs; default: the authors' files through the store.
        Only for models that take GENCODE flags (``gencode=True``).
    allow_missing_tracks
        Read a bigWig's missing chromosome (or its part past a shorter chromosome's end) as zeros,
        with a warning, instead of refusing it (`epizoo.dataloaders.tracks.TrackMismatchError`).
    """

    def __init__(
        self,
        intervals_file: str | Path,
        fasta_file: str | Path,
        tracks: dict[str, str | Path | None],
        cell_line: str | None = None,
        RNAseq_PC_file: str | Path | None = None,  # noqa: N803 (Kipoi's argument name)
        GENCODE_dir: str | Path | None = None,  # noqa: N803
        rnaseq: bool = False,
        gencode: bool = False,
        allow_missing_tracks: bool = False,
    ) -> None:
        self.annotations = _gencode_annotations(GENCODE_dir) if gencode else None
        super().__init__(
            intervals_file, fasta_file, SEQ_WIDTH,
            bigwig_files=[_track_path(name, path) for name, path in tracks.items()],
            track_names=list(tracks),
            cell_features=_expression_pcs(cell_line, RNAseq_PC_file) if rnaseq else None,
            feature_input="meta_features", centring="floor", allow_missing_tracks=allow_missing_tracks,
        )

    def _batch(self, chroms, starts, region_features, ids, strands=None) -> dict:
        batch = super()._batch(chroms, starts, region_features, ids, strands)
        ranges = batch["metadata"]["ranges"]
        batch["metadata"]["ranges_rc"] = {**ranges, "strand": np.full(len(starts), "-")}
        return batch

    def region_features_for(self, chroms, starts, ends) -> np.ndarray | None:
        """The 6 GENCODE flags of each interval (GENCODE models), else None."""
        if self.annotations is None:
            return None
        return np.stack([index.overlaps(chroms, starts, ends) for index in self.annotations], axis=1).astype(np.float32)


def _track_path(name: str, path: str | Path | None) -> str:
    if path is not None:
        return str(path)
    if name == "Unique35":
        return str(published_file(MAPPABILITY_URL))
    raise ValueError(f"the {name} bigWig is required: pass it as {name.lower()}_file")


def _expression_pcs(cell_line: str | None, pc_file: str | Path | None) -> np.ndarray:
    """The 8 expression PCs of a cell type, from the authors' file for ``cell_line`` (which wins,
    as in Kipoi's dataloader) or from ``RNAseq_PC_file``."""
    if cell_line is None and pc_file is None:
        raise ValueError(
            "this model needs the cell type's expression PCs: pass cell_line "
            f"(one of {', '.join(CELL_LINES)}) or RNAseq_PC_file (the authors' meta.txt format)"
        )
    if cell_line is not None:
        if pc_file is not None:
            warnings.warn(f"both cell_line and RNAseq_PC_file given: using cell_line {cell_line!r}'s PCs "
                          f"and ignoring {pc_file}, as Kipoi's FactorNet dataloader does", stacklevel=3)
        pc_file = published_file(f"{AUTHORS}/data/{_published_cell_line(cell_line)}/meta.txt")
    pcs = read_feature_vector(pc_file)
    if len(pcs) != 8:
        raise ValueError(f"{pc_file} has {len(pcs)} values; FactorNet meta models take 8 PCs")
    return pcs


def _published_cell_line(name: str) -> str:
    """The authors' spelling of a cell type named in any letter case (``pc-3`` -> ``PC-3``)."""
    spelling = {cell.casefold(): cell for cell in CELL_LINES}.get(str(name).casefold())
    if spelling is None:
        raise ValueError(f"unknown cell_line {name!r}; the authors published PCs for {', '.join(CELL_LINES)}. "
                         "Fix: pass RNAseq_PC_file for other cell types.")
    return spelling


def _gencode_annotations(gencode_dir: str | Path | None) -> list[OverlapIndex]:
    """Overlap indexes of the authors' six annotation BEDs, in the flags' order."""
    indexes = []
    for name in GENCODE_FILES.values():
        path = Path(gencode_dir) / name if gencode_dir else published_file(f"{AUTHORS}/resources/{name}")
        if not path.exists():
            raise FileNotFoundError(f"GENCODE_dir {gencode_dir} has no {name}")
        indexes.append(OverlapIndex(read_bed(path), str(path)))
    return indexes


# -- Kipoi's FactorNet signatures, one per kind of published model ------------------------------
# Arguments in the order of Kipoi's FactorNet/template/template_dataloader.py, so that positional
# calls bind as they did there; ``use_linecache`` is accepted and has no effect (see above).
class DGF(FactorNetDataset):
    """FactorNet models with the DNase track only (``onePeak_DGF``, ``multiTask_DGF``)."""

    def __init__(self, intervals_file, fasta_file, dnase_file, use_linecache=True, allow_missing_tracks=False):
        super().__init__(intervals_file, fasta_file, {"DGF": dnase_file}, allow_missing_tracks=allow_missing_tracks)


class Unique35DGF(FactorNetDataset):
    """Models with mappability and DNase (``onePeak_Unique35_DGF``)."""

    def __init__(self, intervals_file, fasta_file, dnase_file, mappability_file=None, use_linecache=True,
                 allow_missing_tracks=False):
        super().__init__(intervals_file, fasta_file, {"Unique35": mappability_file, "DGF": dnase_file},
                         allow_missing_tracks=allow_missing_tracks)


class MetaUnique35DGF(FactorNetDataset):
    """Models with expression PCs (``meta_RNAseq_Unique35_DGF``, ``meta_Unique35_DGF``)."""

    def __init__(self, intervals_file, fasta_file, dnase_file, cell_line=None, RNAseq_PC_file=None,  # noqa: N803
                 mappability_file=None, use_linecache=True, allow_missing_tracks=False):
        super().__init__(intervals_file, fasta_file, {"Unique35": mappability_file, "DGF": dnase_file},
                         cell_line=cell_line, RNAseq_PC_file=RNAseq_PC_file, rnaseq=True,
                         allow_missing_tracks=allow_missing_tracks)


class GencodeUnique35DGF(FactorNetDataset):
    """Models with GENCODE flags (``GENCODE_Unique35_DGF``); ``cell_line`` is Kipoi's, unused."""

    def __init__(self, intervals_file, fasta_file, dnase_file, cell_line=None, mappability_file=None,
                 GENCODE_dir=None, use_linecache=True, allow_missing_tracks=False):  # noqa: N803
        super().__init__(intervals_file, fasta_file, {"Unique35": mappability_file, "DGF": dnase_file},
                         GENCODE_dir=GENCODE_dir, gencode=True, allow_missing_tracks=allow_missing_tracks)


class MetaGencodeUnique35DGF(FactorNetDataset):
    """Models with expression PCs and GENCODE flags (``metaGENCODE_RNAseq_Unique35_DGF``)."""

    def __init__(self, intervals_file, fasta_file, dnase_file, cell_line=None, RNAseq_PC_file=None,  # noqa: N803
                 mappability_file=None, GENCODE_dir=None, use_linecache=True, allow_missing_tracks=False):  # noqa: N803
        super().__init__(intervals_file, fasta_file, {"Unique35": mappability_file, "DGF": dnase_file},
                         cell_line=cell_line, RNAseq_PC_file=RNAseq_PC_file, GENCODE_dir=GENCODE_dir,
                         rnaseq=True, gencode=True, allow_missing_tracks=allow_missing_tracks)


#: each class's tracks (bigwig.txt), kind (the authors' folder prefix) and meta features
KINDS = {
    "DGF": (("DGF",), "onePeak", 0),
    "Unique35DGF": (("Unique35", "DGF"), "onePeak", 0),
    "MetaUnique35DGF": (("Unique35", "DGF"), "meta", 8),
    "GencodeUnique35DGF": (("Unique35", "DGF"), "GENCODE", 6),
    "MetaGencodeUnique35DGF": (("Unique35", "DGF"), "metaGENCODE", 14),
}


def dataloader_class(tracks: list[str], features: list[str]) -> str:
    """Name of the class above that serves a model with these ``bigwig.txt`` tracks and
    ``feature.txt`` groups (``bigwig``, ``meta``, ``gencode``)."""
    rnaseq, gencode = "meta" in features, "gencode" in features
    for name, (its_tracks, kind, _) in KINDS.items():
        if list(its_tracks) == list(tracks) and ("meta" in kind, "GENCODE" in kind) == (rnaseq, gencode):
            return name
    raise ValueError(
        f"no FactorNet dataloader for tracks {tracks} with features {features}; the authors' "
        "models use DGF or Unique35+DGF. Fix: add a dataloader class for this combination."
    )


def _describe_classes() -> None:
    """Each class carries the group's dataloader description (dataloader-template.yaml), so that
    entries naming it by import get Kipoi's example files (`epizoo.dataloaders.descriptions`)."""
    from epizoo.entry_writing import render_template

    group = Path(__file__).resolve().parent
    for name, (tracks, kind, n_meta) in KINDS.items():
        values = {"dataloader": name, "tracks": ",".join(tracks), "n_channels": 4 + len(tracks),
                  "n_meta": n_meta, "kind": kind}
        describe(globals()[name], render_template(group / "dataloader-template.yaml", values), group)


_describe_classes()
