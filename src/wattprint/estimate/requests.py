"""The two ex-ante estimates as requests: what ``wattprint estimate`` / ``wattprint
lifecycle`` and the dashboard's forms submit, validated once, computed by one function.

A request says which mode it is in by the fields it sets (hours → the calculator; params,
tokens or flops → the FLOP mode; runs or numbers for each life-cycle term), and every
mixed or missing choice is one ``ConfigError`` naming the fields to choose from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattprint.errors import ConfigError

if TYPE_CHECKING:
    from wattprint.estimate.calculator import FootprintEstimate
    from wattprint.estimate.flops import FlopsEstimate
    from wattprint.estimate.lifecycle import LifecycleEstimate, TermSpec
    from wattprint.store.repository import Store

__all__ = ["FootprintRequest", "LifecycleRequest"]


class FootprintRequest(BaseModel):
    """Energy and emissions before running: hardware x hours (the Green Algorithms / ML CO2
    Impact method) or hardware x a FLOP count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hardware: str = Field(
        min_length=1, description="e.g. 8xA100-80GB, '2xAMD EPYC 7763', cpu:MODEL:CORES, ram:GB."
    )
    hours: float | None = Field(None, description="Run time (calculator mode).")
    params: float | None = Field(None, description="Model parameters (FLOP mode, with tokens).")
    tokens: float | None = Field(None, description="Training or inference tokens.")
    flops: float | None = Field(None, description="Total FLOPs (FLOP mode).")
    mode: Literal["training", "inference"] = Field(
        "training", description="FLOP mode: training (6PT) or inference (2PT)."
    )
    precision: str = Field("bf16", description="FLOP mode: fp32, tf32, bf16, fp16, fp8.")
    efficiency: float | None = Field(None, description="FLOP mode: model FLOPs utilisation.")
    utilisation: float = Field(1.0, description="Share of TDP drawn, (0-1].")
    power_per_device_w: float | None = Field(None, description="Average W per device.")
    pue: float | None = Field(None, description="Data-centre PUE (>= 1).")
    region: str | None = Field(None, description="FR, US-CA, aws:eu-west-3, …")
    intensity_g_per_kwh: float | None = Field(None, description="Instead of a region.")
    year: int | None = Field(None, description="Grid intensity of this year.")
    lifetime_years: float | None = Field(None, description="Hardware lifetime (embodied).")
    share: float = Field(1.0, description="Share of the machine used, (0-1].")

    def compute(self) -> FootprintEstimate | FlopsEstimate:
        """The estimate of the mode the request's fields choose."""
        flop_mode = self.params is not None or self.tokens is not None or self.flops is not None
        if flop_mode == (self.hours is not None):
            raise ConfigError(
                "give either hours (calculator) or params/tokens or flops (FLOP mode)"
            )
        if self.hours is not None:
            from wattprint.estimate.calculator import estimate_footprint

            return estimate_footprint(
                self.hardware,
                self.hours,
                utilisation=self.utilisation,
                power_per_device_w=self.power_per_device_w,
                pue=self.pue,
                region=self.region,
                intensity_g_per_kwh=self.intensity_g_per_kwh,
                year=self.year,
                lifetime_years=self.lifetime_years,
                share=self.share,
            )
        from wattprint.estimate.flops import estimate_flops_energy

        return estimate_flops_energy(
            self.hardware,
            flops=self.flops,
            params=self.params,
            tokens=self.tokens,
            mode=self.mode,
            precision=self.precision,
            efficiency=self.efficiency,
            power_per_device_w=self.power_per_device_w,
            pue=self.pue,
            region=self.region,
            intensity_g_per_kwh=self.intensity_g_per_kwh,
            year=self.year,
        )


class LifecycleRequest(BaseModel):
    """``E_life = CT + T + I·e`` (Gitzel et al.): each term from runs of the store or a
    number, priced when a region or PUE is given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    training: tuple[str, ...] = Field((), description="Training run(s) in the store (T).")
    training_kwh: float | None = Field(None, description="Training energy T, kWh.")
    search: tuple[str, ...] = Field((), description="Search/tuning trial runs (CT).")
    search_kwh: float | None = Field(None, description="Search energy CT, kWh.")
    inference_run: str | None = Field(None, description="Run whose inference windows give I.")
    inference_window: str = Field("inference", description="Name of those windows.")
    samples: float | None = Field(None, description="Inferences in those windows.")
    inference_j: float | None = Field(None, description="Energy of one inference, J.")
    inferences: float | None = Field(None, description="Expected inferences e.")
    per_day: float | None = Field(None, description="Inferences per day (with days).")
    days: float | None = Field(None, description="Days in service.")
    region: str | None = Field(None, description="Price it for this place.")
    pue: float | None = Field(None, description="PUE (>= 1).")

    def compute(self, store: Store | None) -> LifecycleEstimate:
        """The life-cycle estimate; ``store`` resolves the runs named."""
        from wattprint.estimate.lifecycle import InferenceRun, Joules, lifecycle_energy

        if (self.inference_run is None) == (self.inference_j is None):
            raise ConfigError("give one of inference_run (a run) or inference_j (J)")
        inference = (
            InferenceRun(self.inference_run, samples=self.samples, window=self.inference_window)
            if self.inference_run is not None
            else Joules(float(self.inference_j or 0.0))
        )
        search = None
        if self.search or self.search_kwh is not None:
            search = _term("search", self.search, self.search_kwh)
        intensity = pue = None
        if self.region is not None or self.pue is not None:
            from wattprint.carbon import resolve_location, resolve_pue, yearly_intensity

            location = resolve_location(self.region)
            intensity = yearly_intensity(location)
            pue = resolve_pue(self.pue, location)
        return lifecycle_energy(
            training=_term("training", self.training, self.training_kwh),
            inference=inference,
            search=search,
            inferences=self.inferences,
            inferences_per_day=self.per_day,
            days=self.days,
            store=store,
            intensity=intensity,
            pue=pue,
        )


def _term(what: str, runs: tuple[str, ...], kwh: float | None) -> TermSpec:
    """A life-cycle term from exactly one of its runs or its kWh."""
    from wattprint.estimate.lifecycle import KWh

    if bool(runs) == (kwh is not None):
        raise ConfigError(f"give one of {what} (run references) or {what}_kwh (kWh)")
    return list(runs) if runs else KWh(float(kwh or 0.0))
