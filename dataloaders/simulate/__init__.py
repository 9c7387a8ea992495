"""A seeded synthetic genome with planted motifs, per-cell-type tracks, peaks, labels and a VCF.

`simulate` writes a small, fully known world for tests and synthetic benchmarks: FactorNet
(sequence + DNase + expression PCs -> bin labels), GOPHER (binary and quantitative coverage per
cell type) and ChromDragoNN (accessibility across cell types from sequence + a TF expression
vector) can all train on it, and variant-effect code can be checked against exact ground truth.
The same seed gives byte-identical files; every rule below is exact, so tests can assert it.

Randomness
----------
One `numpy.random.Generator` per concern, each ``default_rng(SeedSequence(seed, spawn_key=(k,)))``
(k = 0 genome, 1 sites, 2 cell types, 3 tracks, 4 variants). Changing, say, the number of cell
types therefore leaves the genome and the planted sites unchanged.

Rules
-----
Genome
    ``n_chroms`` chromosomes ``chr1, chr2, ...`` of ``chrom_length`` bases each. Bases are i.i.d.
    with P(C) = P(G) = gc / 2 and P(A) = P(T) = (1 - gc) / 2 (gc = 0.41). Each chromosome gets
    ``n_runs_per_chrom`` runs of ``N`` (20-200 bp) and ``masked_per_chrom`` soft-masked
    (lower-case) stretches of 100-800 bp; soft-masking is applied last, so a planted site inside
    such a stretch is lower case too (`Genome` reads everything upper case).
Sites
    Each chromosome is cut into slots of ``site_spacing`` (600) bp. ``sites_per_chrom`` slots are
    drawn among those that hold no ``N`` (the first and last slot are never used). A site's
    centre ``summit`` is uniform in ``[slot + 150, slot_end - 150)``; the site is the 300-bp
    element ``[summit - 150, summit + 150)`` (``start``, ``end``), so sites never overlap. The
    motifs (HOCOMOCO PWMs from the MEME file) are dealt out in equal shares (shuffled); the strand
    is ``+`` or ``-`` with probability 1/2. The site's ``sequence`` is drawn base by base from the
    PWM columns (in motif orientation) and planted, upper case, over the core
    ``[core_start, core_end)``, with ``core_start = summit - width // 2``: as is on ``+``, reverse
    complemented on ``-``. ``score`` is the PWM log-odds score of the sequence (log2, genome base
    composition as background, pseudocount 0.01) and ``rel_score`` rescales it to [0, 1] between
    the motif's lowest and highest possible score. Chance motif matches in the background are
    never bound.
Expression (per cell type)
    Genes are the TFs of the planted motifs followed by ``n_background_genes`` genes
    ``GENE01, ...`` that no rule uses. A TF is *expressed* in a cell type when its value is above
    ``expression_threshold`` (5.0). By default the first TF (CTCF) and, with three TFs or more,
    the last TF (MAX) are ubiquitous (expressed in every cell type), and TF number ``i``
    (0-based, in between) is expressed only in cell type ``(i - 1) mod n_cells``: with the
    defaults FOXA1 in cellA, GATA1 in cellB and HNF4A in cellC. ``expressed_in`` overrides this
    per TF. Values: expressed TFs are log-normal around 8x the threshold and at least 2x it,
    silent TFs log-normal around threshold / 10 and at most threshold / 2; background genes are
    log-normal around 2x the threshold. ``meta.txt`` holds FactorNet's 8 "GEPC" values: the
    scores of each cell type on the principal components of the cell type x gene matrix of
    ``asinh(expression)`` centred across cell types, each component's sign chosen so that its
    largest-magnitude loading is positive; components past ``n_cells - 1`` are 0.
Accessibility
    A site is *constitutive* with probability ``shared_accessible`` (0.35) and then accessible in
    every cell type; otherwise it is accessible in each cell type independently with probability
    ``cell_accessible`` (0.5). A cell type's accessible fraction is 0.675 and the expected
    Jaccard overlap of two cell types' accessible sets is 0.61.
Binding
    TF t is *bound* at site s in cell type c if and only if s carries t's motif, s is accessible
    in c, and t is expressed in c.
DNase track (per cell type, per base)
    Poisson counts with rate ``dnase_background`` (0.02) everywhere, ``dnase_open`` (0.5) over the
    300-bp element of every site accessible in that cell type, ``dnase_footprint`` (0.05) over
    the core of every site bound there, and 0 over ``N`` runs.
ChIP track (per cell type and TF, per base)
    Poisson counts with rate ``chip_background`` (0.05) plus, for each site bound by the TF in
    that cell type, ``chip_height * (0.5 + 0.5 * rel_score)`` times a Gaussian of s.d.
    ``chip_sigma`` (40 bp) centred on the summit, cut at the element's edges; 0 over ``N``.
Peaks
    ``<cell>.<tf>.narrowPeak``: one line per site bound by the TF in the cell type;
    ``<cell>.dnase.narrowPeak``: one per site accessible there. Both are narrowPeak (10 columns):
    the 300-bp element, name = site_id, score = round(1000 * rel_score) (1000 for DNase), strand
    ``.``, signalValue = the expected peak height, pValue = qValue = -1, summit offset 150.
Labels
    Bins of 200 bp every 50 bp over each chromosome (``start = 0, 50, ...`` while
    ``start + 200 <= length``, as FactorNet's ladder). Column ``<cell>.<tf>`` is 1 when the bin
    covers more than half of the core of a site bound by the TF in that cell type
    (``2 * overlap > core width``), else 0.
Variants (``variants.vcf`` + ``variants_truth.tsv``)
    ``variants_per_kind`` (8) of each kind, on distinct sites, half on ``+`` and half on ``-``
    sites where there are enough; site kinds use only sites bound in at least one cell type.

    * ``breaks_site``: SNV at the motif position of highest information content
      (KL divergence of the PWM column from the genome composition); ALT is the base of lowest
      PWM probability there, among the three non-REF bases. Sites where that change would not
      strictly lower the site's log-odds score are skipped (the background is not uniform, so a
      less probable base can still score higher), so the score always drops.
    * ``weakens_site``: the same at the motif position of lowest information content.
    * ``indel_in_site``: deletions of 1-3 bases starting at the core's middle, or insertions of
      1-3 random bases after the base just before it (alternating, deletions first).
    * ``neutral``: SNV to a random other base at a position at least ``far_distance`` (500 bp)
      from every site element and 10 bp from any ``N``.
    * ``indel_outside``: deletions/insertions as above at such far positions.

    REF always equals the FASTA (upper case); the VCF is sorted by chromosome then position, its
    IDs ``var0001, ...`` are unique and INFO carries ``KIND``, ``SITE`` and ``TF``.

ATAC (``atac=True``; `gopher_config` is the GOPHER benchmark, `chromdragonn_config` ChromDragoNN's)
    Rules in `epizoo.dataloaders.simulate.atac`: a site's peak height in a cell type is
    ``atac_height`` times its logistic occupancy (from its PWM score) where its TF is expressed;
    coverage is ``atac_baseline`` plus a Gaussian peak per site; two Poisson replicates; peaks
    where the height reaches ``atac_peak_height``; every variant's exact log2 fold change of the
    expected coverage summed over ``atac_effect_window`` bp; and a saturation mutagenesis of
    ``atac_saturation_sites`` sites (``atac/saturation.vcf`` and its truth).

Modules: `config` (knobs, constants, streams), `atac`, `presets`, `pwm` (motifs), `genome`, `sites`, `cells`
(expression, accessibility, binding, track rates), `labels`, `variants`, `files` (writers, the
manifest) and `world` (`simulate`, `SimulatedGenome`). The command line is ``epizoo simulate``
(`epizoo.commands.simulate`).

Files (relative to ``out_dir``; all written to a temporary name and then renamed)
    ``genome/genome.fa`` (+ ``.fai``), ``chrom.sizes``, ``sites.tsv``,
    ``expression/<cell>.expression.tsv``, ``expression/<cell>.meta.txt``, ``expression/rna.tsv``,
    ``tracks/<cell>.dnase.bw``, ``tracks/<cell>.<tf>.chip.bw``, ``peaks/<cell>.dnase.narrowPeak``,
    ``peaks/<cell>.<tf>.narrowPeak``, ``tracks/<cell>.atac.rep{1,2}.bw``, ``peaks/<cell>.atac.narrowPeak``,
    ``atac/variant_effects.tsv``, ``atac/saturation.vcf`` (+ ``_truth.tsv``), ``labels.tsv``, ``variants.vcf``, ``variants_truth.tsv``
    and ``manifest.json`` (seed, parameters and every path).

Examples
--------
>>> sim = simulate("synthetic", seed=0)                       # doctest: +SKIP
>>> sim.load_sites().query("bound_cellA == 1").tf.value_counts()  # doctest: +SKIP
"""
from __future__ import annotations

from .config import BIN_STEP, BIN_WIDTH, DEFAULT_TFS, VARIANT_KINDS, SimulationConfig, default_meme_file
from .labels import bin_starts, core_bin_labels
from .presets import PRESETS, chromdragonn_config, gopher_config
from .pwm import background_probabilities, information_content, load_motifs, log_odds, score_sequence
from .world import SimulatedGenome, simulate, simulate_config

__all__ = [
    "BIN_STEP", "BIN_WIDTH", "DEFAULT_TFS", "PRESETS", "VARIANT_KINDS", "SimulatedGenome", "SimulationConfig",
    "background_probabilities", "bin_starts", "chromdragonn_config", "core_bin_labels", "default_meme_file",
    "gopher_config", "information_content", "load_motifs", "log_odds", "score_sequence", "simulate", "simulate_config",
]
