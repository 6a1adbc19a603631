"""The packs on Apache Spark: the same decisions as ``gspolicy evaluate``, where the data is.

`evaluate` decides households given as a Spark DataFrame in the nested Parquet layout (one row a
household, ``members`` and ``support`` as arrays of structs): natively (`decided_native`: the
outcome assembled in the JVM from the compact table of the columnar run), what cannot be lowered
by the columnar runner inside ``mapInArrow``; `summary` counts the summary per partition and joins it; `area_result` decides
villages and counties from what was kept of each household.  `spark_session` starts Spark (local
by default; ``SPARK_MASTER`` or a master URL for a cluster) and says plainly when the `spark` extra
or a Java runtime is missing.  Importing this package imports neither pyspark nor pyarrow."""

from gspolicy.spark.frames import (
    SparkSummary,
    area_result,
    decided,
    evaluate,
    in_input_order,
    kept_frame,
    refused,
    summary,
)
from gspolicy.spark.native import NativeDecided, decided_native
from gspolicy.spark.session import spark_session

__all__ = [
    "NativeDecided",
    "SparkSummary",
    "area_result",
    "decided",
    "decided_native",
    "evaluate",
    "in_input_order",
    "kept_frame",
    "refused",
    "spark_session",
    "summary",
]
