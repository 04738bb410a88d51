"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the app
served on 127.0.0.1 over the seeded store. Each test fails on an uncaught script error and
leaves a screenshot of every page it saw in tests/artifacts/screenshots/ for a person to
look at."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.server.conftest import Live

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module", autouse=True)
def offline_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The Hub and datasets offline, caching in a temporary folder, for the job worker the
    ``live`` app starts (it inherits the environment; autouse: set before ``live``)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
        monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf-cache")))
        yield


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, headless; the tests skip when it is missing (they never install it:
    scripts/install-chromium.sh does, as root)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-chromium.sh as root")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    """A fresh browser context (no cookie) on the live app; an uncaught script error fails
    the test."""
    context = browser.new_context(
        base_url=live.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def shot(page: Page, name: str) -> None:
    """The whole page as tests/artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def traces(page: Page, plot: str) -> int:
    """The data traces Plotly drew in the plot with test id ``plot``, once it drew one."""
    drawn = page.locator(f"[data-testid={plot}] .main-svg .trace")
    expect(drawn.first).to_be_attached()
    return drawn.count()


def downloaded(page: Page, link: str) -> str:
    """The text of the file the link with test id ``link`` downloads."""
    with page.expect_download() as download:
        page.get_by_test_id(link).click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def legend(page: Page, plot: str) -> list[str]:
    return page.locator(f"[data-testid={plot}] .legendtext").all_text_contents()


def no_page_error(page: Page) -> None:
    expect(page.get_by_test_id("error")).to_be_hidden()


def test_runs_list_filters_sorts_and_pages(page: Page) -> None:
    names = page.locator("[data-testid=runs-table] .run-link")
    page.goto("/")
    expect(page.get_by_test_id("runs-count")).to_have_text("6 runs")
    shot(page, "runs")
    filters = page.get_by_test_id("filters")
    filters.get_by_label("Project").select_option("vision")
    expect(names).to_have_text(["plain", "cifar-small", "cifar"])  # newest first
    filters.get_by_label("Host").select_option("gpu-node-1")
    expect(names).to_have_text(["plain", "cifar"])
    filters.get_by_label("Host").select_option("")
    filters.get_by_label("Sort by").select_option("energy")
    expect(names).to_have_text(["cifar", "cifar-small", "plain"])
    filters.get_by_label("Order").select_option("asc")
    expect(names).to_have_text(["plain", "cifar-small", "cifar"])
    filters.get_by_label("Project").select_option("")
    filters.get_by_label("Status").select_option("failed")
    expect(names).to_have_text([re.compile(r"/broken$")])
    filters.get_by_label("Since").fill("2999-01-01")
    expect(page.get_by_test_id("runs")).to_have_text("No run matches these filters.")

    page.goto("/?project=vision&sort=energy&order=desc&per_page=2")
    expect(names).to_have_text(["cifar", "cifar-small"])
    expect(page.get_by_test_id("page-info")).to_have_text("page 1 of 2")
    page.get_by_test_id("next").click()
    expect(names).to_have_text(["plain"])
    expect(page.get_by_test_id("page-info")).to_have_text("page 2 of 2")
    expect(page.get_by_test_id("next")).to_be_disabled()
    assert "page=2" in page.url  # the page is in the address, to share or reload
    shot(page, "runs-page-2")
    no_page_error(page)


def test_run_page_summary_plots_windows_and_whatif(page: Page) -> None:
    page.goto("/runs/cifar")
    energy = page.get_by_test_id("card-energy")
    expect(energy).to_contain_text("measured")
    expect(energy).to_contain_text("kJ")
    expect(page.get_by_test_id("card-co2e")).to_contain_text("Our World in Data")
    components = page.locator("[data-testid=components-table] tbody tr")
    expect(components.first).to_contain_text("RAPL counter")
    assert traces(page, "plot-power") == 3
    assert legend(page, "plot-power") == [f"{c} (measured)" for c in ("cpu:0", "cpu:1", "dram:0")]
    assert traces(page, "plot-cumulative") == 3
    assert traces(page, "plot-epochs") == 1
    assert traces(page, "plot-metric") == 2  # the metric and the diminishing-returns mark
    expect(page.get_by_test_id("returns")).to_contain_text("% of the energy")
    assert page.locator("[data-testid=windows-table] tbody tr").count() == 12  # 6 x epoch+eval
    expect(page.locator("[data-testid=whatif-table] tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("whatif")).to_contain_text("where it ran")
    page.get_by_label("Regions").fill("FR,PL")
    page.get_by_role("button", name="Re-price").click()
    expect(page.locator("[data-testid=whatif-table] tbody tr")).to_have_count(3)  # + its own
    no_page_error(page)
    shot(page, "run")


def test_run_downloads_csv_and_json(page: Page, live: Live) -> None:
    page.goto("/runs/cifar")
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "download-windows"))))
    assert rows and {"name", "duration_s", "energy_j"} <= set(rows[0])
    document = json.loads(downloaded(page, "download-json"))
    assert document["run"]["run_id"] == live.seeded.run_ids["cifar"]


def test_compare_picked_runs(page: Page, live: Live) -> None:
    page.goto("/?project=vision")
    for name in ("cifar", "cifar-small"):
        page.get_by_label(f"compare {name}", exact=True).check()
    page.get_by_test_id("compare-selected").click()
    page.wait_for_url(re.compile(r"/compare\?runs="))
    picked = parse_qs(urlparse(page.url).query)["runs"][0].split(",")
    assert picked == [live.seeded.run_ids[n] for n in ("cifar", "cifar-small")]
    rows = page.locator("[data-testid=compare-table] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("0.812")  # the final accuracy
    assert traces(page, "plot-cumulative") == 2
    assert traces(page, "plot-epochs") == 2
    assert legend(page, "plot-cumulative") == ["cifar (measured)", "cifar-small (measured)"]
    no_page_error(page)
    shot(page, "compare")


def test_estimate_form_shows_ranges_and_errors(page: Page) -> None:
    page.goto("/estimate")
    form = page.get_by_test_id("estimate-form")
    form.get_by_label("Hardware").fill("2xA100")
    form.get_by_label("Hours").fill("10")
    form.get_by_label("Region").fill("FR")
    form.get_by_role("button", name="Estimate").click()
    kwh = re.compile(r"^[\d.,]+ kWh \([\d.,]+\u2013[\d.,]+ kWh\)$")  # value (low-high)
    expect(page.get_by_test_id("estimate-energy")).to_have_text(kwh)
    expect(page.get_by_test_id("estimate-co2e")).to_have_text(re.compile(r"g \(.*\u2013.*\) CO2e$"))
    expect(page.get_by_test_id("estimate-result")).to_contain_text("France")
    shot(page, "estimate")
    form.get_by_label("Hardware").fill("B999")
    form.get_by_role("button", name="Estimate").click()
    expect(page.get_by_test_id("estimate-error")).to_contain_text("unknown GPU 'B999'")


def test_launching_needs_the_token(page: Page, live: Live) -> None:
    page.goto("/jobs")
    page.get_by_text("Advanced: raw JSON spec").click()
    spec = {"kind": "bench", "bench": {"suite": "nlp", "quick": True}}
    page.get_by_test_id("raw-spec").fill(json.dumps(spec))
    page.get_by_test_id("launch").click()
    result = page.get_by_test_id("launch-result")
    expect(result).to_contain_text("Not launched: launching or cancelling jobs needs the access")
    expect(result).to_have_class("error")
    page.context.add_cookies([{"name": "wattprint_token", "value": "wrong", "url": live.url}])
    page.get_by_test_id("launch").click()
    expect(result).to_contain_text("wrong access token")
    shot(page, "jobs-refused")


def test_benchmarks_table_and_plots(page: Page, live: Live) -> None:
    page.goto("/benchmarks")
    page.get_by_role("link", name=live.seeded.benchmark_id).click()
    table = page.get_by_test_id("benchmark-table")
    expect(table.locator("tbody tr td:first-child")).to_have_text(["distilbert", "gpt2", "broken"])
    assert traces(page, "plot-energy") == 1
    assert legend(page, "plot-energy") == ["energy (estimated)"]
    assert traces(page, "plot-epochs") == 2
    assert traces(page, "plot-quality") == 1
    models = [r["model"] for r in csv.DictReader(io.StringIO(downloaded(page, "download-csv")))]
    assert models == ["distilbert", "gpt2", "broken"]
    no_page_error(page)
    shot(page, "benchmark")


@pytest.mark.slow
def test_a_finetuning_job_launched_from_the_page_runs_and_links_its_run(
    page: Page, live: Live, tmp_path: Path
) -> None:
    pytest.importorskip("peft")
    from tests.finetune.fixtures import save_model_dir, write_dataset

    page.goto(f"/login?token={live.token}")
    page.goto("/jobs")
    page.get_by_test_id("launch-form").get_by_label("Project").fill("ft-ui")
    form = page.locator("fieldset[data-kind=finetune]")
    form.get_by_label("Task").select_option("text-classification")
    model = save_model_dir("text-classification", tmp_path)
    form.get_by_label("Model", exact=True).fill(str(model))
    dataset = write_dataset("text-classification", tmp_path / "data", fmt="csv", n=40)
    form.get_by_label("Dataset").fill(str(dataset))
    form.get_by_label("Epochs").fill("1")
    page.get_by_test_id("launch").click()
    page.get_by_test_id("launched-job").click()
    state = page.get_by_test_id("job-state")
    expect(state).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)
    shot(page, "job")
    run = page.get_by_test_id("run-link")
    expect(run).to_have_count(1)
    run.click()
    expect(page.get_by_test_id("card-energy")).to_be_visible()
    expect(page.locator("#title")).to_contain_text("finished")
    no_page_error(page)
    shot(page, "job-run")
