"""``wattprint jobs`` and ``wattprint worker`` as real processes: a benchmark job submitted,
run by a worker to success, its run recorded; bad input as one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.test_cli import wp
from tests.jobs.conftest import QUICK_BENCH
from wattprint.config import Settings
from wattprint.store.repository import Store

pytest.importorskip("torch")


def test_submit_work_list_show(data_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(yaml.safe_dump({"kind": "bench", "bench": QUICK_BENCH, "project": "jobs"}))
    job = json.loads(wp("jobs", "submit", "--spec", str(spec), "--json").stdout)["job"]
    assert (job["state"], job["kind"], job["project"], job["executor"]) == (
        "queued", "bench", "jobs", "local",
    )  # fmt: skip
    (ran,) = json.loads(wp("worker", "--once", "--json").stdout)["jobs"]
    assert (ran["id"], ran["state"], ran["error"]) == (job["id"], "succeeded", None)
    (run_id,) = ran["run_ids"]
    listed = json.loads(wp("jobs", "list", "--state", "succeeded", "--json").stdout)["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    shown = json.loads(wp("jobs", "show", str(job["id"]), "--json").stdout)
    assert "gpt2: inference" in shown["log_tail"]
    assert f"job {job['id']} succeeded: runs {run_id}" in shown["log_tail"]
    with Store.from_settings(Settings(dir=data_dir)) as store:
        store.sync()
        run = store.get_run(run_id)
    assert (run.project, run.status) == ("jobs", "finished")
    assert run.labels["job"] == str(job["id"]) and run.labels["model"] == "gpt2"
    table = wp("jobs", "list").stdout
    assert "succeeded" in table and "bench" in table
    assert "last lines of the log" in wp("jobs", "show", str(job["id"])).stdout


def test_jobs_bad_input_is_one_clear_error(data_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(yaml.safe_dump({"kind": "bench", "bench": QUICK_BENCH}))
    proc = wp("jobs", "submit", "--spec", str(spec), "--executor", "lsf", check_rc=2)
    assert "executor='lsf': Input should be 'local' or 'slurm'" in proc.stderr
    proc = wp("jobs", "submit", "--spec", str(tmp_path / "none.yaml"), check_rc=2)
    assert "cannot read job spec" in proc.stderr
    proc = wp("jobs", "list", "--state", "done", check_rc=2)
    assert "state='done': accepted: queued, running, succeeded, failed, cancelled" in proc.stderr
    assert "no job with id 42" in wp("jobs", "show", "42", check_rc=2).stderr
    job = json.loads(wp("jobs", "submit", "--spec", str(spec), "--json").stdout)["job"]
    cancelled = json.loads(wp("jobs", "cancel", str(job["id"]), "--json").stdout)["job"]
    assert cancelled["state"] == "cancelled"
    assert (
        "is cancelled: only queued or running"
        in wp("jobs", "cancel", str(job["id"]), check_rc=2).stderr
    )
    assert json.loads(wp("worker", "--once", "--json").stdout) == {"jobs": []}
