"""Energy of a training (or inference) from its FLOPs::

    FLOPs    = 6 * P * T  (training)  or  2 * P * T  (inference)    dense transformers
    time_s   = FLOPs / (count * peak_FLOP/s * efficiency)
    energy_J = time_s * count * power_W * PUE  =  FLOPs / (peak * efficiency) * power * PUE

``P`` is the number of parameters and ``T`` of tokens (Kaplan et al. 2020, "Scaling
Laws for Neural Language Models", section 2.1: about 2 FLOPs per parameter per token
forward, twice that backward). ``peak`` is the dense peak of the GPU at the chosen
precision from ``gpu_specs.csv``. ``efficiency`` is the model FLOPs utilisation (MFU):
the share of the peak the training actually achieves. Note that the device count
changes the time, not the energy.

Default efficiency: 46.2 %, the MFU of PaLM 540B on 6144 TPU v4 chips (Chowdhery et al.
2022, "PaLM: Scaling Language Modeling with Pathways", arXiv:2204.02311, Table 3), a
well-optimised large run. The same table gives 21.3 % for GPT-3, 32.5 % for Gopher and
30.2 % for Megatron-Turing NLG; with the default, the energy range spans 21.3-46.2 %.
Give your own ``efficiency`` when you know it: then there is no efficiency range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from wattprint.carbon.intensity import Intensity, describe_intensity
from wattprint.carbon.pue import Pue
from wattprint.errors import ConfigError
from wattprint.estimate.calculator import check_positive, resolve_carbon, resolve_devices
from wattprint.hardware.gpu import GpuSpec

J_PER_KWH = 3.6e6
TFLOPS = 1e12

MFU_DEFAULT = 0.462
MFU_LOW = 0.213
MFU_SOURCE = (
    "model FLOPs utilisation of PaLM 540B, 46.2 % (6144 TPU v4 chips), Chowdhery et al. "
    "2022, 'PaLM: Scaling Language Modeling with Pathways', arXiv:2204.02311, Table 3; "
    "range down to GPT-3's 21.3 % in the same table (Gopher 32.5 %, MT-NLG 30.2 %)"
)
FLOPS_SOURCE = (
    "Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', arXiv:2001.08361, "
    "section 2.1: C ≈ 6 P T for training (forward 2 P T, backward 4 P T), 2 P T for inference"
)
FLOPS_PER_PARAM_TOKEN = {"training": 6.0, "inference": 2.0}

Precision = Literal["fp32", "tf32", "bf16", "fp16", "fp8"]
PRECISION_COLUMNS: dict[str, str] = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tensor_tflops",
    "bf16": "fp16_bf16_tensor_tflops",
    "fp16": "fp16_bf16_tensor_tflops",
    "fp8": "fp8_tflops",
}
"""Precision → column of ``gpu_specs.csv`` (dense peak; tensor-core figures where the
table has them: training at 16 bits runs on tensor cores)."""


@dataclass(frozen=True)
class FlopsEstimate:
    """Time and energy of a job of ``flops`` FLOPs on ``count`` * ``gpu``.

    ``time_s`` is wall-clock time; ``it_energy_j`` the devices' energy, ``energy_j``
    with PUE. Low-high bounds follow the efficiency range (default only) and the GPU's
    power range (TDP vs CCF max watts, where CCF lists the model)."""

    quality: str
    flops: float
    flops_basis: str
    gpu: GpuSpec
    count: int
    precision: str
    peak_flops_per_s: float
    efficiency: float
    efficiency_low: float
    efficiency_high: float
    efficiency_source: str
    time_s: float
    time_low_s: float
    time_high_s: float
    device_hours: float
    power_w: float
    power_low_w: float
    power_high_w: float
    power_source: str
    pue: Pue
    it_energy_j: float
    energy_j: float
    energy_low_j: float
    energy_high_j: float
    energy_kwh: float
    energy_low_kwh: float
    energy_high_kwh: float
    intensity: Intensity
    operational_kg: float
    operational_low_kg: float
    operational_high_kg: float
    assumptions: list[str]
    warnings: list[str]


def transformer_flops(
    params: float, tokens: float, mode: Literal["training", "inference"] = "training"
) -> float:
    """``6 * P * T`` (training) or ``2 * P * T`` (inference) for a dense transformer."""
    if mode not in FLOPS_PER_PARAM_TOKEN:
        raise ConfigError(f"mode={mode!r}: accepted: {', '.join(FLOPS_PER_PARAM_TOKEN)}")
    p = check_positive("params", params, "number of parameters")
    t = check_positive("tokens", tokens, "number of tokens")
    return FLOPS_PER_PARAM_TOKEN[mode] * p * t


def peak_flops_per_s(gpu: GpuSpec, precision: str) -> float:
    """Dense peak FLOP/s of ``gpu`` at ``precision``; ``ConfigError`` listing the
    precisions the table has for it when that one is missing."""
    column = PRECISION_COLUMNS.get(precision)
    if column is None:
        raise ConfigError(f"precision={precision!r}: accepted: {', '.join(PRECISION_COLUMNS)}")
    tflops = getattr(gpu, column)
    if tflops is None or tflops <= 0:
        have = [p for p, c in PRECISION_COLUMNS.items() if getattr(gpu, c)]
        raise ConfigError(
            f"gpu_specs.csv has no {precision} peak for {gpu.name!r}; it has: "
            f"{', '.join(have) or 'none'}"
        )
    return float(tflops) * TFLOPS


def estimate_flops_energy(
    hardware: str,
    *,
    flops: float | None = None,
    params: float | None = None,
    tokens: float | None = None,
    mode: Literal["training", "inference"] = "training",
    precision: str = "bf16",
    efficiency: float | None = None,
    power_per_device_w: float | None = None,
    pue: float | None = None,
    region: str | None = None,
    intensity_g_per_kwh: float | None = None,
    year: int | None = None,
) -> FlopsEstimate:
    """Time and energy to compute ``flops`` (or ``6·P·T`` / ``2·P·T`` from ``params``
    and ``tokens``) on ``hardware`` (one GPU item, e.g. ``"8xA100-80GB"``).

    Power per device is the GPU's TDP (a run at high MFU keeps the GPU near its power
    limit) unless ``power_per_device_w`` is given. PUE: the value given, else the cloud
    region's, else the industry average.
    """
    if flops is not None:
        if params is not None or tokens is not None:
            raise ConfigError("give either flops= or params= and tokens=, not both")
        total = check_positive("flops", flops, "floating-point operations")
        flops_basis = f"{total:.4g} FLOPs given"
    elif params is not None and tokens is not None:
        total = transformer_flops(params, tokens, mode)
        factor = FLOPS_PER_PARAM_TOKEN[mode]
        flops_basis = f"{factor:g} * {params:.4g} parameters * {tokens:.4g} tokens ({mode})"
    else:
        raise ConfigError("the amount of compute is missing: give flops= or params= and tokens=")

    devices = resolve_devices(hardware)
    if len(devices) != 1 or devices[0].kind != "gpu" or devices[0].gpu is None:
        raise ConfigError(
            f"hardware {hardware!r}: accepted: one GPU item such as '8xA100-80GB' or 'H100'"
        )
    device = devices[0]
    gpu = device.gpu
    assert gpu is not None
    peak = peak_flops_per_s(gpu, precision)

    if efficiency is None:
        eff, eff_low, eff_high, eff_source = MFU_DEFAULT, MFU_LOW, MFU_DEFAULT, MFU_SOURCE
    else:
        eff = check_positive("efficiency", efficiency, "model FLOPs utilisation, in (0, 1]")
        if eff > 1:
            raise ConfigError(
                f"efficiency={efficiency!r} must be in (0, 1]: the share of the peak "
                "FLOP/s achieved (model FLOPs utilisation)"
            )
        eff_low = eff_high = eff
        eff_source = "given by the user"

    if power_per_device_w is not None:
        power = check_positive("power_per_device_w", power_per_device_w, "watts per device")
        power_low = power_high = power
        power_source = "given by the user (power_per_device_w)"
    else:
        power, power_low, power_high = device.power_w, device.power_low_w, device.power_high_w
        power_source = device.power_source

    _, intensity, pue_used, carbon_warnings = resolve_carbon(region, intensity_g_per_kwh, pue, year)
    count = device.count
    time_s = total / (count * peak * eff)
    time_low_s = total / (count * peak * eff_high)
    time_high_s = total / (count * peak * eff_low)
    it_energy = time_s * count * power
    energy = it_energy * pue_used.value
    energy_low = time_low_s * count * power_low * pue_used.value
    energy_high = time_high_s * count * power_high * pue_used.value

    column = PRECISION_COLUMNS[precision]
    assumptions = [
        "energy = FLOPs / (peak * efficiency) * power * PUE; "
        "time = FLOPs / (count * peak * efficiency)",
        f"FLOPs: {flops_basis}" + ("" if flops is not None else f"; {FLOPS_SOURCE}"),
        f"peak: {peak / TFLOPS:g} TFLOPS {precision} per {gpu.name} (gpu_specs.csv {column}, "
        f"dense; {gpu.source})",
        f"efficiency (MFU) {eff:g}: {eff_source}",
        f"power {power:g} W per device: {power_source}",
        f"PUE {pue_used.value:g}: {pue_used.reason}",
        f"grid intensity: {describe_intensity(intensity)}; {intensity.basis}",
    ]
    if gpu.match:
        assumptions.append(f"GPU name {gpu.match}")
    warnings = [*carbon_warnings, *([device.warning] if device.warning else [])]
    if not math.isfinite(energy_high):  # pragma: no cover - guarded by the checks above
        raise ConfigError("the inputs overflow: check flops, params and tokens")
    return FlopsEstimate(
        quality="estimated",
        flops=total,
        flops_basis=flops_basis,
        gpu=gpu,
        count=count,
        precision=precision,
        peak_flops_per_s=peak,
        efficiency=eff,
        efficiency_low=eff_low,
        efficiency_high=eff_high,
        efficiency_source=eff_source,
        time_s=time_s,
        time_low_s=time_low_s,
        time_high_s=time_high_s,
        device_hours=time_s * count / 3600.0,
        power_w=power,
        power_low_w=power_low,
        power_high_w=power_high,
        power_source=power_source,
        pue=pue_used,
        it_energy_j=it_energy,
        energy_j=energy,
        energy_low_j=energy_low,
        energy_high_j=energy_high,
        energy_kwh=energy / J_PER_KWH,
        energy_low_kwh=energy_low / J_PER_KWH,
        energy_high_kwh=energy_high / J_PER_KWH,
        intensity=intensity,
        operational_kg=energy / J_PER_KWH * intensity.g_per_kwh / 1000.0,
        operational_low_kg=energy_low / J_PER_KWH * intensity.low_g_per_kwh / 1000.0,
        operational_high_kg=energy_high / J_PER_KWH * intensity.high_g_per_kwh / 1000.0,
        assumptions=assumptions,
        warnings=warnings,
    )
