"""``wattprint compress`` and ``wattprint comparisons`` as real processes on a real store.

Torch runs one thread in these processes (OMP_NUM_THREADS=1): on a shared two-core
machine two intra-op threads waiting on each other make a tiny model 100 times slower.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_cli import wp

SMALL = (
    "distilbert",
    "--size",
    "tiny",
    "--train-size",
    "64",
    "--test-size",
    "48",
    "--batch-size",
    "16",
    "--device",
    "cpu",
)


@pytest.fixture
def one_thread(data_dir: Path) -> dict[str, str]:
    """The environment of the subprocesses: the test's data folder, one torch thread."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def test_compress_stores_a_comparison_prints_its_table_and_plots_it(
    one_thread: dict[str, str], tmp_path: Path
) -> None:
    png = tmp_path / "pareto.png"
    proc = wp(
        "compress",
        *SMALL,
        "--techniques",
        "prune:0.5,quant:int8",
        "--finetune-epochs",
        "1",
        "--plot",
        str(png),
        env=one_thread,
    )
    for text in ("original", "prune:0.5", "quant:int8", "test", "accuracy", "break-even"):
        assert text in proc.stdout
    assert "SYNTHETIC DATA" in proc.stdout
    assert f"Pareto figure written to {png}" in proc.stdout
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "models (quant:int8)" in proc.stderr  # the progress bars' last frame, off a TTY
    listed = json.loads(wp("comparisons", "--json", env=one_thread).stdout)["comparisons"]
    (only,) = listed
    assert only["model"] == "distilbert"
    assert only["variants"] == ["original", "prune:0.5", "quant:int8"]
    doc = json.loads(wp("comparisons", only["id"][:14], "--json", env=one_thread).stdout)
    assert doc["comparison"] == only["id"] and doc["data"] == "synthetic"
    original, pruned, int8 = doc["variants"]
    e_original = original["energy_per_sample"]["j"]
    e_int8 = int8["energy_per_sample"]["j"]
    assert e_original > 0 and e_int8 > 0
    assert int8["energy_saving"] == pytest.approx(1 - e_int8 / e_original)
    assert int8["size_bytes"] < original["size_bytes"]
    assert int8["finetune_energy"] is None  # quantisation is never fine-tuned
    assert pruned["nonzero_params"] < pruned["params"] == original["params"]
    assert pruned["finetune_energy"]["j"] > 0 and pruned["finetune_epochs"] == 1
    svg = tmp_path / "pareto.svg"
    wp("comparisons", "latest", "--plot", str(svg), env=one_thread)
    assert svg.read_text().lstrip().startswith("<?xml")


def test_bad_input_is_one_clear_error(one_thread: dict[str, str]) -> None:
    proc = wp("compress", *SMALL, "--techniques", "prune:2,quant:int8", env=one_thread, check_rc=2)
    assert "bad compression technique 'prune:2': pruning amount 2.0 is not a number" in proc.stderr
    assert "accepted: prune:AMOUNT" in proc.stderr and "variants by ','" in proc.stderr
    proc = wp(
        "compress", *SMALL, "--techniques", "quant:int8+prune:0.5", env=one_thread, check_rc=2
    )
    assert "technique order 'quant:int8+prune:0.5': quant must come last" in proc.stderr
    proc = wp("compress", "nope", "--techniques", "quant:int8", env=one_thread, check_rc=2)
    assert "unknown benchmark model 'nope'; accepted: resnet50" in proc.stderr
    proc = wp(
        "compress",
        *SMALL,
        "--techniques",
        "quant:int8",
        "--checkpoint",
        "model.pt",
        "--epochs",
        "2",
        env=one_thread,
        check_rc=2,
    )
    assert "--epochs 2 trains the original, and a --checkpoint model is measured" in proc.stderr
    proc = wp("comparisons", "nothing", env=one_thread, check_rc=2)
    assert "no comparison in the store; run `wattprint compress` first" in proc.stderr
