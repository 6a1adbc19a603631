"""A registry in the nested Parquet layout decided on Spark, to a county summary and an output table.

    spark-submit [--master URL] examples/spark_county_summary.py REGISTRY OUTPUT [--as-of 2018-12-31]

REGISTRY: a Parquet file or folder, one row a household, ``members`` and ``support`` as lists of
structs (the JSON shape).  OUTPUT: a folder Spark writes the decided households to (Parquet, one
row a household, the columns of ``gspolicy evaluate --output``), with ``per-county.csv`` and
``summary.txt`` beside it on the driver.  The policy set travels with the job: the executors need
gspolicy installed (the same version), not the packs.  See docs/how-to/run-on-spark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import gspolicy
from gspolicy import spark as on_spark
from gspolicy.spark.batches import OUTCOME_COLUMNS, PROBLEMS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("registry")
    parser.add_argument("output")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2018, 12, 31))
    parser.add_argument(
        "--policies", type=Path, default=None, help="a policy folder (default: the bundled set)"
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    args = parser.parse_args()

    spark = SparkSession.builder.appName("gspolicy county summary").getOrCreate()
    policies = gspolicy.load_policies(args.policies)
    households = spark.read.parquet(args.registry)
    rows = on_spark.decided(households, policies, args.as_of, lang=args.lang).persist()

    refused = on_spark.refused(rows)
    if refused.limit(1).count():
        for row in refused.limit(20).collect():
            print("\n".join(row[PROBLEMS]))
        raise SystemExit(f"{refused.count()} households have problems; nothing was written")

    rows.where(F.size(PROBLEMS) == 0).select(*OUTCOME_COLUMNS).write.mode("overwrite").parquet(args.output)
    counted = on_spark.summary(rows, policies, args.as_of)
    text = counted.render(args.lang)
    print(text)
    local = Path(args.output.removeprefix("file:")) if "://" not in args.output else Path(".")
    local.mkdir(parents=True, exist_ok=True)
    (local / "summary.txt").write_text(text, encoding="utf-8")
    counted.per_county().write_csv(local / "per-county.csv")
    rows.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
