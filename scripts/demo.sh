#!/usr/bin/env bash
# The main job on the bundled example data (examples/README.md says where each file comes from):
# variant effects of real FactorNet models on the example VCF, through stock `kipoi predict` and
# through `epizoo score-variants`. Run it through `bash scripts/dev.sh demo`, which sets up .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${EPIZOO_VENV:-.venv}/bin
OUT=out/demo
mkdir -p "$OUT"

# Published weights come through the weights store: from the offline mirror when there is one
# (../shared/data beside the checkout, as in CI), otherwise from the authors' URLs (checksummed).
if [[ -z "${EPIZOO_MIRROR:-}" && -d ../shared/data ]]; then
    export EPIZOO_MIRROR=$(cd ../shared/data && pwd)
fi

ARGS='{"vcf_file": "examples/variants.vcf", "fasta_file": "examples/genome.fa", "dnase_file": "examples/dnase.bw"}'
echo "== kipoi predict: variant effects of FactorNet/FOXA1/onePeak_DGF on examples/variants.vcf"
"$BIN/kipoi" predict zoo/VariantEffects/FactorNet/FOXA1/onePeak_DGF --source dir \
    --dataloader_args "$ARGS" -o "$OUT/kipoi_effects.tsv" >"$OUT/kipoi.log" 2>&1 || { tail -20 "$OUT/kipoi.log"; exit 1; }
"$BIN/python" - "$OUT/kipoi_effects.tsv" <<'PY'
import sys
import pandas as pd
table = pd.read_csv(sys.argv[1], sep="\t", keep_default_na=False)
columns = [f"preds/variant/{k}" for k in ("chrom", "pos", "id", "ref", "alt")] + ["preds/is_binding_site/FOXA1/diff", "preds/is_binding_site/FOXA1/logit", "preds/variant/reason"]
print(f"   {len(table)} rows, one per ALT allele -> {sys.argv[1]}")
print(table[columns].rename(columns=lambda c: c.split("/", 1)[1]).iloc[[0, 1, 4, 5, 6, -2, -1]].to_string(index=False))
PY

echo
echo "== epizoo score-variants: two FactorNet models in one pass, annotated VCF + rejects"
"$BIN/epizoo" score-variants FactorNet/FOXA1/onePeak_DGF FactorNet/MAX/onePeak_Unique35_DGF \
    --vcf examples/variants.vcf --fasta examples/genome.fa \
    --dataloader-args '{"dnase_file": "examples/dnase.bw", "mappability_file": "examples/mappability.bw"}' \
    --scores diff,logit --out "$OUT/effects.vcf.gz"
echo "   first annotated record:"
"$BIN/python" -c "import gzip,sys; print(next(l for l in gzip.open(sys.argv[1],'rt') if not l.startswith('#')).rstrip()[:300])" "$OUT/effects.vcf.gz"
echo "   rejected alleles:"
column -t -s $'\t' "$OUT/effects.rejects.tsv"

echo
echo "== epizoo interpret: what FactorNet/FOXA1/onePeak_DGF reads in the example regions"
"$BIN/epizoo" interpret FactorNet/FOXA1/onePeak_DGF --regions examples/regions.bed --fasta examples/genome.fa \
    --dataloader-args '{"dnase_file": "examples/dnase.bw"}' --target FOXA1 --hypothetical \
    --out "$OUT/attributions.npz" --plot "$OUT/foxa1_logo.png" --plot-width 80
