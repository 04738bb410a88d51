"""Loading the raw splits: local files of every format, folders split by file name, the
eval-split rules, sample caps, and Hub ids read from the local cache only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
from huggingface_hub import constants

from tests.finetune.fixtures import FORMATS, rows, write_dataset, write_records
from wattprint.errors import ConfigError
from wattprint.finetune.data import load_raw
from wattprint.finetune.spec import FinetuneSpec

TASK = "text-classification"


def spec(dataset: Path | str, **extra: Any) -> FinetuneSpec:
    return FinetuneSpec.build(task=TASK, model="m", dataset=str(dataset), **extra)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_file_format_loads_with_a_seeded_tenth_held_out(tmp_path: Path, fmt: str) -> None:
    path = write_dataset(TASK, tmp_path, fmt, n=40)
    raw = load_raw(spec(path))
    assert set(raw) == {"train", "eval"}
    assert (len(raw["train"]), len(raw["eval"])) == (36, 4)
    assert raw["train"].column_names == ["c0", "c1"]
    loaded = sorted([*raw["train"]["c0"], *raw["eval"]["c0"]])
    assert loaded == sorted(r["c0"] for r in rows(TASK, 40))
    assert any("4 of the 40 training examples (10%, seed 42)" in n for n in raw.notes)


def test_nested_columns_survive_json_and_parquet(tmp_path: Path) -> None:
    for fmt in ("json", "parquet"):
        raw = load_raw(spec(write_dataset("question-answering", tmp_path / fmt, fmt)))
        first = raw["train"][0]["c2"]
        assert set(first) == {"text", "answer_start"} and isinstance(first["text"], list)


def test_the_held_out_split_depends_on_the_seed_only(tmp_path: Path) -> None:
    path = write_dataset(TASK, tmp_path, "csv", n=40)

    def held_out(seed: int) -> list[str]:
        raw = load_raw(spec(path, seed=seed))
        assert not set(raw["eval"]["c0"]) & set(raw["train"]["c0"])
        return list(raw["eval"]["c0"])

    assert held_out(1) == held_out(1)
    assert held_out(1) != held_out(2)


@pytest.mark.parametrize(
    ("files", "expected", "eval_size"),
    [
        (("train", "validation"), "validation", 11),
        (("train", "test"), "test", 11),
        (("train", "dev", "test"), "validation", 11),  # "dev" means validation, preferred
        (("train", "eval"), "validation", 11),
    ],
)
def test_a_folder_is_split_by_file_name_and_validation_or_test_evaluates(
    tmp_path: Path, files: tuple[str, ...], expected: str, eval_size: int
) -> None:
    for i, name in enumerate(files):
        write_records(rows(TASK, 10 + i, seed=i), tmp_path / f"my_{name}_part.csv")
    raw = load_raw(spec(tmp_path))
    assert len(raw["train"]) == 10
    assert len(raw["eval"]) == eval_size
    assert f"eval split: {expected!r} (found in the dataset)" in raw.notes


def test_eval_split_chosen_by_the_user_or_an_error_listing_the_splits(tmp_path: Path) -> None:
    for i, name in enumerate(("train", "validation", "test")):
        write_dataset(TASK, tmp_path, "jsonl", n=10 + i, split=name)
    raw = load_raw(spec(tmp_path, eval_split="test"))
    assert len(raw["eval"]) == 12 and "eval split: 'test' (set by you)" in raw.notes
    with pytest.raises(ConfigError, match=r"eval_split='dev'.*splits found: test, train, valid"):
        load_raw(spec(tmp_path, eval_split="dev"))
    with pytest.raises(ConfigError, match=r"train_split='all' is not a split.*found: test, train"):
        load_raw(spec(tmp_path, train_split="all"))


def test_sample_caps_apply_after_the_split(tmp_path: Path) -> None:
    path = write_dataset(TASK, tmp_path, "parquet", n=100)
    raw = load_raw(spec(path, max_train_samples=7, max_eval_samples=3))
    assert (len(raw["train"]), len(raw["eval"])) == (7, 3)
    assert "train: the first 7 of 90 examples" in raw.notes
    uncapped = load_raw(spec(path, max_train_samples=500))
    assert (len(uncapped["train"]), len(uncapped["eval"])) == (90, 10)


def test_a_single_example_cannot_be_split(tmp_path: Path) -> None:
    path = write_dataset(TASK, tmp_path, "csv", n=1)
    with pytest.raises(ConfigError, match="has 1 example and there is no validation"):
        load_raw(spec(path))


def test_bad_local_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_raw(spec(tmp_path / "missing.csv"))
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(ConfigError, match=r"files of one format are accepted \(.csv, .json"):
        load_raw(spec(text))
    mixed = tmp_path / "mixed"
    write_dataset(TASK, mixed, "csv")
    write_dataset(TASK, mixed, "parquet", split="test")
    with pytest.raises(ConfigError, match=r"found \.csv, \.parquet"):
        load_raw(spec(mixed))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no data file"):
        load_raw(spec(empty))


@pytest.mark.timeout(30)
def test_a_hub_id_not_in_the_cache_is_one_error_and_nothing_is_downloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The environment says offline (conftest); the loader must force offline mode itself,
    # so the libraries' own switches are turned back on here.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(ConfigError) as caught:
        load_raw(spec("someone/not-cached", dataset_config="small"))
    message = str(caught.value)
    assert "dataset someone/not-cached (config 'small') is not in the local Hugging Face" in message
    assert "nothing is downloaded" in message and "local CSV/JSON/JSONL/Parquet" in message
    assert "OfflineModeIsEnabled" in message  # refused before any request
    assert datasets.config.HF_HUB_OFFLINE is False  # restored afterwards


def cache_hub_dataset(repo_id: str, files: dict[str, str], cache: Path) -> None:
    """Put ``files`` in the datasets cache as the Hub dataset ``repo_id`` would be after
    one online load (``<owner>___<name>/<config>/<version>/<hash>``)."""
    from datasets.packaged_modules.parquet.parquet import Parquet

    name = repo_id.split("/")[1]
    builder = Parquet(
        data_files=files, cache_dir=str(cache / "build"), dataset_name=name, hash="0" * 16
    )
    builder.download_and_prepare()
    target = cache / repo_id.replace("/", "___")
    target.mkdir()
    Path(builder.cache_dir).parent.parent.rename(target / "default")


def test_a_hub_id_in_the_local_cache_loads_offline(tmp_path: Path, hf_cache: Path) -> None:
    files = {
        split: str(write_dataset(TASK, tmp_path, "parquet", n=n, split=split))
        for split, n in (("train", 20), ("validation", 5))
    }
    cache_hub_dataset("someone/tiny-reviews", files, hf_cache)
    raw = load_raw(spec("someone/tiny-reviews", dataset_config="default"))
    assert (len(raw["train"]), len(raw["eval"])) == (20, 5)
    assert "eval split: 'validation' (found in the dataset)" in raw.notes
