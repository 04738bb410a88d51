"""`wattprint estimate` and `wattprint lifecycle`, run as real processes."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_cli import wp


def test_calculator_hand_computed(data_dir: Path) -> None:
    doc = json.loads(
        wp(
            "estimate",
            "--hardware",
            "8xA100-80GB",
            "--hours",
            "72",
            "--pue",
            "1.1",
            "--intensity",
            "200",
            "--json",
        ).stdout
    )["estimate"]
    assert doc["quality"] == "estimated"
    assert doc["it_energy_kwh"] == pytest.approx(8 * 0.4 * 72)
    assert doc["energy_kwh"] == pytest.approx(253.44)
    assert doc["operational_kg"] == pytest.approx(50.688)
    assert doc["intensity"]["source"].lower().startswith("given")
    assert doc["embodied_kg"] > 0 and doc["assumptions"]


def test_calculator_region_and_errors(data_dir: Path) -> None:
    human = wp("estimate", "--hardware", "1xH100", "--hours", "10", "--region", "FR").stdout
    assert "France" in human and "embodied" in human and "estimated" in human
    unknown = wp("estimate", "--hardware", "8xA1OO", "--hours", "1", check_rc=2)
    assert "A1OO" in unknown.stderr
    both = wp("estimate", "--hardware", "1xH100", check_rc=2)
    assert "give either hours" in both.stderr and "flops" in both.stderr
    bad_hours = wp("estimate", "--hardware", "1xH100", "--hours", "-3", check_rc=2)
    assert "-3" in bad_hours.stderr


def test_flop_mode(data_dir: Path) -> None:
    doc = json.loads(
        wp(
            "estimate",
            "--hardware",
            "1xH100",
            "--params",
            "1e9",
            "--tokens",
            "1e10",
            "--efficiency",
            "0.5",
            "--pue",
            "1.0",
            "--json",
        ).stdout
    )["estimate"]
    assert doc["flops"] == pytest.approx(6e19)
    assert doc["time_s"] == pytest.approx(6e19 / (doc["peak_flops_per_s"] * 0.5))
    assert doc["energy_j"] == pytest.approx(doc["time_s"] * doc["power_w"])


def test_lifecycle_from_numbers(data_dir: Path) -> None:
    doc = json.loads(
        wp(
            "lifecycle",
            "--training-kwh",
            "100",
            "--search-kwh",
            "50",
            "--inference-j",
            "36",
            "--inferences",
            "1e7",
            "--json",
        ).stdout
    )["lifecycle"]
    assert doc["life_kwh"] == pytest.approx(250)
    assert doc["share_training"] == pytest.approx(0.4)
    assert doc["break_even_training"] == pytest.approx(1e7)
    assert doc["break_even_search_and_training"] == pytest.approx(1.5e7)
    human = wp(
        "lifecycle",
        "--training-kwh",
        "100",
        "--inference-j",
        "36",
        "--per-day",
        "1e5",
        "--days",
        "100",
        "--region",
        "FR",
    ).stdout
    assert "E_life" in human and "France" in human


def test_lifecycle_from_measured_runs(data_dir: Path, tmp_path: Path) -> None:
    """Training and inference measured in the store; I = inference windows / samples."""
    script = tmp_path / "phases.py"
    script.write_text(
        textwrap.dedent(
            """
        import sys, time, wattprint
        with wattprint.track(run=sys.argv[1]) as t:
            for _ in range(3):
                with t.window("inference"):
                    end = time.process_time() + 0.05
                    while time.process_time() < end:
                        pass
                t.log(samples=100)
        """
        )
    )
    wp(
        "run",
        "--name",
        "train",
        "--",
        sys.executable,
        "-c",
        "import time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass",
    )
    proc = wp("run", "--name", "outer", "--", sys.executable, str(script), "serve")
    assert proc.returncode == 0
    doc = json.loads(
        wp(
            "lifecycle",
            "--training",
            "train",
            "--inference-run",
            "serve",
            "--inferences",
            "1e6",
            "--json",
        ).stdout
    )["lifecycle"]
    serve = json.loads(wp("show", "serve", "--json").stdout)
    window_j = sum(sum(w["energy_j"].values()) for w in serve["windows"])
    assert doc["inference"]["energy_j"] == pytest.approx(window_j / 300)
    assert (
        "serve" in doc["inference"]["origin"]
        or serve["run"]["run_id"] in doc["inference"]["origin"]
    )
    train = json.loads(wp("show", "train", "--json").stdout)["run"]
    assert doc["training"]["energy_j"] == pytest.approx(train["energy_j"])
    missing = wp(
        "lifecycle", "--training", "nope", "--inference-j", "1", "--inferences", "1", check_rc=2
    )
    assert "nope" in missing.stderr
