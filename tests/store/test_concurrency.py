"""Several processes writing journals and syncing into one store at the same time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tests.store.journals import POWER_W, energy_at
from wattprint.store.models import JournalProgress, Metric, Run, Sample
from wattprint.store.repository import Store

HERE = Path(__file__).parent
WORKERS = 4


def test_concurrent_writers_and_syncs(store_url: str, journal_dir: Path) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "journals.py"),
                "loop",
                str(journal_dir),
                store_url,
                "2.0",
                f"w{i}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err, err
    runs_written = sum(int(out.split()[0].removeprefix("runs=")) for out, _ in outputs)
    assert runs_written >= WORKERS

    with Store(store_url, journal_dir) as store:
        assert store.sync() == 0  # every worker synced after its last write
        runs = store.list_runs(limit=10_000)
        assert len(runs) == runs_written
        assert {r.status for r in runs} == {"finished"}
        expected = sum(energy_at(c, 19) for c in POWER_W)
        assert all(r.energy_j == expected for r in runs)
        with store.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Run)) == runs_written
            assert conn.scalar(select(func.count()).select_from(Sample)) == runs_written * 60
            assert conn.scalar(select(func.count()).select_from(Metric)) == runs_written * 10
            per_run = conn.execute(
                select(Sample.run_id, func.count(), func.count(func.distinct(Sample.t))).group_by(
                    Sample.run_id
                )
            ).all()
            assert all((n, distinct) == (60, 20) for _, n, distinct in per_run)
            assert (
                conn.scalar(
                    select(func.count())
                    .select_from(JournalProgress)
                    .where(JournalProgress.error.is_not(None))
                )
                == 0
            )
