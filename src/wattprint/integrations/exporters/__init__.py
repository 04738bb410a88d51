"""Exporters: tracker sinks that forward a run's energy to MLflow, TensorBoard and
Prometheus while it runs.

>>> import wattprint                                                   # doctest: +SKIP
>>> from wattprint.integrations.exporters import MlflowExporter       # doctest: +SKIP
>>> with wattprint.track(sinks=[MlflowExporter()]):                   # doctest: +SKIP
...     train()

Importing this package costs nothing: each exporter's module, and the library it
drives (``mlflow``, ``torch.utils.tensorboard``, ``prometheus_client``), is imported
when the exporter is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["MlflowExporter", "PrometheusExporter", "TensorBoardExporter"]

if TYPE_CHECKING:
    from wattprint.integrations.exporters.mlflow import MlflowExporter
    from wattprint.integrations.exporters.prometheus import PrometheusExporter
    from wattprint.integrations.exporters.tensorboard import TensorBoardExporter

_LAZY = {
    "MlflowExporter": "wattprint.integrations.exporters.mlflow",
    "PrometheusExporter": "wattprint.integrations.exporters.prometheus",
    "TensorBoardExporter": "wattprint.integrations.exporters.tensorboard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
