"""Runs for the report tests: one recorded by the real tracker over a fake RAPL tree,
one written as a journal with an estimated component and logged predictions."""

from __future__ import annotations

import time
from pathlib import Path

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.store.journals import append_samples, energy_at, start_run
from wattprint.meters.rapl import RaplMeter
from wattprint.store.repository import Store

LOSSES = (1.0, 0.5, 0.3, 0.22, 0.2, 0.195)
ACCURACIES = (0.40, 0.62, 0.74, 0.80, 0.81, 0.812)
EPOCH_J = 600.0  # package-0 + package-1 + dram per epoch after the first
FIRST_EPOCH_J = 1800.0


def tracked_run(
    powercap: FakePowercap,
    name: str = "cifar",
    epochs: int = len(LOSSES),
    scale: float = 1.0,
) -> str:
    """A training of ``epochs`` epochs (``epoch`` windows with ``eval`` inside), loss and
    accuracy logged at the end of each; the first epoch costs three times the others."""
    with wattprint.track(
        project="vision", run=name, meters=[RaplMeter(powercap.root)], sample_interval_s=0.02
    ) as tracker:
        for e in range(epochs):
            with tracker.window("epoch"):
                joules = (FIRST_EPOCH_J if e == 0 else EPOCH_J) * scale
                powercap.advance("intel-rapl:0", joules * 0.5)
                powercap.advance("intel-rapl:1", joules * 0.4)
                time.sleep(0.03)
                with tracker.window("eval"):
                    powercap.advance("intel-rapl:0:1", joules * 0.1)
                    time.sleep(0.01)
            tracker.log(step=e, loss=LOSSES[e % len(LOSSES)], accuracy=ACCURACIES[e % 6])
    return tracker.run_id


def plain_run(powercap: FakePowercap, name: str = "plain") -> str:
    """A run with no windows and no metrics."""
    with wattprint.track(
        project="vision", run=name, meters=[RaplMeter(powercap.root)], sample_interval_s=0.02
    ) as tracker:
        powercap.advance("intel-rapl:0", 50.0)
        time.sleep(0.06)
    return tracker.run_id


def journal_run(journal_dir: Path, name: str = "journaled", epochs: int = 8) -> str:
    """A run written as a journal: cpu:0, gpu:0 measured, ram estimated (range x0.5-x1.5);
    10-second epochs, loss logged per epoch, and the live prediction logged as
    ``predicted_energy_j`` (+ low/high)."""
    t0 = 1_700_000_000.0
    writer, run_id = start_run(journal_dir, name=name, started_at=t0)
    per_epoch = {c: energy_at(c, 10) for c in ("cpu:0", "gpu:0", "ram")}
    append_samples(writer, 0, epochs * 10 + 1, t0)
    for e in range(epochs):
        start, end = t0 + 10 * e, t0 + 10 * (e + 1)
        writer.append(
            "window",
            name="eval",
            parent="epoch",
            started_at=end - 2,
            ended_at=end,
            energy_j={c: v / 5 for c, v in per_epoch.items()},
        )
        writer.append(
            "window",
            name="epoch",
            parent=None,
            started_at=start,
            ended_at=end,
            energy_j=dict(per_epoch),
        )
        total = sum(per_epoch.values()) * epochs
        guess = total * (1.2 - 0.2 * (e + 1) / epochs)
        writer.append(
            "metric",
            t=end,
            step=e,
            values={
                "loss": 2.0 / (e + 1),
                "predicted_energy_j": guess,
                "predicted_energy_low_j": guess * 0.9,
                "predicted_energy_high_j": guess * 1.1,
            },
        )
    writer.append(
        "end",
        ended_at=t0 + epochs * 10,
        status="finished",
        energy_j={c: energy_at(c, epochs * 10) for c in per_epoch},
        error=None,
        exit_code=0,
    )
    writer.flush()
    writer.close()
    return run_id


def open_store(data_dir: Path) -> Store:
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    return store
