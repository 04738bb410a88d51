"""Recommendations: each one when its evidence holds, none when it does not."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.test_curves import build_run
from wattprint.analysis.recommendations import recommendations


def kinds(store, run_id) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {r.kind: r for r in recommendations(store, run_id)}


def test_plateau_and_warm_up_recommended(tmp_path: Path) -> None:
    losses = [1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1]
    store, run_id = build_run(tmp_path, [30.0] + [10.0] * 7, [{"val_loss": v} for v in losses])
    found = kinds(store, run_id)
    plateau = found["diminishing_returns"]
    assert "epochs 5-8 used 40% of the energy" in plateau.text  # type: ignore[attr-defined]
    warm = found["warm_up"]
    assert "3.0x the others" in warm.text  # type: ignore[attr-defined]


def test_nothing_recommended_without_evidence(tmp_path: Path) -> None:
    losses = [1.0, 0.8, 0.6, 0.4, 0.2]
    store, run_id = build_run(tmp_path, [10.0] * 5, [{"val_loss": v} for v in losses])
    found = kinds(store, run_id)
    assert "diminishing_returns" not in found and "warm_up" not in found
    assert "gpu_idle" not in found  # no GPU measured


def test_gpu_idle_both_sides(tmp_path: Path) -> None:
    # H200 TDP 700 W: 10 J per 10 s = 1 W, far below half its TDP
    store, run_id = build_run(tmp_path, [10.0] * 7, component="gpu:0")
    assert "gpu_idle" in kinds(store, run_id)
    busy_store, busy_run = build_run(tmp_path / "b", [6000.0] * 7, component="gpu:0")
    assert "gpu_idle" not in kinds(busy_store, busy_run)


def test_region_recommended_from_the_world_average(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [3.6e6])
    region = kinds(store, run_id)["region"]
    assert region.evidence["factor"] >= 2  # type: ignore[attr-defined]
    assert ":" in region.text.split(") would")[0]  # a cloud region, e.g. (gcp:europe-north1)
