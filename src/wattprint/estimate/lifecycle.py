"""The life-cycle energy of a model (Gitzel et al.)::

    E_life = CT + T + I * e

``CT`` is the energy of the search trials (hyper-parameter / architecture search, the
sum of the trials), ``T`` of the final training, ``I`` of one inference and ``e`` the
expected number of inferences (per day * days, or a total). Each term is given as a
number with explicit units (``Joules``, ``KWh``) or read from runs in the store: run
references for ``CT`` and ``T`` (their total energy), an ``InferenceRun`` for ``I``
(the energy of the run's windows of one name divided by the number of samples they
processed, given or summed from a metric of the run).

Energies are device energy as measured (joules); emissions, when an ``Intensity`` and
a ``Pue`` are given, are ``E * PUE * intensity``. The break-even points say after how
many inferences serving has cost as much as training (``T / I``) and as search plus
training (``(CT + T) / I``); :func:`break_even_inferences` after how many inferences a
cheaper inference repays a one-off cost (``extra / (I_before - I_after)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from wattprint.carbon.intensity import Intensity
from wattprint.carbon.pue import Pue, resolve_pue
from wattprint.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from wattprint.store.repository import Store

J_PER_KWH = 3.6e6
GIVEN = "given"


@dataclass(frozen=True)
class Joules:
    """An energy given in joules, optionally with a low-high range."""

    value: float
    low: float | None = None
    high: float | None = None

    def to_joules(self) -> tuple[float, float, float]:
        return _bounds(self.value, self.low, self.high, "J", 1.0)


@dataclass(frozen=True)
class KWh:
    """An energy given in kWh, optionally with a low-high range."""

    value: float
    low: float | None = None
    high: float | None = None

    def to_joules(self) -> tuple[float, float, float]:
        return _bounds(self.value, self.low, self.high, "kWh", J_PER_KWH)


@dataclass(frozen=True)
class InferenceRun:
    """Energy of one inference measured in a stored run: the energy of the run's
    windows named ``window`` divided by ``samples``, or, when ``samples`` is ``None``,
    by the sum of the metric ``samples_metric`` logged in that run."""

    run: str
    samples: float | None = None
    window: str = "inference"
    samples_metric: str = "samples"


TermSpec: TypeAlias = "Joules | KWh | str | Sequence[str]"
"""A total energy: a number with units, or one or more run references of the store."""
InferenceSpec: TypeAlias = "Joules | KWh | InferenceRun"
"""The energy of one inference: a number with units, or measured in a run."""


@dataclass(frozen=True)
class PhaseEnergy:
    """One term of the life-cycle sum, in joules, and where it came from:
    ``"given"`` or ``"run <id> (measured|estimated)"`` (several runs joined by ``+``)."""

    phase: str
    energy_j: float
    low_j: float
    high_j: float
    origin: str
    runs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LifecycleEmissions:
    """Emissions of each phase and of the life cycle, in kgCO2e (``E * PUE * g/kWh``)."""

    pue: Pue
    intensity: Intensity
    search_kg: float
    training_kg: float
    inference_kg: float
    life_kg: float
    life_low_kg: float
    life_high_kg: float


@dataclass(frozen=True)
class LifecycleEstimate:
    """``E_life = CT + T + I * e`` with each term's origin, the phases' shares of
    ``E_life`` (summing to 1) and the break-even numbers of inferences."""

    search: PhaseEnergy
    training: PhaseEnergy
    inference: PhaseEnergy
    inferences: float
    inferences_basis: str
    inference_total_j: float
    inference_total_low_j: float
    inference_total_high_j: float
    life_j: float
    life_low_j: float
    life_high_j: float
    life_kwh: float
    share_search: float
    share_training: float
    share_inference: float
    break_even_training: float | None
    break_even_search_and_training: float | None
    emissions: LifecycleEmissions | None
    assumptions: list[str]


# --- inputs -------------------------------------------------------------------------


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what}={value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{what}={value!r} is not finite")
    return number


def _bounds(
    value: float, low: float | None, high: float | None, unit: str, scale: float
) -> tuple[float, float, float]:
    point = _finite(value, f"energy ({unit})")
    lo = point if low is None else _finite(low, f"low energy ({unit})")
    hi = point if high is None else _finite(high, f"high energy ({unit})")
    if lo < 0 or not lo <= point <= hi:
        raise ConfigError(
            f"energy {point!r} {unit} (low {lo!r}, high {hi!r}): accepted: "
            f"0 <= low <= value <= high, in {unit}"
        )
    return point * scale, lo * scale, hi * scale


def _need_store(store: Store | None, what: str) -> Store:
    if store is None:
        raise ConfigError(f"{what} names runs of the store: pass store=Store(...)")
    return store


def _total(phase: str, spec: TermSpec | None, store: Store | None) -> PhaseEnergy:
    if spec is None:
        return PhaseEnergy(phase, 0.0, 0.0, 0.0, "none given")
    if isinstance(spec, Joules | KWh):
        point, low, high = spec.to_joules()
        return PhaseEnergy(phase, point, low, high, GIVEN)
    accepted = (
        "accepted: Joules(...) or KWh(...) (a bare number has no unit), a run reference, or "
        "a list of run references"
    )
    if not isinstance(spec, str | Sequence):
        raise ConfigError(f"{phase}={spec!r}: {accepted}")
    refs = [spec] if isinstance(spec, str) else list(spec)
    if not refs or not all(isinstance(r, str) for r in refs):
        raise ConfigError(f"{phase}={spec!r}: {accepted}")
    db = _need_store(store, phase)
    point = low = high = 0.0
    origins: list[str] = []
    ids: list[str] = []
    for ref in refs:
        try:
            run = db.get_run(ref)
        except NotFoundError as exc:
            raise ConfigError(f"{phase}: {exc}") from None
        point += run.energy_j
        low += run.energy_low_j
        high += run.energy_high_j
        ids.append(run.run_id)
        origins.append(f"run {run.run_id} ({run.quality})")
    return PhaseEnergy(phase, point, low, high, " + ".join(origins), tuple(ids))


def _per_inference(spec: InferenceSpec, store: Store | None) -> PhaseEnergy:
    phase = "inference (one)"
    if isinstance(spec, Joules | KWh):
        point, low, high = spec.to_joules()
        return PhaseEnergy(phase, point, low, high, GIVEN)
    if not isinstance(spec, InferenceRun):
        raise ConfigError(
            f"inference={spec!r}: accepted: Joules(...) or KWh(...) per inference (a bare "
            "number has no unit), or "
            "InferenceRun(run, samples=None, window='inference')"
        )
    db = _need_store(store, "inference")
    try:
        run = db.get_run(spec.run)
        windows = db.windows(run.run_id)
    except NotFoundError as exc:
        raise ConfigError(f"inference: {exc}") from None
    chosen = [w for w in windows if w.name == spec.window]
    if not chosen:
        names = sorted({w.name for w in windows})
        raise ConfigError(
            f"run {run.run_id} has no window named {spec.window!r}; its windows: "
            f"{', '.join(names) or 'none'}"
        )
    ratios = {c.name: (c.low_ratio, c.high_ratio) for c in run.components}
    energy = low = high = 0.0
    for window in chosen:
        for component, joules in window.energy_j.items():
            lo_ratio, hi_ratio = ratios.get(component, (1.0, 1.0))
            energy += joules
            low += joules * lo_ratio
            high += joules * hi_ratio
    if spec.samples is not None:
        samples = _finite(spec.samples, "samples")
        counted = f"{samples:g} samples given"
    else:
        values = [
            m.value for m in db.metrics(run.run_id, spec.samples_metric) if m.value is not None
        ]
        if not values:
            raise ConfigError(
                f"run {run.run_id} logged no metric {spec.samples_metric!r}: give "
                "InferenceRun(..., samples=<number of inferences in the windows>)"
            )
        samples = float(sum(values))
        counted = f"{samples:g} samples from metric {spec.samples_metric!r} ({len(values)} values)"
    if samples <= 0:
        raise ConfigError(f"inference samples={samples!r} must be > 0")
    origin = (
        f"run {run.run_id} ({run.quality}): {len(chosen)} window(s) {spec.window!r}, "
        f"{energy:g} J / {counted}"
    )
    return PhaseEnergy(
        phase, energy / samples, low / samples, high / samples, origin, (run.run_id,)
    )


def _inferences(
    inferences: float | None, per_day: float | None, days: float | None
) -> tuple[float, str]:
    if inferences is not None:
        if per_day is not None or days is not None:
            raise ConfigError(
                "give either inferences= (a total) or inferences_per_day= and days=, not both"
            )
        total = _finite(inferences, "inferences")
        basis = f"{total:g} inferences given"
    elif per_day is not None and days is not None:
        rate, span = _finite(per_day, "inferences_per_day"), _finite(days, "days")
        if rate < 0 or span < 0:
            raise ConfigError(f"inferences_per_day={per_day!r}, days={days!r}: both must be >= 0")
        total = rate * span
        basis = f"{rate:g} inferences per day * {span:g} days"
    else:
        raise ConfigError(
            "the expected number of inferences is missing: give inferences= (a total) or "
            "inferences_per_day= and days="
        )
    if total < 0:
        raise ConfigError(f"inferences={total!r} must be >= 0")
    return total, basis


# --- the model ----------------------------------------------------------------------


def lifecycle_energy(
    *,
    training: TermSpec,
    inference: InferenceSpec,
    search: TermSpec | None = None,
    inferences: float | None = None,
    inferences_per_day: float | None = None,
    days: float | None = None,
    store: Store | None = None,
    intensity: Intensity | None = None,
    pue: Pue | None = None,
) -> LifecycleEstimate:
    """``E_life = CT + T + I * e`` (Gitzel et al.), with shares and break-even points.

    ``search`` (CT) and ``training`` (T): ``Joules``/``KWh`` or run reference(s) of
    ``store`` (summed). ``inference`` (I, one inference): ``Joules``/``KWh`` or an
    ``InferenceRun``. ``e``: ``inferences`` or ``inferences_per_day * days``.
    Emissions are computed when ``intensity`` is given, with ``pue`` (default: the
    provider's PUE for a cloud location, else 1.0, via ``wattprint.carbon.pue``).
    """
    ct = _total("search", search, store)
    t = _total("training", training, store)
    i = _per_inference(inference, store)
    e, e_basis = _inferences(inferences, inferences_per_day, days)
    serve, serve_low, serve_high = i.energy_j * e, i.low_j * e, i.high_j * e
    life = ct.energy_j + t.energy_j + serve
    if life <= 0:
        raise ConfigError(
            "the life-cycle energy is 0: give a training, search or inference energy > 0"
        )
    life_low = ct.low_j + t.low_j + serve_low
    life_high = ct.high_j + t.high_j + serve_high
    emissions = None
    if intensity is not None:
        if pue is None:
            pue = resolve_pue(None, intensity.location)
        factor = pue.value / J_PER_KWH / 1000.0
        g = intensity.g_per_kwh
        emissions = LifecycleEmissions(
            pue=pue,
            intensity=intensity,
            search_kg=ct.energy_j * factor * g,
            training_kg=t.energy_j * factor * g,
            inference_kg=serve * factor * g,
            life_kg=life * factor * g,
            life_low_kg=life_low * factor * intensity.low_g_per_kwh,
            life_high_kg=life_high * factor * intensity.high_g_per_kwh,
        )
    assumptions = [
        "life-cycle model of Gitzel et al.: E_life = CT + T + I * e (device energy, before PUE)",
        f"CT (search): {ct.origin}",
        f"T (training): {t.origin}",
        f"I (one inference): {i.origin}",
        f"e: {e_basis}",
    ]
    if emissions is not None:
        assumptions.append(
            f"emissions: E * PUE {emissions.pue.value:g} ({emissions.pue.reason}) * "
            f"{emissions.intensity.g_per_kwh:g} gCO2e/kWh ({emissions.intensity.source})"
        )
    return LifecycleEstimate(
        search=ct,
        training=t,
        inference=i,
        inferences=e,
        inferences_basis=e_basis,
        inference_total_j=serve,
        inference_total_low_j=serve_low,
        inference_total_high_j=serve_high,
        life_j=life,
        life_low_j=life_low,
        life_high_j=life_high,
        life_kwh=life / J_PER_KWH,
        share_search=ct.energy_j / life,
        share_training=t.energy_j / life,
        share_inference=serve / life,
        break_even_training=t.energy_j / i.energy_j if i.energy_j > 0 else None,
        break_even_search_and_training=(
            (ct.energy_j + t.energy_j) / i.energy_j if i.energy_j > 0 else None
        ),
        emissions=emissions,
        assumptions=assumptions,
    )


def training_energy_from_inference(
    epochs: float, samples_per_epoch: float, inference_energy_j: float, overhead: float
) -> Joules:
    """``T ≈ E * D * I * θ``: epochs * samples per epoch * energy of one inference
    (forward pass) * the training overhead θ (backward pass and optimiser; no default:
    give the ratio measured for your model, e.g. a training step's energy over an
    inference's)."""
    values = {
        "epochs": _finite(epochs, "epochs"),
        "samples_per_epoch": _finite(samples_per_epoch, "samples_per_epoch"),
        "inference_energy_j": _finite(inference_energy_j, "inference_energy_j"),
        "overhead": _finite(overhead, "overhead"),
    }
    for name, value in values.items():
        if value <= 0:
            raise ConfigError(f"{name}={value!r} must be > 0")
    return Joules(math.prod(values.values()))


def break_even_inferences(
    extra_energy_j: float, before_per_inference_j: float, after_per_inference_j: float
) -> float | None:
    """After how many inferences a one-off energy cost (fine-tuning a compressed model) is
    repaid by what each inference saves: ``extra / (before - after)``.

    None when an inference costs as much or more after the change: it is never repaid.
    """
    extra = _finite(extra_energy_j, "extra_energy_j")
    before = _finite(before_per_inference_j, "before_per_inference_j")
    after = _finite(after_per_inference_j, "after_per_inference_j")
    if extra < 0 or before < 0 or after < 0:
        raise ConfigError(
            f"break-even of {extra!r} J extra with {before!r} -> {after!r} J per inference: "
            "accepted: energies >= 0"
        )
    saving = before - after
    return extra / saving if saving > 0 else None
