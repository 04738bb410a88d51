"""The compression lab: a model and its compressed variants, measured the same way.

``compare("resnet50", "prune:0.5,quant:int8", settings=...)`` trains the zoo model for a
few epochs (or loads a checkpoint), then serves the same test batches with the original
and with each variant through ``wattprint.bench.inference.measure_inference`` (one window
per batch, warm-up apart), each in a tracked run of its own, all labelled with one
``comparison`` id. A pruned or factorised variant can first be fine-tuned (a tracked run
too, its pruned weights kept at zero) to win back accuracy. A variant that cannot be
built or run is stored as a failed run, with why, and the others go on.
``wattprint.compress.results`` reads the comparison back; every figure is derived there.
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from wattprint.bench import zoo
from wattprint.bench.inference import measure_inference
from wattprint.bench.runner import (
    BenchOptions,
    Progress,
    device_name,
    make_loader,
    model_labels,
    new_benchmark_id,
    resolve_device,
    train_one_epoch,
    warm_up,
)
from wattprint.bench.windows import EPOCH_WINDOW, TRAIN_WARMUP_WINDOW
from wattprint.bench.zoo import Batch, ModelSpec
from wattprint.compress.pipeline import (
    PRUNING,
    TechniqueSpec,
    apply_techniques,
    chain_text,
    check_order,
    parse_variants,
)
from wattprint.compress.precision import input_dtype
from wattprint.compress.prune import PRUNABLE
from wattprint.compress.results import (
    COMPARISON_LABEL,
    ORIGINAL,
    ROLE_FINETUNE,
    ROLE_MEASURE,
    ROLE_TRAIN,
    Comparison,
    load_comparison,
)
from wattprint.compress.stats import CompressionStep, model_stats
from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.tracking.tracker import Tracker

__all__ = [
    "PruneMask",
    "compare",
    "finetune_split",
    "load_checkpoint",
    "measure_device",
    "train_epochs",
]

log = logging.getLogger("wattprint")

Chain = tuple[TechniqueSpec, ...]
_TUNABLE = (*PRUNING, "lowrank")  # what fine-tuning can recover from
_AFTER_TUNING = ("cast", "quant")  # applied after fine-tuning, never before
_CALIBRATION_BATCHES = 4
_CHECKPOINTS = (
    "accepted: a whole model saved with torch.save(model, FILE), or a state_dict of the "
    "zoo model MODEL at the chosen --size saved with torch.save(model.state_dict(), FILE) "
    "(also under a 'state_dict' or 'model_state_dict' key)"
)


# ------------------------------------------------------------------ pure decisions
def measure_device(
    chain: Sequence[TechniqueSpec], device: torch.device
) -> tuple[torch.device, str]:
    """Where a variant is measured and, when that is not ``device``, why: torch.ao's int8
    kernels run on CPU only, so a quantised variant is measured on CPU."""
    if device.type != "cpu" and any(spec.name == "quant" for spec in chain):
        return torch.device("cpu"), (
            f"int8 (torch.ao) kernels run on CPU only: measured on cpu, not {device}"
        )
    return device, ""


def finetune_split(chain: Sequence[TechniqueSpec]) -> tuple[Chain, Chain, str]:
    """(techniques before fine-tuning, techniques after it, why it is not fine-tuned).

    Fine-tuning follows the pruning and low-rank steps and precedes any cast or
    quantisation (which it could not train through). A chain with nothing to recover
    from, or that prunes or factorises after a cast, is not fine-tuned: its first part is
    empty and the note says why.
    """
    chain = tuple(chain)
    cut = next((i for i, spec in enumerate(chain) if spec.name in _AFTER_TUNING), len(chain))
    before, after = chain[:cut], chain[cut:]
    if any(spec.name in _TUNABLE for spec in after):
        return (), chain, "not fine-tuned: it prunes or factorises after a cast or quant"
    if not any(spec.name in _TUNABLE for spec in before):
        return (), chain, "not fine-tuned: quantisation or casting only, nothing to recover"
    return before, after, ""


# -------------------------------------------------------------------- fine-tuning
class PruneMask:
    """The zero entries of a model's Linear/Conv weights, held at zero during training.

    Gradients of those entries are zeroed before each optimiser step (so its moments
    never move them) and the entries are zeroed again after it, so a pruned model stays
    exactly as sparse as it was pruned.
    """

    def __init__(self, model: nn.Module) -> None:
        weights = [m.get_parameter("weight") for m in model.modules() if isinstance(m, PRUNABLE)]
        self._masks = [(w, w.eq(0)) for w in weights if bool(w.eq(0).any())]

    @property
    def pruned(self) -> int:
        """How many weights are held at zero."""
        return sum(int(mask.sum()) for _, mask in self._masks)

    def zero_gradients(self) -> None:
        """Zero the gradients of the pruned entries (call before the optimiser's step)."""
        for weight, mask in self._masks:
            if weight.grad is not None:
                weight.grad.masked_fill_(mask, 0.0)

    def apply(self) -> None:
        """Set the pruned entries to zero again (call after the optimiser's step)."""
        with torch.no_grad():
            for weight, mask in self._masks:
                weight.masked_fill_(mask, 0.0)


def train_epochs(
    tracker: Tracker,
    spec: ModelSpec,
    model: nn.Module,
    loader: DataLoader[Any],
    *,
    epochs: int,
    device: torch.device,
    lr: float,
    mask: PruneMask | None = None,
    progress: Progress | None = None,
    title: str = "train",
) -> None:
    """Train ``model`` (on ``device``) in place with AdamW: one ``epoch`` window per epoch,
    its mean training loss logged at the epoch's step; ``mask`` keeps pruned weights zero.

    As in the benchmark runner, one forward and backward pass without an update comes
    first, in a ``train_warmup`` window, so that lazy initialisation is in no epoch.
    """
    progress = progress or Progress()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    total = len(loader.dataset)  # type: ignore[arg-type]
    with tracker.window(TRAIN_WARMUP_WINDOW):
        warm_up(spec, model, next(iter(loader)), device, False)
    for epoch in range(1, epochs + 1):
        progress.phase(f"{title}: epoch {epoch}/{epochs}", total)
        with tracker.window(EPOCH_WINDOW):
            loss = train_one_epoch(
                spec,
                model,
                loader,
                optimizer,
                device,
                progress=progress,
                after_backward=mask.zero_gradients if mask is not None else None,
                after_step=mask.apply if mask is not None else None,
            )
        tracker.log(step=epoch, train_loss=loss)


# --------------------------------------------------------------------- checkpoints
def load_checkpoint(
    path: str | os.PathLike[str], spec: ModelSpec, size: str = "full"
) -> tuple[nn.Module, str]:
    """The model a ``torch.save`` file holds (on CPU), and what the file held: ``"module"``
    or ``"state_dict"``.

    A state_dict is read with ``weights_only=True`` (no code from the file runs) into
    ``spec.build(size)``. A whole pickled ``nn.Module`` cannot be read that way: it is
    unpickled (``weights_only=False``), which runs code from the file, so only files you
    trust should hold one. Anything else is a ConfigError naming the file and what is
    accepted.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"checkpoint {str(file)!r}: no such file; {_CHECKPOINTS}")
    if not zipfile.is_zipfile(file):  # what torch.save has written since torch 1.6
        raise ConfigError(f"checkpoint {str(file)!r} is not a torch.save file; {_CHECKPOINTS}")
    try:
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # more than tensors and containers: a pickled module
        loaded = _unpickle(file)
    except Exception as exc:
        raise ConfigError(
            f"checkpoint {str(file)!r} is not a torch.save file ({type(exc).__name__}: {exc}); "
            f"{_CHECKPOINTS}"
        ) from None
    if isinstance(loaded, nn.Module):
        return loaded, "module"
    state = _state_dict(loaded)
    if state is None:
        raise ConfigError(
            f"checkpoint {str(file)!r} holds a {type(loaded).__name__}, not a model; {_CHECKPOINTS}"
        )
    model = spec.build(size)
    missing, unexpected = _key_mismatch(model, state)
    if missing or unexpected:
        raise ConfigError(
            f"checkpoint {str(file)!r}: its state_dict does not fit {spec.name} (size {size}): "
            f"missing {_few(missing)}, unexpected {_few(unexpected)}; {_CHECKPOINTS}"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # same keys, other shapes
        mismatches = [line.strip() for line in str(exc).strip().splitlines()[1:]]
        raise ConfigError(
            f"checkpoint {str(file)!r}: its state_dict does not fit {spec.name} (size {size}): "
            f"{_few(mismatches, 1) if mismatches else exc}; {_CHECKPOINTS}"
        ) from None
    return model, "state_dict"


def _unpickle(file: Path) -> Any:
    try:
        return torch.load(file, map_location="cpu", weights_only=False)
    except Exception as exc:  # a pickle error, a class that no longer exists, ...
        raise ConfigError(
            f"checkpoint {str(file)!r} could not be unpickled ({type(exc).__name__}: {exc}); "
            f"{_CHECKPOINTS}"
        ) from None


def _state_dict(loaded: Any) -> Mapping[str, Tensor] | None:
    """``loaded`` as a state_dict: itself, or under a training checkpoint's usual key."""
    if not isinstance(loaded, Mapping):
        return None
    for key in ("state_dict", "model_state_dict"):
        if isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
            break
    if loaded and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in loaded.items()):
        return dict(loaded)
    return None


def _key_mismatch(model: nn.Module, state: Mapping[str, Tensor]) -> tuple[list[str], list[str]]:
    expected = set(model.state_dict())
    return sorted(expected - set(state)), sorted(set(state) - expected)


def _few(keys: Sequence[str], n: int = 3) -> str:
    if not keys:
        return "none"
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


# ---------------------------------------------------------------------- the lab
def compare(
    model: str | ModelSpec,
    variants: str | Sequence[Sequence[TechniqueSpec]],
    *,
    settings: Settings,
    options: BenchOptions | None = None,
    finetune_epochs: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Measure ``model`` and each of its compressed ``variants`` as one stored comparison.

    ``model``: a zoo name or a ``ModelSpec`` (its data, loss and metric). It is built and
    trained for ``options.epochs`` (a ``role=train`` run), or, with ``checkpoint``, loaded
    from that file and not trained (``options.epochs`` is then unused). ``variants``:
    ``"prune:0.5,quant:int8"`` or chains of ``TechniqueSpec``. ``options`` gives sizes,
    batch size, device, learning rate and seed (``amp`` is refused: compare
    ``cast:fp16``/``cast:bf16`` variants instead).
    ``finetune_epochs`` > 0 fine-tunes pruned/factorised variants before measuring them.
    Returns the comparison read back from the store.
    """
    spec = zoo.get(model) if isinstance(model, str) else model
    chains = _chains(variants)
    options = options or BenchOptions()
    if options.amp:
        raise ConfigError(
            "amp=True: the compression lab measures each variant in its own precision; "
            "accepted: amp=False, with cast:fp16 or cast:bf16 variants to compare"
        )
    epochs_ok = isinstance(finetune_epochs, int) and not isinstance(finetune_epochs, bool)
    if not epochs_ok or finetune_epochs < 0:
        raise ConfigError(f"finetune_epochs={finetune_epochs!r}: accepted: an integer >= 0")
    progress = progress or Progress()
    torch.manual_seed(options.seed)
    train, test, data = spec.load_data(
        options.data_root,
        train_size=options.train_size,
        test_size=options.test_size,
        seed=options.seed,
    )
    if checkpoint is not None:
        original, held = load_checkpoint(checkpoint, spec, options.size)
        source = f"checkpoint {Path(checkpoint).name}: " + (
            "a whole module, unpickled (weights_only=False)"
            if held == "module"
            else f"a state_dict of {spec.name} (size {options.size})"
        )
        if held == "module":
            progress.message(f"{source}: only load files you trust")
    else:
        original = spec.build(options.size, pretrained=options.pretrained)
        source = (
            f"{spec.name} (size {options.size}, "
            f"{'pretrained' if options.pretrained else 'random init'}) trained here for "
            f"{options.epochs} epoch(s)"
        )
    lab = _Lab(
        spec=spec,
        options=options,
        settings=settings,
        progress=progress,
        finetune_epochs=finetune_epochs,
        comparison=new_benchmark_id(spec.name),
        device=resolve_device(options.device),
        train_loader=make_loader(spec, train, options, shuffle=True),
        test_loader=make_loader(spec, test, options, shuffle=False),
        common={
            **model_labels(spec, data),
            "source": source,
            "epochs": "0" if checkpoint is not None else str(options.epochs),
        },
    )
    lab.run(original, trained_here=checkpoint is None, chains=chains)
    from wattprint.store.repository import Store

    with Store.from_settings(settings) as store:
        return load_comparison(store, lab.comparison)


def _chains(variants: str | Sequence[Sequence[TechniqueSpec]]) -> tuple[Chain, ...]:
    """The variants as chains, each checked for its order, none empty or given twice."""
    if isinstance(variants, str):
        return parse_variants(variants)
    chains = tuple(tuple(chain) for chain in variants)
    if not chains or not all(chains):
        raise ConfigError(f"variants={variants!r}: accepted: one or more non-empty chains")
    names = [chain_text(chain) for chain in chains]
    for chain in chains:
        check_order(chain)
    if len(set(names)) != len(names):
        raise ConfigError(f"variants {', '.join(names)}: each variant may be given once")
    return chains


def _forward_in(spec: ModelSpec, dtype: torch.dtype) -> Callable[[nn.Module, Batch], Any]:
    """``spec.forward`` with the batch's floating-point tensors cast to ``dtype`` first."""
    if dtype == torch.float32:
        return spec.forward

    def forward(model: nn.Module, batch: Batch) -> Any:
        cast = {k: v.to(dtype) if v.is_floating_point() else v for k, v in batch.items()}
        return spec.forward(model, cast)

    return forward


def _describe(step: CompressionStep) -> str:
    """One line for the run's events: what a technique did, and what it left alone."""
    text = (
        f"{step.technique}: parameters {step.params_before} -> {step.params_after}, non-zero "
        f"{step.nonzero_before} -> {step.nonzero_after}, {len(step.details)} layer(s) changed"
    )
    return text + (f"; skipped: {'; '.join(step.skipped)}" if step.skipped else "")


@dataclass
class _Lab:
    """One comparison in progress: its data, where it runs, and how its runs are named
    and labelled."""

    spec: ModelSpec
    options: BenchOptions
    settings: Settings
    progress: Progress
    finetune_epochs: int
    comparison: str
    device: torch.device
    train_loader: DataLoader[Any]
    test_loader: DataLoader[Any]
    common: dict[str, str]
    started: set[str] = field(default_factory=set)  # variants whose measure run exists

    def run(self, original: nn.Module, *, trained_here: bool, chains: Sequence[Chain]) -> None:
        """Train (when asked) and measure the original, then build and measure each variant."""
        self.progress.start_model(ORIGINAL)
        if trained_here:
            original = self._train(original)
        original = original.cpu()  # every variant starts from this copy; int8 needs the CPU
        self._measure(ORIGINAL, copy.deepcopy(original).to(self.device), self.device, (), {})
        for chain in chains:
            name = chain_text(chain)
            self.progress.start_model(name)
            try:
                self._variant(original, chain)
            except Exception as exc:  # one variant failing must not lose the others
                self._failed(name, exc)

    def _labels(
        self, role: str, variant: str, device: torch.device, **extra: str
    ) -> dict[str, str]:
        o = self.options
        return {
            **o.labels,
            COMPARISON_LABEL: self.comparison,
            "role": role,
            "variant": variant,
            **self.common,
            "metric": self.spec.metric,
            "higher_is_better": "true" if self.spec.higher_is_better else "false",
            "batch_size": str(o.batch_size),
            "size": o.size,
            "finetune_epochs": str(self.finetune_epochs),
            "requested_device": str(self.device),
            "device": str(device),
            "device_name": device_name(device),
            "torch": torch.__version__,
            **{k: v for k, v in extra.items() if v},
        }

    def _settings(self, name: str) -> Settings:
        return self.settings.model_copy(update={"run": f"{self.comparison}/{name}"})

    def _train(self, model: nn.Module) -> nn.Module:
        labels = self._labels(ROLE_TRAIN, ORIGINAL, self.device)
        with Tracker(self._settings("train"), labels=labels) as tracker:
            model = model.to(self.device)
            train_epochs(
                tracker,
                self.spec,
                model,
                self.train_loader,
                epochs=self.options.epochs,
                device=self.device,
                lr=self.options.lr,
                progress=self.progress,
                title=f"{self.spec.name}: train",
            )
        return model

    def _variant(self, original: nn.Module, chain: Chain) -> None:
        name = chain_text(chain)
        device, device_note = measure_device(chain, self.device)
        before, after, note = finetune_split(chain) if self.finetune_epochs else ((), chain, "")
        model, steps = original, list[CompressionStep]()
        if before:
            model, steps = apply_techniques(original, before)
            model = self._finetune(name, model, any(s.name in PRUNING for s in before))
        model, more = apply_techniques(
            model.cpu(), after, example_batches=self._calibration(after), device=device
        )
        labels = {"device_note": device_note, "finetune_note": note, "techniques": name}
        self._measure(name, model.to(device), device, (*steps, *more), labels)

    def _finetune(self, name: str, model: nn.Module, pruned: bool) -> nn.Module:
        labels = self._labels(ROLE_FINETUNE, name, self.device)
        with Tracker(self._settings(f"finetune/{name}"), labels=labels) as tracker:
            model = model.to(self.device)
            mask = PruneMask(model) if pruned else None
            train_epochs(
                tracker,
                self.spec,
                model,
                self.train_loader,
                epochs=self.finetune_epochs,
                device=self.device,
                lr=self.options.lr,
                mask=mask,
                progress=self.progress,
                title=f"{name}: fine-tune",
            )
        return model

    def _calibration(self, chain: Chain) -> list[Tensor] | None:
        """A few training batches' inputs to calibrate ``quant:int8-static`` on."""
        if not any(spec.value == "int8-static" for spec in chain):
            return None
        inputs: list[Tensor] = []
        for batch in self.train_loader:
            if "inputs" not in batch:
                raise ConfigError(
                    f"quant:int8-static calibrates on the model's positional input, which the "
                    f"lab knows for image classifiers ('inputs') but not for {self.spec.name} "
                    f"(batch keys {', '.join(batch)}); accepted here: quant:int8"
                )
            inputs.append(batch["inputs"])
            if len(inputs) == _CALIBRATION_BATCHES:
                break
        return inputs

    def _measure(
        self,
        name: str,
        model: nn.Module,
        device: torch.device,
        steps: Sequence[CompressionStep],
        extra: Mapping[str, str],
    ) -> None:
        """Serve the test split with ``model`` on ``device`` in a ``role=measure`` run."""
        dtype = input_dtype(model)
        stats = model_stats(model)
        labels = self._labels(
            ROLE_MEASURE, name, device, input_dtype=str(dtype).removeprefix("torch."), **extra
        )
        self.started.add(name)
        self.progress.phase(f"{name}: inference", len(self.test_loader.dataset))  # type: ignore[arg-type]
        with Tracker(self._settings(name), labels=labels) as tracker:
            for step in steps:
                tracker.note("compress", _describe(step))
            if extra.get("device_note"):
                tracker.note("device", extra["device_note"])
            tracker.log(
                step=None,
                params=stats.params,
                nonzero_params=stats.nonzero_params,
                size_bytes=stats.size_bytes,
            )
            served = measure_inference(
                tracker,
                model,
                self.test_loader,
                _forward_in(self.spec, dtype),
                device=device,
                score=self.spec.score,
                warmup=self.options.warmup_batches,
                on_batch=self.progress.advance,
            )
            figures = {
                "inference_samples": float(served.samples),
                "inference_warmup_samples": float(served.warmup_samples),
            }
            if served.quality is not None:
                figures[f"test_{self.spec.metric}"] = served.quality
            if served.latency_p50_s is not None and served.latency_p95_s is not None:
                figures["latency_p50_s"] = served.latency_p50_s
                figures["latency_p95_s"] = served.latency_p95_s
            tracker.log(step=None, **figures)

    def _failed(self, name: str, exc: Exception) -> None:
        """Say that variant ``name`` failed, and store it as a failed measurement run when
        it failed before that run began (while it was compressed or fine-tuned)."""
        message = f"{type(exc).__name__}: {exc}"
        log.warning("wattprint compress: %s failed: %s", name, message)
        self.progress.message(f"{name} failed: {message}")
        if name in self.started:
            return  # the measure run itself failed: the tracker stored why
        labels = self._labels(ROLE_MEASURE, name, self.device, techniques=name)
        Tracker(self._settings(name), labels=labels).start().stop("failed", error=message)
