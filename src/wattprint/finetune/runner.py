"""Run a fine-tuning job: load (offline), preprocess, train with ``transformers.Trainer``
under the tracker, evaluate with the task's metrics, save the model or adapter.

The run is an ordinary wattprint run (windows per epoch and evaluation from
``WattprintCallback``, the task's metrics logged per epoch and at the end) labelled
``kind=finetune`` with the task, model, dataset and PEFT type, so it can be listed,
priced, reported and compared like any other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.finetune.spec import FinetuneSpec
from wattprint.tracking.tracker import Tracker

__all__ = ["AUTO_CLASSES", "FinetuneResult", "finetune", "load_model", "load_tokenizer"]

#: The transformers auto class of each task's model.
AUTO_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "translation": "AutoModelForSeq2SeqLM",
    "summarization": "AutoModelForSeq2SeqLM",
}
SEQ2SEQ = ("translation", "summarization")


@dataclass(frozen=True)
class FinetuneResult:
    """A finished job: its run, where the model went, its final metrics and what was
    detected or decided on the way."""

    run_id: str
    run_name: str
    output_dir: Path
    metrics: dict[str, float]
    notes: tuple[str, ...]
    energy_j: float


def load_tokenizer(spec: FinetuneSpec) -> Any:
    """The model's tokenizer from a local directory or the local Hugging Face cache."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(spec.model, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(_not_local(spec.model, "tokenizer", exc)) from None


def load_model(spec: FinetuneSpec, id2label: dict[int, str] | None) -> Any:
    """The task's model class loaded from ``spec.model`` (offline); classification heads
    get the dataset's label map, so the saved model names its classes."""
    import transformers

    auto = getattr(transformers, AUTO_CLASSES[spec.task])
    extra: dict[str, Any] = {}
    if id2label is not None:
        extra = {
            "num_labels": len(id2label),
            "id2label": id2label,
            "label2id": {v: k for k, v in id2label.items()},
        }
    try:
        return auto.from_pretrained(spec.model, local_files_only=True, **extra)
    except (OSError, ValueError) as exc:
        raise ConfigError(_not_local(spec.model, "model", exc)) from None


def _not_local(model: str, what: str, exc: BaseException) -> str:
    return (
        f"cannot load the {what} of {model!r} offline: give a local directory (save_pretrained) "
        f"or a hub id already in the local Hugging Face cache; nothing is downloaded ({exc})"
    )


def _arguments(spec: FinetuneSpec, output_dir: Path, has_eval: bool) -> Any:
    from transformers import Seq2SeqTrainingArguments, TrainingArguments

    common: dict[str, Any] = {
        "output_dir": str(output_dir),
        "num_train_epochs": spec.epochs,
        "learning_rate": spec.learning_rate,
        "per_device_train_batch_size": spec.train_batch_size,
        "per_device_eval_batch_size": spec.eval_batch_size,
        "eval_strategy": "epoch" if has_eval else "no",
        "logging_strategy": "epoch",
        "save_strategy": "no",
        "seed": spec.seed,
        "fp16": spec.precision == "fp16",
        "bf16": spec.precision == "bf16",
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_pin_memory": _has_cuda(),  # pinning without a GPU only warns
    }
    if spec.task in SEQ2SEQ:
        return Seq2SeqTrainingArguments(
            predict_with_generate=True, generation_max_length=spec.max_target_length, **common
        )
    return TrainingArguments(**common)


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def finetune(
    spec: FinetuneSpec, *, settings: Settings, callbacks: Sequence[Any] = ()
) -> FinetuneResult:
    """Run ``spec`` to the end; the run is stored under ``spec.project``. ``callbacks``
    (``TrainerCallback``s, e.g. a progress bar) are added to the trainer's; transformers'
    printer, which writes each log to stdout, is removed."""
    from transformers import PrinterCallback, Seq2SeqTrainer, Trainer, set_seed

    from wattprint.finetune.data import load_raw
    from wattprint.finetune.metrics import add_perplexity, compute_metrics_for, evaluate_qa
    from wattprint.finetune.peft_setup import apply_peft
    from wattprint.finetune.preprocess import prepare
    from wattprint.integrations.huggingface import WattprintCallback

    set_seed(spec.seed)
    tokenizer = load_tokenizer(spec)
    raw = load_raw(spec)
    prepared = prepare(spec, raw, tokenizer)
    model = load_model(spec, prepared.id2label)
    model, peft_notes = apply_peft(model, spec.peft, spec.task)
    run_settings = settings.model_copy(update={"project": spec.project, "run": spec.run})
    tracker = Tracker(run_settings, labels=_labels(spec), command="wattprint finetune")
    output_dir = spec.output_dir or Path(settings.dir) / "finetune" / tracker.run_name
    args = _arguments(spec, output_dir, prepared.eval is not None)
    trainer_class: Any = Seq2SeqTrainer if spec.task in SEQ2SEQ else Trainer
    extra: dict[str, Any] = {}
    if spec.task == "question-answering":
        trainer_class = _qa_trainer(Trainer, evaluate_qa)
        extra = {"eval_examples": prepared.eval_examples}
    collator = prepared.data_collator
    if spec.task in SEQ2SEQ and getattr(collator, "model", "absent") is None:
        collator.model = model  # decoder_start_token_id for the labels' shifted inputs
    callback = WattprintCallback(tracker)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=prepared.train,
        eval_dataset=prepared.eval,
        data_collator=collator,
        processing_class=tokenizer,
        compute_metrics=compute_metrics_for(spec.task, tokenizer, prepared.id2label),
        callbacks=[callback, *callbacks],
        **extra,
    )
    trainer.remove_callback(PrinterCallback)
    with tracker:
        with callback:
            trainer.train()
        metrics = _final_metrics(spec, trainer, prepared.eval is not None, add_perplexity)
        if metrics:
            tracker.log(step=None, **metrics)
        trainer.save_model(str(output_dir))
        tokenizer.save_pretrained(str(output_dir))
        tracker.note("finetune", f"model saved to {output_dir}")
    result = tracker.result
    return FinetuneResult(
        run_id=tracker.run_id,
        run_name=tracker.run_name,
        output_dir=output_dir,
        metrics=metrics,
        notes=(*prepared.notes, *peft_notes),
        energy_j=result.total_energy_j if result is not None else math.nan,
    )


def _final_metrics(
    spec: FinetuneSpec, trainer: Any, has_eval: bool, add_perplexity: Any
) -> dict[str, float]:
    """The task's metrics on the eval split after training (the numbers only)."""
    if not has_eval:
        return {}
    raw = trainer.evaluate()
    if spec.task in ("causal-lm", "masked-lm"):
        raw = add_perplexity(raw)
    return {
        f"final_{k.removeprefix('eval_')}": float(v)
        for k, v in raw.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _qa_trainer(trainer: type[Any], evaluate_qa: Any) -> type[Any]:
    """A ``Trainer`` whose evaluation is extractive QA's: predict spans on the eval
    features, map them back to answer texts, score SQuAD EM/F1 (as transformers' run_qa
    example does), and tell the callbacks, so each epoch's evaluation is a window."""

    class QuestionAnsweringTrainer(trainer):  # type: ignore[misc]
        def __init__(self, *args: Any, eval_examples: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.eval_examples = eval_examples

        def evaluate(
            self,
            eval_dataset: Any = None,
            ignore_keys: Any = None,
            metric_key_prefix: str = "eval",
        ) -> dict[str, float]:
            metrics: dict[str, float] = evaluate_qa(self, self.eval_dataset, self.eval_examples)
            self.log(metrics)
            this: Any = self  # transformers' Trainer attributes are untyped here
            this.control = this.callback_handler.on_evaluate(
                this.args, this.state, this.control, metrics
            )
            return metrics

    return QuestionAnsweringTrainer


def _labels(spec: FinetuneSpec) -> dict[str, str]:
    return {
        "kind": "finetune",
        "task": spec.task,
        "model": spec.model,
        "dataset": spec.dataset,
        "peft": spec.peft.type,
        "precision": spec.precision,
        "epochs": f"{spec.epochs:g}",
    }
