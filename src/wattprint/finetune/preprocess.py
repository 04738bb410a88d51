"""Turn the raw splits into what ``transformers.Trainer`` eats, for each task.

The columns come from :func:`~wattprint.finetune.columns.detect_columns`; every split is
tokenised with ``Dataset.map(batched=True)`` through model-agnostic tokenizer calls, and
each task gets the data collator its examples need:

- text-classification: labels to ids ``0..n-1`` (a sorted label map), optional text pair,
  ``DataCollatorWithPadding``;
- causal-lm / masked-lm: texts concatenated and cut into blocks of ``max_length`` tokens
  (the remainder dropped), ``DataCollatorForLanguageModeling``;
- token-classification: words tokenised with ``is_split_into_words``, a word's tag on its
  first sub-token, -100 elsewhere, ``DataCollatorForTokenClassification``;
- question-answering: SQuAD-style features as in transformers' ``run_qa`` example
  (overflowing windows with a stride; start/end token positions for training, example ids
  and context-only offsets for evaluation), ``default_data_collator``;
- translation / summarization: the source (with ``spec.source_prefix``) and the target
  tokenised with ``text_target=``, ``DataCollatorForSeq2Seq``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from datasets import Value
from transformers import (
    DataCollatorForLanguageModeling,
    DataCollatorForSeq2Seq,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
    default_data_collator,
)

from wattprint.errors import ConfigError
from wattprint.finetune.columns import TaskColumns, detect_columns
from wattprint.finetune.spec import FinetuneSpec

__all__ = ["IGNORE_INDEX", "MLM_PROBABILITY", "Prepared", "label_map", "prepare"]

#: Label of the positions a loss ignores (special and continuation sub-tokens, padding).
IGNORE_INDEX = -100
#: Share of tokens masked for masked language modelling.
MLM_PROBABILITY = 0.15
#: Sliding-window overlap of long QA contexts, as a fraction of ``max_length``.
QA_STRIDE_FRACTION = 0.25

Batch = dict[str, list[Any]]


@dataclass(frozen=True)
class Prepared:
    """Tokenised splits and what the trainer and the metrics need with them.

    ``eval_examples`` (question-answering and seq2seq only) are the eval examples before
    tokenisation, one row per example: ``id``, ``question``, ``context`` and flattened
    ``answers`` ({"text": [...], "answer_start": [...]}) for QA; ``source`` and ``target``
    texts for translation and summarisation.
    """

    task: str
    train: Any  # datasets.Dataset
    eval: Any | None
    eval_examples: Any | None
    columns: TaskColumns
    id2label: dict[int, str] | None
    data_collator: Any  # a transformers data collator
    notes: tuple[str, ...]

    @property
    def label2id(self) -> dict[str, int] | None:
        """The inverse of ``id2label``."""
        return None if self.id2label is None else {v: k for k, v in self.id2label.items()}


@dataclass
class _Job:
    """What every task's preprocessing reads, and the notes it adds to."""

    spec: FinetuneSpec
    tokenizer: PreTrainedTokenizerBase
    columns: TaskColumns
    max_length: int
    notes: list[str]

    def transform(
        self, what: str, dataset: Any, fn: Callable[..., Batch], with_indices: bool = False
    ) -> Any:
        """``fn`` over ``dataset`` in batches (``None`` stays ``None``); its output columns
        replace the raw ones."""
        if dataset is None:
            return None
        return dataset.map(
            fn,
            batched=True,
            with_indices=with_indices,
            remove_columns=dataset.column_names,
            desc=f"Preparing {what}",
        )

    def done(
        self,
        train: Any,
        evaluation: Any,
        collator: Any,
        *,
        eval_examples: Any = None,
        id2label: dict[int, str] | None = None,
    ) -> Prepared:
        """The result, with every note gathered so far."""
        return Prepared(
            task=self.spec.task,
            train=train,
            eval=evaluation,
            eval_examples=eval_examples,
            columns=self.columns,
            id2label=id2label,
            data_collator=collator,
            notes=tuple(self.notes),
        )


def prepare(
    spec: FinetuneSpec,
    raw: Mapping[str, Any],
    tokenizer: PreTrainedTokenizerBase,
    model: Any = None,
) -> Prepared:
    """Tokenise ``raw["train"]`` (and ``raw["eval"]`` when present) for ``spec.task``.

    ``raw`` is what :func:`~wattprint.finetune.data.load_raw` returns (its notes are kept)
    or any ``DatasetDict`` with a ``train`` split. ``model`` only matters for translation
    and summarisation: ``DataCollatorForSeq2Seq`` uses it to build ``decoder_input_ids``;
    with ``None`` the caller may set ``prepared.data_collator.model`` later, or leave the
    model to shift the labels itself. A tokenizer without a pad token is given its eos
    token as pad token (it is modified in place, so save it with the model).
    """
    notes = list(getattr(raw, "notes", ()))
    train = raw["train"]
    evaluation = raw.get("eval", None)
    columns = detect_columns(spec, train)
    notes.extend(columns.notes)
    if evaluation is not None:
        missing = [c for c in columns.used() if c not in evaluation.column_names]
        if missing:
            raise ConfigError(
                f"the eval split lacks column(s) {', '.join(missing)} found in the training "
                f"split; its columns: {', '.join(evaluation.column_names)}"
            )
    _ensure_pad_token(tokenizer, notes)
    job = _Job(spec, tokenizer, columns, _max_length(spec, tokenizer, notes), notes)
    return _TASKS[spec.task](job, train, evaluation, model)


def _ensure_pad_token(tokenizer: PreTrainedTokenizerBase, notes: list[str]) -> None:
    if tokenizer.pad_token is not None:
        return
    if tokenizer.eos_token is None:
        raise ConfigError(
            "the tokenizer has neither a pad token nor an eos token to pad with; "
            "choose a model whose tokenizer has one"
        )
    tokenizer.pad_token = tokenizer.eos_token
    notes.append(f"tokenizer: no pad token, padding with its eos token {tokenizer.eos_token!r}")


def _max_length(spec: FinetuneSpec, tokenizer: PreTrainedTokenizerBase, notes: list[str]) -> int:
    """``spec.max_length``, lowered to what the tokenizer (its model) accepts."""
    limit = int(tokenizer.model_max_length)
    if spec.max_length <= limit:
        return spec.max_length
    notes.append(f"max_length: {spec.max_length} lowered to the model's limit of {limit} tokens")
    return limit


def _texts(values: Iterable[Any]) -> list[str]:
    """Strings for the tokenizer (an empty cell is an empty text)."""
    return ["" if v is None else str(v) for v in values]


def label_map(
    values: Iterable[Any], names: Sequence[str] | None, what: str
) -> tuple[dict[Any, int], dict[int, str], str]:
    """Label values → ids ``0..n-1``, ids → names, and a note saying how.

    Class-label columns keep their ids and names; bools are ``False``=0, ``True``=1; ints
    ``0..n-1`` are kept, other ints and strings are sorted and numbered in that order.
    """
    if names is not None:
        note = f"{what}: the dataset's class names {_some(names)}"
        return {i: i for i in range(len(names))}, dict(enumerate(names)), note
    distinct = set(values)
    if None in distinct:
        raise ConfigError(f"the {what} column has empty values; every example needs one")
    if distinct and all(isinstance(v, bool) for v in distinct):
        ordered: list[Any] = [False, True]
        how = "bools as 0 (False) and 1 (True)"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in distinct):
        ordered = sorted(distinct)
        if ordered == list(range(len(ordered))):
            how = f"ints 0..{len(ordered) - 1} kept"
        else:
            how = f"ints {_some(ordered)} renumbered 0..{len(ordered) - 1} in sorted order"
    elif all(isinstance(v, str) for v in distinct):
        ordered = sorted(distinct)
        how = f"strings {_some(ordered)} numbered 0..{len(ordered) - 1} in sorted order"
    else:
        kinds = ", ".join(sorted({type(v).__name__ for v in distinct}))
        raise ConfigError(f"the {what} column holds {kinds}; labels must be ints, bools or strings")
    ids = {value: i for i, value in enumerate(ordered)}
    return ids, {i: str(value) for i, value in enumerate(ordered)}, f"{what}: {how}"


def _some(values: Sequence[Any], shown: int = 6) -> str:
    head = ", ".join(map(str, values[:shown]))
    return head + (f" ... ({len(values)})" if len(values) > shown else "")


def _class_names(feature: Any) -> list[str] | None:
    """The names of a ``ClassLabel`` feature (or of a list of them), else ``None``."""
    inner = getattr(feature, "feature", feature)
    names = getattr(inner, "names", None)
    return list(names) if names is not None else None


def _splits(train: Any, evaluation: Any) -> list[Any]:
    return [train] if evaluation is None else [train, evaluation]


def _classification(job: _Job, train: Any, evaluation: Any, model: Any) -> Prepared:
    cols, tok = job.columns, job.tokenizer
    text, pair, label = cols.of("text"), cols.text_pair, cols.of("label")
    values = chain.from_iterable(d.unique(label) for d in _splits(train, evaluation))
    label2id, id2label, note = label_map(values, _class_names(train.features[label]), "label")
    job.notes.append(note)

    def tokenise(batch: Batch) -> Batch:
        pairs = _texts(batch[pair]) if pair else None
        encoded = tok(_texts(batch[text]), pairs, truncation=True, max_length=job.max_length)
        return {**encoded, "labels": [label2id[v] for v in batch[label]]}

    return job.done(
        job.transform("train", train, tokenise),
        job.transform("eval", evaluation, tokenise),
        DataCollatorWithPadding(tok),
        id2label=id2label,
    )


def _language_modelling(job: _Job, train: Any, evaluation: Any, model: Any) -> Prepared:
    tok, block, text = job.tokenizer, job.max_length, job.columns.of("text")
    masked = job.spec.task == "masked-lm"
    if masked and tok.mask_token is None:
        raise ConfigError(
            "masked-lm needs a tokenizer with a mask token and this one has none; "
            "choose a BERT/RoBERTa-like model, or the causal-lm task"
        )

    def tokenise(batch: Batch) -> Batch:
        return dict(tok(_texts(batch[text]), return_special_tokens_mask=masked))

    def blocks(batch: Batch) -> Batch:
        joined = {k: list(chain.from_iterable(v)) for k, v in batch.items()}
        usable = len(joined["input_ids"]) // block * block
        cut = {k: [v[i : i + block] for i in range(0, usable, block)] for k, v in joined.items()}
        return {**cut, "labels": list(cut["input_ids"])} if not masked else cut

    def chunk(split: str, dataset: Any) -> Any:
        tokens = job.transform(split, dataset, tokenise)
        if tokens is None:
            return None
        total = sum(map(len, tokens["input_ids"]))
        if total < block:
            raise ConfigError(
                f"the {split} split has {total} tokens, fewer than one block of "
                f"max_length={block}: lower max_length or give more text"
            )
        chunks = tokens.map(blocks, batched=True, desc=f"Cutting {split} into blocks")
        job.notes.append(
            f"{split}: {total} tokens cut into {len(chunks)} blocks of {block} "
            f"({total - len(chunks) * block} left over)"
        )
        return chunks

    collator = DataCollatorForLanguageModeling(
        tok, mlm=masked, mlm_probability=MLM_PROBABILITY if masked else None
    )
    return job.done(chunk("train", train), chunk("eval", evaluation), collator)


def _token_classification(job: _Job, train: Any, evaluation: Any, model: Any) -> Prepared:
    tok, words, tags = job.tokenizer, job.columns.of("tokens"), job.columns.of("tags")
    _need_fast(tok, "token-classification (word ids)")
    values = (t for d in _splits(train, evaluation) for row in d[tags] for t in row)
    tag2id, id2label, note = label_map(values, _class_names(train.features[tags]), "tags")
    job.notes.append(note)

    def tokenise(batch: Batch) -> Batch:
        encoded = tok(
            [_texts(row) for row in batch[words]],
            is_split_into_words=True,
            truncation=True,
            max_length=job.max_length,
        )
        labels = []
        for i, row_tags in enumerate(batch[tags]):
            previous, row = None, []
            for word in encoded.word_ids(batch_index=i):
                first = word is not None and word != previous
                row.append(tag2id[row_tags[word]] if first else IGNORE_INDEX)
                previous = word
            labels.append(row)
        return {**encoded, "labels": labels}

    return job.done(
        job.transform("train", train, tokenise),
        job.transform("eval", evaluation, tokenise),
        DataCollatorForTokenClassification(tok),
        id2label=id2label,
    )


def _need_fast(tokenizer: PreTrainedTokenizerBase, what: str) -> None:
    if not tokenizer.is_fast:
        raise ConfigError(f"{what} needs a fast (Rust) tokenizer; this model's is not one")


def _question_answering(job: _Job, train: Any, evaluation: Any, model: Any) -> Prepared:
    tok, cols = job.tokenizer, job.columns
    _need_fast(tok, "question-answering (offset mappings)")
    pad_on_right = tok.padding_side == "right"
    context_seq = 1 if pad_on_right else 0
    stride = int(job.max_length * QA_STRIDE_FRACTION)
    job.notes.append(f"question-answering: windows of {job.max_length} tokens, stride {stride}")
    if isinstance(train.features[cols.of("answers")], Value):
        job.notes.append("answers: plain strings, located at their first occurrence in the context")

    def encode(batch: Batch) -> Any:
        questions = [q.lstrip() for q in batch["question"]]
        contexts = batch["context"]
        return tok(
            questions if pad_on_right else contexts,
            contexts if pad_on_right else questions,
            truncation="only_second" if pad_on_right else "only_first",
            max_length=job.max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )

    def train_features(batch: Batch) -> Batch:
        encoded = encode(batch)
        samples = encoded.pop("overflow_to_sample_mapping")
        offsets = encoded.pop("offset_mapping")
        starts, ends = [], []
        for i, spans in enumerate(offsets):
            ids = encoded["input_ids"][i]
            cls = ids.index(tok.cls_token_id) if tok.cls_token_id in ids else 0
            answers = batch["answers"][samples[i]]
            window = _answer_tokens(answers, spans, encoded.sequence_ids(i), context_seq)
            starts.append(window[0] if window else cls)
            ends.append(window[1] if window else cls)
        return {**encoded, "start_positions": starts, "end_positions": ends}

    def eval_features(batch: Batch) -> Batch:
        encoded = encode(batch)
        samples = encoded.pop("overflow_to_sample_mapping")
        encoded["example_id"] = [batch["id"][s] for s in samples]
        encoded["offset_mapping"] = [
            [
                span if seq == context_seq else None
                for span, seq in zip(spans, encoded.sequence_ids(i), strict=True)
            ]
            for i, spans in enumerate(encoded["offset_mapping"])
        ]
        return dict(encoded)

    examples = [_squad(job, split, d) for split, d in (("train", train), ("eval", evaluation))]
    return job.done(
        job.transform("train", examples[0], train_features),
        job.transform("eval", examples[1], eval_features),
        default_data_collator,
        eval_examples=examples[1],
    )


def _answer_tokens(
    answers: dict[str, list[Any]],
    spans: list[tuple[int, int]],
    sequence_ids: list[int | None],
    context_seq: int,
) -> tuple[int, int] | None:
    """The first and last token of the first answer, if it lies inside this window."""
    if not answers["answer_start"]:
        return None
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    first = sequence_ids.index(context_seq)
    last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_seq)
    if not (spans[first][0] <= start_char and spans[last][1] >= end_char):
        return None
    while first <= last and spans[first][0] <= start_char:
        first += 1
    while spans[last][1] >= end_char:
        last -= 1
    return first - 1, last + 1


def _squad(job: _Job, split: str, dataset: Any) -> Any:
    """``id``, ``question``, ``context`` and ``answers`` as {"text": [...], "answer_start":
    [...]}, whatever shape the answers had (a string or texts without starts are found in
    the context; an answer not found makes the example unanswerable)."""
    if dataset is None:
        return None
    question, context, answers = (job.columns.of(r) for r in ("question", "context", "answers"))
    ids = "id" in dataset.column_names and len(dataset.unique("id")) == len(dataset)

    def flatten(batch: Batch, indices: list[int]) -> Batch:
        contexts = _texts(batch[context])
        return {
            "id": [str(v) for v in batch["id"]] if ids else [str(i) for i in indices],
            "question": _texts(batch[question]),
            "context": contexts,
            "answers": [_flat_answers(a, c) for a, c in zip(batch[answers], contexts, strict=True)],
        }

    flat = job.transform(f"{split} answers", dataset, flatten, with_indices=True)
    unanswerable = sum(not a["text"] for a in flat["answers"])
    if unanswerable:
        job.notes.append(f"{split}: {unanswerable} example(s) without an answer in the context")
    if not ids:
        job.notes.append(f"{split}: no unique 'id' column, examples numbered from 0")
    return flat


def _flat_answers(value: Any, context: str) -> dict[str, list[Any]]:
    """One example's answers as {"text": [...], "answer_start": [...]}."""
    if isinstance(value, dict):
        texts, starts = value.get("text"), value.get("answer_start")
    elif isinstance(value, list):
        texts = [a.get("text") if isinstance(a, dict) else a for a in value]
        starts = [a.get("answer_start") if isinstance(a, dict) else None for a in value]
    else:
        texts, starts = value, None
    texts = [texts] if isinstance(texts, str) else list(texts or [])
    starts = [starts] if isinstance(starts, int) else list(starts or [None] * len(texts))
    found = [
        (text, context.find(text) if start is None else int(start))
        for text, start in zip(texts, starts, strict=False)
        if text
    ]
    kept = [(text, start) for text, start in found if start >= 0]
    return {"text": [t for t, _ in kept], "answer_start": [s for _, s in kept]}


def _seq2seq(job: _Job, train: Any, evaluation: Any, model: Any) -> Prepared:
    spec, tok, cols = job.spec, job.tokenizer, job.columns
    prefix = spec.source_prefix or ""
    if cols.translation is not None:
        job.notes.append(f"translation: {spec.source_lang} -> {spec.target_lang}")
    if prefix:
        job.notes.append(f"source prefix: {prefix!r}")

    def pairs(batch: Batch) -> Batch:
        if cols.translation is not None:
            rows = batch[cols.translation]
            sources = [row[spec.source_lang] for row in rows]
            targets = [row[spec.target_lang] for row in rows]
        else:
            sources, targets = batch[cols.of("text")], batch[cols.of("target")]
        return {"source": _texts(sources), "target": _texts(targets)}

    def tokenise(batch: Batch) -> Batch:
        texts = pairs(batch)
        encoded = tok(
            [prefix + s for s in texts["source"]], max_length=job.max_length, truncation=True
        )
        labels = tok(
            text_target=texts["target"], max_length=spec.max_target_length, truncation=True
        )
        return {**encoded, "labels": labels["input_ids"]}

    return job.done(
        job.transform("train", train, tokenise),
        job.transform("eval", evaluation, tokenise),
        DataCollatorForSeq2Seq(tok, model=model, label_pad_token_id=IGNORE_INDEX),
        eval_examples=job.transform("eval examples", evaluation, pairs),
    )


_TASKS: dict[str, Callable[[_Job, Any, Any, Any], Prepared]] = {
    "text-classification": _classification,
    "causal-lm": _language_modelling,
    "masked-lm": _language_modelling,
    "token-classification": _token_classification,
    "question-answering": _question_answering,
    "translation": _seq2seq,
    "summarization": _seq2seq,
}
