"""Column detection: from the user's choice, from conventional names, and from the
contents of deliberately unnamed columns; one clear error when it cannot decide."""

from __future__ import annotations

from typing import Any

import pytest
from datasets import ClassLabel, Dataset, Features, List, Value

from tests.finetune.fixtures import rows
from wattprint.errors import ConfigError
from wattprint.finetune.columns import detect_columns, profile_columns
from wattprint.finetune.spec import FinetuneSpec

LANGS = {"source_lang": "en", "target_lang": "fr"}


def spec(task: str, **extra: Any) -> FinetuneSpec:
    return FinetuneSpec.build(task=task, model="m", dataset="d", **extra)


def reversed_columns(records: list[dict[str, Any]]) -> Dataset:
    """The records with their columns in reverse order, so order cannot be the reason."""
    return Dataset.from_list([dict(reversed(r.items())) for r in records])


@pytest.mark.parametrize(
    ("task", "expected", "extra"),
    [
        ("text-classification", {"text": "c0", "label": "c1"}, {}),
        ("causal-lm", {"text": "c0"}, {}),
        ("masked-lm", {"text": "c0"}, {}),
        ("token-classification", {"tokens": "c0", "tags": "c1"}, {}),
        ("question-answering", {"question": "c0", "context": "c1", "answers": "c2"}, {}),
        ("translation", {"translation": "c0"}, LANGS),
        ("summarization", {"text": "c0", "target": "c1"}, {}),
    ],
)
def test_unnamed_columns_are_detected_from_their_contents(
    task: str, expected: dict[str, str], extra: dict[str, str]
) -> None:
    columns = detect_columns(spec(task, **extra), reversed_columns(rows(task)))
    assert columns.roles() == expected
    assert all("by its contents" in note for note in columns.notes)


def test_plain_answer_strings_found_in_the_context_are_the_answers() -> None:
    records = rows("question-answering", flat=True)
    for i, r in enumerate(records):
        r["field_a"] = "madrid" if i % 2 else "nowhere"  # short strings, rarely in the context
    columns = detect_columns(spec("question-answering"), Dataset.from_list(records))
    assert (columns.question, columns.context, columns.answers) == ("c0", "c1", "c2")


def test_translation_pair_columns_go_source_first_in_column_order() -> None:
    dataset = Dataset.from_list(rows("translation", flat=True))
    columns = detect_columns(spec("translation"), dataset)
    assert (columns.text, columns.target, columns.translation) == ("c0", "c1", None)
    assert any("column order" in note for note in columns.notes)


def test_the_question_is_the_column_of_questions_when_texts_compete() -> None:
    records = rows("question-answering")
    for r in records:
        r["c3"] = f"note: {r['c0'].replace('?', '')} was asked"
    columns = detect_columns(spec("question-answering"), Dataset.from_list(records))
    assert columns.question == "c0"


@pytest.mark.parametrize(
    ("task", "records", "expected", "extra"),
    [
        (
            "text-classification",
            [{"sentence1": "a cat sat down", "sentence2": "the cat sat", "label": i % 2}
             for i in range(8)],
            {"text": "sentence1", "text_pair": "sentence2", "label": "label"},
            {},
        ),
        (  # the name wins over the longer texts
            "causal-lm",
            [{"body": "a much longer body of text " * 3, "text": f"short text {i}"}
             for i in range(8)],
            {"text": "text"},
            {},
        ),
        (  # two tag columns: ambiguous by contents, decided by name
            "token-classification",
            [{"words": ["a", "b"], "pos_tags": [1, 2], "ner_tags": [0, 1]}] * 4,
            {"tokens": "words", "tags": "ner_tags"},
            {},
        ),
        (
            "question-answering",
            [{"id": str(i), "title": "t", "context": "x lives in y now and then",
              "question": "where?", "answers": {"text": ["y"], "answer_start": [11]}}
             for i in range(4)],
            {"question": "question", "context": "context", "answers": "answers"},
            {},
        ),
        (
            "summarization",
            [{"id": str(i), "highlights": "a short one " * 9, "article": f"long one {i} " * 4}
             for i in range(6)],
            {"text": "article", "target": "highlights"},
            {},
        ),
        (  # language-named columns beat column order
            "translation",
            [{"fr": f"le chat {i}", "en": f"the cat {i}"} for i in range(6)],
            {"text": "en", "target": "fr"},
            LANGS,
        ),
    ],
)  # fmt: skip
def test_conventional_names_are_detected(
    task: str, records: list[dict[str, Any]], expected: dict[str, str], extra: dict[str, str]
) -> None:
    columns = detect_columns(spec(task, **extra), Dataset.from_list(records))
    assert columns.roles() == expected
    assert all("by its name" in note for note in columns.notes)


def test_user_named_columns_win() -> None:
    records = [
        {"c0": f"first text number {i}", "c1": f"second text number {i}", "c2": i * 7}
        for i in range(10)
    ]
    given = {"text": "c1", "text_pair": "c0", "label": "c2"}  # c2: an id-like int
    columns = detect_columns(spec("text-classification", columns=given), Dataset.from_list(records))
    assert columns.roles() == given
    assert all("set by you" in note for note in columns.notes)


def test_user_named_dict_column_is_the_translation_column() -> None:
    records = [{"a": {"en": "the cat", "fr": "le chat"}, "b": {"en": "x", "fr": "y"}}] * 4
    columns = detect_columns(
        spec("translation", columns={"text": "b"}, **LANGS), Dataset.from_list(records)
    )
    assert columns.translation == "b"


def error_for(task: str, records: list[dict[str, Any]], **extra: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        detect_columns(spec(task, **extra), Dataset.from_list(records))
    return str(caught.value)


def test_two_similar_texts_are_ambiguous_and_the_error_says_what_to_set() -> None:
    records = [
        {"c0": f"one text about cats {i}", "c1": i % 2, "c2": f"another text of dogs {i}"}
        for i in range(10)
    ]
    message = error_for("text-classification", records)
    assert "text: ambiguous between c0 (string: texts of" in message
    assert "c2 (string: texts of" in message
    assert "--text-column / columns.text" in message
    assert "Columns found: c0 (string" in message and "c1 (int64: 2 distinct values)" in message
    assert "label" not in message.split("Columns found")[0]  # the label was found


def test_no_label_column_is_an_error_listing_the_columns_and_their_types() -> None:
    records = [{"field_a": f"some text number {i}", "field_b": i / 3} for i in range(8)]
    message = error_for("text-classification", records)
    assert "label: no column fits" in message
    assert "--label-column / columns.label" in message
    assert "field_a (string: texts of ~" in message and "field_b (float64)" in message


def test_every_problem_is_in_one_error() -> None:
    message = error_for("question-answering", [{"n": i, "m": [i]} for i in range(4)])
    for role in ("context", "answers", "question"):
        assert f"{role}: no column fits" in message
        assert f"--{role}-column / columns.{role}" in message
    assert "n (int64" in message and "m (list[int64]" in message


def test_unnamed_tag_columns_of_equal_lengths_are_ambiguous() -> None:
    records = [{"c0": ["a", "b", f"w{i}"], "c1": [1, 2, 3], "c2": [0, 0, 1]} for i in range(6)]
    message = error_for("token-classification", records)
    assert "tags: ambiguous between c1 (list[int64]" in message and "c2 (list[int64]" in message
    assert "--tags-column / columns.tags" in message


def test_translation_dict_without_languages_asks_for_them() -> None:
    message = error_for("translation", rows("translation"))
    assert "holds languages en, fr" in message and "--source-lang / --target-lang" in message
    wrong = error_for("translation", rows("translation"), source_lang="de", target_lang="fr")
    assert "languages found: en, fr" in wrong


def test_a_named_column_that_does_not_exist_or_does_not_fit_is_an_error() -> None:
    records = rows("text-classification")
    missing = error_for("text-classification", records, columns={"text": "review"})
    assert "columns.text='review' is not a column of the dataset" in missing
    records = [{**r, "c2": [1, 2]} for r in records]
    unfit = error_for("text-classification", records, columns={"label": "c2"})
    assert "'c2' is list[int64]; the label must be an int, bool" in unfit


def test_named_columns_a_task_does_not_use_are_noted() -> None:
    columns = detect_columns(
        spec("causal-lm", columns={"label": "c1"}), Dataset.from_list(rows("causal-lm"))
    )
    assert "columns.label='c1' is not used by causal-lm" in columns.notes


def test_profiles_tell_texts_categories_ids_and_structures_apart() -> None:
    n = 12
    features = Features(
        {
            "text": Value("string"),
            "category": Value("string"),
            "ident": Value("string"),
            "count": Value("int64"),
            "rowid": Value("int64"),
            "flag": Value("bool"),
            "cls": ClassLabel(names=["a", "b", "c"]),
            "words": List(Value("string")),
            "answers": {"text": List(Value("string")), "answer_start": List(Value("int32"))},
            "pair": {"en": Value("string"), "de": Value("string")},
        }
    )
    data = {
        "text": [f"a sentence with words {i}" for i in range(n)],
        "category": ["red", "green"] * (n // 2),
        "ident": [f"id{i:04d}" for i in range(n)],
        "count": [i % 3 for i in range(n)],
        "rowid": list(range(n)),
        "flag": [i % 2 == 0 for i in range(n)],
        "cls": [i % 3 for i in range(n)],
        "words": [["a", "b"]] * n,
        "answers": [{"text": ["a"], "answer_start": [0]}] * n,
        "pair": [{"en": "cat", "de": "Katze"}] * n,
    }
    profiles = {p.name: p for p in profile_columns(Dataset.from_dict(data, features=features))}
    kinds = {name: (p.kind, p.categorical) for name, p in profiles.items()}
    assert kinds == {
        "text": ("text", False),
        "category": ("category", True),
        "ident": ("string", False),
        "count": ("int", True),
        "rowid": ("int", False),
        "flag": ("bool", True),
        "cls": ("class", True),
        "words": ("tokens", False),
        "answers": ("answers", False),
        "pair": ("translation", False),
    }
    assert profiles["cls"].describe() == "cls (class label of 3)"
    assert profiles["text"].describe().startswith("text (string: texts of ~")
