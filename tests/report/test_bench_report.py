"""The benchmark table (terminal and report) and the benchmark report written as HTML
and Markdown, from a benchmark stored by the real runner."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from tests.report.conftest import FAILED, FAILURE, MODELS, StoredBenchmark
from wattprint.bench.results import list_benchmarks
from wattprint.errors import ConfigError
from wattprint.report.bench import (
    COLUMNS,
    benchmark_rows,
    benchmark_table,
    benchmarks_table,
    build_benchmark_report,
    write_benchmark_report,
)
from wattprint.report.build import Image, Paragraph, Table

PNG = b"\x89PNG\r\n\x1a\n"


def text_of(renderable: RenderableType) -> str:
    console = Console(width=400, file=io.StringIO(), color_system=None)
    console.print(renderable)
    assert isinstance(console.file, io.StringIO)
    return " ".join(console.file.getvalue().split())


def rows_by_model(stored: StoredBenchmark) -> dict[str, dict[str, str]]:
    return {
        row[0]: dict(zip(COLUMNS, row, strict=True)) for row in benchmark_rows(stored.benchmark)
    }


def test_rows_hold_every_model_with_its_figures(stored: StoredBenchmark) -> None:
    rows = rows_by_model(stored)
    assert list(rows) == [*MODELS, FAILED]
    for m in stored.benchmark.models[: len(MODELS)]:
        row = rows[m.model]
        assert m.theta is not None and row["θ"] == f"{m.theta:.3g}"
        assert row["epochs"] == "2"
        assert row["test metric"] == f"accuracy {m.final_quality:.3g}"
        assert row["data"] == "synthetic" and row["quality"] == "estimated"
        # estimated: the value, then its low-high range in brackets, in one unit
        assert re.fullmatch(r"[\d.e+-]+ J \([\d.e+-]+-[\d.e+-]+\)", row["training energy"])
        assert re.fullmatch(r"[\d.e+-]+ mJ \([\d.e+-]+-[\d.e+-]+\)", row["inference energy/sample"])
        assert re.fullmatch(r"[\d.]+ / [\d.]+", row["latency p50/p95 (ms/batch)"])
        assert row["params"].endswith(" k") and row["GFLOPs/sample"] != "—"


def test_a_failed_run_shows_its_status_not_numbers(stored: StoredBenchmark) -> None:
    row = rows_by_model(stored)[FAILED]
    assert [row[c] for c in COLUMNS[1:-2]] == ["failed"] * (len(COLUMNS) - 3)
    assert stored.benchmark.models[-1].status == "failed"


def test_terminal_table_with_caption_and_synthetic_warning(stored: StoredBenchmark) -> None:
    b = stored.benchmark
    plain = text_of(benchmark_table(b))
    for name in (*MODELS, FAILED):
        assert name in plain
    assert f"benchmark {b.id} (suite nlp, 3 models): device cpu (" in plain
    assert "AMP off, batch size 16" in plain
    assert "Energy estimated" in plain
    assert "! SYNTHETIC DATA: energy and speed are real measurements" in plain
    assert b.models[0].data_reason in plain
    assert "cpu estimated (cpu-model:" in plain and "ram estimated (ram-model:" in plain


def test_real_data_has_no_warning(stored: StoredBenchmark) -> None:
    real = tuple(dataclasses.replace(m, synthetic_data=False) for m in stored.benchmark.models)
    plain = text_of(benchmark_table(dataclasses.replace(stored.benchmark, models=real)))
    assert "SYNTHETIC" not in plain and MODELS[0] in plain


def test_benchmark_listing(stored: StoredBenchmark) -> None:
    plain = text_of(benchmarks_table(list_benchmarks(stored.store)))
    assert stored.benchmark.id in plain
    assert f"{', '.join(MODELS)}, {FAILED}" in plain and "mixed" in plain
    assert "no benchmark stored yet" in text_of(benchmarks_table([]))


def test_report_blocks(stored: StoredBenchmark) -> None:
    report = build_benchmark_report(stored.store, stored.benchmark.id[:12])
    assert report.title == f"wattprint benchmark: {stored.benchmark.id}"
    assert report.run_ids == tuple(m.run_id for m in stored.benchmark.models)
    warnings = [b.text for b in report.blocks if isinstance(b, Paragraph) and b.warning]
    assert warnings[0].startswith("SYNTHETIC DATA")
    assert warnings[1] == f"{FAILED}: run failed ({FAILURE})"
    (table,) = [b for b in report.blocks if isinstance(b, Table)]
    assert table.rows == tuple(benchmark_rows(stored.benchmark))
    assert "cpu estimated (cpu-model:" in table.caption
    images = [b.key for b in report.blocks if isinstance(b, Image)]
    assert images == [
        f"bench-{k}" for k in ("epochs", "time", "energy", "inference", "theta", "quality")
    ]


def test_html_report(stored: StoredBenchmark, tmp_path: Path) -> None:
    path = write_benchmark_report(stored.store, "latest", tmp_path / "out" / "bench.html")
    html = path.read_text()
    assert "<table>" in html and all(f"<td>{m}</td>" in html for m in (*MODELS, FAILED))
    assert '<p class="warning">SYNTHETIC DATA' in html
    assert "How to read θ" in html and "T ≈ E·D·I·θ" in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 6
    assert all(base64.b64decode(i).startswith(PNG) for i in images)
    assert "cpu estimated (cpu-model:" in html  # provenance


def test_markdown_report_writes_pngs_beside_it(stored: StoredBenchmark, tmp_path: Path) -> None:
    path = write_benchmark_report(stored.store, stored.benchmark.id, tmp_path / "md" / "b.md")
    text = path.read_text()
    assert "> **warning:** SYNTHETIC DATA" in text
    assert f"| {FAILED} | failed |" in text
    links = re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", text)
    assert links == [
        f"b-bench-{k}.png" for k in ("epochs", "time", "energy", "inference", "theta", "quality")
    ]
    assert all((path.parent / link).read_bytes().startswith(PNG) for link in links)


def test_a_bad_suffix_is_refused_before_anything_is_built(
    stored: StoredBenchmark, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"accepted suffixes: \.html, \.htm, \.md"):
        write_benchmark_report(stored.store, "no-such-benchmark", tmp_path / "x" / "b.pdf")
    assert not (tmp_path / "x").exists()
