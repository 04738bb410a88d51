"""Load a fine-tuning dataset as two splits, ``train`` and ``eval``, never downloading.

``spec.dataset`` is a local CSV/JSON/JSONL/Parquet file, a folder of them (split names
taken from the file names: ``train.csv``, ``validation.csv``...), or a Hugging Face Hub id
read from the local cache only. The eval split is ``spec.eval_split`` if given, else
``validation`` or ``test`` when present, else a seeded 10 % of the training split; the
choice is written in :attr:`Splits.notes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import datasets
from datasets import Dataset, DatasetDict

from wattprint.errors import ConfigError
from wattprint.finetune.spec import FinetuneSpec

__all__ = ["EVAL_FRACTION", "FORMATS", "Splits", "load_raw"]

#: Loader of ``datasets`` for each accepted file suffix.
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
#: Share of the training split held out for evaluation when the dataset has no eval split.
EVAL_FRACTION = 0.1
#: Split names recognised in file names, and the split each one means.
_SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
    "eval": "validation",
}


class Splits(DatasetDict):  # type: ignore[misc]  # datasets ships no type information
    """``{"train": ..., "eval": ...}`` and the notes on how they were found."""

    notes: tuple[str, ...] = ()


def load_raw(spec: FinetuneSpec) -> Splits:
    """The training and evaluation splits of ``spec.dataset``, sized by
    ``max_train_samples`` / ``max_eval_samples``."""
    notes: list[str] = []
    path = Path(spec.dataset).expanduser()
    if path.exists():
        found = _load_local(path, spec, notes)
    elif _looks_like_path(spec.dataset):
        raise ConfigError(f"dataset file {spec.dataset!r} does not exist")
    else:
        found = _load_hub(spec)
        notes.append(f"dataset: {spec.dataset!r} from the local Hugging Face cache")
    train, evaluation = _choose_splits(found, spec, notes)
    splits = Splits(
        train=_cap(train, spec.max_train_samples, "train", notes),
        eval=_cap(evaluation, spec.max_eval_samples, "eval", notes),
    )
    splits.notes = tuple(notes)
    return splits


def _looks_like_path(name: str) -> bool:
    """A name that cannot be a Hub id (``owner/name``): a suffix, a leading ``./``, ``/`` or
    ``~``, or several folders."""
    return (
        Path(name).suffix.lower() in FORMATS
        or name.startswith((".", "/", "~"))
        or name.count("/") > 1
    )


def _load_local(path: Path, spec: FinetuneSpec, notes: list[str]) -> dict[str, Dataset]:
    """A file (the training split) or a folder of files grouped into splits by name."""
    files = {spec.train_split: [path]} if path.is_file() else _files_by_split(path)
    loaders = {FORMATS.get(f.suffix.lower()) for group in files.values() for f in group}
    if None in loaders or len(loaders) != 1:
        suffixes = sorted({f.suffix or f.name for group in files.values() for f in group})
        raise ConfigError(
            f"dataset {str(path)!r}: files of one format are accepted ({', '.join(FORMATS)}); "
            f"found {', '.join(suffixes)}"
        )
    (loader,) = loaders
    data_files = {split: [str(f) for f in group] for split, group in files.items()}
    try:
        loaded = datasets.load_dataset(loader, data_files=data_files)
    except Exception as exc:  # pyarrow/pandas parse errors have no common base class
        raise ConfigError(f"cannot read dataset {str(path)!r} as {loader}: {exc}") from None
    notes.append(
        "dataset: "
        + "; ".join(
            f"{split} from {', '.join(f.name for f in group)}" for split, group in files.items()
        )
    )
    return dict(loaded)


def _files_by_split(folder: Path) -> dict[str, list[Path]]:
    """The data files under ``folder`` (hidden ones left out), grouped by the split word
    in their names (files without one are training files)."""
    files = sorted(
        f
        for f in folder.rglob("*")
        if f.is_file()
        and f.suffix.lower() in FORMATS
        and not any(part.startswith(".") for part in f.relative_to(folder).parts)
    )
    if not files:
        raise ConfigError(
            f"dataset folder {str(folder)!r} holds no data file ({', '.join(FORMATS)})"
        )
    groups: dict[str, list[Path]] = {}
    for f in files:
        words = re.split(r"[^a-z]+", f.stem.lower())
        split = next((_SPLIT_WORDS[w] for w in words if w in _SPLIT_WORDS), "train")
        groups.setdefault(split, []).append(f)
    return groups


def _load_hub(spec: FinetuneSpec) -> dict[str, Dataset]:
    """A Hub dataset from the local cache; one ``ConfigError`` when it is not there."""
    name = spec.dataset + (f" (config {spec.dataset_config!r})" if spec.dataset_config else "")
    try:
        with _offline():
            loaded = datasets.load_dataset(spec.dataset, spec.dataset_config)
    except Exception as exc:  # datasets raises ConnectionError, FileNotFoundError, ValueError...
        raise ConfigError(
            f"dataset {name} is not in the local Hugging Face cache "
            f"({datasets.config.HF_DATASETS_CACHE}) and nothing is downloaded: load it once "
            "with network access, or pass a local CSV/JSON/JSONL/Parquet file or a folder "
            f"of them ({type(exc).__name__}: {exc})"
        ) from None
    return dict(loaded)


@contextmanager
def _offline() -> Iterator[None]:
    """Hub offline mode for the duration of a load, whatever the environment says."""
    from huggingface_hub import constants

    saved = datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


def _choose_splits(
    found: dict[str, Dataset], spec: FinetuneSpec, notes: list[str]
) -> tuple[Dataset, Dataset]:
    """The training split and the eval split, by the rules in the module docstring."""
    listed = ", ".join(found)
    if spec.train_split not in found:
        raise ConfigError(
            f"train_split={spec.train_split!r} is not a split of {spec.dataset!r}; "
            f"splits found: {listed}"
        )
    train = found[spec.train_split]
    if len(train) == 0:
        raise ConfigError(f"the {spec.train_split!r} split of {spec.dataset!r} is empty")
    if spec.eval_split is not None:
        if spec.eval_split not in found:
            raise ConfigError(
                f"eval_split={spec.eval_split!r} is not a split of {spec.dataset!r}; "
                f"splits found: {listed}"
            )
        notes.append(f"eval split: {spec.eval_split!r} (set by you)")
        return train, found[spec.eval_split]
    for split in ("validation", "test"):
        if split in found and split != spec.train_split:
            notes.append(f"eval split: {split!r} (found in the dataset)")
            return train, found[split]
    if len(train) < 2:
        raise ConfigError(
            f"the {spec.train_split!r} split has {len(train)} example and there is no "
            "validation or test split to evaluate on: give more examples or an eval split"
        )
    held = train.train_test_split(test_size=EVAL_FRACTION, seed=spec.seed)
    notes.append(
        f"eval split: none found (splits: {listed}), so {len(held['test'])} of the "
        f"{len(train)} training examples ({EVAL_FRACTION:.0%}, seed {spec.seed}) are held out"
    )
    return held["train"], held["test"]


def _cap(dataset: Dataset, limit: int | None, split: str, notes: list[str]) -> Dataset:
    """The first ``limit`` examples of ``dataset`` (all when ``limit`` is None)."""
    if limit is None or len(dataset) <= limit:
        return dataset
    notes.append(f"{split}: the first {limit} of {len(dataset)} examples")
    return dataset.select(range(limit))
