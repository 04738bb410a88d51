"""``wattprint bench`` and ``wattprint benchmarks`` as real processes on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import wp

QUICK_NLP = (
    "bench",
    "--suite",
    "nlp",
    "--models",
    "gpt2",
    "--quick",
    "--train-size",
    "32",
    "--test-size",
    "32",
)


def test_bench_runs_stores_and_reports_a_benchmark(data_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "bench.html"
    proc = wp(*QUICK_NLP, "--epochs", "2", "--report", str(report), "--json")
    doc = json.loads(proc.stdout)
    assert doc["suite"] == "nlp"
    assert doc["synthetic_data"] is True
    assert doc["failures"] == []
    (model,) = doc["models"]
    assert model["model"] == "gpt2"
    assert model["status"] == "finished"
    assert model["epochs"] == 2
    assert model["device"] == "cpu"
    assert model["theta"] > 0
    assert model["labels"]["size"] == "tiny"
    assert model["inference_energy_per_sample"]["j"] > 0
    assert report.is_file() and "gpt2" in report.read_text()
    listed = json.loads(wp("benchmarks", "--json").stdout)["benchmarks"]
    assert [b["id"] for b in listed] == [doc["benchmark"]]
    assert listed[0]["models"] == ["gpt2"]
    shown = wp("benchmarks", doc["benchmark"][:10])
    assert "gpt2" in shown.stdout
    assert "synthetic" in shown.stdout


def test_bench_prints_a_table_with_progress_on_stderr(data_dir: Path) -> None:
    proc = wp(*QUICK_NLP, "--epochs", "1")
    assert "gpt2" in proc.stdout
    assert "θ" in proc.stdout or "theta" in proc.stdout
    assert "models (gpt2)" in proc.stderr  # the progress bars (their last frame, off a TTY)
    assert "[transformers]" not in proc.stderr  # the tiny configs are valid
    assert "next: wattprint benchmarks" in proc.stderr


def test_bench_bad_input_is_one_clear_error(data_dir: Path) -> None:
    proc = wp("bench", "--suite", "speech", check_rc=2)
    assert "--suite 'speech': accepted: vision, audio, nlp, all, scaling" in proc.stderr
    proc = wp("bench", "--suite", "vision", "--models", "gpt2", check_rc=2)
    assert "'gpt2'" in proc.stderr and "not in suite 'vision'" in proc.stderr
    proc = wp("bench", "--device", "cuda:7", "--quick", check_rc=2)
    assert "device='cuda:7'" in proc.stderr
    proc = wp("benchmarks", "nothing", check_rc=2)
    assert "no benchmark in the store" in proc.stderr


def test_bench_list_names_every_suite_model(data_dir: Path) -> None:
    doc = json.loads(wp("bench", "--list", "--json").stdout)
    assert doc["models"]["vision"][0] == "resnet50"
    assert "hdemucs" in doc["models"]["audio"]
