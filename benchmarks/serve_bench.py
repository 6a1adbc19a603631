"""The decision service under load: 50 concurrent clients on loopback for 30 s, first sending one
household per request, then batches of 1,000 — latency p50 and p99, throughput, errors (there
must be none) and the server's resident memory after the first 5 s against at the end of the load
(within 5 %).

    python benchmarks/serve_bench.py [--clients 50] [--seconds 30] [--batch 1000] [--quick]

The server is ``gspolicy serve`` in its own process (the bundled policy set, ``--port 0``); the
clients are one asyncio process, each client a keep-alive connection sending its next request as
soon as the last is answered.  Requests are started for `--seconds`; the ones still in flight
then are waited for and counted.  Every answer must be 200 and name the policy set's hash.  The
households are the example registry's (``examples/registry/households.jsonl``).  Needs the
``serve`` extra.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "examples" / "registry" / "households.jsonl"


def rss_mib(pid: int) -> float:
    """The resident memory of process `pid`, MiB (Linux: /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes
) -> tuple[int, bytes]:
    writer.write(
        b"POST /v1/decide HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    policy_set = b""
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"gspolicy-policy-set":
            policy_set = value.strip()
    await reader.readexactly(length)
    return status, policy_set


async def _phase(
    port: int, bodies: list[bytes], clients: int, seconds: float, server: int
) -> dict[str, object]:
    latencies: list[float] = []
    errors: list[str] = []
    hashes: set[bytes] = set()
    rss: dict[str, float] = {}
    started = time.perf_counter()
    stop = started + seconds

    async def client(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        rng = random.Random(index)
        try:
            while time.perf_counter() < stop:
                sent = time.perf_counter()
                try:
                    status, policy_set = await _request(reader, writer, rng.choice(bodies))
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as err:
                    errors.append(f"{type(err).__name__}: {err}")
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - sent)
                hashes.add(policy_set)
                if status != 200:
                    errors.append(f"status {status}")
        finally:
            writer.close()

    async def sample() -> None:
        await asyncio.sleep(5)
        rss["after_5s"] = rss_mib(server)
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        rss["end"] = rss_mib(server)  # the end of the load, before the requests in flight are waited for

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    await sampler
    rss["drained"] = rss_mib(server)
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "elapsed": elapsed,
        "p50": statistics.median(ordered) if ordered else float("nan"),
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan"),
        "errors": errors,
        "hashes": hashes,
        "rss": rss,
    }


def _report(name: str, per_request: int, result: dict[str, object]) -> bool:
    requests = int(result["requests"])  # type: ignore[call-overload]
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    rss = result["rss"]
    assert isinstance(rss, dict)
    errors = result["errors"]
    assert isinstance(errors, list)
    growth = (rss["end"] - rss["after_5s"]) / rss["after_5s"] * 100
    print(
        f"{name:<22} {requests:>6} requests in {elapsed:5.1f} s: "
        f"{requests / elapsed:7.1f} req/s, {requests * per_request / elapsed:8.0f} households/s; "
        f"latency p50 {float(result['p50']) * 1000:8.1f} ms, p99 {float(result['p99']) * 1000:8.1f} ms; "  # type: ignore[arg-type]
        f"errors {len(errors)}; RSS {rss['after_5s']:.0f} MiB after 5 s, {rss['end']:.0f} MiB at the end "
        f"({growth:+.1f} %), {rss['drained']:.0f} MiB once the requests in flight were answered"
    )
    if errors:
        print("  first errors:", errors[:3])
    hashes = result["hashes"]
    assert isinstance(hashes, set)
    if len(hashes) != 1:
        print("  answers named", len(hashes), "policy-set hashes (expected one)")
    return not errors and len(hashes) == 1 and abs(growth) <= 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="5 clients for 6 s, batches of 50: a check")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds, args.batch = 5, 6.0, 50
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        print("serve_bench: needs the serve extra (pip install -e '.[serve]'); left out")
        return 0
    households = [json.loads(line) for line in REGISTRY.read_text("utf-8").splitlines() if line.strip()]
    rng = random.Random(2026)
    singles = [
        json.dumps({"household": h, "as_of": "2018-12-31"}).encode() for h in rng.sample(households, 300)
    ]
    batches = [
        json.dumps({"households": rng.sample(households, args.batch), "as_of": "2018-12-31"}).encode()
        for _ in range(8)
    ]
    env = {**os.environ, "GSPOLICY_LANG": "en"}
    command = [sys.executable, "-m", "gspolicy", "serve", "--port", "0"]
    server = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    assert server.stderr is not None
    port = 0
    for line in server.stderr:
        if line.startswith("serving http://"):
            port = int(line.split()[1].rsplit(":", 1)[1])
            break
    if not port:
        print("serve_bench: the server did not start")
        return 1
    drain = asyncio.to_thread(lambda: [None for _ in server.stderr or ()])  # keep its log from blocking it
    print(f"serve_bench on {machine()}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"{args.clients} clients on loopback, {args.seconds:.0f} s per phase (requests in flight then are waited for)"
    )
    ok = True

    async def run() -> None:
        nonlocal ok
        draining = asyncio.create_task(drain)
        single = await _phase(port, singles, args.clients, args.seconds, server.pid)
        ok = _report("single households", 1, single) and ok
        batch = await _phase(port, batches, args.clients, args.seconds, server.pid)
        ok = _report(f"batches of {args.batch}", args.batch, batch) and ok
        server.terminate()
        await draining

    try:
        asyncio.run(run())
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=30)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
