"""Parameter-efficient fine-tuning: wrap a task's model with a ``peft`` adapter.

What peft 0.21 does for each task (checked with transformers 5 on BERT, GPT-2, T5 and
BART): LoRA, IA3 and prefix tuning train every task. Prompt tuning trains text
classification, causal LM, translation and summarisation only: the virtual tokens it
prepends shift every per-token output, so token classification, masked LM and extractive
QA would be scored against the wrong positions (``UNSUPPORTED``). Prefix tuning needs a
backbone that takes ``past_key_values`` (BERT, RoBERTa, GPT-2, T5, BART do; DistilBERT,
ALBERT do not). peft has no masked-LM task type: a masked LM is wrapped as
``FEATURE_EXTRACTION``, which passes the labels through to the model's own loss (with no
task type at all, prefix and prompt tuning cannot be set up).

``target_modules`` left to detection are read from the model: LoRA adapts the query and
value projections of each attention module (or its fused query-key-value projection),
IA3 the key and value projections and the feed-forward down-projections.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterable

import peft
from peft import (
    IA3Config,
    LoraConfig,
    PeftConfig,
    PrefixTuningConfig,
    PromptTuningConfig,
    TaskType,
    get_peft_model,
)
from torch import nn
from transformers import PreTrainedModel
from transformers.pytorch_utils import Conv1D

from wattprint.errors import ConfigError
from wattprint.finetune.spec import PEFT_TYPES, PeftSettings

__all__ = [
    "TASK_TYPES",
    "UNSUPPORTED",
    "accepted_types",
    "apply_peft",
    "detect_targets",
    "supported_types",
]

#: The peft task type of each task.
TASK_TYPES: dict[str, TaskType] = {
    "text-classification": TaskType.SEQ_CLS,
    "token-classification": TaskType.TOKEN_CLS,
    "question-answering": TaskType.QUESTION_ANS,
    "causal-lm": TaskType.CAUSAL_LM,
    "masked-lm": TaskType.FEATURE_EXTRACTION,
    "translation": TaskType.SEQ_2_SEQ_LM,
    "summarization": TaskType.SEQ_2_SEQ_LM,
}
_PER_TOKEN = (
    "prompt tuning prepends virtual tokens to the model's outputs, which then no longer "
    "line up with one label per input token"
)
#: (PEFT type, task) pairs peft 0.21 cannot train correctly, and why.
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("prompt", "token-classification"): _PER_TOKEN,
    ("prompt", "masked-lm"): _PER_TOKEN,
    ("prompt", "question-answering"): (
        "prompt tuning prepends virtual tokens but peft does not shift the answer's start and "
        "end positions by them, so the model would learn the wrong span"
    ),
}
_HEAD_TASKS = ("text-classification", "token-classification", "question-answering")
_FUSED = frozenset({"c_attn", "query_key_value", "in_proj"})
_ROLES = {"q": ("q", "query"), "k": ("k", "key"), "v": ("v", "value")}


def supported_types(task: str) -> tuple[str, ...]:
    """The PEFT types (``none`` included) that train ``task``."""
    return tuple(t for t in PEFT_TYPES if (t, task) not in UNSUPPORTED)


def apply_peft(
    model: PreTrainedModel, settings: PeftSettings, task: str
) -> tuple[nn.Module, list[str]]:
    """``model`` wrapped for ``settings.type`` (unchanged for ``none``), and notes on what
    trains. A type the task or model cannot take is one ``ConfigError``."""
    kind = settings.type
    if task not in TASK_TYPES:
        raise ConfigError(f"unknown task {task!r}: accepted: {', '.join(TASK_TYPES)}")
    if kind == "none":
        total = sum(p.numel() for p in model.parameters())
        return model, [f"PEFT none: all {total:,} parameters train"]
    if (kind, task) in UNSUPPORTED:
        raise _refused(kind, task, model, UNSUPPORTED[kind, task])
    if kind == "prefix" and not _takes_past_key_values(model):
        raise _refused(
            kind,
            task,
            model,
            f"prefix tuning feeds its prefix as past_key_values, which "
            f"{type(model.base_model).__name__} does not take",
        )
    heads = _heads(model) if task in _HEAD_TASKS else None
    head_notes = [f"head trained in full: {', '.join(heads)}"] if heads else []
    config, detail = _config(model, settings, task, heads)  # peft extends heads in place
    try:
        with warnings.catch_warnings():
            # peft 0.21 calls a transformers 5 deprecated property; nothing a user can do
            warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
            wrapped = get_peft_model(model, config)
    except (ValueError, TypeError) as exc:
        raise _refused(kind, task, model, f"peft refused it: {exc}") from None
    trainable, total = wrapped.get_nb_trainable_parameters()
    share = f"{trainable:,} of {total:,} parameters train ({100 * trainable / total:.2f}%)"
    return wrapped, [f"PEFT {kind} ({detail}): {share}", *head_notes]


def accepted_types(model: PreTrainedModel, task: str) -> tuple[str, ...]:
    """The PEFT types that train ``model`` for ``task`` with detected target modules."""
    return tuple(
        kind
        for kind in supported_types(task)
        if (kind != "prefix" or _takes_past_key_values(model))
        and (kind not in ("lora", "ia3") or _attention_targets(model, kind))
    )


def _refused(kind: str, task: str, model: PreTrainedModel, reason: str) -> ConfigError:
    accepted = ", ".join(accepted_types(model, task))
    return ConfigError(
        f"PEFT type {kind!r} cannot fine-tune {type(model).__name__} for {task!r} "
        f"(peft {peft.__version__}): {reason}; accepted for this model and task: {accepted}"
    )


def _takes_past_key_values(model: PreTrainedModel) -> bool:
    """Whether the backbone reads ``past_key_values``, where prefix tuning puts its prefix
    (a model that only swallows it in ``**kwargs`` would silently ignore the prefix)."""
    return "past_key_values" in inspect.signature(model.base_model.forward).parameters


def _config(
    model: PreTrainedModel, settings: PeftSettings, task: str, heads: list[str] | None
) -> tuple[PeftConfig, str]:
    """The peft config for ``settings`` on ``model`` (``heads`` train in full), and a short
    description of it."""
    task_type = TASK_TYPES[task]
    if settings.type == "prefix":
        prefix_config = PrefixTuningConfig(
            task_type=task_type,
            num_virtual_tokens=settings.num_virtual_tokens,
            modules_to_save=heads,
        )
        return prefix_config, f"{settings.num_virtual_tokens} virtual tokens"
    if settings.type == "prompt":
        # the virtual tokens join the word embeddings: their width, not the hidden size
        # (ALBERT), and names peft does not look up in every config (DistilBERT's n_heads)
        embedding_weight = next(model.get_input_embeddings().parameters())
        prompt_config = PromptTuningConfig(
            task_type=task_type,
            num_virtual_tokens=settings.num_virtual_tokens,
            token_dim=embedding_weight.shape[-1],
            num_attention_heads=getattr(model.config, "num_attention_heads", None),
            modules_to_save=heads,
        )
        return prompt_config, f"{settings.num_virtual_tokens} virtual tokens"
    targets, feedforward = detect_targets(model, settings.type, task, settings.target_modules)
    conv1d = [name for name, module in model.named_modules() if isinstance(module, Conv1D)]
    fan_in_fan_out = any(_matches(conv1d, t) for t in targets)  # GPT-2 stores weights in x out
    described = ", ".join(dict.fromkeys(_pattern(t) for t in targets))
    if settings.type == "lora":
        lora_config = LoraConfig(
            task_type=task_type,
            r=settings.r,
            lora_alpha=settings.alpha,
            lora_dropout=settings.dropout,
            target_modules=targets,
            fan_in_fan_out=fan_in_fan_out,
            modules_to_save=heads,
        )
        return lora_config, f"r={settings.r}, alpha={settings.alpha} on {described}"
    ia3_config = IA3Config(
        task_type=task_type,
        target_modules=targets,
        feedforward_modules=feedforward,
        fan_in_fan_out=fan_in_fan_out,
        modules_to_save=heads,
    )
    return ia3_config, f"on {described}"


def detect_targets(
    model: PreTrainedModel, kind: str, task: str, given: Iterable[str] | None = None
) -> tuple[list[str], list[str]]:
    """Module names LoRA or IA3 adapts on ``model`` (``given`` ones, or detected) and,
    for IA3, which of them are feed-forward layers (peft scales their input)."""
    if given is not None:
        targets = list(given)
    else:
        targets = _attention_targets(model, kind)
        if not targets:
            raise _refused(
                kind,
                task,
                model,
                "no attention projection (query/key/value or fused qkv Linear layer) was "
                "found to adapt; name them in peft.target_modules",
            )
        if kind == "ia3":
            targets += _feedforward_down(model)
    if kind == "lora":
        return targets, []
    feedforward = _feedforward_down(model)
    return targets, [t for t in targets if _matches(feedforward, t)]


def _attention_targets(model: nn.Module, kind: str) -> list[str]:
    """What LoRA (query, value) or IA3 (key, value) adapts in attention, or the fused
    query-key-value projection."""
    roles = _attention_projections(model)
    wanted = ("q", "v", "qkv") if kind == "lora" else ("k", "v", "qkv")
    return sorted({name for role in wanted for name in roles.get(role, ())})


def _attention_projections(model: nn.Module) -> dict[str, set[str]]:
    """Names of the Linear/Conv1D layers inside attention modules, by role."""
    roles: dict[str, set[str]] = {}
    for module in model.modules():
        if "Attention" not in type(module).__name__:
            continue
        for name, layer in module.named_modules():
            leaf = name.rsplit(".", 1)[-1]
            role = _role(leaf)
            if isinstance(layer, nn.Linear | Conv1D) and role is not None:
                roles.setdefault(role, set()).add(leaf)
    return roles


def _role(name: str) -> str | None:
    """``q``, ``k``, ``v`` or ``qkv`` for a projection's name (``query``, ``k_proj``, ``v``,
    ``q_lin``, ``c_attn``, ``Wqkv``...), ``None`` for others (output projections)."""
    lower = name.lower()
    if "qkv" in lower or lower in _FUSED:
        return "qkv"
    for role, words in _ROLES.items():
        if lower in words or lower.startswith(tuple(f"{w}_" for w in words)):
            return role
    return None


def _feedforward_down(model: PreTrainedModel) -> list[str]:
    """Full names of the backbone's feed-forward down-projections: Linear/Conv1D layers
    outside attention that map a wider space back to the hidden size."""
    hidden = getattr(model.config, "hidden_size", None)
    backbone = model.base_model
    prefix = "" if backbone is model else f"{model.base_model_prefix}."
    attention = [p for p, m in backbone.named_modules() if "Attention" in type(m).__name__]
    found = []
    for path, layer in backbone.named_modules():
        if any(path.startswith(f"{a}.") for a in attention):
            continue
        if isinstance(layer, nn.Linear | Conv1D) and _fan_in(layer) > _fan_out(layer) == hidden:
            found.append(prefix + path)
    return found


def _fan_in(layer: nn.Linear | Conv1D) -> int:
    return int(layer.weight.shape[1 if isinstance(layer, nn.Linear) else 0])


def _fan_out(layer: nn.Linear | Conv1D) -> int:
    return int(layer.weight.shape[0 if isinstance(layer, nn.Linear) else 1])


def _heads(model: PreTrainedModel) -> list[str]:
    """The task head: the model's top-level modules with weights, other than its backbone
    (new, randomly initialised layers that must train in full)."""
    return [
        name
        for name, child in model.named_children()
        if name != model.base_model_prefix and next(child.parameters(), None) is not None
    ]


def _matches(names: Iterable[str], target: str) -> bool:
    """Whether peft's name matching selects one of ``names`` for ``target`` (the full
    name or a dotted suffix of it)."""
    return any(name == target or name.endswith(f".{target}") for name in names)


def _pattern(name: str) -> str:
    """A module name with its layer numbers as ``*`` (``encoder.layer.*.output.dense``)."""
    return re.sub(r"\.\d+(?=\.|$)", ".*", name)
