"""CPU cost of ``import wattprint`` + tracker start + stop, in a fresh process each time.

Each measurement runs in a new interpreter (``python -c``) whose first act is to install
an audit hook counting process spawns ("subprocess.Popen", "os.posix_spawn", "os.exec",
"os.fork"), then reads ``time.process_time()`` around the import, ``start()`` and
``stop()`` (interpreter start-up is not counted). The default meters are used (on a
machine with neither RAPL nor NVIDIA: the CPU and RAM models). CodeCarbon's
``OfflineEmissionsTracker`` is measured the same way for comparison; it spawns
subprocesses, whose CPU (``RUSAGE_CHILDREN``) is reported separately. The two trackers
are interleaved run by run.

    .venv/bin/python benchmarks/setup_cost.py [--runs 15] [--no-codecarbon] [--profile]

Target: wattprint import + start + stop <= 0.1 CPU-s, 0 subprocesses.
"""

from __future__ import annotations

import argparse
import sys

from _common import (
    child_env,
    print_table,
    run_child,
    summary,
    temp_data_dir,
    verdict,
    write_results,
)

TARGET_CPU_S = 0.1

_PRELUDE = r"""
import sys, time, os
_spawns = []
_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork"}
def _hook(event, args):
    if event in _EVENTS:
        _spawns.append(event + ": " + repr(args)[:160])
sys.addaudithook(_hook)
_c0 = time.process_time(); _w0 = time.perf_counter()
"""

_EPILOGUE = r"""
_w3 = time.perf_counter()
_children = os.times()
import json
print(json.dumps({
    "import_cpu_s": _c1 - _c0, "start_cpu_s": _c2 - _c1, "stop_cpu_s": _c3 - _c2,
    "total_cpu_s": _c3 - _c0, "total_wall_s": _w3 - _w0,
    "children_cpu_s": _children.children_user + _children.children_system,
    "spawns": len(_spawns), "spawn_events": _spawns,
}))
"""

WATTPRINT_CHILD = (
    _PRELUDE
    + r"""
import wattprint
_c1 = time.process_time()
_t = wattprint.track(project="bench", run="setup-cost")
_t.start()
_c2 = time.process_time()
_t.stop()
_c3 = time.process_time()
"""
    + _EPILOGUE
)

CODECARBON_CHILD = (
    _PRELUDE
    + r"""
from codecarbon import OfflineEmissionsTracker
_c1 = time.process_time()
_t = OfflineEmissionsTracker(country_iso_code="FRA", save_to_file=False, log_level="error")
_t.start()
_c2 = time.process_time()
_t.stop()
_c3 = time.process_time()
"""
    + _EPILOGUE
)


def profile() -> None:
    """cProfile of import + start + stop in this process (for finding where time goes)."""
    import cProfile
    import os
    import pstats

    os.environ["WATTPRINT_DIR"] = temp_data_dir()
    pr = cProfile.Profile()
    pr.enable()
    import wattprint

    t = wattprint.track(project="bench", run="profile")
    t.start()
    t.stop()
    pr.disable()
    stats = pstats.Stats(pr).strip_dirs().sort_stats("cumulative")
    stats.print_stats(40)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="fresh processes per tracker (>= 15)")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all.sh; same runs")
    ap.add_argument("--no-codecarbon", action="store_true")
    ap.add_argument(
        "--profile", action="store_true", help="print a cProfile of start/stop and exit"
    )
    args = ap.parse_args()
    if args.profile:
        profile()
        return 0

    variants = {"wattprint": WATTPRINT_CHILD}
    if not args.no_codecarbon:
        variants["codecarbon"] = CODECARBON_CHILD
    runs: dict[str, list[dict]] = {k: [] for k in variants}
    for i in range(args.runs):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))  # interleave
        for name in order:
            env = child_env(temp_data_dir())
            runs[name].append(run_child(["-c", variants[name]], env))
        print(f"\r  run {i + 1}/{args.runs}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    keys = [
        "import_cpu_s",
        "start_cpu_s",
        "stop_cpu_s",
        "total_cpu_s",
        "children_cpu_s",
        "total_wall_s",
    ]
    result: dict = {
        "runs_per_tracker": args.runs,
        "target_total_cpu_s": TARGET_CPU_S,
        "trackers": {},
    }
    rows = []
    for name, rs in runs.items():
        stats = {k: summary([r[k] for r in rs]) for k in keys}
        spawns = sorted({r["spawns"] for r in rs})
        result["trackers"][name] = {
            "stats": stats,
            "spawns_per_run": spawns,
            "spawn_events_first_run": rs[0]["spawn_events"],
            "raw": rs,
        }
        tot = stats["total_cpu_s"]
        rows.append(
            [
                name,
                stats["import_cpu_s"]["median"],
                stats["start_cpu_s"]["median"],
                stats["stop_cpu_s"]["median"],
                tot["median"],
                f"{tot['min']:.3f}-{tot['max']:.3f}",
                stats["children_cpu_s"]["median"],
                ",".join(map(str, spawns)),
            ]
        )
    wp = result["trackers"]["wattprint"]
    wp_total = wp["stats"]["total_cpu_s"]["median"]
    result["verdict"] = {
        "total_cpu": verdict(wp_total, TARGET_CPU_S),
        "spawns": "PASS" if wp["spawns_per_run"] == [0] else "MISS",
    }
    print(f"setup cost: import + start + stop, CPU seconds, median of {args.runs} fresh processes")
    print_table(
        ["tracker", "import", "start", "stop", "total", "total range", "children CPU", "spawns"],
        rows,
    )
    print(
        f"wattprint total {wp_total * 1000:.0f} ms CPU (target <= {TARGET_CPU_S * 1000:.0f} ms): "
        f"{result['verdict']['total_cpu']}; "
        f"spawns {wp['spawns_per_run']}: {result['verdict']['spawns']}"
    )
    path = write_results("setup_cost", result)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
