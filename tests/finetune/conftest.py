"""Fine-tuning tests run offline: the Hub and datasets refuse the network, and datasets
caches under the test session's temporary folder."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
from huggingface_hub import constants


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf-datasets-cache")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, hf_cache: Path) -> None:
    """HF_HUB_OFFLINE / HF_DATASETS_OFFLINE set, and the values the libraries read at
    import time patched too (they were imported before this fixture ran)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", hf_cache)
