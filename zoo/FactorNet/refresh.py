"""Maintainers' tool: pin the converted weights and ``kipoi test`` expectations of the group.

For every row of ``models.tsv`` whose published files the weights store can reach (through
``EPIZOO_MIRROR``, e.g. ``../shared/data``, or the network), convert the model, record the
sha256 of the converted safetensors in ``converted_sha256`` and write ``expect/<model>.h5`` (the
example predictions ``kipoi test`` checks), referenced from ``test_expect``.

    EPIZOO_MIRROR=../shared/data python -m epizoo.zoo.FactorNet.refresh [MODEL ...]
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd

from epizoo.atomic import write_text
from epizoo.entry_writing import write_expect
from epizoo.weight_sources import converted_weights, sha256sum
from epizoo.weights import WeightStore

GROUP = Path(__file__).resolve().parent
TABLE = GROUP / "models.tsv"


def read_table() -> tuple[str, pd.DataFrame]:
    """The comment header and the rows of models.tsv."""
    lines = TABLE.read_text().splitlines(keepends=True)
    header = "".join(line for line in lines if line.startswith("#"))
    body = "".join(line for line in lines if not line.startswith("#"))
    return header, pd.read_csv(io.StringIO(body), sep="\t", dtype=str, keep_default_na=False)


def convert(row: pd.Series, store: WeightStore) -> str:
    """Convert one model (from the store, never the network); return the sha256 of the result."""
    sources = {
        "model_json": {"url": row["json_url"], "md5": row["json_md5"]},
        "weights_hdf5": {"url": row["weights_url"], "md5": row["weights_md5"]},
    }
    return sha256sum(converted_weights(row["converter"], sources, store))


def write_table(header: str, table: pd.DataFrame) -> None:
    write_text(TABLE, header + table.to_csv(sep="\t", index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", help="rows to refresh (default: all reachable)")
    args = parser.parse_args()
    header, table = read_table()
    store = WeightStore(allow_download=False)
    for index, row in table.iterrows():
        if args.models and row["model"] not in args.models:
            continue
        try:
            sha256 = convert(row, store)
        except FileNotFoundError as error:
            print(f"skip {row['model']}: {error}")
            continue
        # the entry must pin the new weights before its expectations can be computed
        table.loc[index, ["converted_sha256", "test_expect"]] = [sha256, "-"]
        write_table(header, table)
        expect = Path("expect") / (row["model"].replace("/", "_") + ".h5")
        write_expect(f"FactorNet/{row['model']}", GROUP / expect)
        table.loc[index, "test_expect"] = str(expect)
        write_table(header, table)
        print(f"ok   {row['model']}  {sha256[:12]}  {expect}")


if __name__ == "__main__":
    main()
