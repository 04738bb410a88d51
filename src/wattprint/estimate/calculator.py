"""Ex-ante footprint of a job: hardware * hours * utilisation * PUE * grid intensity.

The method of Green Algorithms (Lannelongue, Grealey & Inouye, Advanced Science 2021)
and ML CO2 Impact (Lacoste et al. 2019)::

    energy_kWh   = hours * Σ_devices count * power_W * usage / 1000 * PUE
    operational  = energy_kWh * intensity_g/kWh / 1000                     (kgCO2e)
    embodied     = Σ_parts manufacturing_kg * hours / lifetime * share     (kgCO2e)

``power_W * usage`` is TDP * utilisation for GPUs and CPUs, and W/GB * GB (never
scaled by usage) for memory; ``power_per_device_w`` replaces TDP * utilisation. Every
figure's source is in ``FootprintEstimate.assumptions``; low-high ranges span the
sources available for the same quantity and are never invented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.carbon.embodied import (
    POINT_FACTOR,
    EmbodiedEstimate,
    EmbodiedPart,
    embodied_emissions,
    embodied_factor,
)
from wattprint.carbon.equivalences import Equivalence, equivalences
from wattprint.carbon.intensity import Intensity, describe_intensity, yearly_intensity
from wattprint.carbon.location import Location, resolve_location
from wattprint.carbon.pue import Pue, industry_average_pue, resolve_pue
from wattprint.errors import ConfigError
from wattprint.estimate.hardware_spec import Device, ccf_gpu_power, parse_hardware

J_PER_KWH = 3.6e6
S_PER_HOUR = 3600.0
NO_RANGE = "no range: single TDP figure"
USER_GIVEN = "given by the user"
METHOD = (
    "method: Green Algorithms (Lannelongue, Grealey & Inouye, Advanced Science 2021) and "
    "ML CO2 Impact (Lacoste et al. 2019): energy = hours * Σ count * power * usage * PUE; "
    "usage scales GPU and CPU power, not memory power"
)


@dataclass(frozen=True)
class DeviceEnergy:
    """One device line of an estimate: the average power per unit charged (after
    utilisation) with its range, and the IT energy (before PUE) over the job."""

    kind: str
    spec: str
    count: int
    power_w: float
    power_low_w: float
    power_high_w: float
    power_basis: str
    range_basis: str
    energy_kwh: float
    energy_low_kwh: float
    energy_high_kwh: float


@dataclass(frozen=True)
class FootprintEstimate:
    """An estimated footprint; energies in kWh, emissions in kgCO2e, all ``estimated``.

    ``energy_*_kwh`` is facility energy (IT energy * PUE); ``operational_*_kg`` its
    emissions at ``intensity``; ``embodied_*_kg`` the amortised manufacturing emissions,
    reported separately. ``equivalences`` are of the operational emissions.
    """

    quality: str
    hardware: tuple[Device, ...]
    hours: float
    utilisation: float
    devices: tuple[DeviceEnergy, ...]
    it_energy_kwh: float
    it_energy_low_kwh: float
    it_energy_high_kwh: float
    energy_kwh: float
    energy_low_kwh: float
    energy_high_kwh: float
    pue: Pue
    intensity: Intensity
    operational_kg: float
    operational_low_kg: float
    operational_high_kg: float
    embodied: EmbodiedEstimate
    embodied_kg: float
    embodied_low_kg: float
    embodied_high_kg: float
    equivalences: list[Equivalence]
    assumptions: list[str]
    warnings: list[str]


# --- checks -------------------------------------------------------------------------


def _number(name: str, value: object, accepted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}={value!r} is not a number; accepted: {accepted}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name}={value!r} is not finite; accepted: {accepted}")
    return number


def check_positive(name: str, value: object, unit: str) -> float:
    """``value`` as a float, or ``ConfigError`` unless it is a finite number > 0."""
    number = _number(name, value, f"a number > 0 ({unit})")
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be > 0 ({unit})")
    return number


def check_utilisation(value: object) -> float:
    """``value`` as a float, or ``ConfigError`` unless 0 < value <= 1."""
    number = _number("utilisation", value, "a fraction in (0, 1], e.g. 0.8")
    if not 0 < number <= 1:
        raise ConfigError(
            f"utilisation={value!r} must be in (0, 1]: the average fraction of the "
            "devices' power used (1.0 = full TDP)"
        )
    return number


def resolve_devices(hardware: str | Sequence[str | Device]) -> list[Device]:
    """``Device`` objects from a spec string, a list of items, or devices."""
    if isinstance(hardware, str):
        return parse_hardware(hardware)
    devices: list[Device] = []
    for item in hardware:
        if isinstance(item, Device):
            devices.append(item)
        elif isinstance(item, str):
            devices.extend(parse_hardware(item))
        else:
            raise ConfigError(
                f"hardware item {item!r}: accepted: a spec string such as '8xA100-80GB' "
                "or a wattprint.estimate.Device"
            )
    if not devices:
        raise ConfigError("hardware names no device: give e.g. '8xA100-80GB'")
    return devices


def resolve_carbon(
    region: str | None,
    intensity_g_per_kwh: float | None,
    pue: float | None,
    year: int | None,
) -> tuple[Location, Intensity, Pue, list[str]]:
    """Location, intensity and PUE for an estimate, with the warnings to show.

    A given intensity wins over the region's (and says so). With no PUE given and
    none published for the location, the industry-average PUE is used, as Green
    Algorithms does for unknown facilities.
    """
    warnings: list[str] = []
    location = resolve_location(region)
    if intensity_g_per_kwh is not None:
        g = _number("intensity_g_per_kwh", intensity_g_per_kwh, "gCO2e per kWh, >= 0")
        if g < 0:
            raise ConfigError(f"intensity_g_per_kwh={intensity_g_per_kwh!r} must be >= 0")
        warning = None
        if region is not None:
            warning = (
                f"intensity {g:g} gCO2e/kWh given by the user wins over the intensity of "
                f"{location.name} ({location.code}); the region is used for the PUE only"
            )
            warnings.append(warning)
        intensity = Intensity(
            g_per_kwh=g,
            low_g_per_kwh=g,
            high_g_per_kwh=g,
            source=USER_GIVEN,
            year=year,
            basis=USER_GIVEN,
            location=location,
            warning=warning,
        )
    else:
        intensity = yearly_intensity(location, year)
        if intensity.warning:
            warnings.append(intensity.warning)
    resolved, warning = estimate_pue(pue, location)
    if warning:
        warnings.append(warning)
    return location, intensity, resolved, warnings


def estimate_pue(pue: float | None, location: Location) -> tuple[Pue, str | None]:
    """The PUE for an estimate: the value given, else the one published for a cloud
    location, else the industry average (as Green Algorithms does for an unknown
    facility), with a warning saying so."""
    resolved = resolve_pue(pue, location)
    if pue is None and resolved.source == "wattprint default":
        resolved = industry_average_pue()
        return resolved, (
            f"no PUE given or published for {location.name}: using the {resolved.reason}, "
            f"{resolved.value:g}; pass pue= for the actual facility"
        )
    return resolved, None


# --- the estimate -------------------------------------------------------------------


def _device_energy(
    device: Device, hours: float, utilisation: float, given_w: float | None
) -> DeviceEnergy:
    if device.kind == "ram":
        point, low, high = device.power_w, device.power_low_w, device.power_high_w
        basis = f"{device.power_source} (not scaled by utilisation)"
        ranged = (
            "range: spread of the W/GB sources named above"
            if low != high
            else "no range: single figure"
        )
    elif given_w is not None:
        point = low = high = given_w
        basis = f"{given_w:g} W per device, given by the user (power_per_device_w)"
        ranged = "no range: power given by the user"
    elif device.kind == "gpu" and device.gpu is not None:
        point = device.power_w * utilisation
        basis = f"{device.power_w:g} W * utilisation {utilisation:g}: {device.power_source}"
        ccf = ccf_gpu_power(device.gpu) if device.warning is None else None
        if ccf is None:
            low = high = point
            ranged = NO_RANGE
        else:
            other = ccf.power_w(utilisation)
            low, high = min(point, other), max(point, other)
            ranged = (
                f"range: Green Algorithms TDP * utilisation = {point:g} W vs CCF "
                f"idle + utilisation * (max - idle) = {other:g} W ({ccf.source})"
            )
    else:
        point = device.power_w * utilisation
        low, high = device.power_low_w * utilisation, device.power_high_w * utilisation
        basis = f"{device.power_w:g} W * utilisation {utilisation:g}: {device.power_source}"
        ranged = NO_RANGE if low == high else "range: spread of the TDP sources"
    seconds = hours * S_PER_HOUR
    return DeviceEnergy(
        kind=device.kind,
        spec=device.spec,
        count=device.count,
        power_w=point,
        power_low_w=low,
        power_high_w=high,
        power_basis=basis,
        range_basis=ranged,
        energy_kwh=point * device.count * seconds / J_PER_KWH,
        energy_low_kwh=low * device.count * seconds / J_PER_KWH,
        energy_high_kwh=high * device.count * seconds / J_PER_KWH,
    )


def embodied_parts(devices: Sequence[Device], servers: int) -> tuple[list[EmbodiedPart], str]:
    """The parts to charge embodied emissions for, and the rule applied: ``servers``
    base servers (each includes one CPU socket: the Teads server is mono-socket), the
    GPU cards, the CPUs beyond one per server, and all memory."""
    parts: list[EmbodiedPart] = []
    if servers:
        parts.append(EmbodiedPart("server", servers, name="base rack server"))
    cpus = 0
    ram_gb = 0.0
    for device in devices:
        if device.kind == "gpu":
            gpu = device.gpu
            parts.append(
                EmbodiedPart(
                    "gpu",
                    device.count,
                    name=device.spec,
                    die_kgco2eq=gpu.embodied_die_kgco2eq if gpu else None,
                    die_source=gpu.embodied_source if gpu else "",
                )
            )
        elif device.kind == "cpu":
            cpus += device.count
        elif device.kind == "ram" and device.memory_gb is not None:
            ram_gb += device.memory_gb
    extra = max(0, cpus - servers)
    if extra:
        parts.append(EmbodiedPart("cpu", extra, name="additional CPU"))
    if ram_gb:
        parts.append(EmbodiedPart("ram", ram_gb, name="memory"))
    dram = embodied_factor(POINT_FACTOR["ram"])
    rule = (
        f"embodied: {servers} base server(s) (the Teads server is mono-socket, so one CPU "
        f"per server is included), {extra} additional CPU(s), "
        f"{sum(d.count for d in devices if d.kind == 'gpu')} GPU card(s), {ram_gb:g} GB "
        f"memory, all of it charged (slightly high: {dram.id}: {dram.notes})"
    )
    return parts, rule


def estimate_footprint(
    hardware: str | Sequence[str | Device],
    hours: float,
    *,
    utilisation: float = 1.0,
    power_per_device_w: float | None = None,
    pue: float | None = None,
    region: str | None = None,
    intensity_g_per_kwh: float | None = None,
    year: int | None = None,
    lifetime_years: float | None = None,
    share: float = 1.0,
    servers: int = 1,
) -> FootprintEstimate:
    """Estimate the energy and emissions of running ``hardware`` for ``hours``.

    ``power_per_device_w`` is the average draw of each GPU (of each CPU when there is
    no GPU) and replaces TDP * utilisation. ``intensity_g_per_kwh`` wins over
    ``region``. ``lifetime_years``, ``share`` and ``servers`` shape the embodied part
    (defaults: Teads/CCF's 4 years, the whole machine, one base server). Every bad
    input raises ``ConfigError``.
    """
    hours = check_positive("hours", hours, "hours of use")
    utilisation = check_utilisation(utilisation)
    given_w = None
    if power_per_device_w is not None:
        given_w = check_positive("power_per_device_w", power_per_device_w, "watts per device")
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise ConfigError(f"servers={servers!r} must be a whole number >= 0")
    devices = resolve_devices(hardware)
    _, intensity, pue_used, warnings = resolve_carbon(region, intensity_g_per_kwh, pue, year)

    given_kind = "gpu" if any(d.kind == "gpu" for d in devices) else "cpu"
    lines = [
        _device_energy(d, hours, utilisation, given_w if d.kind == given_kind else None)
        for d in devices
    ]
    it = sum(x.energy_kwh for x in lines)
    it_low = sum(x.energy_low_kwh for x in lines)
    it_high = sum(x.energy_high_kwh for x in lines)
    energy, energy_low, energy_high = (v * pue_used.value for v in (it, it_low, it_high))
    operational = energy * intensity.g_per_kwh / 1000.0
    operational_low = energy_low * intensity.low_g_per_kwh / 1000.0
    operational_high = energy_high * intensity.high_g_per_kwh / 1000.0

    parts, rule = embodied_parts(devices, servers)
    embodied = embodied_emissions(
        parts, hours * S_PER_HOUR, lifetime_years=lifetime_years, share=share
    )

    for device in devices:
        if device.warning:
            warnings.append(device.warning)
    assumptions = [METHOD]
    for device, line in zip(devices, lines, strict=True):
        assumptions.append(f"{device.count} * {device.spec}: {line.power_basis}")
        assumptions.append(f"{device.spec}: {line.range_basis}")
        if device.gpu is not None and device.gpu.match:
            assumptions.append(f"GPU name {device.gpu.match}")
        if device.gpu is not None and device.gpu.notes:
            assumptions.append(f"{device.spec} (gpu_specs.csv notes): {device.gpu.notes}")
    if given_w is not None:
        assumptions.append(
            f"power_per_device_w={given_w:g} W applies to each {given_kind.upper()} and "
            "replaces TDP * utilisation"
        )
    assumptions.append(f"PUE {pue_used.value:g}: {pue_used.reason}")
    assumptions.append(f"grid intensity: {describe_intensity(intensity)}; {intensity.basis}")
    if intensity.low_g_per_kwh != intensity.high_g_per_kwh:
        assumptions.append(
            f"intensity range {intensity.low_g_per_kwh:g}-{intensity.high_g_per_kwh:g} "
            "gCO2e/kWh: spread of the sources for this place"
        )
    assumptions.append(rule)
    assumptions.extend(embodied.notes)
    assumptions.extend(f"embodied source: {line}" for line in embodied.sources)
    assumptions.append("equivalences are of the operational emissions only")

    return FootprintEstimate(
        quality="estimated",
        hardware=tuple(devices),
        hours=hours,
        utilisation=utilisation,
        devices=tuple(lines),
        it_energy_kwh=it,
        it_energy_low_kwh=it_low,
        it_energy_high_kwh=it_high,
        energy_kwh=energy,
        energy_low_kwh=energy_low,
        energy_high_kwh=energy_high,
        pue=pue_used,
        intensity=intensity,
        operational_kg=operational,
        operational_low_kg=operational_low,
        operational_high_kg=operational_high,
        embodied=embodied,
        embodied_kg=embodied.kg,
        embodied_low_kg=embodied.low_kg,
        embodied_high_kg=embodied.high_kg,
        equivalences=list(equivalences(operational)),
        assumptions=assumptions,
        warnings=warnings,
    )
