"""A Rich progress bar for ``Trainer`` on stderr, in place of transformers' own printer
(which prints each log dictionary to stdout, where ``--json`` output goes)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

__all__ = ["RichTrainerProgress"]


class RichTrainerProgress(TrainerCallback):
    """Optimizer steps as a bar; each epoch's logged losses and metrics as one line."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bars: Progress | None = None
        self._task: Any = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self._bars = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._bars.start()
        self._task = self._bars.add_task("steps", total=state.max_steps)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if self._bars is not None:
            self._bars.update(self._task, completed=state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        numbers = {k: v for k, v in (logs or {}).items() if isinstance(v, int | float)}
        if numbers and self._bars is not None:
            text = ", ".join(f"{k} {v:.4g}" for k, v in numbers.items())
            self._bars.console.print(f"[dim]{text}[/]", highlight=False)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
