"""The JSON API over a seeded store, in process: every endpoint, and bad input answered
400/404/409 with one clear message, never 500."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import HOSTS, Seeded
from wattprint.server.app import create_app
from wattprint.server.auth import AccessPolicy


def ok(client: TestClient, path: str, **kwargs: Any) -> Any:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: Any, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail
    return detail


def names(page: dict[str, Any]) -> list[str]:
    return [r["name"] for r in page["runs"]]


def test_meta_lists_what_the_filters_offer(client: TestClient) -> None:
    meta = ok(client, "/api/meta")
    assert meta["projects"] == ["bench", "vision"]
    assert set(HOSTS.values()) <= set(meta["hosts"])
    assert "finished" in meta["statuses"] and meta["sorts"][0] == "started"
    assert meta["token_required"] == {"read": False, "launch": True}


def test_runs_filter_sort_and_page(client: TestClient, seeded: Seeded) -> None:
    vision = ok(client, "/api/runs", params={"project": "vision"})
    assert vision["total"] == 3 and names(vision) == ["plain", "cifar-small", "cifar"]
    row = vision["runs"][2]
    assert row["quality"] == "measured" and row["energy_j"] == pytest.approx(1800 + 5 * 600)
    assert row["co2e_kg"] > 0 and row["co2e_low_kg"] <= row["co2e_kg"] <= row["co2e_high_kg"]
    assert row["intensity"]["source"] and row["intensity"]["location"] == "WORLD"
    by_energy = ok(client, "/api/runs", params={"project": "vision", "sort": "energy"})
    assert names(by_energy) == ["cifar", "cifar-small", "plain"]
    ascending = {"project": "vision", "sort": "co2e", "order": "asc"}
    assert names(ok(client, "/api/runs", params=ascending)) == ["plain", "cifar-small", "cifar"]
    host = ok(client, "/api/runs", params={"host": "gpu-node-2"})
    assert names(host) == ["cifar-small"]
    page2 = ok(client, "/api/runs", params={"project": "vision", "per_page": 2, "page": 2})
    assert page2["total"] == 3 and names(page2) == ["cifar"]
    oldest_first = {"project": "vision", "order": "asc", "per_page": 2}
    assert names(ok(client, "/api/runs", params=oldest_first)) == ["cifar", "cifar-small"]
    assert ok(client, "/api/runs", params={"status": "failed"})["total"] == 1  # the benchmark's
    today = ok(client, "/api/runs", params={"since": "2000-01-01", "until": "2999-12-31"})
    assert today["total"] == ok(client, "/api/runs")["total"]
    assert ok(client, "/api/runs", params={"until": "2000-01-01"})["runs"] == []


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"sort": "size"}, ["sort='size'", "energy, co2e"]),
        ({"status": "done"}, ["status='done'", "finished"]),
        ({"since": "yesterday"}, ["since='yesterday'", "YYYY-MM-DD"]),
        ({"page": 0}, ["page=0", "page 1-1000000"]),
        ({"per_page": 501}, ["per_page=501", "per_page 1-500"]),
        ({"per_page": "many"}, ["per_page='many'", "integer"]),
        ({"order": "up"}, ["order='up'", "desc"]),
    ],
)
def test_bad_runs_query_is_400(
    client: TestClient, params: dict[str, Any], words: list[str]
) -> None:
    refused(client.get("/api/runs", params=params), 400, *words)


def test_run_detail_says_what_was_measured_and_where_constants_come_from(
    client: TestClient, seeded: Seeded
) -> None:
    doc = ok(client, "/api/runs/cifar")
    assert doc["run"]["run_id"] == seeded.run_ids["cifar"]
    assert {c["quality"] for c in doc["run"]["components"]} == {"measured"}
    assert all(c["source"] and c["basis"] for c in doc["run"]["components"])
    fp = doc["footprint"]
    assert fp["intensity"]["source"] and fp["intensity"]["year"]
    assert fp["pue"]["source"] and fp["pue"]["value"] >= 1
    assert fp["low_kg"] <= fp["co2e_kg"] <= fp["high_kg"]
    assert any("world average" in w for w in doc["warnings"])
    refused(client.get("/api/runs/nosuchrun"), 404, "nosuchrun")


def test_timeline_epochs_windows_metrics(client: TestClient) -> None:
    timeline = ok(client, "/api/runs/cifar/timeline")
    assert len(timeline["times_s"]) >= 2
    total = sum(c["cumulative_j"][-1] for c in timeline["components"])
    assert total == pytest.approx(1800 + 5 * 600)
    epochs = ok(client, "/api/runs/cifar/epochs")
    assert [e["epoch"] for e in epochs["epochs"]] == [1, 2, 3, 4, 5, 6]
    assert epochs["epochs"][0]["energy_j"] == pytest.approx(1800)
    assert epochs["metric"] == "accuracy" and {"loss", "accuracy"} <= set(epochs["metrics"])
    returns = epochs["returns"]
    assert returns["goal"] == "max" and returns["sentence"] and returns["marks"]
    loss = ok(client, "/api/runs/cifar/epochs", params={"metric": "loss"})
    assert loss["metric"] == "loss" and loss["returns"]["goal"] == "min"
    refused(client.get("/api/runs/cifar/epochs", params={"metric": "bleu"}), 400, "'bleu'")
    windows = ok(client, "/api/runs/cifar/windows")["windows"]
    assert [w["name"] for w in windows].count("epoch") == 6
    assert [w["name"] for w in windows].count("eval") == 6
    metrics = ok(client, "/api/runs/cifar/metrics", params={"name": "accuracy"})["metrics"]
    assert [m["value"] for m in metrics][-1] == pytest.approx(0.812)


def test_whatif_regions(client: TestClient) -> None:
    default = ok(client, "/api/runs/cifar/whatif")
    kgs = [o["kg"] for o in default["options"]]
    assert kgs == sorted(kgs) and len(kgs) >= 10 and default["own"] == "WORLD"
    chosen = ok(client, "/api/runs/cifar/whatif", params={"regions": "FR,PL"})
    assert {o["code"] for o in chosen["options"]} == {"FR", "PL", "WORLD"}
    assert all(o["source"] and o["year"] for o in chosen["options"])
    refused(client.get("/api/runs/cifar/whatif", params={"regions": "Atlantis"}), 400, "Atlantis")


def test_run_downloads_parse(client: TestClient, seeded: Seeded) -> None:
    doc = client.get("/api/runs/cifar/download.json")
    assert "attachment" in doc.headers["content-disposition"]
    assert json.loads(doc.text)["run"]["run_id"] == seeded.run_ids["cifar"]
    for table in ("samples", "windows", "metrics", "emissions"):
        response = client.get("/api/runs/cifar/download.csv", params={"table": table})
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/csv"
        )
        rows = list(csv.reader(io.StringIO(response.text)))
        assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)
    refused(client.get("/api/runs/cifar/download.csv", params={"table": "x"}), 400, "table='x'")
    report = client.get("/api/runs/cifar/report.html")
    assert report.status_code == 200 and "<img" in report.text and "cifar" in report.text


def test_compare_and_its_downloads(client: TestClient) -> None:
    doc = ok(client, "/api/compare", params={"runs": "cifar,cifar-small"})
    assert names(doc) == ["cifar", "cifar-small"]
    ids = [r["run_id"] for r in doc["runs"]]
    assert set(doc["timelines"]) == set(ids) == set(doc["epochs"])
    assert len(doc["epochs"][ids[1]]["epochs"]) == 4
    table = client.get("/api/compare/download.csv", params={"runs": "cifar,cifar-small"}).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["name"] for r in rows] == ["cifar", "cifar-small"]
    assert float(rows[0]["energy_j"]) > float(rows[1]["energy_j"]) > 0
    as_json = client.get("/api/compare/download.json", params={"runs": "cifar,plain"}).json()
    assert [r["name"] for r in as_json["runs"]] == ["cifar", "plain"]
    refused(client.get("/api/compare", params={"runs": ""}), 400, "1 to 12")
    refused(client.get("/api/compare", params={"runs": "cifar,ghost"}), 404, "ghost")
    refused(client.get("/api/compare"), 400, "runs is required")


def test_benchmarks(client: TestClient, seeded: Seeded) -> None:
    found = ok(client, "/api/benchmarks")["benchmarks"]
    assert [b["id"] for b in found] == [seeded.benchmark_id]
    doc = ok(client, f"/api/benchmarks/{seeded.benchmark_id}")
    assert [m["model"] for m in doc["models"]] == ["distilbert", "gpt2", "broken"]
    assert len(doc["table"]["rows"]) == 3 and doc["table"]["columns"][0] == "model"
    assert "estimated" in doc["caption"]
    assert ok(client, "/api/benchmarks/latest")["benchmark"]["benchmark"] == seeded.benchmark_id
    rows = list(csv.DictReader(io.StringIO(client.get("/api/benchmarks/latest/download.csv").text)))
    assert [r["model"] for r in rows] == ["distilbert", "gpt2", "broken"]
    assert float(rows[0]["train_energy_j"]) > 0 and rows[2]["train_energy_j"] == ""
    as_json = client.get("/api/benchmarks/latest/download.json").json()
    assert len(as_json["models"]) == 3
    report = client.get("/api/benchmarks/latest/report.html")
    assert report.status_code == 200 and "<img" in report.text
    refused(client.get("/api/benchmarks/zzzz"), 404, "zzzz")


def test_estimate_and_lifecycle(client: TestClient) -> None:
    body = {"hardware": "2xA100-80GB", "hours": 10, "region": "FR", "pue": 1.2}
    doc = client.post("/api/estimate", json=body).json()["estimate"]
    assert 0 < doc["energy_low_kwh"] <= doc["energy_kwh"] <= doc["energy_high_kwh"]
    assert doc["intensity"]["source"] and doc["pue"]["value"] == 1.2 and doc["assumptions"]
    flops = client.post("/api/estimate", json={"hardware": "H100", "params": 1e9, "tokens": 1e9})
    assert flops.status_code == 200 and flops.json()["estimate"]["energy_kwh"] > 0
    refused(client.post("/api/estimate", json={"hardware": "H100"}), 400, "give either hours")
    refused(client.post("/api/estimate", json={**body, "pue": 0.5}), 400, "0.5", "PUE")
    refused(client.post("/api/estimate", json={**body, "gpu": "x"}), 400, "unknown option 'gpu'")
    refused(client.post("/api/estimate", json={**body, "hours": "long"}), 400, "hours='long'")
    refused(client.post("/api/estimate", json={**body, "hardware": "8xA1OO"}), 400, "A1OO")
    refused(client.post("/api/estimate", content=b"{not json"), 400)
    life = {"training": ["cifar"], "inference_j": 0.5, "inferences": 1e6, "region": "FR"}
    result = client.post("/api/estimate/lifecycle", json=life)
    assert result.status_code == 200, result.text
    lifecycle = result.json()["lifecycle"]
    assert lifecycle["life_j"] == pytest.approx(lifecycle["training"]["energy_j"] + 0.5e6)
    assert lifecycle["emissions"]["life_kg"] > 0 and lifecycle["emissions"]["intensity"]["source"]
    refused(
        client.post("/api/estimate/lifecycle", json={**life, "training": ["ghost"]}), 404, "ghost"
    )
    refused(
        client.post("/api/estimate/lifecycle", json={**life, "training_kwh": 3}),
        400,
        "give one of training",
    )


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    paths = ok(client, "/openapi.json")["paths"]
    for path in (
        "/api/runs",
        "/api/runs/{ref}",
        "/api/compare",
        "/api/benchmarks/{ref}",
        "/api/estimate",
        "/api/jobs",
        "/api/jobs/{job_id}/cancel",
    ):
        assert path in paths
    assert "/" not in paths  # the pages are not API


def test_plotly_is_served_from_the_package(client: TestClient) -> None:
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200 and "plotly" in response.text[:2000].lower()


def test_reading_beyond_loopback_needs_the_token(seeded: Seeded) -> None:
    app = create_app(seeded.settings, AccessPolicy(seeded.token, token_for_read=True))
    with TestClient(app) as c:
        refused(c.get("/api/runs"), 401, "access token")
        refused(c.get("/api/runs", headers={"Authorization": "Bearer nope"}), 403, "wrong")
        assert c.get("/", follow_redirects=False).status_code == 401
        bearer = {"Authorization": f"Bearer {seeded.token}"}
        assert c.get("/api/runs", headers=bearer).status_code == 200
        assert c.get("/login", params={"token": "nope"}).status_code == 403
        login = c.get("/login", params={"token": seeded.token}, follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        assert c.get("/api/runs").status_code == 200  # the cookie now
