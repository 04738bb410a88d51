"""PEFT on tiny random models: each type x task peft 0.21 supports takes one optimizer step
that moves only the adapter (and the task head); the others are one clear ConfigError."""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

import pytest
import torch
from peft.tuners.ia3 import IA3Layer
from peft.tuners.lora import LoraLayer
from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING
from torch import nn
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    XLNetConfig,
    XLNetForSequenceClassification,
)

from tests.finetune.fixtures import KINDS, corpus, tiny_model, train_tokenizer
from wattprint.errors import ConfigError
from wattprint.finetune.peft_setup import (
    UNSUPPORTED,
    accepted_types,
    apply_peft,
    detect_targets,
    supported_types,
)
from wattprint.finetune.spec import TASKS, PeftSettings

TYPES = ("lora", "prefix", "prompt", "ia3")
#: What peft 0.21 cannot train, found by trying each pair (see peft_setup's docstring).
REFUSED = {
    ("prompt", "token-classification"),
    ("prompt", "masked-lm"),
    ("prompt", "question-answering"),
}
HEAD_TASKS = ("text-classification", "token-classification", "question-answering")
ADAPTER = re.compile(r"lora_|ia3_l|prompt_encoder|modules_to_save")
SHARE = re.compile(r"([\d,]+) of ([\d,]+) parameters train \(([\d.]+)%\)")
LENGTH = 8


@functools.cache
def _tokenizer(kind: str, task: str) -> PreTrainedTokenizerFast:
    return train_tokenizer(corpus(task), kind)


def model_for(task: str) -> PreTrainedModel:
    """The fixtures' tiny model of ``task`` (BERT, GPT-2 or T5); classifiers have 3 labels."""
    labels = None if task == "question-answering" else 3  # QA's head: start and end
    return tiny_model(task, _tokenizer(KINDS.get(task, "bert"), task), num_labels=labels)


def bart() -> PreTrainedModel:
    config = BartConfig(
        vocab_size=60, d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=32,
    )  # fmt: skip
    return BartForConditionalGeneration(config)


def distilbert() -> PreTrainedModel:
    config = DistilBertConfig(vocab_size=60, dim=32, n_layers=2, n_heads=2, hidden_dim=64)
    return DistilBertForSequenceClassification(config)


def batch(task: str, model: nn.Module) -> dict[str, torch.Tensor]:
    """A batch of two random inputs with the task's labels."""
    g = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    input_ids = torch.randint(5, vocab, (2, LENGTH), generator=g)
    inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
    labels: dict[str, torch.Tensor] = {
        "text-classification": {"labels": torch.tensor([0, 2])},
        "token-classification": {"labels": torch.randint(0, 3, (2, LENGTH), generator=g)},
        "question-answering": {
            "start_positions": torch.tensor([1, 2]),
            "end_positions": torch.tensor([3, 5]),
        },
        "masked-lm": {"labels": torch.randint(5, vocab, (2, LENGTH), generator=g)},
        "causal-lm": {"labels": input_ids},
        "translation": {"labels": torch.randint(5, vocab, (2, 5), generator=g)},
        "summarization": {"labels": torch.randint(5, vocab, (2, 5), generator=g)},
    }[task]
    return inputs | labels


def settings(kind: str, **values: Any) -> PeftSettings:
    return PeftSettings(type=kind, r=4, num_virtual_tokens=4, **values)


def test_support_matrix() -> None:
    assert set(UNSUPPORTED) == REFUSED
    assert supported_types("masked-lm") == ("none", "lora", "prefix", "ia3")
    assert supported_types("causal-lm") == ("none", *TYPES)


@pytest.mark.parametrize(
    ("kind", "task"), [(k, t) for t in TASKS for k in TYPES if (k, t) not in REFUSED]
)
def test_one_step_moves_only_the_adapter_and_head(kind: str, task: str) -> None:
    model = model_for(task)
    full = sum(p.numel() for p in model.parameters())
    wrapped, notes = apply_peft(model, settings(kind), task)

    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    assert trainable and all(ADAPTER.search(n) for n in trainable), trainable
    share = SHARE.search(notes[0])
    assert share is not None, notes
    n_trainable, n_total = (int(share[i].replace(",", "")) for i in (1, 2))
    assert n_trainable == sum(p.numel() for p in wrapped.parameters() if p.requires_grad)
    assert n_trainable < full <= n_total  # the adapter adds weights; far fewer train

    before = {n: p.detach().clone() for n, p in wrapped.named_parameters()}
    wrapped.train()
    wrapped(**batch(task, wrapped)).loss.backward()
    torch.optim.SGD(wrapped.parameters(), lr=0.5).step()  # every parameter offered
    changed = {n for n, p in wrapped.named_parameters() if not torch.equal(p, before[n])}

    assert changed <= trainable
    assert any("modules_to_save" not in n for n in changed)  # the adapter itself learnt
    assert any("modules_to_save" in n for n in changed) == (task in HEAD_TASKS)


@pytest.mark.parametrize(("kind", "task"), sorted(REFUSED))
def test_unsupported_pairs_are_one_config_error(kind: str, task: str) -> None:
    model = model_for(task)
    pattern = rf"'{kind}'.*{type(model).__name__}.*'{task}'.*accepted .*: none, lora, prefix, ia3$"
    with pytest.raises(ConfigError, match=pattern):
        apply_peft(model, settings(kind), task)


def test_none_returns_the_model_unchanged() -> None:
    model = model_for("text-classification")
    same, notes = apply_peft(model, settings("none"), "text-classification")
    assert same is model
    assert all(p.requires_grad for p in model.parameters())
    assert notes == [
        f"PEFT none: all {sum(p.numel() for p in model.parameters()):,} parameters train"
    ]


@pytest.mark.parametrize(
    ("make", "task"),
    [
        (functools.partial(model_for, "token-classification"), "token-classification"),
        (functools.partial(model_for, "causal-lm"), "causal-lm"),
        (functools.partial(model_for, "translation"), "translation"),
        (bart, "summarization"),
    ],
    ids=["bert", "gpt2", "t5", "bart"],
)
def test_detected_lora_targets_are_pefts_own_defaults(make: Any, task: str) -> None:
    model = make()
    targets, feedforward = detect_targets(model, "lora", task)
    assert targets == sorted(
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING[model.config.model_type]
    )
    assert feedforward == []


def test_detection_reads_models_peft_has_no_table_for() -> None:
    model = distilbert()
    assert detect_targets(model, "lora", "text-classification") == (["q_lin", "v_lin"], [])
    ffn = [f"distilbert.transformer.layer.{i}.ffn.lin2" for i in (0, 1)]
    assert detect_targets(model, "ia3", "text-classification") == (["k_lin", "v_lin", *ffn], ffn)


def test_ia3_scales_keys_values_and_the_feed_forward_input() -> None:
    wrapped, notes = apply_peft(model_for("masked-lm"), settings("ia3"), "masked-lm")
    layer = wrapped.get_base_model().bert.encoder.layer[0]
    for module, feedforward in (
        (layer.attention.self.key, False),
        (layer.attention.self.value, False),
        (layer.output.dense, True),
    ):
        assert isinstance(module, IA3Layer) and module.is_feedforward == feedforward
    for plain in (
        layer.attention.self.query,
        layer.attention.output.dense,
        layer.intermediate.dense,
    ):
        assert not isinstance(plain, IA3Layer)
    assert "bert.encoder.layer.*.output.dense" in notes[0]


def test_given_target_modules_are_used() -> None:
    wrapped, notes = apply_peft(
        model_for("text-classification"),
        settings("lora", target_modules=("key",)),
        "text-classification",
    )
    adapted = {n.rsplit(".", 1)[-1] for n, m in wrapped.named_modules() if isinstance(m, LoraLayer)}
    assert adapted == {"key"}
    assert "r=4, alpha=16 on key" in notes[0]
    model = model_for("text-classification")
    assert detect_targets(model, "ia3", "text-classification", ("value", "output.dense")) == (
        ["value", "output.dense"],
        ["output.dense"],
    )


@pytest.mark.parametrize("kind", ["lora", "ia3"])
def test_gpt2_conv1d_is_adapted_without_a_layout_warning(kind: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrapped, _ = apply_peft(model_for("causal-lm"), settings(kind), "causal-lm")
    assert not [w for w in caught if "fan_in_fan_out" in str(w.message)]
    assert torch.isfinite(wrapped(**batch("causal-lm", wrapped)).loss)


@pytest.mark.parametrize("kind", ["lora", "prompt", "ia3"])
def test_every_new_head_layer_trains(kind: str) -> None:
    wrapped, notes = apply_peft(distilbert(), settings(kind), "text-classification")
    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    for head in ("pre_classifier", "classifier"):  # peft alone would leave pre_classifier
        assert any(f"{head}.modules_to_save" in n for n in trainable), head
    assert notes[-1] == "head trained in full: pre_classifier, classifier"


def test_prefix_needs_a_backbone_taking_past_key_values() -> None:
    with pytest.raises(
        ConfigError,
        match=r"'prefix'.*DistilBert.*past_key_values.*: none, lora, prompt, ia3$",
    ):
        apply_peft(distilbert(), settings("prefix"), "text-classification")


def test_a_model_without_attention_projections() -> None:
    config = XLNetConfig(vocab_size=60, d_model=32, n_layer=2, n_head=2, d_inner=64)
    model = XLNetForSequenceClassification(config)
    assert "lora" not in accepted_types(model, "text-classification")
    with pytest.raises(
        ConfigError, match=r"'lora'.*XLNetForSequenceClassification.*no attention projection"
    ):
        apply_peft(model, settings("lora"), "text-classification")


def test_peft_refusals_become_config_errors() -> None:
    with pytest.raises(
        ConfigError, match=r"'lora'.*peft refused it: No modules were targeted.*: none, lora,"
    ):
        apply_peft(
            model_for("text-classification"),
            settings("lora", target_modules=("nonexistent",)),
            "text-classification",
        )


def test_unknown_task() -> None:
    with pytest.raises(ConfigError, match=r"'regression'.*accepted: text-classification"):
        apply_peft(model_for("text-classification"), settings("lora"), "regression")
