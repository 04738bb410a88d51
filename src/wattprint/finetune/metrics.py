"""Evaluation of a fine-tuned model, per task, with each field's own scorer.

============================  ==========================================  =========
task                          metrics (``Trainer`` adds ``eval_``)         scale
============================  ==========================================  =========
text-classification           ``accuracy``, ``f1`` (macro; scikit-learn)  0-1
token-classification          ``precision``, ``recall``, ``f1``,          0-1
                              ``accuracy`` (seqeval, entity level)
causal-lm, masked-lm          ``perplexity`` = exp(eval loss)             >= 1
question-answering            ``exact_match``, ``f1`` (SQuAD v1.1)        0-100
translation                   ``bleu`` (sacrebleu, corpus level)          0-100
summarization                 ``rouge1``, ``rouge2``, ``rougeL``          0-1
                              (rouge_score F-measure, stemmed)
============================  ==========================================  =========

Language models need no ``compute_metrics``: their loss is the metric, and
``add_perplexity`` turns it into perplexity. Extractive QA scores answers in the
context's text, not token ids, so it has its own ``evaluate_qa``.
"""

from __future__ import annotations

import logging
import math
import re
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray
from transformers import EvalPrediction, PreTrainedTokenizerBase

from wattprint.errors import ConfigError
from wattprint.finetune.spec import TASKS

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import Trainer

__all__ = [
    "QA_FEATURE_COLUMNS",
    "ComputeMetrics",
    "add_perplexity",
    "bleu",
    "classification_metrics",
    "compute_metrics_for",
    "evaluate_qa",
    "generation_metrics",
    "normalize_answer",
    "postprocess_qa",
    "rouge",
    "squad_scores",
    "token_classification_metrics",
]

log = logging.getLogger(__name__)

Metrics = dict[str, float]
ComputeMetrics = Callable[[EvalPrediction], Metrics]
Offsets = Sequence[Sequence[int] | None]
IGNORED = -100  # label id the losses and Trainer's padding use for "no label here"
#: Columns of QA evaluation features that only post-processing reads, never the model.
QA_FEATURE_COLUMNS = ("example_id", "offset_mapping", "token_is_max_context")
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def compute_metrics_for(
    task: str,
    tokenizer: PreTrainedTokenizerBase | None,
    id2label: Mapping[int, str] | None = None,
) -> ComputeMetrics | None:
    """``Trainer(compute_metrics=...)`` for ``task``; ``None`` where there is nothing to
    compute from predictions: language models (use ``add_perplexity`` on the evaluation
    metrics) and question answering (use ``evaluate_qa``)."""
    if task == "text-classification":
        return classification_metrics
    if task == "token-classification":
        if not id2label:
            raise ConfigError("token-classification metrics need the label names (id2label)")
        return partial(token_classification_metrics, id2label=id2label)
    if task in ("translation", "summarization"):
        if tokenizer is None:
            raise ConfigError(f"{task} metrics need the tokenizer to decode generated text")
        scorer = bleu if task == "translation" else rouge
        return partial(generation_metrics, tokenizer=tokenizer, scorer=scorer)
    if task in ("causal-lm", "masked-lm", "question-answering"):
        return None
    raise ConfigError(f"unknown task {task!r}: accepted: {', '.join(TASKS)}")


def _first(predictions: NDArray[Any] | tuple[NDArray[Any], ...]) -> NDArray[Any]:
    """The logits or generated ids: models may return more arrays after them."""
    return predictions[0] if isinstance(predictions, tuple) else predictions


def classification_metrics(prediction: EvalPrediction) -> Metrics:
    """Accuracy and macro F1 of the arg-max class."""
    from sklearn.metrics import accuracy_score, f1_score  # type: ignore[import-untyped]

    predicted = _first(prediction.predictions).argmax(axis=-1)
    labels = _first(prediction.label_ids)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1": float(f1_score(labels, predicted, average="macro")),
    }


def token_classification_metrics(
    prediction: EvalPrediction, id2label: Mapping[int, str]
) -> Metrics:
    """seqeval's entity-level precision, recall and F1, and its token accuracy, over the
    positions that carry a label (sub-word continuations and padding are -100)."""
    from seqeval.metrics import (  # type: ignore[import-untyped]
        accuracy_score,
        f1_score,
        precision_score,
        recall_score,
    )

    predicted = _first(prediction.predictions).argmax(axis=-1)
    labels = _first(prediction.label_ids)
    true_tags: list[list[str]] = []
    predicted_tags: list[list[str]] = []
    for row_predicted, row_labels in zip(predicted, labels, strict=True):
        kept = row_labels != IGNORED
        true_tags.append([id2label[int(i)] for i in row_labels[kept]])
        predicted_tags.append([id2label[int(i)] for i in row_predicted[kept]])
    return {
        "precision": float(precision_score(true_tags, predicted_tags)),
        "recall": float(recall_score(true_tags, predicted_tags)),
        "f1": float(f1_score(true_tags, predicted_tags)),
        "accuracy": float(accuracy_score(true_tags, predicted_tags)),
    }


def add_perplexity(metrics: Mapping[str, float], prefix: str = "eval") -> Metrics:
    """``metrics`` (from ``Trainer.evaluate``) with ``<prefix>_perplexity`` =
    exp(``<prefix>_loss``); a loss too large for a float's exp gives ``inf``, and says so."""
    loss_key = f"{prefix}_loss"
    if loss_key not in metrics:
        raise ValueError(f"no {loss_key!r} to take the perplexity of; got: {sorted(metrics)}")
    loss = metrics[loss_key]
    try:
        perplexity = math.exp(loss)
    except OverflowError:
        log.warning(
            "%s=%.4g: exp(loss) overflows a float, perplexity reported as inf", loss_key, loss
        )
        perplexity = math.inf
    return {**metrics, f"{prefix}_perplexity": perplexity}


def generation_metrics(
    prediction: EvalPrediction,
    tokenizer: PreTrainedTokenizerBase,
    scorer: Callable[[list[str], list[str]], Metrics],
) -> Metrics:
    """``scorer`` on the decoded generations and references (``predict_with_generate``)."""
    pad = tokenizer.pad_token_id
    if pad is None:
        raise ConfigError(f"{type(tokenizer).__name__} has no pad token to decode padded ids")
    predictions, references = (
        _decode(tokenizer, _first(ids), pad)
        for ids in (prediction.predictions, prediction.label_ids)
    )
    return scorer(predictions, references)


def _decode(tokenizer: PreTrainedTokenizerBase, ids: NDArray[Any], pad: int) -> list[str]:
    """The text of each row of ids (-100 read as padding), without special tokens."""
    rows = np.where(ids != IGNORED, ids, pad)
    return [text.strip() for text in tokenizer.batch_decode(rows, skip_special_tokens=True)]


def bleu(predictions: list[str], references: list[str]) -> Metrics:
    """sacrebleu's corpus BLEU (0-100), one reference per sentence."""
    import sacrebleu

    return {"bleu": float(sacrebleu.corpus_bleu(predictions, [references]).score)}


def rouge(predictions: list[str], references: list[str]) -> Metrics:
    """Mean ROUGE-1/2/L F-measure (0-1) of rouge_score, with Porter stemming."""
    from rouge_score import rouge_scorer  # type: ignore[import-untyped]

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    scores = [scorer.score(ref, pred) for pred, ref in zip(predictions, references, strict=True)]
    return {kind: float(np.mean([s[kind].fmeasure for s in scores])) for kind in ROUGE_TYPES}


def postprocess_qa(
    examples: Iterable[Mapping[str, Any]],
    features: Iterable[Mapping[str, Any]],
    start_logits: NDArray[Any],
    end_logits: NDArray[Any],
    n_best: int = 20,
    max_answer_length: int = 30,
) -> dict[str, str]:
    """The answer text of each example (by ``id``): the best-scoring span over all its
    features, as ``postprocess_qa_predictions`` of transformers' ``run_qa`` example
    (SQuAD v1, no null answer) chooses it.

    ``features[i]`` carries ``example_id`` and ``offset_mapping`` (character span of each
    token, ``None`` outside the context); row ``i`` of the logits belongs to it.
    """
    feature_rows: dict[str, list[int]] = defaultdict(list)
    offsets: list[Offsets] = []
    max_context: list[Mapping[str, bool] | None] = []
    for row, feature in enumerate(features):
        feature_rows[feature["example_id"]].append(row)
        offsets.append(feature["offset_mapping"])
        max_context.append(feature.get("token_is_max_context"))
    answers: dict[str, str] = {}
    for example in examples:
        spans: list[tuple[float, int, int]] = []  # score, first char, end char
        for row in feature_rows[example["id"]]:
            spans.extend(
                _valid_spans(
                    start_logits[row],
                    end_logits[row],
                    offsets[row],
                    max_context[row],
                    n_best,
                    max_answer_length,
                )
            )
        best = max(spans, key=lambda span: span[0], default=None)  # first of equals, as run_qa
        text = "" if best is None else example["context"][best[1] : best[2]]
        # run_qa answers the literal "empty" when no span is left (or the only one is "")
        answers[example["id"]] = "empty" if len(spans) <= 1 and not text else text
    return answers


def _valid_spans(
    start: NDArray[Any],
    end: NDArray[Any],
    offsets: Offsets,
    max_context: Mapping[str, bool] | None,
    n_best: int,
    max_answer_length: int,
) -> Iterable[tuple[float, int, int]]:
    """Spans from the ``n_best`` start and end positions that lie in the context, in order,
    at most ``max_answer_length`` tokens long (run_qa's filters, in run_qa's order)."""
    starts = np.argsort(start)[-1 : -n_best - 1 : -1].tolist()
    ends = np.argsort(end)[-1 : -n_best - 1 : -1].tolist()
    for i in starts:
        for j in ends:
            first = offsets[i] if i < len(offsets) else None
            last = offsets[j] if j < len(offsets) else None
            if first is None or last is None or len(first) < 2 or len(last) < 2:
                continue
            if j < i or j - i + 1 > max_answer_length:
                continue
            if max_context is not None and not max_context.get(str(i), False):
                continue
            yield float(start[i] + end[j]), first[0], last[1]


# SQuAD v1.1 scoring, after the official evaluate-v1.1.py script
# (https://rajpurkar.github.io/SQuAD-explorer/, "Evaluation Script v1.1"), which
# evaluate's "squad" metric wraps; re-written here because evaluate fetches it online.
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, without punctuation, articles and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    same = sum((Counter(predicted) & Counter(expected)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(expected)
    return 2 * precision * recall / (precision + recall)


def _exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def squad_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]
) -> Metrics:
    """SQuAD v1.1 ``exact_match`` and ``f1`` (0-100): per question the best over its gold
    answers, averaged over all questions (one without a prediction scores 0). v1.1 has no
    unanswerable questions: those without a gold answer are left out, with a warning."""
    scored = {qid: golds for qid, golds in references.items() if golds}
    if len(scored) < len(references):
        log.warning(
            "%d of %d questions have no gold answer: left out of the SQuAD v1.1 scores",
            len(references) - len(scored),
            len(references),
        )
    totals = {"exact_match": 0.0, "f1": 0.0}
    for qid, golds in scored.items():
        if qid not in predictions:
            continue
        for name, score in (("exact_match", _exact), ("f1", _f1)):
            totals[name] += max(score(predictions[qid], gold) for gold in golds)
    return {name: 100.0 * total / max(len(scored), 1) for name, total in totals.items()}


def evaluate_qa(
    trainer: Trainer,
    eval_features: Dataset,
    eval_examples: Dataset,
    n_best: int = 20,
    max_answer_length: int = 30,
) -> Metrics:
    """Predict on ``eval_features``, pick each example's answer (``postprocess_qa``) and
    score it against ``eval_examples``' answers: the prediction's ``eval_*`` metrics plus
    ``eval_exact_match`` and ``eval_f1``."""
    inputs = eval_features.remove_columns(
        [c for c in QA_FEATURE_COLUMNS if c in eval_features.column_names]
    )
    output = trainer.predict(inputs, metric_key_prefix="eval")
    start_logits, end_logits = cast("tuple[NDArray[Any], NDArray[Any]]", output.predictions)
    answers = postprocess_qa(
        eval_examples, eval_features, start_logits, end_logits, n_best, max_answer_length
    )
    references = {example["id"]: example["answers"]["text"] for example in eval_examples}
    scores = squad_scores(answers, references)
    return {**(output.metrics or {}), **{f"eval_{k}": v for k, v in scores.items()}}
