"""Cost of one ``begin_window`` + ``end_window`` pair.

Measured in-process with a timeit-style loop (N pairs per repeat, R repeats; the figure
is the median per pair over the repeats, both wall (``perf_counter``) and CPU of the
calling thread (``thread_time``), which the noisy shared machine does not inflate):

* ``rapl (fake sysfs)`` — the real ``RaplMeter`` reading a fake powercap tree made with
  ``tests/fakes/sysfs.py`` (2 packages + 1 DRAM zone; 3 ``energy_uj`` files), the
  tracker's sampler set to 1 h so it never ticks during the loop. Target <= 20 µs.
* ``rapl read() alone`` — one ``RaplMeter.read()``, for the split of the pair's cost.
* ``no meters`` — the tracker's own bookkeeping (locks, journal record) without a meter.
* ``default meters`` — the meters found on this machine (here: CPU and RAM models, which
  read the process tree through psutil); for information, no target.

    .venv/bin/python benchmarks/window_cost.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_US = 20.0


def bench(fn, number: int, repeat: int) -> dict:
    wall, cpu = [], []
    for _ in range(3):  # warm-up
        fn()
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(number):
            fn()
        w1, c1 = time.perf_counter(), time.thread_time()
        wall.append((w1 - w0) / number * 1e6)
        cpu.append((c1 - c0) / number * 1e6)
    return {
        "number": number,
        "repeat": repeat,
        "wall_us": {"median": statistics.median(wall), "min": min(wall), "max": max(wall)},
        "cpu_us": {"median": statistics.median(cpu), "min": min(cpu), "max": max(cpu)},
    }


def pair_fn(tracker):
    def pair() -> None:
        tracker.begin_window("w")
        tracker.end_window("w")

    return pair


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer pairs")
    ap.add_argument("--number", type=int, default=2000, help="pairs per repeat (fake RAPL)")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    number = args.number // 4 if args.quick else args.number
    repeat = max(7, args.repeat // 2) if args.quick else args.repeat

    from _common import ensure_repo_on_path, print_table, temp_data_dir, verdict, write_results

    ensure_repo_on_path()
    os.environ["WATTPRINT_DIR"] = temp_data_dir()

    import wattprint
    from tests.fakes.sysfs import FakePowercap
    from wattprint.meters.rapl import RaplMeter

    root = Path(tempfile.mkdtemp(prefix="wattprint-bench-powercap-")) / "powercap"
    fake = FakePowercap(root)
    fake.add_zone("intel-rapl:0", "package-0", 1_000_000)
    fake.add_zone("intel-rapl:0:0", "dram", 200_000)
    fake.add_zone("intel-rapl:1", "package-1", 3_000_000)

    results: dict = {}
    meter = RaplMeter(root)
    components = [c.name for c in meter.components]
    with wattprint.track(
        project="bench", run="window-rapl", meters=[meter], sample_interval_s=3600
    ) as t:
        results["rapl (fake sysfs)"] = bench(pair_fn(t), number, repeat)
        results["rapl read() alone"] = bench(meter.read, number, repeat)
    with wattprint.track(
        project="bench", run="window-none", meters=[], sample_interval_s=3600
    ) as t:
        results["no meters"] = bench(pair_fn(t), number, repeat)
    with wattprint.track(project="bench", run="window-default", sample_interval_s=3600) as t:
        default_components = [c.name for c in t.components]
        results["default meters"] = bench(pair_fn(t), max(20, number // 20), max(5, repeat // 2))

    rapl = results["rapl (fake sysfs)"]
    primary = rapl["cpu_us"]["median"]
    out = {
        "target_us": TARGET_US,
        "fake_rapl_components": components,
        "default_components": default_components,
        "cases": results,
        "primary_figure_us": primary,
        "primary_figure_basis": "median CPU µs per pair, rapl (fake sysfs)",
        "verdict": verdict(primary, TARGET_US),
        "verdict_wall": verdict(rapl["wall_us"]["median"], TARGET_US),
    }
    print("window cost: µs per begin_window+end_window pair (median over repeats; min-max)")
    print_table(
        ["case", "pairs x repeats", "CPU µs", "CPU range", "wall µs", "wall range"],
        [
            [
                name,
                f"{r['number']} x {r['repeat']}",
                r["cpu_us"]["median"],
                f"{r['cpu_us']['min']:.1f}-{r['cpu_us']['max']:.1f}",
                r["wall_us"]["median"],
                f"{r['wall_us']['min']:.1f}-{r['wall_us']['max']:.1f}",
            ]
            for name, r in results.items()
        ],
    )
    print(
        f"fake RAPL ({', '.join(components)}): {primary:.1f} µs CPU, "
        f"{rapl['wall_us']['median']:.1f} µs wall per pair; "
        f"target <= {TARGET_US:.0f} µs: {out['verdict']}"
    )
    print(f"default meters here: {', '.join(default_components)}")
    path = write_results("window_cost", out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
