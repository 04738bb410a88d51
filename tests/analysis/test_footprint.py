"""Carbon as a view over stored energy: re-pricing a finished run for another place,
PUE or intensity time series without re-running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.journals import start_run
from wattprint.analysis.footprint import energy_intervals, run_footprint
from wattprint.carbon.intensity import yearly_intensity
from wattprint.carbon.location import resolve_location
from wattprint.errors import ConfigError
from wattprint.store.repository import Store

T0 = 1_700_000_000.0
RAPL = {
    "name": "cpu:0",
    "kind": "cpu",
    "source": "rapl",
    "quality": "measured",
    "description": "package 0",
    "basis": "powercap",
    "low_ratio": 1.0,
    "high_ratio": 1.0,
}
MODEL = {
    **RAPL,
    "name": "ram",
    "kind": "ram",
    "quality": "estimated",
    "low_ratio": 0.5,
    "high_ratio": 2.0,
    "source": "ram-model",
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    journals = tmp_path / "journal"
    writer, _ = start_run(
        journals,
        name="priced",
        started_at=T0,
        components=[RAPL, MODEL],
    )
    # one hour: cpu 3.6 MJ (1 kWh) in two half-hours, ram 0.36 MJ (0.1 kWh)
    writer.append(
        "samples", rows=[[T0 + 1800, "cpu:0", 1.8e6, 1000.0], [T0 + 1800, "ram", 0.18e6, 100.0]]
    )
    writer.append(
        "samples", rows=[[T0 + 3600, "cpu:0", 3.6e6, 1000.0], [T0 + 3600, "ram", 0.36e6, 100.0]]
    )
    writer.append(
        "end",
        ended_at=T0 + 3600,
        status="finished",
        energy_j={"cpu:0": 3.6e6, "ram": 0.36e6},
        error=None,
        exit_code=0,
    )
    writer.flush()
    s = Store(f"sqlite:///{tmp_path / 'wp.db'}", journals)
    s.sync()
    return s


def test_repricing_a_stored_run(store: Store) -> None:
    detail = store.get_run("priced")
    fr = yearly_intensity(resolve_location("FR")).g_per_kwh
    fp = run_footprint(store, detail, region="FR", pue=1.2)
    assert fp.emissions.kg == pytest.approx(1.1 * 1.2 * fr / 1000)
    assert fp.location.code == "FR" and fp.location_from == "given"
    pl = run_footprint(store, detail, region="PL", pue=1.2)
    pl_g = yearly_intensity(resolve_location("PL")).g_per_kwh
    assert pl.emissions.kg / fp.emissions.kg == pytest.approx(pl_g / fr)
    # the estimated RAM component widens the range; measured CPU does not
    low = (1.0 + 0.1 * 0.5) * 1.2 * fp.intensity.low_g_per_kwh / 1000
    high = (1.0 + 0.1 * 2.0) * 1.2 * fp.intensity.high_g_per_kwh / 1000
    assert fp.emissions.low_kg == pytest.approx(low)
    assert fp.emissions.high_kg == pytest.approx(high)


def test_no_location_is_the_world_average_with_a_warning(store: Store) -> None:
    fp = run_footprint(store, store.get_run("priced"))
    assert fp.location.kind == "world"
    assert fp.location_from == "none: world average"
    assert any("world" in w.lower() for w in fp.emissions.warnings)


def test_intensity_time_series_is_energy_weighted(store: Store, tmp_path: Path) -> None:
    series = tmp_path / "intensity.csv"
    series.write_text(f"timestamp,g_per_kwh\n{T0:.0f},100\n{T0 + 1800:.0f},300\n")
    fp = run_footprint(store, store.get_run("priced"), region="FR", intensity_file=series)
    # each half-hour holds 0.55 kWh: 0.55 x 100 + 0.55 x 300 = 220 g at PUE 1
    assert fp.emissions.kg == pytest.approx(0.220)
    assert fp.emissions.intensity_g_per_kwh == pytest.approx(200)


def test_intervals_follow_the_samples(store: Store) -> None:
    detail = store.get_run("priced")
    intervals = energy_intervals(store.samples(detail.run_id), detail)
    assert sum(i[2] for i in intervals) == pytest.approx(3.96e6)
    assert min(i[0] for i in intervals) == T0 and max(i[1] for i in intervals) == T0 + 3600


def test_bad_pricing_inputs_are_clear_errors(store: Store) -> None:
    detail = store.get_run("priced")
    with pytest.raises(ConfigError, match=r"PUE 0\.5 is below 1"):
        run_footprint(store, detail, pue=0.5)
    with pytest.raises(ConfigError, match="unknown location 'Atlantis'"):
        run_footprint(store, detail, region="Atlantis")


def _run_with_hardware(tmp_path: Path, hardware: dict[str, object], attribution: str) -> Store:
    from wattprint.store.journal import JournalWriter, journal_path

    journals = tmp_path / "j2"
    writer = JournalWriter(journal_path(journals, "e" * 32))
    gpu = {**RAPL, "name": "gpu:0", "kind": "gpu", "source": "nvml"}
    idle_gpu = {**gpu, "name": "gpu:1"}
    writer.append(
        "run",
        run_id="e" * 32,
        project="p",
        name="embodied",
        host="h",
        pid=1,
        pid_create_time=None,
        started_at=T0,
        command="x",
        git_commit=None,
        hardware=hardware,
        settings={"attribution": attribution},
        components=[RAPL, gpu, idle_gpu],
        version="0.1.0",
    )
    writer.append(
        "samples", rows=[[T0 + 3600, "cpu:0", 1e6, None], [T0 + 3600, "gpu:0", 2e6, None]]
    )
    writer.append(
        "end",
        ended_at=T0 + 3600,
        status="finished",
        energy_j={"cpu:0": 1e6, "gpu:0": 2e6},
        error=None,
        exit_code=0,
    )
    writer.flush()
    s = Store(f"sqlite:///{tmp_path / 'e.db'}", journals)
    s.sync()
    return s


HOURS_PER_LIFETIME = 4 * 365.25 * 24  # the 4-year Teads/CCF lifespan


def test_embodied_charges_used_gpus_and_the_hosts_share(tmp_path: Path) -> None:
    hardware = {
        "cpu": {
            "model": "AMD EPYC 7763",
            "logical_cpus": 16,
            "host_logical_cpus": 128,
            "hypervisor": False,
            "sockets": 1,
        },
        "ram_gb": 100.0,
        "gpus": [
            {"component": "gpu:0", "name": "NVIDIA A100-SXM4-80GB"},
            {"component": "gpu:1", "name": "NVIDIA A100-SXM4-80GB"},
        ],
    }
    store = _run_with_hardware(tmp_path, hardware, "process")
    detail = store.get_run("embodied")
    fp = run_footprint(store, detail, region="FR")
    emb = fp.embodied
    assert emb.host_share == pytest.approx(16 / 128)
    host_kg = (1000 + 100 * 1.388) * (16 / 128) / HOURS_PER_LIFETIME  # server + DRAM, 1 hour
    gpu_kg = 150 / HOURS_PER_LIFETIME  # one card: gpu:1 was never charged
    assert emb.kg == pytest.approx(host_kg + gpu_kg, rel=1e-3)
    assert emb.low_kg <= emb.kg <= emb.high_kg
    machine_store = _run_with_hardware(tmp_path / "m", hardware, "machine")
    machine = run_footprint(machine_store, machine_store.get_run("embodied"))
    assert machine.embodied.host_share == 1.0


def test_virtual_machine_share_comes_from_the_chip_table(tmp_path: Path) -> None:
    hardware = {
        "cpu": {
            "model": "AMD EPYC",
            "logical_cpus": 2,
            "host_logical_cpus": 2,
            "hypervisor": True,
            "sockets": 1,
        }
    }
    store = _run_with_hardware(tmp_path, hardware, "process")
    fp = run_footprint(store, store.get_run("embodied"))
    assert 0 < fp.embodied.host_share < 0.5
    assert "virtual machine" in fp.embodied.host_share_basis
    assert "cpu_tdp.csv" in fp.embodied.host_share_basis


def test_malformed_inventory_does_not_break_the_view(store: Store) -> None:
    fp = run_footprint(store, store.get_run("priced"))  # inventory {"cpu": "Test CPU", ...}
    assert fp.embodied.kg > 0
