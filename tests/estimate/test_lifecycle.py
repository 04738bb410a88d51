"""The life-cycle model E_life = CT + T + I x e, from numbers and from real stored runs
(journals written with JournalWriter exactly as a tracker does, then Store.sync())."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.store.journals import start_run
from wattprint.carbon.intensity import yearly_intensity
from wattprint.carbon.location import resolve_location
from wattprint.carbon.pue import resolve_pue
from wattprint.errors import ConfigError
from wattprint.estimate.lifecycle import (
    J_PER_KWH,
    InferenceRun,
    Joules,
    KWh,
    lifecycle_energy,
    training_energy_from_inference,
)
from wattprint.store.repository import Store

T0 = 1_700_000_000.0


def write_run(
    journal_dir: Path,
    run_id: str,
    name: str,
    totals: dict[str, float],
    *,
    windows: Sequence[tuple[str, dict[str, float]]] = (),
    samples: Sequence[float] = (),
) -> None:
    writer, _ = start_run(journal_dir, run_id=run_id, name=name, started_at=T0)
    for k, (window, energy) in enumerate(windows):
        writer.append(
            "window",
            name=window,
            parent=None,
            started_at=T0 + k,
            ended_at=T0 + k + 0.5,
            energy_j=energy,
        )
    for step, value in enumerate(samples):
        writer.append("metric", t=T0 + step, step=step, values={"samples": value, "loss": 0.1})
    writer.append(
        "end", ended_at=T0 + 100, status="finished", energy_j=totals, error=None, exit_code=0
    )
    writer.flush()
    writer.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    journal_dir = tmp_path / "journal"
    # cpu:0 and gpu:0 are measured; ram is estimated with low/high ratios 0.5/1.5
    write_run(journal_dir, "train0001", "train", {"cpu:0": 1000.0, "gpu:0": 5000.0, "ram": 200.0})
    write_run(journal_dir, "trial0001", "trial-1", {"cpu:0": 100.0, "gpu:0": 300.0})
    write_run(journal_dir, "trial0002", "trial-2", {"cpu:0": 50.0, "gpu:0": 250.0, "ram": 20.0})
    write_run(
        journal_dir,
        "serve0001",
        "serve",
        {"cpu:0": 40.0, "gpu:0": 90.0, "ram": 10.0},
        windows=[
            ("warmup", {"gpu:0": 50.0}),
            ("inference", {"cpu:0": 4.0, "gpu:0": 12.0, "ram": 4.0}),
            ("inference", {"cpu:0": 6.0, "gpu:0": 18.0, "ram": 6.0}),
        ],
        samples=[30.0, 70.0],
    )
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}", journal_dir) as s:
        s.sync()
        yield s


# --- from numbers -------------------------------------------------------------------


def test_hand_computed_terms_shares_and_break_even() -> None:
    result = lifecycle_energy(
        search=KWh(30.0),
        training=KWh(100.0),
        inference=Joules(36.0),  # 1e-5 kWh per inference
        inferences_per_day=1000.0,
        days=365.0,
    )
    serve_kwh = 36.0 * 365_000 / J_PER_KWH  # 3.65 kWh
    assert result.inferences == 365_000
    assert result.inference_total_j == pytest.approx(36.0 * 365_000)
    assert result.life_kwh == pytest.approx(130.0 + serve_kwh)
    assert result.share_training == pytest.approx(100 / (130 + serve_kwh))
    assert result.share_search + result.share_training + result.share_inference == pytest.approx(1)
    assert result.break_even_training == pytest.approx(100 * J_PER_KWH / 36.0)  # 1e7
    assert result.break_even_search_and_training == pytest.approx(130 * J_PER_KWH / 36.0)
    assert result.search.origin == result.training.origin == result.inference.origin == "given"
    assert "1000 inferences per day * 365 days" in result.inferences_basis


def test_break_even_is_exact() -> None:
    result = lifecycle_energy(training=Joules(1000.0), inference=Joules(0.5), inferences=2000)
    # at T / I inferences, serving has cost exactly the training
    assert result.break_even_training == 2000.0
    assert result.inference_total_j == result.training.energy_j
    assert result.share_training == result.share_inference == 0.5
    assert result.search.energy_j == 0 and result.search.origin == "none given"


def test_ranges_given_with_the_numbers() -> None:
    result = lifecycle_energy(
        training=KWh(10.0, low=8.0, high=13.0), inference=Joules(1.0, 0.5, 2.0), inferences=100
    )
    assert result.life_low_j == pytest.approx(8 * J_PER_KWH + 50)
    assert result.life_high_j == pytest.approx(13 * J_PER_KWH + 200)


def test_zero_inference_energy_has_no_break_even() -> None:
    result = lifecycle_energy(training=Joules(10.0), inference=Joules(0.0), inferences=5)
    assert result.break_even_training is None and result.share_training == 1.0


def test_emissions_from_an_intensity_and_pue() -> None:
    location = resolve_location("FR")
    intensity = yearly_intensity(location)
    pue = resolve_pue(1.2, location)
    result = lifecycle_energy(
        training=KWh(100.0), inference=Joules(3600.0), inferences=1000, intensity=intensity, pue=pue
    )
    assert result.emissions is not None
    assert result.emissions.life_kg == pytest.approx(101.0 * 1.2 * intensity.g_per_kwh / 1000)
    assert result.emissions.training_kg == pytest.approx(100 * 1.2 * intensity.g_per_kwh / 1000)
    no_pue = lifecycle_energy(
        training=KWh(1.0), inference=Joules(1.0), inferences=0, intensity=intensity
    )
    assert no_pue.emissions is not None and no_pue.emissions.pue.value == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inferences": None}, "expected number of inferences is missing"),
        ({"inferences_per_day": 10.0}, "not both"),
        ({"inferences": -1}, "must be >= 0"),
        ({"inferences": None, "inferences_per_day": -1.0, "days": 2.0}, ">= 0"),
        ({"training": KWh(-1.0)}, "accepted"),
        ({"training": KWh(1.0, low=2.0)}, "low <= value <= high"),
        ({"training": 5.0}, "accepted"),
        ({"training": "train0001"}, "pass store="),
        ({"inference": 0.1}, "accepted"),
        ({"training": Joules(0.0), "inference": Joules(0.0)}, "life-cycle energy is 0"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "training": KWh(1.0),
        "inference": Joules(1.0),
        "inferences": 10.0,
    }
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        lifecycle_energy(**args)  # type: ignore[arg-type]


def test_training_from_inference_energy() -> None:
    # T ~ E x D x I x theta: 3 epochs x 1000 samples x 2 J x overhead 3
    assert training_energy_from_inference(3, 1000, 2.0, 3.0).value == 18_000.0
    with pytest.raises(ConfigError, match="overhead"):
        training_energy_from_inference(3, 1000, 2.0, 0)


# --- from stored runs -----------------------------------------------------------------


def test_terms_from_real_runs(store: Store) -> None:
    result = lifecycle_energy(
        search=["trial-1", "trial0002"],
        training="train0001",
        inference=InferenceRun("serve"),
        inferences=1_000_000,
        store=store,
    )
    # T: measured cpu + gpu, estimated ram (ratios 0.5/1.5)
    assert result.training.energy_j == pytest.approx(6200.0)
    assert result.training.low_j == pytest.approx(6100.0)
    assert result.training.high_j == pytest.approx(6300.0)
    assert result.training.origin == "run train0001 (estimated)"
    assert result.training.runs == ("train0001",)
    # CT: the sum of the trials; trial-1 has only measured components
    assert result.search.energy_j == pytest.approx(400 + 320)
    assert result.search.origin == "run trial0001 (measured) + run trial0002 (estimated)"
    # I: the two "inference" windows (50 J, warm-up excluded) / 100 logged samples
    assert result.inference.energy_j == pytest.approx(50.0 / 100)
    assert result.inference.low_j == pytest.approx((10 + 30 + 10 * 0.5) / 100)
    assert result.inference.high_j == pytest.approx((10 + 30 + 10 * 1.5) / 100)
    assert "2 window(s) 'inference'" in result.inference.origin
    assert "from metric 'samples'" in result.inference.origin
    assert result.break_even_training == pytest.approx(6200.0 / 0.5)
    assert result.break_even_search_and_training == pytest.approx((6200.0 + 720) / 0.5)
    total = 720 + 6200 + 0.5 * 1_000_000
    assert result.life_j == pytest.approx(total)
    shares = (result.share_search, result.share_training, result.share_inference)
    assert sum(shares) == pytest.approx(1)
    assert json.loads(json.dumps(dataclasses.asdict(result)))["life_j"] == pytest.approx(total)


def test_inference_with_a_given_sample_count_and_window(store: Store) -> None:
    result = lifecycle_energy(
        training="train",
        inference=InferenceRun("serve0001", samples=10, window="warmup"),
        inferences=1,
        store=store,
    )
    assert result.inference.energy_j == pytest.approx(5.0)
    assert "10 samples given" in result.inference.origin


def test_errors_from_the_store(store: Store) -> None:
    with pytest.raises(ConfigError, match="no run matches 'nope'"):
        lifecycle_energy(training="nope", inference=Joules(1.0), inferences=1, store=store)
    with pytest.raises(
        ConfigError, match="no window named 'predict'; its windows: inference, warmup"
    ):
        lifecycle_energy(
            training="train",
            inference=InferenceRun("serve", window="predict"),
            inferences=1,
            store=store,
        )
    with pytest.raises(ConfigError, match="logged no metric 'requests'"):
        lifecycle_energy(
            training="train",
            inference=InferenceRun("serve", samples_metric="requests"),
            inferences=1,
            store=store,
        )
    with pytest.raises(ConfigError, match=r"samples=0\.0 must be > 0"):
        lifecycle_energy(
            training="train", inference=InferenceRun("serve", samples=0), inferences=1, store=store
        )
