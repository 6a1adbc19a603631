"""The Spark tests' shared fixtures: Spark on ``local[2]``, started once per test session and shut
down (its JVM waited for, its CPU time charged) at the end; and the households they decide, built
once (`support.spark_registry`).

Without a Java runtime or pyspark the Spark tests are skipped, except under CI (``CI=true``),
where they fail: `.ci/run` installs Debian's ``openjdk-17-jre-headless`` when ``java -version``
fails, and pyspark is in the ``test`` extra."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.spark_registry import EXAMPLE, generated, nested
from support.timing import charge


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _tree_cpu(pid: int) -> float:
    """CPU seconds of process `pid` and every process below it still running (each with the
    children it waited for), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        here = todo.pop()
        try:
            fields = Path(f"/proc/{here}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / tick
            for task in os.listdir(f"/proc/{here}/task"):
                todo += [int(c) for c in Path(f"/proc/{here}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return total


_STOP: list[Callable[[], None]] = []  # shuts the session's JVM down (when one is running)
_LAST: list[str] = []  # the last test of the run that uses the session


@pytest.fixture(autouse=True)
def _stop_after_the_last_user(request: pytest.FixtureRequest) -> Iterator[None]:
    """Spark is shut down right after the last test that uses it, so that its JVM's time is
    counted in a Spark test, not in whichever test the run ends with."""
    yield
    if _LAST and request.node.nodeid == _LAST[0]:
        while _STOP:
            _STOP.pop()()


def pytest_collection_finish(session: pytest.Session) -> None:
    users = [item.nodeid for item in session.items if "spark" in getattr(item, "fixturenames", ())]
    _LAST[:] = users[-1:]


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """Spark on ``local[2]``, started once; after the last test that uses it (or at the end) the
    JVM is shut down and waited for, and
    what its Python workers spent — which this process cannot wait for — is charged
    (`support.timing.charge`): the run counts the larger of the JVM's tree measured just before
    shutdown and what waiting for the JVM added."""
    import resource

    from gspolicy.errors import PolicyError
    from gspolicy.spark.session import java_runtime, needs_spark

    try:
        needs_spark()
    except PolicyError as err:
        if _ci():
            pytest.fail(f"CI needs pyspark (the test extra): {err}")
        pytest.skip(f"needs pyspark, pyarrow and pandas (the spark extra): {err}")
    missing = java_runtime()
    if missing is not None:
        if _ci():
            pytest.fail(f"CI needs Java: .ci/run installs openjdk-17-jre-headless ({missing})")
        pytest.skip(f"needs a Java runtime (openjdk-17-jre-headless): {missing}")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("gspolicy-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # small data: interpreting the plans is cheaper than compiling some 700 columns
        .config("spark.sql.codegen.wholeStage", "false")
        # nor any expression compiled (the plans are built once and run on few rows)
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        # no Python call site recorded with every column built (several JVM calls each)
        .config("spark.python.sql.dataFrameDebugging.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # a short run: the JVM's quick compiler alone, one compiler thread
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    gateway = SparkContext._gateway
    assert gateway is not None
    jvm = gateway.proc

    def stop() -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        measured = _tree_cpu(jvm.pid)
        session.stop()
        gateway.shutdown()
        if jvm.stdin is not None:
            jvm.stdin.close()  # the gateway's JVM ends when its input does
        SparkContext._gateway = None
        SparkContext._jvm = None
        jvm.wait(timeout=120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        waited = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        charge(measured - waited)

    _STOP.append(stop)
    try:
        yield session
    finally:
        while _STOP:
            _STOP.pop()()


@pytest.fixture(scope="session")
def spark_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """The JSON Lines files (the example registry, the generated households) and a folder of the
    same households in the nested Parquet layout."""
    folder = tmp_path_factory.mktemp("spark")
    lines = [EXAMPLE, generated(folder)]
    return lines, nested(lines, folder / "nested")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of this folder that need no Spark session run before those that start it (a
    test of what happens without Java needs no session running), each group in its order."""
    here = Path(__file__).parent
    places = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]
    mine = [items[i] for i in places]
    ordered = sorted(mine, key=lambda item: "spark" in getattr(item, "fixturenames", ()))
    for place, item in zip(places, ordered, strict=True):
        items[place] = item
