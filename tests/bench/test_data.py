import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import torchvision  # type: ignore[import-untyped]

from wattprint.bench import data, zoo
from wattprint.errors import ConfigError


def test_synthetic_cifar_has_cifar_shapes_and_labels(tmp_path: Path) -> None:
    train, test, info = data.cifar10(tmp_path, train_size=20, test_size=10)
    assert info.synthetic and "not found under" in info.reason and "synthetic" in info.reason
    assert (info.num_train, info.num_test, info.sample_shape) == (20, 10, (3, 32, 32))
    assert len(train) == 20 and len(test) == 10
    img, _label = train[3]
    assert img.shape == (3, 32, 32) and img.dtype == torch.float32
    assert [train[i][1] for i in range(10)] == list(range(10))
    assert torch.equal(train[3][0], img)  # deterministic per index
    # learnable: same class images are closer than images of another class
    same = (train[0][0] - train[10][0]).abs().mean()
    other = (train[0][0] - train[1][0]).abs().mean()
    assert same < other


def _write_cifar(root: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny CIFAR-10 in torchvision's pickle layout.

    torchvision verifies each file against the md5 of the real release; the fake files
    get their own md5s registered instead, so the integrity check still runs for real.
    """
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "labels": [int(x) for x in rng.integers(0, 10, n)],
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {"label_names": [f"c{i}" for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))

    def md5(name: str) -> str:
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    cifar = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cifar, "train_list", [[name, md5(name)] for name in names[:5]])
    monkeypatch.setattr(cifar, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(
        cifar,
        "meta",
        {"filename": "batches.meta", "key": "label_names", "md5": md5("batches.meta")},
    )


def test_real_cifar_is_read_from_a_local_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_cifar(tmp_path, 4, monkeypatch)
    train, test, info = data.cifar10(tmp_path, train_size=7)
    assert not info.synthetic and str(tmp_path) in info.reason
    assert (info.num_train, info.num_test) == (7, 4)  # 5 x 4 train capped to 7
    img, label = train[0]
    assert img.shape == (3, 32, 32) and 0 <= label < 10
    batch = zoo.get("resnet50").collate([train[0], test[1]])
    assert batch["inputs"].shape == (2, 3, 32, 32)


def test_synthetic_speech_has_16khz_utterances_and_transcripts() -> None:
    train, _test, info = data.librispeech(None, train_size=3, test_size=2, seconds=0.5)
    assert info.synthetic and info.reason.startswith("no data root given")
    assert info.sample_shape == (8000,) and info.num_classes == len(data.AUDIO_VOCAB)
    wave, text = train[1]
    assert wave.shape == (8000,) and text and set(text) <= set(data.AUDIO_VOCAB[1:])
    assert data.decode_text(data.encode_text(text)) == text


def _write_librispeech(root: Path, subset: str, text: str) -> None:
    folder = root / "LibriSpeech" / subset / "19" / "198"
    folder.mkdir(parents=True)
    wave = 0.1 * np.sin(np.linspace(0, 2000, 24000)).astype(np.float32)
    soundfile.write(str(folder / "19-198-0001.flac"), wave, 16000)
    (folder / "19-198.trans.txt").write_text(f"19-198-0001 {text}\n")


def test_real_librispeech_is_read_from_a_local_root(tmp_path: Path) -> None:
    _write_librispeech(tmp_path, "train-clean-100", "HELLO WORLD")
    _write_librispeech(tmp_path, "test-clean", "GOOD BYE")
    train, test, info = data.librispeech(tmp_path, seconds=1.0)
    assert not info.synthetic and (info.num_train, info.num_test) == (1, 1)
    wave, text = train[0]
    assert text == "HELLO WORLD" and wave.shape == (16000,)  # cut to `seconds`
    assert test[0][1] == "GOOD BYE"
    batch = zoo.get("wav2letter").collate([train[0], test[0]])
    assert batch["target_lengths"].tolist() == [11, 8]


def test_librispeech_with_a_missing_subset_falls_back_and_says_which(tmp_path: Path) -> None:
    _write_librispeech(tmp_path, "train-clean-100", "HELLO")
    _, _, info = data.librispeech(tmp_path, train_size=2, test_size=2)
    assert info.synthetic and "test-clean not found" in info.reason


def test_tokens_are_learnable_sequences() -> None:
    train, _, info = data.tokens(vocab_size=50, seq_len=8, train_size=8, test_size=2)
    assert info.synthetic and info.sample_shape == (8,)
    seq, label = train[5]
    assert seq.dtype == torch.long and seq.shape == (8,)
    assert ((seq[1:] - seq[:-1]) % 50 == label + 1).all()


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"train_size.*-1"):
        data.cifar10(None, train_size=-1)
    with pytest.raises(ConfigError, match="seconds"):
        data.librispeech(None, seconds=0)


def test_synthetic_train_and_test_splits_share_their_classes() -> None:
    """A nearest-class-mean classifier fitted on the train split scores well on the test
    split: the splits draw different samples of the same classes."""
    train, test, _ = data.cifar10(train_size=200, test_size=100)
    means = torch.stack(
        [
            torch.stack([train[i][0] for i in range(len(train)) if train[i][1] == c]).mean(0)
            for c in range(10)
        ]
    )
    hits = 0
    for i in range(len(test)):
        image, label = test[i]
        distances = ((means - image) ** 2).flatten(1).sum(1)
        hits += int(distances.argmin()) == label
    assert hits / len(test) > 0.9
