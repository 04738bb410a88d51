"""Extra peak resident memory of a tracked process.

Each run is a fresh process that imports torch and runs the same small CPU training loop
for a few seconds, either untracked or under ``wattprint.track()`` (default meters,
default 1 s sampling), and reports ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. Torch
is imported in both variants so that only the tracker's cost shows. The variants are
interleaved; the figure is the difference of the medians (>= 5 runs each).

    .venv/bin/python benchmarks/memory.py [--runs 5] [--seconds 3] [--quick]

Target: <= 20 MB extra peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

TARGET_MB = 20.0


def child(tracked: bool, seconds: float) -> dict:
    import resource

    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10)
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(128, 256)
    y = torch.randint(0, 10, (128,))

    def work() -> int:
        steps = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            steps += 1
        return steps

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if tracked:
        import wattprint

        with wattprint.track(project="bench", run="memory") as t:
            t.begin_window("loop")
            steps = work()
            t.end_window("loop")
    else:
        steps = work()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"tracked": tracked, "steps": steps, "maxrss_before_kb": rss0, "maxrss_kb": rss1}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per variant (>= 5)")
    ap.add_argument("--seconds", type=float, default=3.0, help="loop duration per run")
    ap.add_argument("--quick", action="store_true", help="same as defaults (already short)")
    ap.add_argument("--child", choices=["tracked", "untracked"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "tracked", args.seconds)))
        return 0

    from _common import (
        child_env,
        print_table,
        run_child,
        summary,
        temp_data_dir,
        verdict,
        write_results,
    )

    runs: dict[str, list[dict]] = {"untracked": [], "tracked": []}
    for i in range(args.runs):
        order = ["untracked", "tracked"] if i % 2 == 0 else ["tracked", "untracked"]
        for v in order:
            runs[v].append(
                run_child(
                    [os.path.abspath(__file__), "--child", v, "--seconds", str(args.seconds)],
                    child_env(temp_data_dir()),
                )
            )
        print(f"\r  run {i + 1}/{args.runs}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    # ru_maxrss is in KiB on Linux; figures in MB (10^6 bytes) as the target, MiB beside
    stats = {v: summary([r["maxrss_kb"] * 1024 / 1e6 for r in rs]) for v, rs in runs.items()}
    extra = stats["tracked"]["median"] - stats["untracked"]["median"]
    # paired differences (run i tracked - run i untracked) as a spread estimate
    paired = summary(
        [
            (t["maxrss_kb"] - u["maxrss_kb"]) * 1024 / 1e6
            for t, u in zip(runs["tracked"], runs["untracked"], strict=True)
        ]
    )
    result = {
        "runs_per_variant": args.runs,
        "seconds": args.seconds,
        "target_mb": TARGET_MB,
        "peak_rss_mb": stats,
        "units": "MB = 10^6 bytes",
        "extra_peak_rss_mb": extra,
        "extra_peak_rss_mib": extra * 1e6 / 2**20,
        "paired_diff_mb": paired,
        "verdict": verdict(extra, TARGET_MB),
        "raw": runs,
    }
    print(
        f"peak RSS (MB = 10^6 bytes, ru_maxrss), median of {args.runs} fresh processes, "
        "torch imported in both"
    )
    print_table(
        ["variant", "median", "min", "max"],
        [[v, s["median"], s["min"], s["max"]] for v, s in stats.items()],
    )
    print(
        f"extra peak RSS with tracker: {extra:.1f} MB = {extra * 1e6 / 2**20:.1f} MiB "
        f"(paired differences {paired['min']:.1f}..{paired['max']:.1f} MB); "
        f"target <= {TARGET_MB:.0f} MB: {result['verdict']}"
    )
    path = write_results("memory", result)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
