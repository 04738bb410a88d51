"""The emissions table of a run: per window and for the run, priced where asked."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.meters.rapl import RaplMeter
from wattprint.report.emissions import COLUMNS, write_emissions_csv
from wattprint.store.repository import Store


def test_windows_and_run_are_priced_with_their_sources(
    data_dir: Path, powercap: FakePowercap
) -> None:
    with wattprint.track(project="p", run="priced", meters=[RaplMeter(powercap.root)]) as tracker:
        for joules in (3.6e4, 7.2e4):  # 0.01 and 0.02 kWh (below the counter range)
            with tracker.window("epoch"):
                powercap.advance("intel-rapl:0", joules)
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    out = io.StringIO()
    assert write_emissions_csv(store, tracker.run_id, out, region="FR", pue=1.5) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    assert [r["scope"] for r in rows] == ["window:epoch", "window:epoch", "run"]
    assert [float(r["energy_kwh"]) for r in rows] == pytest.approx([0.01, 0.02, 0.03])
    assert {r["energy_quality"] for r in rows} == {"measured"}
    for r in rows:
        assert float(r["pue"]) == 1.5 and r["pue_source"]
        assert float(r["facility_energy_kwh"]) == pytest.approx(1.5 * float(r["energy_kwh"]))
        g = float(r["intensity_g_per_kwh"])
        assert "France" in r["intensity_source"]
        assert float(r["kgco2e"]) == pytest.approx(
            float(r["facility_energy_kwh"]) * g / 1000, rel=1e-3
        )
        assert float(r["kgco2e_low"]) <= float(r["kgco2e"]) <= float(r["kgco2e_high"])
