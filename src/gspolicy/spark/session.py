"""A Spark session for a run, and the two things it needs that may be missing: the `spark` extra
(pyspark, pyarrow) and a Java runtime.  Each missing one is a located diagnostic in zh and en
(`PolicyError`), never a traceback.

The master is the one given, else ``SPARK_MASTER``, else ``local[*]`` (every core of this
machine); a session already running is reused as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from gspolicy.errors import Diagnostic, PolicyError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["LOCAL", "active_session", "java_runtime", "master_of", "needs_spark", "spark_session"]

LOCAL = "local[*]"
"""The master when none is given: Spark in this process's machine, on every core."""
LOCAL_MEMORY = "4g"
"""The heap of a local master's JVM (``GSPOLICY_SPARK_MEMORY`` sets another)."""


def needs_spark() -> None:
    """Raise `PolicyError` (``spark/needs-extra``) unless pyspark and pyarrow can be imported."""
    for module in ("pyspark", "pyarrow", "pandas"):
        try:
            __import__(module)
        except ImportError as err:
            raise PolicyError([Diagnostic("spark/needs-extra", None, {"reason": str(err)})]) from None


def java_runtime() -> str | None:
    """Why no Java runtime can run Spark (None: one can): ``JAVA_HOME``'s, else the one on the
    path, must answer ``java -version``."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if java is None:
        return "no `java` on the path and JAVA_HOME is not set"
    try:
        done = subprocess.run([java, "-version"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"`{java} -version` failed: {err}"
    if done.returncode != 0:
        return f"`{java} -version` exited {done.returncode}"
    return None


def master_of(master: str | None) -> str:
    """The master a run uses: `master`, else ``SPARK_MASTER``, else `LOCAL`."""
    return master or os.environ.get("SPARK_MASTER") or LOCAL


def active_session() -> SparkSession | None:
    """The Spark session already running in this process, if any (pyspark imported only when it
    is installed)."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def spark_session(master: str | None = None, *, app: str = "gspolicy") -> SparkSession:
    """The Spark session of a run (see the module doc); raises `PolicyError` when the `spark`
    extra or a Java runtime is missing, or Spark cannot start."""
    needs_spark()
    from pyspark.sql import SparkSession  # noqa: PLC0415

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    chosen = master_of(master)
    if chosen.startswith("local"):
        missing = java_runtime()
        if missing is not None:
            raise PolicyError([Diagnostic("spark/no-java", None, {"reason": missing})])
        # the workers of a local master run this interpreter, with gspolicy installed
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(chosen).appName(app)
    if chosen.startswith("local") and "spark.driver.memory" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        # a local master's tasks run in the driver's JVM, whose default heap (1 GiB) a million
        # households' outcome rows, kept and sorted, outgrow
        builder = builder.config("spark.driver.memory", os.environ.get("GSPOLICY_SPARK_MEMORY", LOCAL_MEMORY))
    try:
        return (
            builder.config("spark.ui.enabled", "false")
            # no Python call site recorded with every column built: the native path builds
            # thousands, and recording each costs several calls into the JVM
            .config("spark.python.sql.dataFrameDebugging.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as err:  # the gateway's own errors: a JVM that did not start, a bad master
        raise PolicyError(
            [Diagnostic("spark/failed", None, {"master": chosen, "reason": _first_line(err)})]
        ) from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
