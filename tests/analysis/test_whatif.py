"""What-if: regions, accelerators, start time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.test_curves import build_run
from wattprint.analysis.footprint import run_footprint
from wattprint.analysis.whatif import accelerator_whatif, best_start_time, region_whatif
from wattprint.errors import ConfigError
from wattprint.hardware.gpu import gpu_spec

T0 = 1_700_000_000.0


def test_regions_sorted_and_equal_to_run_footprint(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [3.6e6, 3.6e6])
    options = region_whatif(store, run_id, pue=1.2)
    kgs = [o.kg for o in options]
    assert kgs == sorted(kgs) and len(options) > 100
    fr = next(o for o in options if o.code == "FR")
    fp = run_footprint(store, store.get_run(run_id), region="FR", pue=1.2)
    assert fr.kg == pytest.approx(fp.emissions.kg)
    assert fr.high_kg == pytest.approx(fp.emissions.high_kg)
    assert len(region_whatif(store, run_id, kinds=("country",), limit=3)) == 3
    with pytest.raises(ConfigError, match="unknown location kind 'planet'"):
        region_whatif(store, run_id, kinds=("planet",))


def test_accelerator_factor_is_the_ratio_of_throughput_per_watt(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [1000.0, 1000.0], component="gpu:0")  # an H200
    (a100,) = accelerator_whatif(store, run_id, ["A100-80GB"])
    h200, target = gpu_spec("NVIDIA H200"), gpu_spec("A100-80GB")
    assert h200.fp16_bf16_tensor_tflops and h200.tdp_w and target.fp16_bf16_tensor_tflops
    assert target.tdp_w
    expected = (h200.fp16_bf16_tensor_tflops / h200.tdp_w) / (
        target.fp16_bf16_tensor_tflops / target.tdp_w
    )
    assert a100.factor == pytest.approx(expected)
    assert a100.energy_j == pytest.approx(2000 * expected) and "estimate" in a100.basis
    cpu_store, cpu_run = build_run(tmp_path / "cpu", [5.0])
    with pytest.raises(ConfigError, match="measured no GPU energy"):
        accelerator_whatif(cpu_store, cpu_run, ["A100"])
    with pytest.raises(ConfigError, match="precision='int3'"):
        accelerator_whatif(store, run_id, ["A100-80GB"], precision="int3")


class Step:
    """500 g/kWh until T0 + 2 h, 100 after."""

    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        return [(T0 - 86400, 500.0), (T0 + 7200, 100.0)]

    def describe(self) -> str:
        return "step"


def test_best_start_time_on_a_step(tmp_path: Path) -> None:
    # a 1-hour run at constant power (6 epochs of 10 min)
    store, run_id = build_run(tmp_path, [600.0] * 6, epoch_s=600.0)
    best = best_start_time(store, run_id, Step(), T0, T0 + 6 * 3600)
    assert best.start == T0 + 7200  # the first start entirely after the drop
    assert best.baseline_kg == pytest.approx(3600 / 3.6e6 * 500 / 1000)
    assert best.saving == pytest.approx(0.8)
    with pytest.raises(ConfigError, match="shorter than the run"):
        best_start_time(store, run_id, Step(), T0, T0 + 600)
