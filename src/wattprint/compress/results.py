"""Compression comparisons read back from the store: one ``VariantResult`` per variant,
from its runs' windows, metrics and labels.

A comparison is the set of runs labelled with the same ``comparison`` id (written by
``wattprint.compress.lab``): the training of the original (``role=train``, when it was
trained there), one measurement per variant (``role=measure``; ``variant`` is
``original`` or the chain, ``prune:0.5+quant:int8``) and the fine-tuning of a variant
(``role=finetune``). Every figure is derived from stored windows: the energy per sample
is the sum of the ``inference_batch`` windows (warm-up excluded) over the samples served,
the fine-tuning energy the sum of its ``epoch`` windows. Savings, metric differences and
break-even points are computed here against the original, never stored. This module
needs no PyTorch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wattprint.analysis.stored import (
    Energy,
    component_ratios,
    last_values,
    pick_group,
    runs_by_label,
    window_energy,
)
from wattprint.bench.windows import BATCH_WINDOW, EPOCH_WINDOW
from wattprint.estimate.lifecycle import break_even_inferences

if TYPE_CHECKING:
    from wattprint.store.records import ComponentTotal, RunDetail, RunSummary
    from wattprint.store.repository import Store

__all__ = [
    "COMPARISON_LABEL",
    "ORIGINAL",
    "ROLE_FINETUNE",
    "ROLE_MEASURE",
    "ROLE_TRAIN",
    "Comparison",
    "ComparisonSummary",
    "VariantResult",
    "list_comparisons",
    "load_comparison",
]

COMPARISON_LABEL = "comparison"
ORIGINAL = "original"  # the ``variant`` label of the uncompressed model
ROLE_TRAIN = "train"
ROLE_FINETUNE = "finetune"
ROLE_MEASURE = "measure"


@dataclass(frozen=True)
class VariantResult:
    """One variant (or the original) of a comparison: its size, what one inference costs,
    how good it is, and, set against the original, what it saves and what it lost."""

    variant: str  # "original" or the chain, "prune:0.5+quant:int8"
    run_id: str  # the measurement run
    status: str
    error: str | None  # why a failed variant failed
    device: str  # where it was measured
    device_name: str
    device_note: str  # why not on the device asked for ("" when it was)
    input_dtype: str  # the dtype its floating-point inputs were cast to
    quality: str  # measured / estimated: the energy figures' provenance
    components: tuple[ComponentTotal, ...]
    params: int | None
    nonzero_params: int | None
    size_bytes: int | None
    samples: int  # served in the measured batches (warm-up excluded)
    energy: Energy | None  # of the measured batches
    duration_s: float
    latency_p50_s: float | None  # per batch
    latency_p95_s: float | None
    metric_value: float | None  # the metric over the test split
    finetune_run_id: str | None
    finetune_status: str | None
    finetune_epochs: int
    finetune_energy: Energy | None  # the fine-tuning run's epoch windows
    finetune_note: str  # why a variant was not fine-tuned when fine-tuning was asked
    metric_delta: float | None  # metric - the original's (signed; see higher_is_better)
    energy_saving: float | None  # 1 - energy per sample / the original's
    break_even_inferences: float | None  # fine-tuning energy / saving per inference
    labels: Mapping[str, str]

    @property
    def energy_per_sample(self) -> Energy | None:
        if self.energy is None or not self.samples:
            return None
        return self.energy.per(self.samples)

    @property
    def samples_per_s(self) -> float | None:
        if not self.samples or self.duration_s <= 0:
            return None
        return self.samples / self.duration_s

    @property
    def break_even_text(self) -> str:
        """The break-even number of inferences, or why there is none."""
        if self.variant == ORIGINAL:
            return "the reference"
        if self.finetune_energy is None:
            return "no extra energy spent (not fine-tuned)"
        if self.break_even_inferences is None:
            return "never: no saving per inference"
        return f"{self.break_even_inferences:.3g} inferences"

    def summary(self) -> dict[str, Any]:
        """The figures people compare, as plain values (``--json`` output)."""
        return {
            "variant": self.variant,
            "run_id": self.run_id,
            "status": self.status,
            "error": self.error,
            "device": self.device,
            "device_name": self.device_name,
            "device_note": self.device_note,
            "input_dtype": self.input_dtype,
            "quality": self.quality,
            "params": self.params,
            "nonzero_params": self.nonzero_params,
            "size_bytes": self.size_bytes,
            "samples": self.samples,
            "energy_per_sample": self.energy_per_sample,
            "samples_per_s": self.samples_per_s,
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
            "metric_value": self.metric_value,
            "metric_delta": self.metric_delta,
            "energy_saving": self.energy_saving,
            "finetune_run_id": self.finetune_run_id,
            "finetune_status": self.finetune_status,
            "finetune_epochs": self.finetune_epochs,
            "finetune_energy": self.finetune_energy,
            "finetune_note": self.finetune_note,
            "break_even_inferences": self.break_even_inferences,
            "break_even": self.break_even_text,
            "labels": dict(self.labels),
        }


@dataclass(frozen=True)
class Comparison:
    """A model and its compressed variants, measured on the same test batches."""

    id: str
    started_at: float
    model: str
    task: str
    dataset: str
    synthetic_data: bool
    data_reason: str
    metric: str
    higher_is_better: bool
    batch_size: int
    requested_device: str
    source: str  # where the original came from: trained here, or a checkpoint
    train_run_id: str | None
    train_energy: Energy | None
    variants: tuple[VariantResult, ...]  # the original first

    @property
    def original(self) -> VariantResult | None:
        return next((v for v in self.variants if v.variant == ORIGINAL), None)

    @property
    def quality(self) -> str:
        finished = [v for v in self.variants if v.status == "finished"]
        return "measured" if all(v.quality == "measured" for v in finished) else "estimated"

    @property
    def failures(self) -> tuple[VariantResult, ...]:
        return tuple(v for v in self.variants if v.status != "finished")

    def summary(self) -> dict[str, Any]:
        """The comparison as plain values (``--json`` output)."""
        return {
            "comparison": self.id,
            "started_at": self.started_at,
            "model": self.model,
            "task": self.task,
            "dataset": self.dataset,
            "data": "synthetic" if self.synthetic_data else "real",
            "data_reason": self.data_reason,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "batch_size": self.batch_size,
            "requested_device": self.requested_device,
            "source": self.source,
            "quality": self.quality,
            "train_run_id": self.train_run_id,
            "train_energy": self.train_energy,
            "variants": [v.summary() for v in self.variants],
        }


@dataclass(frozen=True)
class ComparisonSummary:
    """One line of the comparison listing."""

    id: str
    model: str
    started_at: float
    variants: tuple[str, ...]
    energy_j: float  # every run of the comparison, training included
    status: str


def _measured(runs: Sequence[RunSummary]) -> list[RunSummary]:
    """The measurement runs, the original first, then the variants in the order run."""
    chosen = [r for r in runs if r.labels.get("role") == ROLE_MEASURE]
    return sorted(chosen, key=lambda r: (r.labels.get("variant") != ORIGINAL, r.started_at))


def list_comparisons(store: Store) -> list[ComparisonSummary]:
    """Stored comparisons, newest first."""
    store.sync()
    out = []
    for cid, runs in runs_by_label(store, COMPARISON_LABEL).items():
        statuses = {r.status for r in runs}
        out.append(
            ComparisonSummary(
                id=cid,
                model=runs[0].labels.get("model", "?"),
                started_at=runs[0].started_at,
                variants=tuple(r.labels.get("variant", r.name) for r in _measured(runs)),
                energy_j=sum(r.energy_j for r in runs),
                status=statuses.pop() if len(statuses) == 1 else "mixed",
            )
        )
    return sorted(out, key=lambda c: c.started_at, reverse=True)


def load_comparison(store: Store, ref: str = "latest") -> Comparison:
    """The comparison ``ref`` names: its id, a unique prefix of it, or ``latest``."""
    store.sync()
    found = runs_by_label(store, COMPARISON_LABEL)
    cid = pick_group(found, ref, "comparison", "run `wattprint compress` first")
    runs = found[cid]
    by_role: dict[str, dict[str, RunSummary]] = {}
    for r in runs:
        by_role.setdefault(r.labels.get("role", "?"), {})[r.labels.get("variant", "?")] = r
    measured = [_variant(store, store.get_run(r.run_id)) for r in _measured(runs)]
    tuned = by_role.get(ROLE_FINETUNE, {})
    measured = [_with_finetune(store, v, tuned.get(v.variant)) for v in measured]
    original = next((v for v in measured if v.variant == ORIGINAL), None)
    variants = tuple(_against(v, original) for v in measured)
    labels = measured[0].labels if measured else runs[0].labels
    train = by_role.get(ROLE_TRAIN, {}).get(ORIGINAL)
    train_energy = None
    if train is not None:
        detail = store.get_run(train.run_id)
        train_energy, _, _ = window_energy(
            store.windows(train.run_id), EPOCH_WINDOW, component_ratios(detail)
        )
    return Comparison(
        id=cid,
        started_at=runs[0].started_at,
        model=labels.get("model", "?"),
        task=labels.get("task", ""),
        dataset=labels.get("dataset", "?"),
        synthetic_data=labels.get("data") != "real",
        data_reason=labels.get("data_reason", "not recorded"),
        metric=labels.get("metric", "quality"),
        higher_is_better=labels.get("higher_is_better", "true") == "true",
        batch_size=int(labels.get("batch_size", "0")),
        requested_device=labels.get("requested_device", "?"),
        source=labels.get("source", "not recorded"),
        train_run_id=train.run_id if train is not None else None,
        train_energy=train_energy,
        variants=variants,
    )


def _variant(store: Store, detail: RunDetail) -> VariantResult:
    """A measurement run as a variant, before it is set against the original."""
    labels = dict(detail.labels)
    windows = store.windows(detail.run_id)
    last = last_values(store, detail.run_id)
    energy, duration_s, _ = window_energy(windows, BATCH_WINDOW, component_ratios(detail))
    metric = labels.get("metric", "quality")

    def count(name: str) -> int | None:
        return int(last[name]) if name in last else None

    return VariantResult(
        variant=labels.get("variant", detail.name),
        run_id=detail.run_id,
        status=detail.status,
        error=detail.error,
        device=labels.get("device", "?"),
        device_name=labels.get("device_name", "?"),
        device_note=labels.get("device_note", ""),
        input_dtype=labels.get("input_dtype", "?"),
        quality=detail.quality,
        components=tuple(detail.components),
        params=count("params"),
        nonzero_params=count("nonzero_params"),
        size_bytes=count("size_bytes"),
        samples=count("inference_samples") or 0,
        energy=energy,
        duration_s=duration_s,
        latency_p50_s=last.get("latency_p50_s"),
        latency_p95_s=last.get("latency_p95_s"),
        metric_value=last.get(f"test_{metric}"),
        finetune_run_id=None,
        finetune_status=None,
        finetune_epochs=0,
        finetune_energy=None,
        finetune_note=labels.get("finetune_note", ""),
        metric_delta=None,
        energy_saving=None,
        break_even_inferences=None,
        labels=labels,
    )


def _with_finetune(store: Store, v: VariantResult, run: RunSummary | None) -> VariantResult:
    """``v`` with the energy of its fine-tuning run's epochs, when it was fine-tuned."""
    if run is None:
        return v
    detail = store.get_run(run.run_id)
    energy, _, epochs = window_energy(
        store.windows(run.run_id), EPOCH_WINDOW, component_ratios(detail)
    )
    return replace(
        v,
        finetune_run_id=run.run_id,
        finetune_status=run.status,
        finetune_epochs=epochs,
        finetune_energy=energy,
    )


def _against(v: VariantResult, original: VariantResult | None) -> VariantResult:
    """``v`` with its metric difference, energy saving and break-even point against the
    original (None where either figure is missing)."""
    if original is None or v is original:
        return v
    mine, theirs = v.energy_per_sample, original.energy_per_sample
    saving = None
    break_even = None
    if mine is not None and theirs is not None and theirs.j > 0:
        saving = 1.0 - mine.j / theirs.j
        if v.finetune_energy is not None:
            break_even = break_even_inferences(v.finetune_energy.j, theirs.j, mine.j)
    delta = None
    if v.metric_value is not None and original.metric_value is not None:
        delta = v.metric_value - original.metric_value
    return replace(v, metric_delta=delta, energy_saving=saving, break_even_inferences=break_even)
