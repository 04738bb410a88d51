"""Load on a team server: many remote trackers posting at once, and the runs page over a
large store.

1. **Ingest.** ``wattprint ui`` (the real server: uvicorn, one worker, SQLite store in a
   fresh data folder) on 127.0.0.1; N simulated trackers (default 200), each on its own
   keep-alive HTTP connection, post their run record, then one ``samples`` batch per
   second (``--components`` rows, as a tracker sampling every second and flushing every
   second would) for T seconds (default 60), then their ``end`` record, through
   ``POST /api/ingest/RUN`` with the token. Start times are spread over the first
   second. Reported: sustained ingest rate (records and sample rows acknowledged per
   second), request latency p50/p99/max, errors (any answer but 200), the CPU of the
   server and of the load generator, and lost or duplicated samples: the sample rows in
   the server's store (after a read of it, which ingests what the server's ingester had
   not yet) against the rows sent, run by run; and how many rows the ingester had not
   ingested yet when the server stopped. Targets (issue 10): zero errors, zero lost
   samples, p99 < 200 ms.
2. **Runs page.** A store of ``--runs`` runs (default 10,000), written as journals and
   ingested by one ``Store.sync()``, served by ``wattprint ui``; ``GET
   /api/runs?per_page=25`` timed 20 times after one warm-up. Target: < 300 ms.

The load generator is a small asyncio HTTP/1.1 client (standard library only) in this
process, so that it costs the 2-core machine as little as possible; it shares the
machine with the server all the same, which the figures include.

    .venv/bin/python benchmarks/server_load.py [--quick] [--trackers 200] [--seconds 60]
                                               [--components 4] [--runs 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PYTHON,
    ensure_repo_on_path,
    print_table,
    temp_data_dir,
    verdict,
    write_results,
)

ensure_repo_on_path()

from wattprint.store.journal import encode_records, journal_path  # noqa: E402

P99_TARGET_MS = 200.0
RUNS_PAGE_TARGET_MS = 300.0
T0 = 1_700_000_000.0


# ------------------------------------------------------------------------- server
class Server:
    """``wattprint ui`` on a free loopback port over ``folder``, as a child process."""

    def __init__(self, folder: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        command = [PYTHON, "-m", "wattprint", "ui", "--no-browser", "--gpus", "none"]
        command += ["--port", str(self.port), "--dir", folder]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        self.proc = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/meta", timeout=5).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("wattprint ui did not start") from None
                time.sleep(0.2)
        self.token = (Path(folder) / "ui-token").read_text().strip()

    def cpu_s(self) -> float:
        """CPU seconds of the server process (its job worker is not counted)."""
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # Ctrl-C: the server stops its job worker too
        self.proc.wait(timeout=60)


# ------------------------------------------------------------------------- client
class Connection:
    """One keep-alive HTTP/1.1 connection posting JSON."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def run_record(run_id: str, components: int) -> dict[str, Any]:
    return {
        "kind": "run",
        "seq": 0,
        "run_id": run_id,
        "project": "load",
        "name": f"load-{run_id[:8]}",
        "host": "simulated-node",
        "started_at": T0,
        "components": [
            {"name": f"cpu:{c}", "kind": "cpu", "source": "rapl", "quality": "measured"}
            for c in range(components)
        ],
    }


def samples_record(seq: int, components: int) -> dict[str, Any]:
    t = T0 + seq
    return {
        "kind": "samples",
        "seq": seq,
        "rows": [[t, f"cpu:{c}", 50.0 * seq, 50.0] for c in range(components)],
    }


def end_record(seq: int, components: int) -> dict[str, Any]:
    return {
        "kind": "end",
        "seq": seq,
        "ended_at": T0 + seq,
        "status": "finished",
        "energy_j": {f"cpu:{c}": 50.0 * (seq - 1) for c in range(components)},
        "error": None,
        "exit_code": None,
    }


async def tracker(
    server: Server, run_id: str, start: float, seconds: int, components: int, stats: dict
) -> None:
    """One simulated tracker: run record, one batch per second, end record."""
    conn = Connection(server.port, server.token)
    path = f"/api/ingest/{run_id}"
    loop = asyncio.get_running_loop()

    async def send(record: dict[str, Any]) -> None:
        body = {"batch": {"first_seq": record["seq"], "last_seq": record["seq"]}}
        began = time.perf_counter()
        try:
            status, answer = await conn.post(path, {**body, "records": [record]})
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            stats["errors"].append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn.writer = None
            return
        stats["latency_ms"].append((time.perf_counter() - began) * 1000)
        if status != 200 or json.loads(answer).get("next_seq") != record["seq"] + 1:
            stats["errors"].append(f"{status}: {answer[:200]!r}")
        else:
            stats["records"] += 1
            stats["rows"] += len(record.get("rows", ()))

    await asyncio.sleep(max(0.0, start - loop.time()))
    await send(run_record(run_id, components))
    for seq in range(1, seconds + 1):
        await asyncio.sleep(max(0.0, start + seq - loop.time()))
        await send(samples_record(seq, components))
    await send(end_record(seconds + 1, components))
    conn.close()


async def load(server: Server, trackers: int, seconds: int, components: int) -> dict:
    stats: dict[str, Any] = {"latency_ms": [], "errors": [], "records": 0, "rows": 0}
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.5
    run_ids = [uuid.uuid4().hex for _ in range(trackers)]
    tasks = [
        tracker(server, run_id, begin + i / trackers, seconds, components, stats)
        for i, run_id in enumerate(run_ids)
    ]
    await asyncio.gather(*tasks)
    stats["elapsed_s"] = loop.time() - begin
    stats["run_ids"] = run_ids
    return stats


def count_rows(folder: str, run_ids: list[str], sync: bool) -> dict[str, int]:
    """Sample rows per run in the server's store, as the server left it or after a read
    of the store (``sync``: what every dashboard read does first)."""
    from sqlalchemy import func, select

    from wattprint.config import Settings
    from wattprint.store.models import Sample
    from wattprint.store.repository import Store

    with Store.from_settings(Settings(dir=Path(folder))) as store:
        if sync:
            store.sync()
        with store.engine.connect() as c:
            query = select(Sample.run_id, func.count()).group_by(Sample.run_id)
            found = {run_id: count for run_id, count in c.execute(query).all()}
    return {run_id: int(found.get(run_id, 0)) for run_id in run_ids}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ingest_benchmark(trackers: int, seconds: int, components: int) -> dict[str, Any]:
    folder = temp_data_dir("wattprint-load-")
    server = Server(folder)
    try:
        cpu_before, wall_before = server.cpu_s(), time.perf_counter()
        client_before = time.process_time()
        stats = asyncio.run(load(server, trackers, seconds, components))
        wall = time.perf_counter() - wall_before
        server_cpu = (server.cpu_s() - cpu_before) / wall
        client_cpu = (time.process_time() - client_before) / wall
    finally:
        server.stop()
    ingested = sum(count_rows(folder, stats["run_ids"], sync=False).values())
    rows = count_rows(folder, stats["run_ids"], sync=True)
    shutil.rmtree(folder, ignore_errors=True)
    expected = seconds * components
    lost = sum(max(0, expected - n) for n in rows.values())
    duplicated = sum(max(0, n - expected) for n in rows.values())
    latency = stats["latency_ms"]
    return {
        "trackers": trackers,
        "seconds": seconds,
        "components": components,
        "requests": len(latency) + len(stats["errors"]),
        "records_acknowledged": stats["records"],
        "elapsed_s": stats["elapsed_s"],
        "records_per_s": stats["records"] / stats["elapsed_s"],
        "sample_rows_per_s": stats["rows"] / stats["elapsed_s"],
        "latency_ms": {
            "p50": percentile(latency, 0.50),
            "p99": percentile(latency, 0.99),
            "max": max(latency),
            "mean": statistics.fmean(latency),
        },
        "errors": len(stats["errors"]),
        "first_errors": stats["errors"][:5],
        "sample_rows_sent": trackers * expected,
        "sample_rows_ingested_when_stopped": ingested,
        "sample_rows_stored": sum(rows.values()),
        "lost_samples": lost,
        "duplicated_samples": duplicated,
        "server_cpu_cores": server_cpu,
        "load_generator_cpu_cores": client_cpu,
    }


# ----------------------------------------------------------------------- runs page
def write_runs(folder: str, runs: int) -> float:
    """``runs`` finished runs as journals (run, one samples record, end), then one sync;
    returns the sync's seconds."""
    from wattprint.config import Settings
    from wattprint.store.repository import Store

    settings = Settings(dir=Path(folder))
    settings.journal_dir.mkdir(parents=True, exist_ok=True)
    for i in range(runs):
        run_id = uuid.uuid4().hex
        run = {**run_record(run_id, 2), "started_at": T0 + 60 * i, "project": f"p{i % 20}"}
        records = [run, samples_record(1, 2), end_record(2, 2)]
        journal_path(settings.journal_dir, run_id).write_bytes(encode_records(records))
    began = time.perf_counter()
    with Store.from_settings(settings) as store:
        store.sync()
    return time.perf_counter() - began


def runs_page_benchmark(runs: int, repeat: int = 20) -> dict[str, Any]:
    folder = temp_data_dir("wattprint-runs-")
    sync_s = write_runs(folder, runs)
    server = Server(folder)
    try:
        url = f"{server.url}/api/runs?per_page=25"
        urllib.request.urlopen(url, timeout=60).read()  # warm-up
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            page = json.loads(urllib.request.urlopen(url, timeout=60).read())
            times.append((time.perf_counter() - began) * 1000)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert page["total"] == runs and len(page["runs"]) == 25, page.get("total")
    return {
        "runs": runs,
        "initial_sync_s": sync_s,
        "repeat": repeat,
        "ms": {"median": statistics.median(times), "max": max(times), "min": min(times)},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="50 trackers for 10 s, 2,000 runs")
    ap.add_argument("--trackers", type=int, default=None, help="simulated trackers (200)")
    ap.add_argument("--seconds", type=int, default=None, help="seconds of posting (60)")
    ap.add_argument("--components", type=int, default=4, help="sample rows per batch (4)")
    ap.add_argument("--runs", type=int, default=None, help="runs for the runs page (10000)")
    args = ap.parse_args()
    trackers = args.trackers or (50 if args.quick else 200)
    seconds = args.seconds or (10 if args.quick else 60)
    runs = args.runs if args.runs is not None else (2000 if args.quick else 10_000)

    ingest = ingest_benchmark(trackers, seconds, args.components)
    lat = ingest["latency_ms"]
    dup = verdict(ingest["duplicated_samples"], 0)
    backlog = ingest["sample_rows_sent"] - ingest["sample_rows_ingested_when_stopped"]
    print(
        f"ingest: {trackers} trackers x {seconds} s, {args.components} rows per batch "
        f"({ingest['requests']} requests)"
    )
    print_table(
        ["figure", "value", "target", "verdict"],
        [
            ["records acknowledged / s", ingest["records_per_s"], "-", "-"],
            ["sample rows / s", ingest["sample_rows_per_s"], "-", "-"],
            ["latency p50 ms", lat["p50"], "-", "-"],
            ["latency p99 ms", lat["p99"], P99_TARGET_MS, verdict(lat["p99"], P99_TARGET_MS)],
            ["latency max ms", lat["max"], "-", "-"],
            ["errors", ingest["errors"], 0, verdict(ingest["errors"], 0)],
            ["lost samples", ingest["lost_samples"], 0, verdict(ingest["lost_samples"], 0)],
            ["rows not yet ingested at stop", backlog, "-", "-"],
            ["duplicated samples", ingest["duplicated_samples"], 0, dup],
            ["server CPU (cores)", ingest["server_cpu_cores"], "-", "-"],
            ["load generator CPU (cores)", ingest["load_generator_cpu_cores"], "-", "-"],
        ],
    )
    for error in ingest["first_errors"]:
        print("  error:", error)
    result: dict[str, Any] = {"ingest": ingest}
    if runs:
        page = runs_page_benchmark(runs)
        result["runs_page"] = page
        print(f"\nruns page: {runs} runs (initial sync {page['initial_sync_s']:.1f} s)")
        median = page["ms"]["median"]
        print_table(
            ["figure", "value", "target", "verdict"],
            [
                [
                    "GET /api/runs?per_page=25 median ms",
                    median,
                    RUNS_PAGE_TARGET_MS,
                    verdict(median, RUNS_PAGE_TARGET_MS),
                ],
                ["max of 20 ms", page["ms"]["max"], "-", "-"],
            ],
        )
    path = write_results("server_load", {"quick": args.quick, **result})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
