"""Datasets of the benchmark suite, with offline synthetic stand-ins.

Each family has one function returning ``(train, test, info)``. The real dataset is read
from a local root when it is there (never downloaded); otherwise a generated stand-in of
the same shapes is returned and :class:`DataInfo` says so (``synthetic=True`` and a
``reason``). Synthetic samples are generated per index from a seed, so they cost no
memory and are reproducible, and they are learnable (labels depend on the input), so a
quality metric can improve during a benchmark run.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

from wattprint.errors import ConfigError

__all__ = [
    "AUDIO_BLANK",
    "AUDIO_VOCAB",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "SAMPLE_RATE",
    "DataInfo",
    "cifar10",
    "decode_text",
    "encode_text",
    "librispeech",
    "tokens",
]

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
SAMPLE_RATE = 16_000
#: CTC vocabulary: index 0 is the blank, then these characters (LibriSpeech's alphabet).
AUDIO_VOCAB = "_ 'abcdefghijklmnopqrstuvwxyz"
AUDIO_BLANK = 0
#: Characters the synthetic speech uses (a subset, so one utterance fits in ~1 s).
_SYNTH_CHARS = "abcdefgh "


@dataclass(frozen=True)
class DataInfo:
    """What a benchmark dataset is, and whether it is the real one."""

    name: str
    synthetic: bool
    reason: str
    num_train: int
    num_test: int
    sample_shape: tuple[int, ...]
    num_classes: int


def _check_size(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise ConfigError(f"{name} must be a positive integer or None, got {value!r}")


def _subset(ds: Dataset[Any], size: int | None) -> Dataset[Any]:
    n = len(ds)  # type: ignore[arg-type]
    if size is None or size >= n:
        return ds
    return Subset(ds, range(size))


T_co = TypeVar("T_co", covariant=True)


def _generator(seed: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


class _Generated(Dataset[T_co]):
    """A dataset of ``size`` samples, each built from its own seeded generator: no
    memory held, and the same sample for the same index every time."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed

    def __len__(self) -> int:
        return self.size

    def _rng(self, index: int) -> torch.Generator:
        """The generator of sample ``index``; ``IndexError`` outside the dataset."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        return _generator(self.seed, index)


# --------------------------------------------------------------------------- vision


def _normalise(img: Tensor) -> Tensor:
    """uint8-range (3, H, W) tensor -> float, normalised with CIFAR-10 statistics."""
    mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(3, 1, 1)
    return (img.float() / 255.0 - mean) / std


class SyntheticImages(_Generated[tuple[Tensor, int]]):
    """CIFAR-shaped images whose colour and stripe pattern depend on the class."""

    def __init__(
        self, size: int, *, num_classes: int = 10, seed: int = 0, palette_seed: int = 0
    ) -> None:
        super().__init__(size, seed)
        self.num_classes = num_classes
        palette = _generator(palette_seed, -1)  # the same classes in every split
        self._colours = torch.randint(40, 216, (num_classes, 3), generator=palette)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        g = self._rng(index)
        label = index % self.num_classes
        ys = torch.arange(32).view(32, 1).float()
        xs = torch.arange(32).view(1, 32).float()
        freq = 1 + label % 5
        horizontal = label % 2 == 0
        stripes = torch.sin((ys if horizontal else xs) * freq * math.pi / 8.0).expand(32, 32)
        img = self._colours[label].view(3, 1, 1).float() + 30.0 * stripes
        img = img + 25.0 * torch.randn(3, 32, 32, generator=g)
        return _normalise(img.clamp(0, 255).round()), label


def cifar10(
    root: str | os.PathLike[str] | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
) -> tuple[Dataset[tuple[Tensor, int]], Dataset[tuple[Tensor, int]], DataInfo]:
    """CIFAR-10 from ``root`` (``cifar-10-batches-py`` inside it) or a synthetic stand-in.

    Items are ``(image, label)`` with ``image`` a normalised float tensor (3, 32, 32).
    ``train_size``/``test_size`` cap the number of samples (synthetic default:
    50,000/10,000, as CIFAR-10).
    """
    _check_size("train_size", train_size)
    _check_size("test_size", test_size)
    shape = (3, 32, 32)
    where = Path(root) / "cifar-10-batches-py" if root is not None else None
    if where is not None and where.is_dir():
        import torchvision  # type: ignore[import-untyped]
        from torchvision import transforms

        tf = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)]
        )
        full_train = torchvision.datasets.CIFAR10(
            str(root), train=True, transform=tf, download=False
        )
        full_test = torchvision.datasets.CIFAR10(
            str(root), train=False, transform=tf, download=False
        )
        train, test = _subset(full_train, train_size), _subset(full_test, test_size)
        info = DataInfo(
            name="cifar10",
            synthetic=False,
            reason=f"CIFAR-10 read from {where}",
            num_train=len(train),  # type: ignore[arg-type]
            num_test=len(test),  # type: ignore[arg-type]
            sample_shape=shape,
            num_classes=10,
        )
        return train, test, info
    why = "no data root given" if root is None else f"CIFAR-10 not found under {root}"
    n_train = train_size or 50_000
    n_test = test_size or 10_000
    info = DataInfo(
        name="cifar10",
        synthetic=True,
        reason=f"{why}: synthetic stand-in of the same shapes",
        num_train=n_train,
        num_test=n_test,
        sample_shape=shape,
        num_classes=10,
    )
    return (
        SyntheticImages(n_train, seed=seed, palette_seed=seed),
        SyntheticImages(n_test, seed=seed + 1, palette_seed=seed),
        info,
    )


# --------------------------------------------------------------------------- audio


def encode_text(text: str) -> list[int]:
    """Transcript -> CTC label indices (characters outside the vocabulary are dropped)."""
    return [AUDIO_VOCAB.index(c) for c in text.lower() if c in AUDIO_VOCAB[1:]]


def decode_text(indices: list[int]) -> str:
    """CTC label indices (no blanks) -> text."""
    return "".join(AUDIO_VOCAB[i] for i in indices if i != AUDIO_BLANK)


class SyntheticSpeech(_Generated[tuple[Tensor, str]]):
    """16 kHz 'utterances': one tone per character of a random transcript."""

    def __init__(
        self, size: int, *, seconds: float = 1.0, chars_per_utterance: int = 5, seed: int = 0
    ) -> None:
        super().__init__(size, seed)
        self.num_samples = int(SAMPLE_RATE * seconds)
        self.chars = chars_per_utterance

    def __getitem__(self, index: int) -> tuple[Tensor, str]:
        g = self._rng(index)
        picks = torch.randint(0, len(_SYNTH_CHARS), (self.chars,), generator=g).tolist()
        text = "".join(_SYNTH_CHARS[i] for i in picks).strip() or "a"
        seg = self.num_samples // self.chars
        t = torch.arange(seg).float() / SAMPLE_RATE
        parts = []
        for i in picks:
            freq = 300.0 + 150.0 * i
            parts.append(
                0.0 * t if _SYNTH_CHARS[i] == " " else 0.5 * torch.sin(2 * math.pi * freq * t)
            )
        wave = torch.cat(parts)
        wave = torch.nn.functional.pad(wave, (0, self.num_samples - wave.numel()))
        wave = wave + 0.01 * torch.randn(self.num_samples, generator=g)
        return wave, text


class _LibriSpeechItems(Dataset[tuple[Tensor, str]]):
    """torchaudio's LIBRISPEECH index, read with soundfile; items ``(waveform, transcript)``."""

    def __init__(self, root: Path, url: str, max_seconds: float | None) -> None:
        import torchaudio  # type: ignore[import-untyped]

        self._ds = torchaudio.datasets.LIBRISPEECH(str(root), url=url, download=False)
        self._archive = root / "LibriSpeech"
        self._max = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)

    def __len__(self) -> int:
        return len(self._ds)

    def __getitem__(self, index: int) -> tuple[Tensor, str]:
        import soundfile  # type: ignore[import-untyped]

        relpath, _sr, transcript, *_ = self._ds.get_metadata(index)
        data, _rate = soundfile.read(str(self._archive / relpath), dtype="float32")
        wave = torch.from_numpy(data)
        if wave.dim() > 1:
            wave = wave.mean(dim=1)
        if self._max is not None:
            wave = wave[: self._max]
        return wave, str(transcript)


def librispeech(
    root: str | os.PathLike[str] | None = None,
    *,
    train_url: str = "train-clean-100",
    test_url: str = "test-clean",
    train_size: int | None = None,
    test_size: int | None = None,
    seconds: float = 1.0,
    seed: int = 0,
) -> tuple[Dataset[tuple[Tensor, str]], Dataset[tuple[Tensor, str]], DataInfo]:
    """LibriSpeech from ``root`` (``LibriSpeech/<url>`` inside it) or synthetic speech.

    Items are ``(waveform, transcript)``: a 1-D float tensor at 16 kHz and its text.
    Real utterances are cut to ``seconds`` (None keeps them whole); synthetic ones are
    exactly ``seconds`` long, one tone per character. Synthetic default sizes: 1,000/100.
    """
    _check_size("train_size", train_size)
    _check_size("test_size", test_size)
    if seconds <= 0:
        raise ConfigError(f"seconds must be positive, got {seconds!r}")
    num_samples = int(seconds * SAMPLE_RATE)
    if root is not None:
        base = Path(root)
        missing = [u for u in (train_url, test_url) if not (base / "LibriSpeech" / u).is_dir()]
        if not missing:
            train = _subset(_LibriSpeechItems(base, train_url, seconds), train_size)
            test = _subset(_LibriSpeechItems(base, test_url, seconds), test_size)
            info = DataInfo(
                name="librispeech",
                synthetic=False,
                reason=f"LibriSpeech {train_url}/{test_url} read from {base / 'LibriSpeech'}",
                num_train=len(train),  # type: ignore[arg-type]
                num_test=len(test),  # type: ignore[arg-type]
                sample_shape=(num_samples,),
                num_classes=len(AUDIO_VOCAB),
            )
            return train, test, info
        why = f"LibriSpeech {', '.join(missing)} not found under {base / 'LibriSpeech'}"
    else:
        why = "no data root given"
    n_train = train_size or 1_000
    n_test = test_size or 100
    info = DataInfo(
        name="librispeech",
        synthetic=True,
        reason=f"{why}: synthetic 16 kHz tone utterances with transcripts",
        num_train=n_train,
        num_test=n_test,
        sample_shape=(num_samples,),
        num_classes=len(AUDIO_VOCAB),
    )
    return (
        SyntheticSpeech(n_train, seconds=seconds, seed=seed),
        SyntheticSpeech(n_test, seconds=seconds, seed=seed + 1),
        info,
    )


# --------------------------------------------------------------------------- tokens

#: Number of classes of the synthetic token task (the step of the arithmetic sequence).
TOKEN_CLASSES = 4


class SyntheticTokens(_Generated[tuple[Tensor, int]]):
    """Arithmetic token sequences ``start, start+s, ... (mod vocab)``; label = step index.

    The next token is predictable (language modelling) and the label is a function of
    the sequence (classification), so both kinds of model can learn.
    """

    def __init__(self, size: int, *, vocab_size: int, seq_len: int, seed: int = 0) -> None:
        super().__init__(size, seed)
        self.vocab_size = vocab_size
        self.seq_len = seq_len

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        g = self._rng(index)
        label = index % TOKEN_CLASSES
        start = int(torch.randint(0, self.vocab_size, (1,), generator=g))
        seq = (start + (label + 1) * torch.arange(self.seq_len)) % self.vocab_size
        return seq.long(), label


def tokens(
    *,
    vocab_size: int = 256,
    seq_len: int = 32,
    train_size: int = 10_000,
    test_size: int = 1_000,
    seed: int = 0,
) -> tuple[Dataset[tuple[Tensor, int]], Dataset[tuple[Tensor, int]], DataInfo]:
    """A synthetic token dataset for the NLP models (always synthetic).

    Items are ``(token_ids, label)``: a LongTensor (seq_len,) and an int in
    ``range(TOKEN_CLASSES)``.
    """
    _check_size("train_size", train_size)
    _check_size("test_size", test_size)
    if vocab_size < 2 or seq_len < 2:
        raise ConfigError(f"vocab_size and seq_len must be >= 2, got {vocab_size}, {seq_len}")
    info = DataInfo(
        name="tokens",
        synthetic=True,
        reason="synthetic token sequences (no text corpus is used by the benchmark)",
        num_train=train_size,
        num_test=test_size,
        sample_shape=(seq_len,),
        num_classes=TOKEN_CLASSES,
    )
    return (
        SyntheticTokens(train_size, vocab_size=vocab_size, seq_len=seq_len, seed=seed),
        SyntheticTokens(test_size, vocab_size=vocab_size, seq_len=seq_len, seed=seed + 1),
        info,
    )
