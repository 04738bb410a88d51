"""The ``wattprint`` command, run as a real process against a real store."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WATTPRINT = [sys.executable, "-m", "wattprint"]


def wp(
    *args: str, env: dict[str, str] | None = None, check_rc: int | None = 0
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*WATTPRINT, *args], capture_output=True, text=True, timeout=120, env=env)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


BURN = "import time\nt=time.process_time()\nwhile time.process_time()-t<{s}: pass\n"


def test_run_wraps_a_command_and_exits_with_its_code(data_dir: Path) -> None:
    code = BURN.format(s=0.2) + "raise SystemExit(3)"
    proc = wp("run", "--project", "cifar", "--json", "--", *child(code), check_rc=3)
    doc = json.loads(proc.stdout)
    assert doc["exit_code"] == 3
    run = doc["run"]
    assert run["project"] == "cifar"
    assert run["status"] == "failed"
    assert run["exit_code"] == 3
    assert run["energy_j"] > 0
    assert "raise SystemExit(3)" in run["command"]
    assert {c["quality"] for c in run["components"]} <= {"measured", "estimated"}
    assert all(c["basis"] for c in run["components"])


def test_run_charges_the_whole_process_tree(data_dir: Path) -> None:
    idle = child("import time; time.sleep(0.6)")
    busy_tree = child(
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', {BURN.format(s=0.6)!r}])\n"
        "time.sleep(0.1); p.wait()"
    )
    quiet = json.loads(wp("run", "--json", "--attribution", "process", "--", *idle).stdout)
    busy = json.loads(wp("run", "--json", "--attribution", "process", "--", *busy_tree).stdout)
    cpu = {c["name"]: c["energy_j"] for c in busy["run"]["components"] if c["kind"] == "cpu"}
    quiet_cpu = sum(c["energy_j"] for c in quiet["run"]["components"] if c["kind"] == "cpu")
    assert sum(cpu.values()) > 5 * max(quiet_cpu, 1e-9)


def test_run_forwards_sigterm_to_the_command(data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "got"
    code = (
        "import signal, sys, time, pathlib\n"
        f"p = pathlib.Path({str(marker)!r})\n"
        "def h(n, f):\n    p.write_text(str(n)); sys.exit(7)\n"
        "signal.signal(signal.SIGTERM, h)\n"
        "p.with_suffix('.ready').write_text('1')\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        [*WATTPRINT, "run", "--json", "--", *child(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 30
    while not marker.with_suffix(".ready").exists():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 7, stderr
    assert marker.read_text() == str(int(signal.SIGTERM))
    assert json.loads(stdout)["run"]["exit_code"] == 7


def test_command_killed_by_a_signal_gives_128_plus_signal(data_dir: Path) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    proc = wp("run", "--json", "--", *child(code), check_rc=137)
    assert json.loads(proc.stdout)["run"]["status"] == "failed"


def test_killed_tracker_leaves_an_interrupted_run(data_dir: Path) -> None:
    env = {**os.environ, "WATTPRINT_FLUSH_INTERVAL_S": "0.1", "WATTPRINT_SAMPLE_INTERVAL_S": "0.1"}
    proc = subprocess.Popen(
        [*WATTPRINT, "run", "--name", "doomed", "--", "sleep", "30"],
        env=env,
        start_new_session=True,
    )
    journal_dir = data_dir / "journal"
    deadline = time.time() + 30
    while not (journal_dir.exists() and any(journal_dir.iterdir())):
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.6)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    runs = json.loads(wp("runs", "--json").stdout)["runs"]
    assert [(r["name"], r["status"]) for r in runs] == [("doomed", "interrupted")]
    assert runs[0]["energy_j"] > 0


def test_runs_show_and_export(data_dir: Path) -> None:
    wp("run", "--project", "a", "--name", "first", "--", *child(BURN.format(s=0.1)))
    wp("run", "--project", "b", "--name", "second", "--", *child(BURN.format(s=0.1)))
    listed = json.loads(wp("runs", "--json", "--project", "a").stdout)["runs"]
    assert [r["name"] for r in listed] == ["first"]
    everything = json.loads(wp("runs", "--json").stdout)["runs"]
    assert [r["name"] for r in everything] == ["second", "first"]
    shown = json.loads(wp("show", "first", "--json").stdout)
    assert shown["run"]["name"] == "first" and shown["run"]["status"] == "finished"
    human = wp("show", listed[0]["run_id"][:8]).stdout
    assert "first" in human
    assert "estimated" in human or "measured" in human
    exported = json.loads(wp("export", "first", "--format", "json").stdout)
    assert exported["run"]["run_id"] == listed[0]["run_id"]
    rows = list(csv.DictReader(io.StringIO(wp("export", "first", "--format", "csv").stdout)))
    assert rows and {"t", "component", "energy_j", "power_w"} <= set(rows[0])


def test_errors_go_to_stderr_with_nonzero_exit(data_dir: Path) -> None:
    missing = wp("show", "no-such-run", check_rc=2)
    assert missing.stdout == ""
    assert "no-such-run" in missing.stderr
    env = {**os.environ, "WATTPRINT_SAMPLE_INTERVAL_S": "-1"}
    bad = wp("runs", env=env, check_rc=2)
    assert "WATTPRINT_SAMPLE_INTERVAL_S='-1'" in bad.stderr
    bad_status = wp("runs", "--status", "done", check_rc=2)
    assert "--status 'done'" in bad_status.stderr
    not_a_program = wp("run", "--", "/no/such/program", check_rc=2)
    assert "/no/such/program" in not_a_program.stderr


def test_hardware_lists_every_source_with_a_reason(data_dir: Path) -> None:
    doc = json.loads(wp("hardware", "--json").stdout)
    sources = {s["source"]: s for s in doc["sources"]}
    assert {"rapl", "nvml", "cpu-model", "ram-model"} <= set(sources)
    assert all(s["reason"] for s in sources.values())
    if not Path("/sys/class/powercap").exists():
        assert not sources["rapl"]["available"]
        assert "/sys/class/powercap absent" in sources["rapl"]["reason"]
    human = wp("hardware").stdout
    assert "rapl" in human.lower()


@pytest.mark.slow
def test_demo_trains_and_prints_per_epoch_energy(data_dir: Path) -> None:
    pytest.importorskip("torch")
    human = wp("demo", "--epochs", "2").stdout
    assert "energy by component" in human and "total" in human and "accuracy" in human
    (run,) = json.loads(wp("runs", "--json", "--project", "demo").stdout)["runs"]
    doc = json.loads(wp("show", run["run_id"], "--json").stdout)
    assert doc["run"]["status"] == "finished" and doc["run"]["command"] == "wattprint demo"
    assert [w["name"] for w in doc["windows"]] == ["epoch", "eval", "epoch", "eval"]
    assert {m["name"] for m in doc["metrics"]} == {"loss", "accuracy"}
    assert sorted({m["step"] for m in doc["metrics"]}) == [1, 2]


def test_show_reprices_a_finished_run(data_dir: Path) -> None:
    wp("run", "--name", "priced", "--", *child(BURN.format(s=0.2)))
    world = json.loads(wp("show", "priced", "--json").stdout)["footprint"]
    assert world["location"]["kind"] == "world"
    assert any("world average" in w for w in world["emissions"]["warnings"])
    fr = json.loads(wp("show", "priced", "--json", "--region", "FR", "--pue", "1.5").stdout)
    pl = json.loads(wp("show", "priced", "--json", "--region", "PL", "--pue", "1.5").stdout)
    e_fr, e_pl = fr["footprint"]["emissions"], pl["footprint"]["emissions"]
    ratio = pl["footprint"]["intensity"]["g_per_kwh"] / fr["footprint"]["intensity"]["g_per_kwh"]
    assert e_pl["kg"] / e_fr["kg"] == pytest.approx(ratio)
    assert e_fr["low_kg"] < e_fr["kg"] < e_fr["high_kg"]  # estimated energy: a range
    assert e_fr["energy_kwh"] == pytest.approx(1.5 * fr["run"]["energy_j"] / 3.6e6)
    explained = wp("show", "priced", "--region", "aws:eu-west-3", "--explain").stdout
    assert "AWS" in explained and "PUE 1.14" in explained and "how it was computed" in explained
    bad = wp("show", "priced", "--region", "Frnace", check_rc=2)
    assert "unknown location 'Frnace'" in bad.stderr and "France" in bad.stderr
    low = wp("show", "priced", "--pue", "0.9", check_rc=2)
    assert "PUE 0.9 is below 1" in low.stderr


def test_region_setting_is_recorded_and_used(data_dir: Path) -> None:
    env = {**os.environ, "WATTPRINT_REGION": "gcp:europe-west1"}
    wp("run", "--name", "cloud", "--", *child("pass"), env=env)
    doc = json.loads(wp("show", "cloud", "--json").stdout)
    assert doc["footprint"]["location"]["code"] == "gcp:europe-west1"
    assert doc["footprint"]["location_from"] == "run settings"
    bad_env = {**os.environ, "WATTPRINT_REGION": "mars"}
    bad = wp("run", "--", *child("pass"), env=bad_env, check_rc=2)
    assert "WATTPRINT_REGION='mars'" in bad.stderr


def test_regions_lists_places_with_sources(data_dir: Path) -> None:
    doc = json.loads(wp("regions", "--json", "--search", "California").stdout)
    codes = {r["location"]["code"] for r in doc["regions"]}
    assert "US-CA" in codes
    ca = next(r for r in doc["regions"] if r["location"]["code"] == "US-CA")
    assert ca["intensity"]["source"] and ca["intensity"]["g_per_kwh"] > 0
    assert "FR" in wp("regions", "--kind", "country").stdout
