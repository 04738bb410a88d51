"""What a fine-tuning job is: one validated ``FinetuneSpec``, from CLI options, Python, or a
YAML/JSON job file that the job system can run later.

Every field has a default a user would expect, except the three choices only the user can
make: the task, the model and the dataset. Bad values are one ``ConfigError`` naming the
field, the value and what is accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wattprint.errors import ConfigError
from wattprint.validation import explain

__all__ = [
    "PEFT_TYPES",
    "PRECISIONS",
    "TASKS",
    "Columns",
    "FinetuneSpec",
    "PeftSettings",
    "load_spec",
    "read_spec_file",
]

Task = Literal[
    "text-classification",
    "causal-lm",
    "masked-lm",
    "token-classification",
    "question-answering",
    "translation",
    "summarization",
]
TASKS: tuple[str, ...] = Task.__args__  # type: ignore[attr-defined]
PeftType = Literal["none", "lora", "prefix", "prompt", "ia3"]
PEFT_TYPES: tuple[str, ...] = PeftType.__args__  # type: ignore[attr-defined]
Precision = Literal["fp32", "fp16", "bf16"]
PRECISIONS: tuple[str, ...] = Precision.__args__  # type: ignore[attr-defined]
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


class Columns(BaseModel):
    """Dataset columns named by the user; ``None`` means: detect it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = None  # classification / LM / summarisation source / translation source
    text_pair: str | None = None  # second sentence of a classification pair
    label: str | None = None  # class label (classification)
    tokens: str | None = None  # list of words (token classification)
    tags: str | None = None  # one tag per word (token classification)
    question: str | None = None
    context: str | None = None
    answers: str | None = None  # SQuAD-style {"text": [...], "answer_start": [...]} or flat
    target: str | None = None  # summary / translation target


class PeftSettings(BaseModel):
    """Parameter-efficient fine-tuning through ``peft`` (``none``: all weights train)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: PeftType = "none"
    r: int = Field(8, ge=1, description="LoRA rank.")
    alpha: int = Field(16, ge=1, description="LoRA scaling (alpha / r).")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="LoRA dropout.")
    target_modules: tuple[str, ...] | None = Field(
        None, description="Modules LoRA/IA3 adapt (default: detected from the model)."
    )
    num_virtual_tokens: int = Field(20, ge=1, description="Prefix/prompt tuning length.")


class FinetuneSpec(BaseModel):
    """One fine-tuning job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Task
    model: str = Field(min_length=1, description="Hub id (local cache) or a local directory.")
    dataset: str = Field(min_length=1, description="Hub id, or a CSV/JSON/JSONL/Parquet file.")
    dataset_config: str | None = None
    train_split: str = "train"
    eval_split: str | None = Field(
        None,
        description="Split to evaluate on; default: 'validation' or 'test' if present, "
        "else 10% of the training split.",
    )
    columns: Columns = Field(default_factory=Columns)
    epochs: float = Field(3.0, gt=0)
    learning_rate: float = Field(5e-5, gt=0)
    train_batch_size: int = Field(8, ge=1)
    eval_batch_size: int = Field(8, ge=1)
    max_length: int = Field(128, ge=8, description="Tokens per input (block size for LM).")
    max_target_length: int = Field(128, ge=1, description="Tokens per target (seq2seq).")
    source_lang: str | None = None  # translation: key in a {"translation": {lang: text}} column
    target_lang: str | None = None
    source_prefix: str | None = Field(None, description="Prepended to inputs, e.g. for T5.")
    max_train_samples: int | None = Field(None, ge=1)
    max_eval_samples: int | None = Field(None, ge=1)
    peft: PeftSettings = Field(default_factory=lambda: PeftSettings.model_validate({}))
    seed: int = 42
    precision: Precision = "fp32"
    output_dir: Path | None = Field(None, description="Default: <data dir>/finetune/<run>.")
    project: str = Field("finetune", min_length=1)
    run: str | None = None

    @model_validator(mode="after")
    def _languages(self) -> FinetuneSpec:
        if (self.source_lang is None) != (self.target_lang is None):
            raise ValueError("source_lang and target_lang go together: give both or neither")
        return self

    @classmethod
    def build(cls, **values: Any) -> FinetuneSpec:
        """Validate ``values`` (``None`` ones are dropped); one ``ConfigError`` otherwise."""
        given = {k: v for k, v in values.items() if v is not None}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise ConfigError(explain(exc, cls, "fine-tuning spec")) from None

    def to_file(self, path: Path | str) -> Path:
        """Write the spec as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
        target = Path(path)
        document = self.model_dump(mode="json", exclude_none=True)
        if target.suffix.lower() == ".json":
            text = json.dumps(document, indent=2) + "\n"
        elif target.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(document, sort_keys=False)
        else:
            raise ConfigError(
                f"cannot write a job spec to {str(target)!r}: accepted suffixes: "
                f"{', '.join(SPEC_SUFFIXES)}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target


def read_spec_file(path: Path | str) -> dict[str, Any]:
    """The mapping a YAML/JSON spec file holds; one ``ConfigError`` for a wrong suffix, an
    unreadable or invalid file, or one that is not a mapping."""
    source = Path(path)
    if source.suffix.lower() not in SPEC_SUFFIXES:
        raise ConfigError(
            f"job spec {str(source)!r}: accepted suffixes: {', '.join(SPEC_SUFFIXES)}"
        )
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read job spec {str(source)!r}: {exc.strerror}") from None
    import yaml

    try:
        document = json.loads(text) if source.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"job spec {str(source)!r} is not valid: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"job spec {str(source)!r} must hold a mapping of options")
    return document


def load_spec(path: Path | str, **overrides: Any) -> FinetuneSpec:
    """Read a YAML/JSON job spec; ``overrides`` (not ``None``) replace its values."""
    return FinetuneSpec.build(**{**read_spec_file(path), **overrides})
