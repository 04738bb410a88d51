"""The benchmark model zoo: vision, audio and NLP models behind one small spec.

A :class:`ModelSpec` knows how to build its model (random init, nothing downloaded), which
dataset feeds it (:mod:`wattprint.bench.data`), how to collate items into a batch, the
training loss for a batch and the quality metric on a batch. ``size="tiny"`` shrinks the
architectures that allow it (audio and NLP) for tests and ``--quick`` runs; the
torchvision models have one size (the real architecture) and ignore it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from wattprint.bench import data as bench_data
from wattprint.errors import ConfigError

__all__ = [
    "FAMILIES",
    "SIZES",
    "Batch",
    "ModelSpec",
    "char_error_rate",
    "get",
    "greedy_ctc_decode",
    "image_classifier_spec",
    "local_weights_path",
    "names",
    "si_sdr",
    "specs",
    "word_error_rate",
]

Family = Literal["vision", "audio", "nlp"]
Size = Literal["full", "tiny"]
FAMILIES: tuple[str, ...] = ("vision", "audio", "nlp")
SIZES: tuple[str, ...] = ("full", "tiny")
Batch = dict[str, Tensor]


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark model: how to build it, feed it, train it and score it."""

    name: str
    family: Family
    task: str
    dataset: str
    metric: str
    higher_is_better: bool
    builder: Callable[[str, int], nn.Module]
    default_num_classes: int
    collate_fn: Callable[[Sequence[Any]], Batch]
    loss_fn: Callable[[nn.Module, Batch], Tensor]
    forward_fn: Callable[[nn.Module, Batch], Any]
    score_fn: Callable[[Any, Batch], float]

    pretrained_fn: Callable[[int], nn.Module] | None = None

    def build(
        self, size: str = "full", num_classes: int | None = None, *, pretrained: bool = False
    ) -> nn.Module:
        """A freshly initialised model (``weights=None``; nothing is downloaded), or with
        ``pretrained=True`` one from weights already on this machine (full size only)."""
        if size not in SIZES:
            raise ConfigError(f"unknown model size {size!r}; accepted: {', '.join(SIZES)}")
        classes = num_classes or self.default_num_classes
        if not pretrained:
            return self.builder(size, classes)
        if self.pretrained_fn is None:
            have = ", ".join(n for n, s in _SPECS.items() if s.pretrained_fn is not None)
            raise ConfigError(
                f"{self.name}: no pretrained weights are known for it; accepted: {have}"
            )
        if size != "full":
            raise ConfigError(f"{self.name}: pretrained weights exist for size 'full' only")
        return self.pretrained_fn(classes)

    def load_data(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        train_size: int | None = None,
        test_size: int | None = None,
        seed: int = 0,
    ) -> tuple[Dataset[Any], Dataset[Any], bench_data.DataInfo]:
        """The train/test datasets of this model (real under ``root``, else synthetic)."""
        if self.dataset == "cifar10":
            return bench_data.cifar10(root, train_size=train_size, test_size=test_size, seed=seed)
        if self.dataset == "librispeech":
            return bench_data.librispeech(
                root, train_size=train_size, test_size=test_size, seed=seed
            )
        return bench_data.tokens(
            train_size=train_size or 10_000, test_size=test_size or 1_000, seed=seed
        )

    def collate(self, items: Sequence[Any]) -> Batch:
        """Dataset items -> a batch (a ``DataLoader`` ``collate_fn``)."""
        return self.collate_fn(items)

    def loss(self, model: nn.Module, batch: Batch) -> Tensor:
        """Scalar training loss of ``model`` on ``batch`` (differentiable)."""
        return self.loss_fn(model, batch)

    def forward(self, model: nn.Module, batch: Batch) -> Any:
        """The model's inference output on ``batch`` (what is timed and metered)."""
        return self.forward_fn(model, batch)

    def score(self, outputs: Any, batch: Batch) -> float:
        """The quality metric (``self.metric``) of ``forward``'s outputs on ``batch``."""
        return float(self.score_fn(outputs, batch))

    def quality(self, model: nn.Module, batch: Batch) -> float:
        """The quality metric on ``batch``, in eval mode, without grad."""
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return self.score(self.forward(model, batch), batch)
        finally:
            model.train(was_training)


# --------------------------------------------------------------------------- metrics


def greedy_ctc_decode(log_probs: Tensor, lengths: Tensor | None = None) -> list[list[int]]:
    """Best-path CTC decoding of (batch, time, classes): collapse repeats, drop blanks."""
    best = log_probs.argmax(dim=-1)
    out: list[list[int]] = []
    for b in range(best.shape[0]):
        n = int(lengths[b]) if lengths is not None else best.shape[1]
        seq: list[int] = []
        prev = -1
        for idx in best[b, :n].tolist():
            if idx != prev and idx != bench_data.AUDIO_BLANK:
                seq.append(idx)
            prev = idx
        out.append(seq)
    return out


def _edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def char_error_rate(
    hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]]
) -> float:
    """Total edit distance over total reference length (0 is perfect)."""
    dist = sum(_edit_distance(h, r) for h, r in zip(hypotheses, references, strict=True))
    total = sum(len(r) for r in references)
    return dist / max(total, 1)


def _words(indices: Sequence[int]) -> list[tuple[int, ...]]:
    """CTC label indices -> words (runs of non-space characters)."""
    space = bench_data.AUDIO_VOCAB.index(" ")
    words: list[tuple[int, ...]] = []
    current: list[int] = []
    for i in [*indices, space]:
        if i == space:
            if current:
                words.append(tuple(current))
            current = []
        else:
            current.append(i)
    return words


def word_error_rate(
    hypotheses: Sequence[Sequence[int]], references: Sequence[Sequence[int]]
) -> float:
    """Word edit distance over the number of reference words (0 is perfect): LibriSpeech's
    usual figure."""
    pairs = [(_words(h), _words(r)) for h, r in zip(hypotheses, references, strict=True)]
    return sum(_edit_distance(h, r) for h, r in pairs) / max(sum(len(r) for _, r in pairs), 1)


def si_sdr(estimate: Tensor, reference: Tensor, eps: float = 1e-8) -> Tensor:
    """Scale-invariant SDR in dB over the last dimension (higher is better)."""
    estimate = estimate - estimate.mean(dim=-1, keepdim=True)
    reference = reference - reference.mean(dim=-1, keepdim=True)
    scale = (estimate * reference).sum(-1, keepdim=True) / (
        reference.pow(2).sum(-1, keepdim=True) + eps
    )
    target = scale * reference
    noise = estimate - target
    return 10 * torch.log10((target.pow(2).sum(-1) + eps) / (noise.pow(2).sum(-1) + eps))


# --------------------------------------------------------------------------- vision


def _vision_builder(factory: str) -> Callable[[str, int], nn.Module]:
    def build(size: str, num_classes: int) -> nn.Module:
        import torchvision  # type: ignore[import-untyped]

        fn = getattr(torchvision.models, factory)
        return cast(nn.Module, fn(weights=None, num_classes=num_classes))

    return build


def local_weights_path(factory: str) -> Path:
    """Where torchvision keeps the default weights of ``factory`` once downloaded
    (``$TORCH_HOME/hub/checkpoints/<file>``): the only place they are looked for."""
    import torchvision

    weights = torchvision.models.get_model_weights(factory).DEFAULT
    return Path(torch.hub.get_dir()) / "checkpoints" / str(weights.url).rsplit("/", 1)[-1]


def _vision_pretrained(factory: str) -> Callable[[int], nn.Module]:
    def build(num_classes: int) -> nn.Module:
        import torchvision

        path = local_weights_path(factory)
        if not path.is_file():
            raise ConfigError(
                f"no local pretrained weights for {factory}: expected {path} (nothing is "
                "downloaded; copy the file there or set TORCH_HOME)"
            )
        weights = torchvision.models.get_model_weights(factory).DEFAULT
        model = cast(nn.Module, getattr(torchvision.models, factory)(weights=weights))
        return _new_head(model, num_classes)

    return build


def _new_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Replace the last ``nn.Linear`` (the ImageNet classifier) by a fresh one with
    ``num_classes`` outputs, for fine-tuning."""
    name, last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, nn.Linear(last.in_features, num_classes))
    return model


def _collate_images(items: Sequence[Any]) -> Batch:
    images = torch.stack([img for img, _ in items])
    labels = torch.tensor([int(label) for _, label in items], dtype=torch.long)
    return {"inputs": images, "labels": labels}


def _vision_loss(model: nn.Module, batch: Batch) -> Tensor:
    return nn.functional.cross_entropy(model(batch["inputs"]), batch["labels"])


def _vision_forward(model: nn.Module, batch: Batch) -> Tensor:
    return cast(Tensor, model(batch["inputs"]))


def _accuracy(logits: Tensor, batch: Batch) -> float:
    return float((logits.argmax(dim=-1) == batch["labels"]).float().mean())


# --------------------------------------------------------------------------- audio


def _torchaudio() -> Any:
    import torchaudio  # type: ignore[import-untyped]

    return torchaudio


def _collate_speech(items: Sequence[Any]) -> Batch:
    waves = [w for w, _ in items]
    lengths = torch.tensor([w.numel() for w in waves], dtype=torch.long)
    waveforms = nn.utils.rnn.pad_sequence(waves, batch_first=True)
    encoded = [torch.tensor(bench_data.encode_text(t), dtype=torch.long) for _, t in items]
    target_lengths = torch.tensor([e.numel() for e in encoded], dtype=torch.long)
    targets = nn.utils.rnn.pad_sequence(encoded, batch_first=True)
    return {
        "waveforms": waveforms,
        "lengths": lengths,
        "targets": targets,
        "target_lengths": target_lengths,
    }


def _collate_separation(items: Sequence[Any]) -> Batch:
    """Synthetic two-source mixtures: the utterance plus deterministic coloured noise."""
    speech = _collate_speech(items)["waveforms"]
    g = torch.Generator().manual_seed(len(items) * 7919 + speech.shape[-1])
    noise = torch.randn(speech.shape, generator=g)
    noise = 0.2 * (noise + torch.roll(noise, 1, dims=-1)) / 2
    sources = torch.stack([speech, noise], dim=1).unsqueeze(2)  # (B, 2, 1, T)
    return {"mixture": sources.sum(dim=1), "sources": sources}


class _Wav2Vec2CTC(nn.Module):
    def __init__(self, size: str, num_classes: int) -> None:
        super().__init__()
        torchaudio = _torchaudio()
        if size == "tiny":
            self.model = torchaudio.models.wav2vec2_model(
                extractor_mode="group_norm",
                extractor_conv_layer_config=[(16, 10, 5), (16, 3, 2), (16, 3, 2), (16, 2, 2)],
                extractor_conv_bias=False,
                encoder_embed_dim=32,
                encoder_projection_dropout=0.0,
                encoder_pos_conv_kernel=16,
                encoder_pos_conv_groups=4,
                encoder_num_layers=2,
                encoder_num_heads=2,
                encoder_attention_dropout=0.0,
                encoder_ff_interm_features=64,
                encoder_ff_interm_dropout=0.0,
                encoder_dropout=0.0,
                encoder_layer_norm_first=False,
                encoder_layer_drop=0.0,
                aux_num_out=num_classes,
            )
        else:
            self.model = torchaudio.models.wav2vec2_base(aux_num_out=num_classes)

    def forward(self, waveforms: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        logits, out_lengths = self.model(waveforms, lengths)
        return logits.log_softmax(dim=-1), out_lengths


class _Wav2LetterCTC(nn.Module):
    def __init__(self, size: str, num_classes: int) -> None:
        super().__init__()
        torchaudio = _torchaudio()
        self.model = torchaudio.models.Wav2Letter(num_classes=num_classes, input_type="waveform")

    def forward(self, waveforms: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        out = self.model(waveforms.unsqueeze(1)).transpose(1, 2)  # (B, T', C), log-probs
        frames = out.shape[1]
        scale = frames / max(waveforms.shape[-1], 1)
        out_lengths = torch.clamp(torch.ceil(lengths.float() * scale).long(), 1, frames)
        return out, out_lengths


class _DeepSpeechCTC(nn.Module):
    """DeepSpeech on log-mel features (10 ms hop)."""

    def __init__(self, size: str, num_classes: int) -> None:
        super().__init__()
        torchaudio = _torchaudio()
        n_mels = 40 if size == "tiny" else 80
        self.hop = 160
        self.features = torchaudio.transforms.MelSpectrogram(
            sample_rate=bench_data.SAMPLE_RATE, n_fft=400, hop_length=self.hop, n_mels=n_mels
        )
        self.model = torchaudio.models.DeepSpeech(
            n_feature=n_mels, n_hidden=64 if size == "tiny" else 2048, n_class=num_classes
        )

    def forward(self, waveforms: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        feats = torch.log(self.features(waveforms) + 1e-6)  # (B, n_mels, frames)
        out = self.model(feats.transpose(1, 2).unsqueeze(1))  # (B, frames, C)
        frames = out.shape[1]
        out_lengths = torch.clamp(lengths // self.hop + 1, 1, frames)
        return cast(Tensor, out), out_lengths


def _ctc_loss(model: nn.Module, batch: Batch) -> Tensor:
    log_probs, out_lengths = model(batch["waveforms"], batch["lengths"])
    return nn.functional.ctc_loss(
        log_probs.transpose(0, 1),
        batch["targets"],
        out_lengths,
        batch["target_lengths"],
        blank=bench_data.AUDIO_BLANK,
        zero_infinity=True,
    )


def _ctc_forward(model: nn.Module, batch: Batch) -> tuple[Tensor, Tensor]:
    return cast(tuple[Tensor, Tensor], model(batch["waveforms"], batch["lengths"]))


def _ctc_wer(outputs: tuple[Tensor, Tensor], batch: Batch) -> float:
    log_probs, out_lengths = outputs
    hyps = greedy_ctc_decode(log_probs, out_lengths)
    refs = [batch["targets"][i, : int(n)].tolist() for i, n in enumerate(batch["target_lengths"])]
    return word_error_rate(hyps, refs)


def _build_hdemucs(size: str, num_classes: int) -> nn.Module:
    torchaudio = _torchaudio()
    sources = (
        ["speech", "noise"][:num_classes]
        if num_classes <= 2
        else [f"source{i}" for i in range(num_classes)]
    )
    if size == "tiny":
        # nfft must be 4**depth so that the frequency branch collapses at the last layer.
        return cast(
            nn.Module,
            torchaudio.models.HDemucs(
                sources=sources, audio_channels=1, channels=8, depth=4, nfft=256
            ),
        )
    return cast(nn.Module, torchaudio.models.HDemucs(sources=sources, audio_channels=1))


def _separation_loss(model: nn.Module, batch: Batch) -> Tensor:
    return nn.functional.l1_loss(model(batch["mixture"]), batch["sources"])


def _separation_forward(model: nn.Module, batch: Batch) -> Tensor:
    return cast(Tensor, model(batch["mixture"]))


def _separation_si_sdr(estimate: Tensor, batch: Batch) -> float:
    return float(si_sdr(estimate.float(), batch["sources"]).mean())


# --------------------------------------------------------------------------- NLP

_TINY = {"vocab_size": 256, "dim": 32, "layers": 2, "heads": 2, "ff": 64, "positions": 64}


def _build_distilbert(size: str, num_classes: int) -> nn.Module:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    if size == "tiny":
        config = DistilBertConfig(
            vocab_size=_TINY["vocab_size"],
            max_position_embeddings=_TINY["positions"],
            dim=_TINY["dim"],
            n_layers=_TINY["layers"],
            n_heads=_TINY["heads"],
            hidden_dim=_TINY["ff"],
        )
    else:
        config = DistilBertConfig()
    config.num_labels = num_classes
    return cast(nn.Module, DistilBertForSequenceClassification(config))


def _build_gpt2(size: str, num_classes: int) -> nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    if size == "tiny":
        config = GPT2Config(
            vocab_size=_TINY["vocab_size"],
            n_positions=_TINY["positions"],
            n_embd=_TINY["dim"],
            n_layer=_TINY["layers"],
            n_head=_TINY["heads"],
            n_inner=_TINY["ff"],
            bos_token_id=_TINY["vocab_size"] - 1,  # GPT-2's 50256 is outside a tiny vocabulary
            eos_token_id=_TINY["vocab_size"] - 1,
        )
    else:
        config = GPT2Config()
    model = GPT2LMHeadModel(config)
    model.loss_type = "ForCausalLM"  # not derivable from the class name: transformers warns
    return cast(nn.Module, model)


def _build_t5(size: str, num_classes: int) -> nn.Module:
    from transformers import T5Config, T5ForConditionalGeneration

    if size == "tiny":
        config = T5Config(
            vocab_size=_TINY["vocab_size"],
            d_model=_TINY["dim"],
            d_kv=16,
            d_ff=_TINY["ff"],
            num_layers=_TINY["layers"],
            num_heads=_TINY["heads"],
        )
    else:  # t5-small
        config = T5Config(
            d_model=512,
            d_kv=64,
            d_ff=2048,
            num_layers=6,
            num_heads=8,
        )
    config.decoder_start_token_id = 0
    config.pad_token_id = 0
    return cast(nn.Module, T5ForConditionalGeneration(config))


#: Hugging Face Hub ids of the NLP models' published weights, looked up in the local
#: cache only (``HF_HOME``; ``local_files_only=True``: nothing is downloaded).
HUB_IDS = {"distilbert": "distilbert-base-uncased", "gpt2": "gpt2", "t5_small": "t5-small"}


def _hf_pretrained(name: str, auto_class: str) -> Callable[[int], nn.Module]:
    def build(num_classes: int) -> nn.Module:
        import transformers

        hub_id = HUB_IDS[name]
        extra = {"num_labels": num_classes} if auto_class.endswith("Classification") else {}
        try:
            model = getattr(transformers, auto_class).from_pretrained(
                hub_id, local_files_only=True, **extra
            )
        except OSError as exc:
            from huggingface_hub.constants import HF_HUB_CACHE

            raise ConfigError(
                f"no local pretrained weights for {name} ({hub_id!r} not in the Hugging Face "
                f"cache {HF_HUB_CACHE}; nothing is downloaded): {exc}"
            ) from None
        if name == "gpt2":
            model.loss_type = "ForCausalLM"
        return cast(nn.Module, model)

    return build


def _collate_tokens(items: Sequence[Any]) -> Batch:
    ids = torch.stack([seq for seq, _ in items])
    labels = torch.tensor([int(label) for _, label in items], dtype=torch.long)
    return {"input_ids": ids, "labels": labels}


def _hf_loss(out: Any) -> Tensor:
    loss = getattr(out, "loss", None)
    if not isinstance(loss, Tensor):
        raise RuntimeError("the model returned no loss")
    return loss


def _cls_loss(model: nn.Module, batch: Batch) -> Tensor:
    return _hf_loss(model(input_ids=batch["input_ids"], labels=batch["labels"]))


def _logits(model: nn.Module, batch: Batch) -> Tensor:
    return cast(Tensor, model(input_ids=batch["input_ids"]).logits)


def _lm_loss(model: nn.Module, batch: Batch) -> Tensor:
    return _hf_loss(model(input_ids=batch["input_ids"], labels=batch["input_ids"]))


def _lm_accuracy(logits: Tensor, batch: Batch) -> float:
    ids = batch["input_ids"]
    return float((logits[:, :-1].argmax(-1) == ids[:, 1:]).float().mean())


def _s2s_loss(model: nn.Module, batch: Batch) -> Tensor:
    ids = batch["input_ids"]
    return _hf_loss(model(input_ids=ids, labels=ids.flip(-1)))


def _s2s_forward(model: nn.Module, batch: Batch) -> Tensor:
    """One teacher-forced pass (the decoder sees the target), not autoregressive decoding."""
    ids = batch["input_ids"]
    return cast(Tensor, model(input_ids=ids, labels=ids.flip(-1)).logits)


def _s2s_accuracy(logits: Tensor, batch: Batch) -> float:
    return float((logits.argmax(-1) == batch["input_ids"].flip(-1)).float().mean())


# --------------------------------------------------------------------------- registry

_AUDIO_CLASSES = len(bench_data.AUDIO_VOCAB)


def image_classifier_spec(
    name: str,
    builder: Callable[[str, int], nn.Module],
    pretrained_fn: Callable[[int], nn.Module] | None = None,
) -> ModelSpec:
    """A CIFAR-10 classification spec around any ``builder(size, num_classes)``: the zoo's
    vision models, and the scaling experiments' MLPs and CNNs."""
    return ModelSpec(
        name=name,
        family="vision",
        task="image classification (CIFAR-10)",
        dataset="cifar10",
        metric="accuracy",
        higher_is_better=True,
        builder=builder,
        pretrained_fn=pretrained_fn,
        default_num_classes=10,
        collate_fn=_collate_images,
        loss_fn=_vision_loss,
        forward_fn=_vision_forward,
        score_fn=_accuracy,
    )


def _vision(name: str, factory: str) -> ModelSpec:
    return image_classifier_spec(name, _vision_builder(factory), _vision_pretrained(factory))


def _asr(name: str, builder: Callable[[str, int], nn.Module]) -> ModelSpec:
    return ModelSpec(
        name=name,
        family="audio",
        task="speech recognition, CTC (LibriSpeech)",
        dataset="librispeech",
        metric="wer",
        higher_is_better=False,
        builder=builder,
        default_num_classes=_AUDIO_CLASSES,
        collate_fn=_collate_speech,
        loss_fn=_ctc_loss,
        forward_fn=_ctc_forward,
        score_fn=_ctc_wer,
    )


_SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        _vision("resnet50", "resnet50"),
        _vision("densenet121", "densenet121"),
        _vision("vgg16", "vgg16"),
        _vision("mobilenet_v2", "mobilenet_v2"),
        _vision("efficientnet_b0", "efficientnet_b0"),
        _asr("wav2vec2_base", _Wav2Vec2CTC),
        _asr("wav2letter", _Wav2LetterCTC),
        _asr("deepspeech", _DeepSpeechCTC),
        ModelSpec(
            name="hdemucs",
            family="audio",
            task="source separation (synthetic speech + noise mixtures)",
            dataset="librispeech",
            metric="si_sdr",
            higher_is_better=True,
            builder=_build_hdemucs,
            default_num_classes=2,
            collate_fn=_collate_separation,
            loss_fn=_separation_loss,
            forward_fn=_separation_forward,
            score_fn=_separation_si_sdr,
        ),
        ModelSpec(
            name="distilbert",
            family="nlp",
            task="sequence classification (synthetic tokens)",
            dataset="tokens",
            metric="accuracy",
            higher_is_better=True,
            builder=_build_distilbert,
            pretrained_fn=_hf_pretrained("distilbert", "AutoModelForSequenceClassification"),
            default_num_classes=bench_data.TOKEN_CLASSES,
            collate_fn=_collate_tokens,
            loss_fn=_cls_loss,
            forward_fn=_logits,
            score_fn=_accuracy,
        ),
        ModelSpec(
            name="gpt2",
            family="nlp",
            task="causal language modelling (synthetic tokens)",
            dataset="tokens",
            metric="accuracy",
            higher_is_better=True,
            builder=_build_gpt2,
            pretrained_fn=_hf_pretrained("gpt2", "AutoModelForCausalLM"),
            default_num_classes=bench_data.TOKEN_CLASSES,
            collate_fn=_collate_tokens,
            loss_fn=_lm_loss,
            forward_fn=_logits,
            score_fn=_lm_accuracy,
        ),
        ModelSpec(
            name="t5_small",
            family="nlp",
            task="sequence-to-sequence, reverse the input (synthetic tokens)",
            dataset="tokens",
            metric="accuracy",
            higher_is_better=True,
            builder=_build_t5,
            pretrained_fn=_hf_pretrained("t5_small", "AutoModelForSeq2SeqLM"),
            default_num_classes=bench_data.TOKEN_CLASSES,
            collate_fn=_collate_tokens,
            loss_fn=_s2s_loss,
            forward_fn=_s2s_forward,
            score_fn=_s2s_accuracy,
        ),
    )
}


def names(family: str | None = None) -> list[str]:
    """Registered model names, optionally of one family."""
    if family is not None and family not in FAMILIES:
        raise ConfigError(f"unknown model family {family!r}; accepted: {', '.join(FAMILIES)}")
    return [n for n, s in _SPECS.items() if family is None or s.family == family]


def specs(family: str | None = None) -> list[ModelSpec]:
    """Registered specs, optionally of one family."""
    return [_SPECS[n] for n in names(family)]


def get(name: str) -> ModelSpec:
    """The spec called ``name``; a :class:`ConfigError` lists the names otherwise."""
    try:
        return _SPECS[name]
    except KeyError:
        raise ConfigError(
            f"unknown benchmark model {name!r}; accepted: {', '.join(_SPECS)}"
        ) from None
