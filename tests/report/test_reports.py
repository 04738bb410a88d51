"""HTML and Markdown reports, and the `report` / `plot` commands end to end."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.report.helpers import journal_run, open_store, plain_run, tracked_run
from tests.report.test_plots import png_size
from wattprint.errors import ConfigError
from wattprint.report.build import build_report, write_report

WATTPRINT = [sys.executable, "-m", "wattprint"]


def test_html_report_of_one_run(data_dir: Path, powercap: FakePowercap, tmp_path: Path) -> None:
    run_id = tracked_run(powercap)
    store = open_store(data_dir)
    path = write_report(store, [run_id], tmp_path / "out" / "report.html", metric="loss")
    html = path.read_text()
    assert run_id in html
    for section in (
        "<h3>Energy</h3>",
        "<h3>Emissions</h3>",
        "<h3>Energy over time</h3>",
        "<h3>Energy per epoch</h3>",
        "<h3>Energy vs loss</h3>",
        "<h3>Predicted vs actual energy</h3>",
        "<h3>The same run elsewhere</h3>",
        "<h3>Recommendations</h3>",
    ):
        assert section in html
    assert "0.001333 kWh (4.8 kJ)" in html  # 4800 J in all, measured
    assert re.search(r"\d+ ?% of the energy .*bought the last [\d.]+ of loss", html)
    assert "the first epoch cost 3.0" in html  # a recommendation from the run's own data
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 5  # timeline, epochs, metric, prediction, regions
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_report_without_epochs_leaves_those_sections_out(
    data_dir: Path, powercap: FakePowercap
) -> None:
    run_id = plain_run(powercap)
    report = build_report(open_store(data_dir), [run_id])
    headings = [getattr(b, "text", "") for b in report.blocks]
    assert "Energy over time" in headings and "Recommendations" in headings
    assert not {"Energy per epoch", "Predicted vs actual energy"} & set(headings)
    assert not any(h.startswith("Energy vs") for h in headings)


def test_markdown_report_of_several_runs(
    data_dir: Path, powercap: FakePowercap, tmp_path: Path
) -> None:
    a = tracked_run(powercap, "small")
    b = tracked_run(powercap, "big", scale=2.0)
    c = journal_run(wattprint.Settings(dir=data_dir).journal_dir)
    path = write_report(open_store(data_dir), [a, b, c], tmp_path / "md" / "cmp.md")
    text = path.read_text()
    assert "## Comparison" in text and "| final loss |" in text.replace("| final accuracy ", "")
    for run_id in (a, b, c):
        assert run_id in text
    links = re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", text)
    assert "cmp-compare.png" in links
    for link in links:
        assert (path.parent / link).is_file()
    assert png_size(path.parent / "cmp-compare.png")[0] == 990
    assert "ram | ram | estimated" in text  # the journaled run's estimated component


def test_report_errors(data_dir: Path, powercap: FakePowercap, tmp_path: Path) -> None:
    run_id = tracked_run(powercap)
    store = open_store(data_dir)
    with pytest.raises(ConfigError, match=r"report\.pdf.*\.html, \.htm, \.md"):
        write_report(store, [run_id], tmp_path / "report.pdf")
    with pytest.raises(ConfigError, match=r"'bleu'.*logged: accuracy, loss"):
        build_report(store, [run_id], metric="bleu")


def test_cli_report_and_plot(data_dir: Path, powercap: FakePowercap, tmp_path: Path) -> None:
    a = tracked_run(powercap, "one")
    b = tracked_run(powercap, "two", scale=1.5)
    html = tmp_path / "r.html"
    proc = subprocess.run(
        [*WATTPRINT, "report", a, b, "-o", str(html), "--region", "FR", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["report"] == str(html)
    page = html.read_text()
    assert "France" in page and "<h2>Comparison</h2>" in page
    svg = tmp_path / "cmp.svg"
    proc = subprocess.run(
        [*WATTPRINT, "plot", a, b, "--kind", "compare", "-o", str(svg)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in svg.read_text()
    proc = subprocess.run(
        [*WATTPRINT, "plot", "nope", "--kind", "timeline", "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "no run matches 'nope'" in proc.stderr
    assert not (tmp_path / "x.png").exists()
