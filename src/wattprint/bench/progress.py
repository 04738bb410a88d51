"""Rich progress bars for benchmark runs: one bar per phase (epoch, eval, inference) and
an overall bar over the models, drawn on stderr so stdout keeps the results."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBars

from wattprint.bench.runner import Progress

__all__ = ["RichProgress"]


class RichProgress(Progress):
    """Draws the runner's phases as Rich progress bars; use as a context manager."""

    def __init__(self, console: Console, models: int) -> None:
        self._console = console
        self._bars = RichBars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._overall = self._bars.add_task("models", total=models)
        self._phase: TaskID | None = None
        self._started = 0

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bars.stop()

    def start_model(self, name: str) -> None:
        self._drop_phase()
        if self._started:
            self._bars.advance(self._overall)  # the previous model is done
        self._started += 1
        self._bars.update(self._overall, description=f"models ({name})")

    def phase(self, description: str, total: int) -> None:
        self._drop_phase()
        self._phase = self._bars.add_task(description, total=total)

    def advance(self, samples: int) -> None:
        if self._phase is not None:
            self._bars.advance(self._phase, samples)

    def message(self, text: str) -> None:
        self._bars.console.print(text, style="yellow", highlight=False)

    def finish(self) -> None:
        """Mark the last model done and drop its phase bar."""
        self._drop_phase()
        if self._started:
            self._bars.advance(self._overall)
            self._started = 0

    def _drop_phase(self) -> None:
        if self._phase is not None:
            self._bars.remove_task(self._phase)
            self._phase = None
