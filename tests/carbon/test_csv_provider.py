from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.carbon.helpers import make_intensity
from wattprint.carbon import CsvSeriesProvider, operational_emissions
from wattprint.carbon.providers import parse_timestamp
from wattprint.carbon.pue import Pue
from wattprint.errors import ConfigError

T0 = parse_timestamp("2024-07-01T00:00:00Z")

EM_EXPORT = (
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),"
    "Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,"
    "Data Source,Data Estimated,Data Estimation Method\n"
    "2024-07-01 00:00:00,France,France,FR,20,40,95,30,entsoe.eu,false,\n"
    "2024-07-01 01:00:00,France,France,FR,30,60,94,29,entsoe.eu,false,\n"
    "2024-07-01 02:00:00,France,France,FR,10,20,96,31,entsoe.eu,false,\n"
)


def write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_electricity_maps_export_prefers_lca(tmp_path: Path) -> None:
    p = CsvSeriesProvider(write(tmp_path, EM_EXPORT))
    assert "LCA" in p.column
    assert p.series(T0, T0 + 3 * 3600) == [
        (T0, 40.0),
        (T0 + 3600, 60.0),
        (T0 + 7200, 20.0),
    ]
    assert "series.csv" in p.describe()


def test_electricity_maps_export_direct_column(tmp_path: Path) -> None:
    p = CsvSeriesProvider(write(tmp_path, EM_EXPORT), column="Carbon Intensity gCO₂eq/kWh (direct)")
    assert [v for _, v in p.series(T0, T0 + 3 * 3600)] == [20.0, 30.0, 10.0]


def test_ascii_co2_and_bom(tmp_path: Path) -> None:
    text = "\ufeffDatetime (UTC),Carbon Intensity gCO2eq/kWh (LCA)\n2024-07-01T00:00:00Z,300\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    assert p.series(T0, T0 + 60) == [(T0, 300.0)]


def test_plain_unix_file(tmp_path: Path) -> None:
    text = f"timestamp,g_per_kwh\n{T0:.0f},100\n{T0 + 1800:.0f},300\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    # a span starting inside the first step: its value, then the step
    assert p.series(T0 + 900, T0 + 3600) == [(T0 + 900, 100.0), (T0 + 1800, 300.0)]


def test_plain_iso_with_offset(tmp_path: Path) -> None:
    text = "timestamp,g_per_kwh\n2024-07-01T02:00:00+02:00,100\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    assert p.series(T0, T0 + 10) == [(T0, 100.0)]


def test_energy_weighting_over_a_file(tmp_path: Path) -> None:
    text = f"timestamp,g_per_kwh\n{T0:.0f},100\n{T0 + 1800:.0f},300\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    intensity = make_intensity(200.0)
    e = operational_emissions(
        [(T0, T0 + 3600, 3.6e6, 3.6e6, 3.6e6)], p, intensity, Pue(1.0, "t", "t")
    )
    assert abs(e.kg - 0.2) < 1e-12


def test_outside_the_file_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = f"timestamp,g_per_kwh\n{T0:.0f},100\n{T0 + 3600:.0f},300\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    with caplog.at_level(logging.WARNING, logger="wattprint.carbon"):
        assert p.series(T0 - 600, T0) == [(T0 - 600, 100.0)]
        p.series(T0 - 600, T0)
        p.series(T0, T0 + 10 * 3600)
    assert len(p.warnings) == 2
    assert len(caplog.records) == 2


def test_rows_without_value_are_skipped_and_counted(tmp_path: Path) -> None:
    text = f"timestamp,g_per_kwh\n{T0:.0f},100\n{T0 + 3600:.0f},\n{T0 + 7200:.0f},50\n"
    p = CsvSeriesProvider(write(tmp_path, text))
    assert [v for _, v in p.series(T0, T0 + 3 * 3600)] == [100.0, 50.0]
    assert p.warnings and "1 rows" in p.warnings[0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"series\.csv, line 1: empty file"),
        ("when,value\n1,2\n", r"line 1: no timestamp column.*columns found: 'when', 'value'"),
        (
            "timestamp,watts\n1,2\n",
            r"line 1: no gCO2e/kWh column.*columns found: 'timestamp', 'watts'",
        ),
        ("timestamp,g_per_kwh\nyesterday,2\n", r"line 2: timestamp 'yesterday'"),
        ("timestamp,g_per_kwh\n1,lots\n", r"line 2: intensity 'lots' is not a number"),
        ("timestamp,g_per_kwh\n1,-5\n", r"line 2: intensity '-5' is not a finite number"),
        ("timestamp,g_per_kwh\n1,5\n2\n", r"line 3: 1 cells, expected 2"),
        ("timestamp,g_per_kwh\n1,5\n1,6\n", r"line 3: duplicate timestamp '1'"),
        ("timestamp,g_per_kwh\n", r"no data rows"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        CsvSeriesProvider(write(tmp_path, text))
    assert "series.csv" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.csv: cannot read"):
        CsvSeriesProvider(tmp_path / "nope.csv")


def test_named_column_absent(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no column 'co2'.*columns found"):
        CsvSeriesProvider(write(tmp_path, "timestamp,g_per_kwh\n1,2\n"), column="co2")
