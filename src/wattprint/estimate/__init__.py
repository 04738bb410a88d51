"""Ex-ante estimates: the hardware * hours calculator (Green Algorithms / ML CO2 Impact),
the life-cycle model ``E_life = CT + T + I * e`` (Gitzel et al.) and FLOP-based
training estimates. Pure functions returning frozen dataclasses (JSON-able with
``dataclasses.asdict``). Names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wattprint.estimate.calculator import DeviceEnergy, FootprintEstimate, estimate_footprint
    from wattprint.estimate.flops import FlopsEstimate, estimate_flops_energy, transformer_flops
    from wattprint.estimate.hardware_spec import Device, parse_hardware
    from wattprint.estimate.lifecycle import (
        InferenceRun,
        Joules,
        KWh,
        LifecycleEmissions,
        LifecycleEstimate,
        PhaseEnergy,
        lifecycle_energy,
        training_energy_from_inference,
    )

_LAZY = {
    "DeviceEnergy": "wattprint.estimate.calculator",
    "FootprintEstimate": "wattprint.estimate.calculator",
    "estimate_footprint": "wattprint.estimate.calculator",
    "FlopsEstimate": "wattprint.estimate.flops",
    "estimate_flops_energy": "wattprint.estimate.flops",
    "transformer_flops": "wattprint.estimate.flops",
    "Device": "wattprint.estimate.hardware_spec",
    "parse_hardware": "wattprint.estimate.hardware_spec",
    "InferenceRun": "wattprint.estimate.lifecycle",
    "Joules": "wattprint.estimate.lifecycle",
    "KWh": "wattprint.estimate.lifecycle",
    "LifecycleEmissions": "wattprint.estimate.lifecycle",
    "LifecycleEstimate": "wattprint.estimate.lifecycle",
    "PhaseEnergy": "wattprint.estimate.lifecycle",
    "lifecycle_energy": "wattprint.estimate.lifecycle",
    "training_energy_from_inference": "wattprint.estimate.lifecycle",
}

__all__ = [
    "Device",
    "DeviceEnergy",
    "FlopsEstimate",
    "FootprintEstimate",
    "InferenceRun",
    "Joules",
    "KWh",
    "LifecycleEmissions",
    "LifecycleEstimate",
    "PhaseEnergy",
    "estimate_flops_energy",
    "estimate_footprint",
    "lifecycle_energy",
    "parse_hardware",
    "training_energy_from_inference",
    "transformer_flops",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint.estimate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
