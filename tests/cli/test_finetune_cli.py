"""``wattprint finetune`` as a real process: detection notes, the stored run, the saved
model, the emissions CSV, job specs, and bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import yaml

from tests.cli.test_cli import wp
from tests.finetune.fixtures import save_model_dir, write_dataset


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def test_finetune_trains_stores_and_writes_emissions(data_dir: Path, tmp_path: Path) -> None:
    model = save_model_dir("text-classification", tmp_path)
    data = write_dataset("text-classification", tmp_path / "data", fmt="csv", n=40)
    emissions = tmp_path / "emissions.csv"
    proc = wp(
        "finetune", "--task", "text-classification", "--model", str(model), "--dataset", str(data),
        "--epochs", "1", "--lr", "5e-3", "--peft", "lora", "--lora-r", "4",
        "--emissions-csv", str(emissions), "--json", env=_env(),
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["run"]["status"] == "finished"
    assert doc["run"]["labels"]["task"] == "text-classification"
    assert doc["run"]["labels"]["peft"] == "lora"
    assert "final_accuracy" in doc["metrics"]
    assert any("c0" in n for n in doc["notes"])  # the unnamed text column was detected
    assert Path(doc["output_dir"], "adapter_config.json").is_file()
    rows = list(csv.DictReader(emissions.open()))
    assert rows[-1]["scope"] == "run" and float(rows[-1]["kgco2e"]) > 0
    assert any(r["scope"] == "window:epoch" for r in rows)


def test_job_spec_round_trip_and_overrides(data_dir: Path, tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    proc = wp(
        "finetune", "--task", "summarization", "--model", "some/model", "--dataset", "d.jsonl",
        "--peft", "lora", "--lora-r", "2", "--text-column", "c0", "--save-spec", str(job), "--json",
    )  # fmt: skip
    written = yaml.safe_load(job.read_text())
    assert written["task"] == "summarization"
    assert written["peft"] == {
        "type": "lora",
        "r": 2,
        "alpha": 16,
        "dropout": 0.05,
        "num_virtual_tokens": 20,
    }
    assert written["columns"] == {"text": "c0"}
    again = tmp_path / "again.json"
    wp("finetune", "--spec", str(job), "--epochs", "1", "--save-spec", str(again))
    merged = json.loads(again.read_text())
    assert (
        merged["epochs"] == 1.0 and merged["peft"]["r"] == 2 and merged["columns"]["text"] == "c0"
    )
    assert json.loads(proc.stdout)["job"]["model"] == "some/model"


def test_bad_input_is_one_clear_error(data_dir: Path, tmp_path: Path) -> None:
    proc = wp("finetune", "--task", "ner", "--model", "m", "--dataset", "d.csv", check_rc=2)
    assert "task='ner'" in proc.stderr and "token-classification" in proc.stderr
    model = save_model_dir("question-answering", tmp_path)
    data = write_dataset("text-classification", tmp_path / "data", fmt="csv", n=20)
    proc = wp(
        "finetune", "--task", "question-answering", "--model", str(model), "--dataset", str(data),
        env=_env(), check_rc=2,
    )  # fmt: skip
    assert "c0" in proc.stderr and "--question-column" in proc.stderr
    proc = wp(
        "finetune",
        "--task",
        "causal-lm",
        "--model",
        str(tmp_path / "nothing"),
        "--dataset",
        str(data),
        env=_env(),
        check_rc=2,
    )
    assert "offline" in proc.stderr and "nothing is downloaded" in proc.stderr
