"""Rich renderings of ex-ante estimates: the calculator, the FLOP-based estimate and
the life-cycle model. Every figure is labelled estimated, with its range and sources."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wattprint.carbon.intensity import describe_intensity
from wattprint.report.console import mass

J_PER_KWH = 3.6e6


def _kwh(value: float, low: float, high: float) -> str:
    return f"{value:.4g} kWh (range {low:.4g}-{high:.4g})"


def _notes(title: str, lines: list[str], style: str = "dim") -> Text:
    text = Text()
    if lines:
        text.append(f"{title}\n", style="bold")
        for line in lines:
            text.append(f"  {line}\n", style=style)
    return text


def estimate_report(est: Any) -> RenderableType:
    """A ``FootprintEstimate`` (hardware x hours) or a ``FlopsEstimate``."""
    if hasattr(est, "flops"):
        return _flops_report(est)
    table = Table(title=f"estimate for {est.hours:g} h (estimated)", title_justify="left")
    for col in ("device", "count", "W each", "range", "energy (IT)", "basis"):
        table.add_column(col, overflow="fold")
    for d in est.devices:
        table.add_row(
            d.spec,
            str(d.count),
            f"{d.power_w:.4g}",
            f"{d.power_low_w:.4g}-{d.power_high_w:.4g}",
            f"{d.energy_kwh:.4g} kWh",
            d.power_basis,
        )
    i = est.intensity
    summary = Text()
    summary.append("energy ", style="bold")
    summary.append(
        f"{_kwh(est.energy_kwh, est.energy_low_kwh, est.energy_high_kwh)} "
        f"= IT {est.it_energy_kwh:.4g} kWh x PUE {est.pue.value:g} ({est.pue.reason})\n"
    )
    summary.append("operational ", style="bold")
    summary.append(
        f"{mass(est.operational_kg)} (range {mass(est.operational_low_kg)}-"
        f"{mass(est.operational_high_kg)}) at {i.g_per_kwh:.4g} gCO2e/kWh "
        f"({i.location.name}; {i.source}{', ' + str(i.year) if i.year else ''})\n"
    )
    summary.append("embodied ", style="bold")
    summary.append(
        f"{mass(est.embodied_kg)} (range {mass(est.embodied_low_kg)}-"
        f"{mass(est.embodied_high_kg)}), reported apart: manufacturing amortised over "
        f"{est.embodied.lifetime_years:g} years x share {est.embodied.share:g}\n"
    )
    for e in est.equivalences:
        summary.append(f"  = {e.amount:.3g} {e.unit} {e.label} ({e.source})\n", style="dim")
    return Group(
        table,
        summary,
        _notes("warnings", est.warnings, "yellow"),
        _notes("assumptions", est.assumptions),
    )


def _flops_report(est: Any) -> RenderableType:
    text = Text()
    text.append("FLOP-based estimate (estimated)\n", style="bold")
    text.append(f"  {est.flops:.3g} FLOPs ({est.flops_basis})\n")
    text.append(
        f"  on {est.count} x {est.gpu.name}: peak {est.peak_flops_per_s:.3g} FLOP/s "
        f"({est.precision}) x efficiency {est.efficiency:g} ({est.efficiency_source})\n"
    )
    text.append(
        f"  time {est.time_s / 3600:.4g} h (range {est.time_low_s / 3600:.4g}-"
        f"{est.time_high_s / 3600:.4g}), {est.power_w:.4g} W per device ({est.power_source})\n"
    )
    text.append("energy ", style="bold")
    text.append(
        f"{_kwh(est.energy_kwh, est.energy_low_kwh, est.energy_high_kwh)} "
        f"with PUE {est.pue.value:g} ({est.pue.reason})\n"
    )
    text.append("operational emissions ", style="bold")
    text.append(
        f"{mass(est.operational_kg)} CO2e (range {mass(est.operational_low_kg)}-"
        f"{mass(est.operational_high_kg)}) at {describe_intensity(est.intensity)}\n"
    )
    return Group(
        text, _notes("warnings", est.warnings, "yellow"), _notes("assumptions", est.assumptions)
    )


def lifecycle_report(lc: Any) -> RenderableType:
    """``E_life = CT + T + I*e`` with each term's origin, shares and break-even points."""
    table = Table(title="life-cycle energy E_life = CT + T + I*e", title_justify="left")
    for col in ("phase", "energy", "share", "from"):
        table.add_column(col, overflow="fold")
    rows = (
        ("search CT", lc.search.energy_j, lc.share_search, lc.search.origin),
        ("training T", lc.training.energy_j, lc.share_training, lc.training.origin),
        (
            f"inference I*e (e = {lc.inferences:.4g})",
            lc.inference_total_j,
            lc.share_inference,
            f"I = {lc.inference.energy_j:.4g} J per inference, {lc.inference.origin}; "
            f"{lc.inferences_basis}",
        ),
    )
    for name, joules, share, origin in rows:
        table.add_row(name, f"{joules / J_PER_KWH:.4g} kWh", f"{share:.1%}", origin)
    table.add_row(
        Text("E_life", style="bold"),
        _kwh(lc.life_kwh, lc.life_low_j / J_PER_KWH, lc.life_high_j / J_PER_KWH),
        "100%",
        "",
    )
    text = Text()
    if lc.break_even_training is not None:
        text.append(
            f"inference outweighs training after {lc.break_even_training:.4g} inferences; "
            f"search + training after {lc.break_even_search_and_training:.4g}\n"
        )
    if lc.emissions is not None:
        em = lc.emissions
        text.append(
            f"emissions {mass(em.life_kg)} (range {mass(em.life_low_kg)}-"
            f"{mass(em.life_high_kg)}) at PUE {em.pue.value:g} and "
            f"{em.intensity.g_per_kwh:.4g} gCO2e/kWh ({em.intensity.location.name})\n"
        )
    return Group(table, text, _notes("assumptions", lc.assumptions))
