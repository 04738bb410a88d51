"""Preprocessing for each task, checked against the tokenizer itself: label maps, LM
blocks, sub-word tag alignment, QA answer spans and offsets, seq2seq labels; and each
task's output feeding the fixtures' tiny model."""

from __future__ import annotations

import math
from itertools import chain
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

from tests.finetune.fixtures import (
    KINDS,
    corpus,
    rows,
    save_model_dir,
    train_tokenizer,
    write_dataset,
)
from wattprint.errors import ConfigError
from wattprint.finetune.data import load_raw
from wattprint.finetune.preprocess import IGNORE_INDEX, Prepared, label_map, prepare
from wattprint.finetune.spec import TASKS, FinetuneSpec

LANGS = {"source_lang": "en", "target_lang": "fr"}


def spec(task: str, **extra: Any) -> FinetuneSpec:
    return FinetuneSpec.build(task=task, model="m", dataset="d", **extra)


def tokenizer(task: str, kind: str | None = None) -> Any:
    return train_tokenizer(corpus(task), kind or KINDS.get(task, "bert"))


def splits(train: list[dict[str, Any]], evaluation: list[dict[str, Any]] | None = None) -> Any:
    parts = {"train": Dataset.from_list(train)}
    if evaluation is not None:
        parts["eval"] = Dataset.from_list(evaluation)
    return DatasetDict(parts)


def run(task: str, raw: Any, tok: Any = None, **extra: Any) -> Prepared:
    return prepare(spec(task, **extra), raw, tok or tokenizer(task))


# text classification -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("train", "evaluation", "ids", "names"),
    [
        ([True, False, True], [False], [1, 0, 1], ["False", "True"]),
        (["pos", "neg", "pos"], ["meh"], [2, 1, 2], ["meh", "neg", "pos"]),
        ([3, 7, 3, 10], [7], [0, 1, 0, 2], ["3", "7", "10"]),
        ([2, 0, 1, 0], [1], [2, 0, 1, 0], ["0", "1", "2"]),
    ],
)
def test_labels_become_ids_0_to_n_minus_1_with_a_sorted_map(
    train: list[Any], evaluation: list[Any], ids: list[int], names: list[str]
) -> None:
    texts = [r["c0"] for r in rows("text-classification", len(train) + 1)]
    raw = splits(
        [{"c0": t, "c1": v} for t, v in zip(texts, train, strict=False)],
        [{"c0": texts[-1], "c1": evaluation[0]}],
    )
    prepared = run("text-classification", raw, columns={"label": "c1"})
    assert list(prepared.train["labels"]) == ids
    assert prepared.id2label == dict(enumerate(names))
    assert prepared.label2id == {n: i for i, n in enumerate(names)}
    assert list(prepared.eval["labels"]) == [names.index(str(evaluation[0]))]


def test_class_label_columns_keep_their_names() -> None:
    features = Features({"text": Value("string"), "label": ClassLabel(names=["b", "a"])})
    data = {"text": ["one text here", "two texts there"], "label": [1, 0]}
    raw = DatasetDict({"train": Dataset.from_dict(data, features=features)})
    prepared = run("text-classification", raw)
    assert prepared.id2label == {0: "b", 1: "a"} and list(prepared.train["labels"]) == [1, 0]
    assert prepared.eval is None


@pytest.mark.parametrize(
    ("values", "message"),
    [([1, None], "has empty values"), ([1, "a"], "holds int, str; labels must be")],
)
def test_unusable_labels_are_errors(values: list[Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        label_map(values, None, "label")


def test_text_pairs_are_encoded_together_and_truncated() -> None:
    long = " ".join(["the film was good"] * 20)
    raw = splits(
        [
            {"sentence1": long, "sentence2": "it was good", "label": 1},
            {"sentence1": "it was bad", "sentence2": "the film", "label": 0},
        ]
    )
    tok = tokenizer("text-classification")
    prepared = run("text-classification", raw, tok, max_length=16)
    first, second = prepared.train[0], prepared.train[1]
    assert len(first["input_ids"]) == 16
    expected = tok("it was bad", "the film")["input_ids"]
    assert second["input_ids"] == expected and 1 in second["token_type_ids"]
    batch = prepared.data_collator([first, second])
    assert batch["input_ids"].shape == (2, 16) and batch["labels"].tolist() == [1, 0]


# language modelling --------------------------------------------------------------------


def test_causal_lm_blocks_are_the_token_stream_cut_to_max_length() -> None:
    texts = rows("causal-lm", 40)
    tok = tokenizer("causal-lm")
    prepared = run("causal-lm", splits(texts[:36], texts[36:]), tok, max_length=16)
    stream = list(chain.from_iterable(tok([r["c0"] for r in texts[:36]])["input_ids"]))
    blocks = list(prepared.train["input_ids"])
    assert len(blocks) == len(stream) // 16 and all(len(b) == 16 for b in blocks)
    assert list(chain.from_iterable(blocks)) == stream[: len(blocks) * 16]
    assert list(prepared.train["labels"]) == blocks
    assert tok.pad_token == tok.eos_token
    assert any("no pad token, padding with its eos token" in n for n in prepared.notes)
    batch = prepared.data_collator([prepared.train[0], prepared.train[1]])
    assert batch["labels"].shape == (2, 16)


def test_masked_lm_masks_about_15_percent_of_the_tokens() -> None:
    texts = rows("masked-lm", 40)
    tok = tokenizer("masked-lm")
    prepared = run("masked-lm", splits(texts), tok, max_length=32)
    assert "special_tokens_mask" in prepared.train.column_names
    torch.manual_seed(0)
    features = [prepared.train[i] for i in range(len(prepared.train))]
    batch = prepared.data_collator(features)
    original = torch.tensor([f["input_ids"] for f in features])
    chosen = batch["labels"] != IGNORE_INDEX
    assert 0.08 < chosen.float().mean().item() < 0.22
    assert torch.equal(batch["labels"][chosen], original[chosen])
    assert (batch["input_ids"][chosen] == tok.mask_token_id).any()
    specials = torch.tensor([f["special_tokens_mask"] for f in features], dtype=torch.bool)
    assert not (chosen & specials).any()


def test_text_shorter_than_one_block_is_an_error_saying_how_many_tokens() -> None:
    tok = tokenizer("causal-lm")
    texts = ["a cat sat", "a dog ran"]
    total = sum(len(ids) for ids in tok(texts)["input_ids"])
    with pytest.raises(ConfigError, match=f"train split has {total} tokens, fewer than one block"):
        run("causal-lm", splits([{"text": t} for t in texts]), tok, max_length=64)


def test_masked_lm_needs_a_mask_token() -> None:
    with pytest.raises(ConfigError, match="needs a tokenizer with a mask token"):
        run("masked-lm", splits(rows("masked-lm", 4)), tokenizer("causal-lm"))


# token classification ------------------------------------------------------------------


def test_tags_go_to_the_first_sub_token_of_each_word() -> None:
    words = ["alice", "visited", "madridian", "prague"]
    tok = tokenizer("token-classification")
    raw = splits(
        [*rows("token-classification", 4), {"c0": words, "c1": ["B-PER", "O", "O", "B-LOC"]}]
    )
    prepared = run("token-classification", raw, tok)
    assert prepared.id2label == {0: "B-LOC", 1: "B-PER", 2: "O"}
    pieces = [len(tok(w, add_special_tokens=False)["input_ids"]) for w in words]
    assert max(pieces) > 1  # the sentence really has a word split into sub-words
    expected = [IGNORE_INDEX]
    for count, tag in zip(pieces, [1, 2, 2, 0], strict=True):
        expected += [tag] + [IGNORE_INDEX] * (count - 1)
    assert prepared.train[4]["labels"] == [*expected, IGNORE_INDEX]
    batch = prepared.data_collator([prepared.train[0], prepared.train[4]])
    assert batch["labels"].shape == batch["input_ids"].shape
    assert batch["labels"][0, -1].item() == IGNORE_INDEX  # padding is ignored too


def test_class_label_tags_keep_their_ids_and_names() -> None:
    features = Features(
        {"w": List(Value("string")), "t": List(ClassLabel(names=["O", "B-X", "I-X"]))}
    )
    data = {"w": [["a", "b", "c"], ["c", "a"]], "t": [[1, 2, 0], [0, 0]]}
    raw = DatasetDict({"train": Dataset.from_dict(data, features=features)})
    prepared = run("token-classification", raw, columns={"tokens": "w", "tags": "t"})
    assert prepared.id2label == {0: "O", 1: "B-X", 2: "I-X"}
    labels = [tag for tag in prepared.train[0]["labels"] if tag != IGNORE_INDEX]
    assert labels == [1, 2, 0]


# question answering --------------------------------------------------------------------


def decoded_answers(prepared: Prepared, tok: Any) -> list[str]:
    return [
        tok.decode(f["input_ids"][f["start_positions"] : f["end_positions"] + 1]).strip()
        for f in prepared.train
    ]


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_qa_start_and_end_positions_span_the_answer(kind: str) -> None:
    examples = rows("question-answering", 20)
    tok = tokenizer("question-answering", kind)
    prepared = run("question-answering", splits(examples[:16], examples[16:]), tok, max_length=64)
    assert len(prepared.train) == 16  # every example fits in one window
    assert decoded_answers(prepared, tok) == [e["c2"]["text"][0] for e in examples[:16]]
    assert prepared.train.column_names[-2:] == ["start_positions", "end_positions"]


def test_long_contexts_overflow_into_windows_and_only_those_with_the_answer_point_at_it() -> None:
    filler = " ".join(f"{n} lives in {p}." for n, p in [("bob", "rome"), ("dave", "oslo")] * 6)
    context = filler + " alice lives in paris."
    answer = {"text": ["paris"], "answer_start": [context.rindex("paris")]}
    raw = splits([{"question": "where does alice live?", "context": context, "answers": answer}])
    tok = tokenizer("question-answering")
    prepared = run("question-answering", raw, tok, max_length=32)
    assert len(prepared.train) > 2
    found = decoded_answers(prepared, tok)
    assert "paris" in found
    missing = [f for f, text in zip(prepared.train, found, strict=True) if text != "paris"]
    assert missing and all(f["start_positions"] == f["end_positions"] == 0 for f in missing)


def test_qa_eval_features_carry_example_ids_and_context_only_offsets() -> None:
    examples = rows("question-answering", 20)
    tok = tokenizer("question-answering")
    prepared = run("question-answering", splits(examples[:16], examples[16:]), tok)
    eval_examples = prepared.eval_examples
    assert eval_examples.column_names == ["id", "question", "context", "answers"]
    assert list(eval_examples["id"]) == ["0", "1", "2", "3"]
    assert eval_examples[0]["answers"] == examples[16]["c2"]
    assert "start_positions" not in prepared.eval.column_names
    contexts = dict(zip(eval_examples["id"], eval_examples["context"], strict=True))
    for feature in prepared.eval:
        context = contexts[feature["example_id"]]
        spans = [s for s in feature["offset_mapping"] if s is not None]
        assert "".join(context[a:b] for a, b in spans) == context.replace(" ", "")
        question = tok(feature_question(eval_examples, feature), add_special_tokens=False)
        nones = sum(s is None for s in feature["offset_mapping"])
        assert nones >= len(question["input_ids"]) + 2  # question, specials and padding


def feature_question(examples: Any, feature: dict[str, Any]) -> str:
    return str(examples[int(feature["example_id"])]["question"])


def test_plain_answers_are_found_in_the_context_and_ids_are_kept() -> None:
    examples = [
        {**r, "id": f"q{i}"} for i, r in enumerate(rows("question-answering", 6, flat=True))
    ]
    examples[1]["c2"] = "atlantis"  # not in the context: unanswerable
    tok = tokenizer("question-answering")
    prepared = run(
        "question-answering",
        splits(examples[:4], examples[4:]),
        tok,
        columns={"question": "c0", "context": "c1", "answers": "c2"},
    )
    assert any("plain strings, located at their first occurrence" in n for n in prepared.notes)
    assert "train: 1 example(s) without an answer in the context" in prepared.notes
    found = decoded_answers(prepared, tok)
    assert [found[0], found[2], found[3]] == [examples[i]["c2"] for i in (0, 2, 3)]
    assert prepared.train[1]["start_positions"] == prepared.train[1]["end_positions"] == 0
    assert list(prepared.eval_examples["id"]) == ["q4", "q5"]
    context = examples[4]["c1"]
    start = context.find(examples[4]["c2"])
    assert prepared.eval_examples[0]["answers"] == {
        "text": [examples[4]["c2"]],
        "answer_start": [start],
    }


def test_answers_as_a_list_of_records_are_flattened() -> None:
    context = "bob lives in rome. alice lives in paris."
    records = [
        {
            "question": "where does alice live?",
            "context": context,
            "answers": [{"text": "paris", "answer_start": context.index("paris")}],
        }
    ] * 2
    prepared = run("question-answering", splits(records, records))
    assert prepared.eval_examples[0]["answers"] == {"text": ["paris"], "answer_start": [34]}
    assert decoded_answers(prepared, tokenizer("question-answering")) == ["paris", "paris"]


# translation and summarisation ---------------------------------------------------------


def test_summaries_are_labels_and_sources_get_the_prefix() -> None:
    examples = rows("summarization", 10)
    tok = tokenizer("summarization")
    prepared = run(
        "summarization",
        splits(examples[:8], examples[8:]),
        tok,
        source_prefix="summarize: ",
        max_target_length=4,
    )
    first = prepared.train[0]
    assert first["input_ids"] == tok("summarize: " + examples[0]["c0"])["input_ids"]
    target = tok(text_target=examples[0]["c1"], max_length=4, truncation=True)["input_ids"]
    assert first["labels"] == target and len(target) == 4
    assert prepared.eval_examples.to_list() == [
        {"source": e["c0"], "target": e["c1"]} for e in examples[8:]
    ]
    assert "source prefix: 'summarize: '" in prepared.notes


def test_translation_dict_columns_follow_the_chosen_direction_and_the_collator_pads() -> None:
    examples = rows("translation", 10)
    tok = tokenizer("translation")
    model = transformers.T5ForConditionalGeneration(
        transformers.T5Config(
            vocab_size=len(tok),
            d_model=8,
            d_kv=4,
            d_ff=8,
            num_layers=1,
            num_heads=2,
            pad_token_id=tok.pad_token_id,
            decoder_start_token_id=tok.pad_token_id,
        )
    )
    examples.insert(0, {"c0": {"en": "the cat", "fr": "le chat"}})  # shorter than the others
    prepared = prepare(
        spec("translation", source_lang="fr", target_lang="en"),
        splits(examples[:8], examples[8:]),
        tok,
        model,
    )
    english = tok.batch_decode(list(prepared.train["labels"]), skip_special_tokens=True)
    assert english == [e["c0"]["en"] for e in examples[:8]]
    assert prepared.eval_examples[0]["source"] == examples[8]["c0"]["fr"]
    assert "translation: fr -> en" in prepared.notes
    batch = prepared.data_collator([prepared.train[i] for i in range(8)])
    lengths = [len(f) for f in prepared.train["labels"]]
    assert min(lengths) < max(lengths)  # so padding happened
    assert (batch["labels"] == IGNORE_INDEX).any()
    assert batch["decoder_input_ids"][:, 0].eq(tok.pad_token_id).all()


def test_an_eval_split_without_the_chosen_columns_is_an_error() -> None:
    examples = rows("summarization", 4)
    raw = splits(examples, [{"c0": "only a document here"}])
    with pytest.raises(ConfigError, match=r"eval split lacks column\(s\) c1"):
        run("summarization", raw)


# every task, end to end with the fixtures ----------------------------------------------

AUTO = {
    "text-classification": "AutoModelForSequenceClassification",
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "translation": "AutoModelForSeq2SeqLM",
    "summarization": "AutoModelForSeq2SeqLM",
}


@pytest.mark.parametrize("task", TASKS)
def test_each_task_feeds_the_saved_tiny_model(task: str, tmp_path: Path) -> None:
    folder = save_model_dir(task, tmp_path)
    tok = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = getattr(transformers, AUTO[task]).from_pretrained(folder, local_files_only=True)
    data = write_dataset(task, tmp_path / "data", "jsonl", n=20)
    job = FinetuneSpec.build(
        task=task,
        model=str(folder),
        dataset=str(data),
        max_length=32,
        **(LANGS if task == "translation" else {}),
    )
    prepared = prepare(job, load_raw(job), tok)
    assert any("by its contents" in n for n in prepared.notes)
    batch = prepared.data_collator([prepared.train[i] for i in range(4)])
    with torch.no_grad():
        loss = model(**batch).loss
    assert math.isfinite(loss.item())
