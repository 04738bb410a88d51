"""Wall time of ``python -c "import wattprint"`` minus ``python -c pass``.

Both commands run >= 20 times, interleaved; the figure is median(import) - median(pass)
(and min - min, less sensitive to a noisy machine). ``import wattprint`` is lazy, so
the same is measured for ``from wattprint import track`` (what a user of the tracker
actually imports) for information. Then ``-X importtime`` lists the modules that cost
the most (cumulative µs, median over a few runs) for both.

    .venv/bin/python benchmarks/import_time.py [--runs 20] [--quick]

Target: ``import wattprint`` <= 100 ms over the interpreter baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict

TARGET_MS = 100.0
CASES = {
    "pass": "pass",
    "import wattprint": "import wattprint",
    "from wattprint import track": "from wattprint import track",
}


def wall(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - t0


def importtime(code: str, env: dict[str, str], runs: int) -> tuple[list[tuple[str, int, int]], int]:
    """Median (module, self µs, cumulative µs) per module, and the number of modules."""
    selfs: dict[str, list[int]] = defaultdict(list)
    cums: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in out.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            s, c, name = line[len("import time:") :].split("|")
            selfs[name.strip()].append(int(s))
            cums[name.strip()].append(int(c))
    rows = [
        (name, int(statistics.median(selfs[name])), int(statistics.median(cums[name])))
        for name in cums
    ]
    return sorted(rows, key=lambda r: -r[2]), len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="runs per command (>= 20)")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all.sh; same runs")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()

    from _common import child_env, print_table, summary, temp_data_dir, verdict, write_results

    env = child_env(temp_data_dir())
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for code in CASES.values():  # warm the page cache and .pyc files
        wall(code, env)
    for i in range(args.runs):
        order = list(CASES) if i % 2 == 0 else list(reversed(CASES))
        for name in order:
            times[name].append(wall(CASES[name], env))
    stats = {k: summary([v * 1000 for v in vs]) for k, vs in times.items()}
    base = stats["pass"]
    over = {
        k: {
            "median_ms": stats[k]["median"] - base["median"],
            "min_ms": stats[k]["min"] - base["min"],
        }
        for k in CASES
        if k != "pass"
    }
    top = {}
    for k in ("import wattprint", "from wattprint import track"):
        rows, n_modules = importtime(CASES[k], env, runs=5)
        top[k] = {"modules": n_modules, "top_cumulative": rows[: args.top]}

    result = {
        "runs": args.runs,
        "target_ms": TARGET_MS,
        "wall_ms": stats,
        "over_baseline_ms": over,
        "verdict": verdict(over["import wattprint"]["median_ms"], TARGET_MS),
        "importtime": top,
    }
    print(f"import time: wall ms of python -c CODE, {args.runs} interleaved runs each")
    print_table(
        ["command", "median ms", "min ms", "max ms", "over `pass` (median)", "over `pass` (min)"],
        [
            [
                k,
                s["median"],
                s["min"],
                s["max"],
                over[k]["median_ms"] if k in over else "-",
                over[k]["min_ms"] if k in over else "-",
            ]
            for k, s in stats.items()
        ],
    )
    print(
        f"import wattprint: {over['import wattprint']['median_ms']:.1f} ms over baseline "
        f"(target <= {TARGET_MS:.0f} ms): {result['verdict']}"
    )
    for k, t in top.items():
        print(f"\n-X importtime, {k!r} ({t['modules']} modules imported), top by cumulative µs:")
        print_table(["module", "self µs", "cumulative µs"], [list(r) for r in t["top_cumulative"]])
    path = write_results("import_time", result)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
