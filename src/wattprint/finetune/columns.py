"""Which dataset columns a fine-tuning task reads, when the user did not name them.

Each role (the text, the label, the answers...) is filled, in this order of precedence,
by the column the user named (``spec.columns``), by a column with a conventional name
(``review`` is a text, ``ner_tags`` are tags), or by the contents of the columns, read
from their types and an evenly spaced sample of rows: a string column of long texts is a
text, an int/bool or small-cardinality string column is a label, a ``list[str]`` column
and a list column of equal lengths are tokens and tags, a ``{"text", "answer_start"}``
column or a string found inside the context is the answer, and of two texts the longer
one is a summarisation source. Anything ambiguous or missing is one ``ConfigError``,
raised before training, that lists the columns found with their types and the option to
set. Every choice is explained in :attr:`TaskColumns.notes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any, Literal

from wattprint.errors import ConfigError
from wattprint.finetune.spec import Columns, FinetuneSpec

__all__ = ["ColumnProfile", "TaskColumns", "detect_columns", "option", "profile_columns"]

Kind = Literal[
    "text", "category", "string", "int", "bool", "class", "float", "tokens", "answers",
    "translation", "other",
]  # fmt: skip
Choose = Callable[[list["ColumnProfile"]], "ColumnProfile | None"]

#: Rows read to judge a column's contents (evenly spaced over the split).
SAMPLE_ROWS = 512
#: How much longer (mean characters) the longest text column must be than the next one to
#: be chosen as the text without a name.
DOMINANCE = 1.5
#: Share of sampled rows whose string must occur in the context for it to be the answer.
ANSWER_IN_CONTEXT = 0.8


@dataclass(frozen=True)
class TaskColumns:
    """The columns a task reads (``None``: unused), and why each was chosen.

    ``translation`` is a ``{lang: text}`` column, used instead of ``text``/``target``.
    """

    text: str | None = None
    text_pair: str | None = None
    label: str | None = None
    tokens: str | None = None
    tags: str | None = None
    question: str | None = None
    context: str | None = None
    answers: str | None = None
    target: str | None = None
    translation: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    def roles(self) -> dict[str, str]:
        """Each role filled and its column, in role order."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "notes"}
        return {role: column for role, column in values.items() if column is not None}

    def used(self) -> tuple[str, ...]:
        """The dataset columns chosen, in role order."""
        return tuple(self.roles().values())

    def of(self, role: str) -> str:
        """The column chosen for ``role``; ``LookupError`` if the task does not use one."""
        name: str | None = getattr(self, role)
        if name is None:
            raise LookupError(f"no {role} column was chosen")
        return name


@dataclass(frozen=True)
class ColumnProfile:
    """What a column holds: its kind, its declared type and a sample of its values."""

    name: str
    index: int
    kind: Kind
    dtype: str
    values: tuple[Any, ...]
    categorical: bool = False
    mean_chars: float = 0.0
    distinct: int = 0

    def describe(self) -> str:
        """``c0 (string: texts of ~52 chars)``: the column as an error message lists it."""
        detail = {
            "text": f"texts of ~{self.mean_chars:.0f} chars",
            "category": f"{self.distinct} distinct values",
            "int": f"{self.distinct} distinct values",
            "tokens": f"lists, {self.distinct} distinct items",
        }.get(self.kind)
        return f"{self.name} ({self.dtype}: {detail})" if detail else f"{self.name} ({self.dtype})"


def option(role: str) -> str:
    """How a user names the column of ``role``: the CLI flag and the spec field."""
    return f"--{role.replace('_', '-')}-column / columns.{role}"


def profile_columns(dataset: Any) -> list[ColumnProfile]:
    """Profile every column of a ``datasets.Dataset`` from its features and a sample."""
    rows = len(dataset)
    step = max(1, -(-rows // SAMPLE_ROWS))
    sample = dataset.select(range(0, rows, step))[:SAMPLE_ROWS] if rows else {}
    return [
        _profile(name, i, feature, tuple(sample.get(name, ())))
        for i, (name, feature) in enumerate(dataset.features.items())
    ]


def _profile(name: str, index: int, feature: Any, values: tuple[Any, ...]) -> ColumnProfile:
    from datasets import ClassLabel, LargeList, List, Translation, Value

    present = [v for v in values if v is not None]
    make = partial(ColumnProfile, name, index, values=values, dtype=_dtype(feature))
    if isinstance(feature, Value) and feature.dtype in ("string", "large_string"):
        texts = [str(v) for v in present]
        distinct = len(set(texts))
        mean_chars = sum(map(len, texts)) / max(1, len(texts))
        mean_words = sum(len(t.split()) for t in texts) / max(1, len(texts))
        categorical = _few(distinct, len(texts)) and mean_words <= 3
        kind: Kind = "category" if categorical else "text" if mean_words >= 2 else "string"
        return make(kind, categorical=categorical, mean_chars=mean_chars, distinct=distinct)
    if isinstance(feature, ClassLabel):
        return make("class", categorical=True, distinct=feature.num_classes)
    if isinstance(feature, Value) and feature.dtype == "bool":
        return make("bool", categorical=True, distinct=len(set(present)))
    if isinstance(feature, Value) and "int" in feature.dtype:
        distinct = len(set(present))
        return make("int", categorical=_few(distinct, len(present)), distinct=distinct)
    if isinstance(feature, Value) and "float" in feature.dtype:
        return make("float")
    if isinstance(feature, Translation) or (
        isinstance(feature, dict)
        and "text" not in feature
        and feature
        and all(isinstance(f, Value) and f.dtype == "string" for f in feature.values())
    ):
        return make("translation")
    inner = feature.feature if isinstance(feature, List | LargeList) else None
    if (isinstance(feature, dict) and "text" in feature) or (
        isinstance(inner, dict) and "text" in inner
    ):
        return make("answers")
    if isinstance(inner, Value | ClassLabel):
        items = [item for row in present for item in row]
        return make("tokens", distinct=len(set(items)))
    return make("other")


def _few(distinct: int, rows: int) -> bool:
    """Whether ``distinct`` values over ``rows`` rows look like categories, not free values."""
    return distinct <= max(2, rows // 2)


def _dtype(feature: Any) -> str:
    from datasets import ClassLabel, LargeList, List, Translation, Value

    if isinstance(feature, Value):
        return str(feature.dtype)
    if isinstance(feature, ClassLabel):
        return f"class label of {feature.num_classes}"
    if isinstance(feature, Translation):
        return "translation{" + ", ".join(feature.languages) + "}"
    if isinstance(feature, List | LargeList):
        return f"list[{_dtype(feature.feature)}]"
    if isinstance(feature, dict):
        return "{" + ", ".join(f"{k}: {_dtype(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def _is_string(p: ColumnProfile) -> bool:
    return p.kind in ("text", "category", "string")


def _is_text(p: ColumnProfile) -> bool:
    return p.kind == "text"


def _is_label(p: ColumnProfile) -> bool:
    return p.kind in ("class", "bool") or (p.kind in ("int", "category") and p.categorical)


def _is_scalar(p: ColumnProfile) -> bool:
    return _is_string(p) or p.kind in ("class", "bool", "int")


def _is_list(p: ColumnProfile) -> bool:
    return p.kind == "tokens"


def _is_word_list(p: ColumnProfile) -> bool:
    return p.dtype in ("list[string]", "list[large_string]")


def _is_answers(p: ColumnProfile) -> bool:
    return p.kind == "answers" or _is_string(p)


def _only(candidates: list[ColumnProfile]) -> ColumnProfile | None:
    return candidates[0] if len(candidates) == 1 else None


def _dominant(key: Callable[[ColumnProfile], float], ratio: float = DOMINANCE) -> Choose:
    """The candidate whose ``key`` is at least ``ratio`` times every other one's."""

    def choose(candidates: list[ColumnProfile]) -> ColumnProfile | None:
        ranked = sorted(candidates, key=key, reverse=True)
        if len(ranked) == 1 or key(ranked[0]) >= ratio * key(ranked[1]):
            return ranked[0]
        return None

    return choose


def _first(candidates: list[ColumnProfile]) -> ColumnProfile | None:
    return min(candidates, key=lambda p: p.index)


def _questions(candidates: list[ColumnProfile]) -> ColumnProfile | None:
    """The only column, or the only one whose values mostly end with a question mark."""

    def asks(p: ColumnProfile) -> bool:
        texts = [str(v).strip() for v in p.values if v]
        return sum(t.endswith("?") for t in texts) >= len(texts) / 2 > 0

    return _only(candidates) or _only([p for p in candidates if asks(p)])


_LONGEST = _dominant(lambda p: p.mean_chars)


@dataclass(frozen=True)
class _Role:
    """How to fill one role: what a column must hold to be chosen by its contents
    (``accepts``) or by its name, the user's or a conventional one (``allows``, more
    lenient), and the rule picking one of several fitting columns (``None``: by name
    only)."""

    name: str
    accepts: Callable[[ColumnProfile], bool]
    allows: Callable[[ColumnProfile], bool]
    names: tuple[str, ...]
    choose: Choose | None
    wants: str
    rule: str = "the only column that fits"
    required: bool = True


class _Detector:
    """Fills roles one at a time; a column chosen for one role is not offered again."""

    def __init__(self, task: str, profiles: list[ColumnProfile], given: Columns) -> None:
        self.task = task
        self.profiles = {p.name: p for p in profiles}
        self.given = given
        self.chosen: dict[str, str] = {}
        self.taken: set[str] = {v for v in given.model_dump().values() if v is not None}
        self.notes: list[str] = []
        self.problems: list[str] = []

    def fill(self, role: _Role, named: str | None = None) -> ColumnProfile | None:
        """Fill ``role`` with the column the user named (``named``, else the one in
        ``spec.columns``), or one with a conventional name, else by contents."""
        named = named or getattr(self.given, role.name, None)
        if named is not None:
            return self._given(role, named)
        for hint in role.names:
            for p in self._free():
                if p.name.lower() == hint and role.allows(p):
                    return self._take(role, p, "by its name")
        fitting = [p for p in self._free() if role.accepts(p)]
        picked = role.choose(fitting) if role.choose is not None and fitting else None
        if picked is not None:
            return self._take(role, picked, f"by its contents ({role.rule})")
        if role.required and fitting and role.choose is not None:
            listed = ", ".join(p.describe() for p in fitting)
            self.problems.append(
                f"{role.name}: ambiguous between {listed}; set {option(role.name)}"
            )
        elif role.required:
            self.problems.append(
                f"{role.name}: no column fits ({role.wants}); set {option(role.name)}"
            )
        return None

    def _given(self, role: _Role, named: str) -> ColumnProfile | None:
        p = self.profiles.get(named)
        if p is None:
            self.problems.append(f"columns.{role.name}={named!r} is not a column of the dataset")
            return None
        if not role.allows(p):
            self.problems.append(f"{named!r} is {p.dtype}; the {role.name} must be {role.wants}")
            return None
        self.chosen[role.name] = p.name
        self.notes.append(f"{role.name} column: {p.name!r} (set by you)")
        return p

    def _take(self, role: _Role, p: ColumnProfile, why: str) -> ColumnProfile:
        self.chosen[role.name] = p.name
        self.taken.add(p.name)
        self.notes.append(f"{role.name} column: {p.describe()}, {why}")
        return p

    def _free(self) -> list[ColumnProfile]:
        return [p for p in self.profiles.values() if p.name not in self.taken]

    def result(self, used: Sequence[str]) -> TaskColumns:
        """The chosen columns, or one ``ConfigError`` naming every problem."""
        for role, value in self.given.model_dump().items():
            if value is not None and role not in used:
                self.notes.append(f"columns.{role}={value!r} is not used by {self.task}")
        if self.problems:
            found = ", ".join(p.describe() for p in self.profiles.values()) or "none"
            raise ConfigError(
                f"cannot choose the dataset columns for {self.task}: "
                + "; ".join(self.problems)
                + f". Columns found: {found}"
            )
        return TaskColumns(**self.chosen, notes=tuple(self.notes))


def _text(role: str, names: tuple[str, ...], choose: Choose = _LONGEST, rule: str = "") -> _Role:
    """A role filled by a string column of texts, by default the one with the longest."""
    rule = rule or f"the longest texts, {DOMINANCE:g}x longer than any other's"
    return _Role(role, _is_text, _is_string, names, choose, "a string column of texts", rule)


_TEXT_NAMES = ("text", "sentence", "sentence1", "review", "content", "document", "article")
_LABEL = _Role(
    "label",
    _is_label,
    _is_scalar,
    ("label", "labels", "class", "category", "target"),
    _only,
    "an int, bool or class column, or strings with few distinct values",
)
_PAIR = _Role(
    "text_pair",
    _is_string,
    _is_string,
    ("text_pair", "sentence2", "hypothesis", "question2", "text2"),
    None,
    "the second text of a pair",
    required=False,
)
_TOKENS = _Role(
    "tokens",
    _is_word_list,
    _is_word_list,
    ("tokens", "words"),
    _dominant(lambda p: p.distinct, 2.0),
    "a list[str] column of words",
    "the most varied words, 2x more distinct than any other list[str]",
)
_PAIRS = _Role(
    "translation",
    lambda p: p.kind == "translation",
    lambda p: p.kind == "translation",
    ("translation",),
    _only,
    "a {language: text} column",
    required=False,
)


def _tags(tokens: ColumnProfile | None) -> _Role:
    """Tags: a list column whose rows are as long as the tokens' rows."""
    lengths = [len(row or ()) for row in tokens.values] if tokens else None

    def aligned(p: ColumnProfile) -> bool:
        return _is_list(p) and [len(row or ()) for row in p.values] == lengths

    return _Role(
        "tags",
        aligned,
        _is_list,
        ("ner_tags", "tags", "labels", "ner", "pos_tags", "label"),
        _only,
        "a list column (ints or strings) as long as the tokens in every row",
    )


def _answers(context: ColumnProfile | None) -> _Role:
    """Answers: a SQuAD-style column, or strings found inside the context."""
    contexts = [str(v) for v in context.values] if context else []

    def inside(p: ColumnProfile) -> bool:
        if p.kind == "answers":
            return True
        if not _is_string(p) or not contexts:
            return False
        found = sum(bool(a) and str(a) in c for a, c in zip(p.values, contexts, strict=True))
        return found >= ANSWER_IN_CONTEXT * len(contexts)

    return _Role(
        "answers",
        inside,
        _is_answers,
        ("answers", "answer"),
        _only,
        'a {"text", "answer_start"} column, or strings found inside the context',
    )


def detect_columns(spec: FinetuneSpec, dataset: Any) -> TaskColumns:
    """The columns ``spec.task`` reads in ``dataset`` (the training split).

    Raises one ``ConfigError`` listing every role that could not be filled, the columns
    found (with their types) and the option to set.
    """
    task = spec.task
    d = _Detector(task, profile_columns(dataset), spec.columns)
    if task == "text-classification":
        for role in (_LABEL, _PAIR, _text("text", (*_TEXT_NAMES, "premise", "question1"))):
            d.fill(role)
        used: tuple[str, ...] = ("text", "text_pair", "label")
    elif task in ("causal-lm", "masked-lm"):
        d.fill(_text("text", _TEXT_NAMES))
        used = ("text",)
    elif task == "token-classification":
        d.fill(_tags(d.fill(_TOKENS)))
        used = ("tokens", "tags")
    elif task == "question-answering":
        context = d.fill(_text("context", ("context", "passage", "paragraph")))
        d.fill(_answers(context))
        asks = "the only one left, or the only one of questions ending with '?'"
        d.fill(_text("question", ("question", "query"), _questions, asks))
        used = ("question", "context", "answers")
    elif task == "translation":
        used = _translation(d, spec)
    else:
        d.fill(_text("text", ("document", "article", "text", "content", "dialogue", "source")))
        summary = ("summary", "highlights", "target", "abstract", "headline")
        d.fill(_text("target", summary, _only, "the only other one"))
        used = ("text", "target")
    return d.result(used)


def _translation(d: _Detector, spec: FinetuneSpec) -> tuple[str, ...]:
    """A ``{lang: text}`` column (the user may name it as ``columns.text``), else two text
    columns, the source being the first in column order unless named."""
    named = d.given.text
    column = d.profiles.get(named) if named is not None else None
    if named is None or (column is not None and column.kind == "translation"):
        pairs = d.fill(_PAIRS, named)
        if pairs is not None:
            _languages(d, pairs, spec)
            return ("text",)
    langs = [lang.lower() for lang in (spec.source_lang, spec.target_lang) if lang]
    source_names = (*langs[:1], "source", "src", "input", "text")
    target_names = (*langs[1:], "target", "tgt", "output", "translation")
    d.fill(_text("text", source_names, _first, "the first in column order"), named)
    d.fill(_text("target", target_names, _only, "the only other one"))
    return ("text", "target")


def _languages(d: _Detector, column: ColumnProfile, spec: FinetuneSpec) -> None:
    """The source and target languages must be keys of the translation column."""
    keys = sorted({k for row in column.values if isinstance(row, dict) for k in row})
    if spec.source_lang is None or spec.target_lang is None:
        d.problems.append(
            f"translation: column {column.name!r} holds languages {', '.join(keys)}; "
            "set --source-lang / --target-lang (source_lang / target_lang)"
        )
    elif spec.source_lang not in keys or spec.target_lang not in keys:
        d.problems.append(
            f"translation: source_lang={spec.source_lang!r} / target_lang={spec.target_lang!r} "
            f"are not both in column {column.name!r}; languages found: {', '.join(keys)}"
        )
