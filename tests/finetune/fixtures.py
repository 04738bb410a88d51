"""Offline material for fine-tuning tests: tokenizers trained on the fly, tiny random
models from configs, small learnable datasets with deliberately unnamed columns, and a
saved model folder for ``--model``.

Datasets (``write_dataset``), column by column:

=====================  ==========================================================
text-classification    c0 review text, c1 "positive"/"negative"
causal-lm, masked-lm   c0 a few sentences, c1 the row number (an int distractor)
token-classification   c0 words, c1 tags "O"/"B-PER"/"B-LOC" (no CSV: lists)
question-answering     c0 question, c1 context, c2 answers: {"text": [...],
                       "answer_start": [...]} (CSV: the answer string only)
translation            c0 {"en": ..., "fr": ...} (CSV: c0 English, c1 French);
                       set source_lang="en", target_lang="fr" for the dict column
summarization          c0 document, c1 its first sentence
=====================  ==========================================================
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tokenizers import trainers as tokenizer_trainers
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

#: The tokenizer kind each task's tiny model uses.
KINDS = {"causal-lm": "gpt2", "translation": "seq2seq", "summarization": "seq2seq"}
FORMATS = ("csv", "json", "jsonl", "parquet")
VOCAB_SIZE = {"bert": 300, "gpt2": 450, "seq2seq": 300}
#: Classes in the generated datasets (the tiny models' heads are sized to them).
NUM_LABELS = {"text-classification": 2, "token-classification": 3}
MAX_POSITIONS = 512

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
PLACES = ("paris", "rome", "berlin", "madrid", "oslo", "vienna", "lisbon", "prague")
GOOD = ("good", "great", "lovely", "excellent", "wonderful", "happy")
BAD = ("bad", "awful", "terrible", "poor", "boring", "sad")
THINGS = ("film", "book", "meal", "trip", "song", "game", "show", "play")
#: A toy English → French dictionary (adjectives follow the noun in French).
NOUNS = {"cat": "chat", "dog": "chien", "bird": "oiseau", "horse": "cheval", "fish": "poisson"}
ADJECTIVES = {"red": "rouge", "big": "grand", "small": "petit", "black": "noir"}
VERBS = {"sees": "voit", "eats": "mange", "likes": "aime", "follows": "suit"}


def train_tokenizer(texts: list[str], kind: str) -> PreTrainedTokenizerFast:
    """A tokenizer trained on ``texts``: ``bert`` (WordPiece, [CLS]/[SEP]/[PAD]/[MASK]/
    [UNK]), ``gpt2`` (byte-level BPE, ``<|endoftext|>`` as eos/bos/unk and, like GPT-2, no
    pad token) or ``seq2seq`` (T5-like: ``<pad>``=0 also the decoder start, ``</s>``=1
    appended to every text, ``<unk>``=2)."""
    if kind == "bert":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer: Any = tokenizer_trainers.WordPieceTrainer(
            vocab_size=VOCAB_SIZE[kind], special_tokens=specials
        )
        tok.train_from_iterator(texts, trainer)
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
        )
        return _wrap(
            tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
            model_input_names=["input_ids", "token_type_ids", "attention_mask"],
        )
    if kind == "gpt2":
        eos = "<|endoftext|>"
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
        trainer = tokenizer_trainers.BpeTrainer(
            vocab_size=VOCAB_SIZE[kind],
            special_tokens=[eos],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
        tok.train_from_iterator(texts, trainer)
        return _wrap(tok, eos_token=eos, bos_token=eos, unk_token=eos)
    if kind == "seq2seq":
        specials = ["<pad>", "</s>", "<unk>"]
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = tokenizer_trainers.BpeTrainer(
            vocab_size=VOCAB_SIZE[kind], special_tokens=specials
        )
        tok.train_from_iterator(texts, trainer)
        tok.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
        )
        return _wrap(tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    raise ValueError(f"unknown tokenizer kind {kind!r}: bert, gpt2 or seq2seq")


def _wrap(tok: Tokenizer, **special: Any) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=MAX_POSITIONS, **special)


def tiny_model(
    task: str, tokenizer: PreTrainedTokenizerFast, num_labels: int | None = None
) -> PreTrainedModel:
    """A random 2-layer model for ``task`` sized to ``tokenizer`` (hidden size 32): BERT,
    GPT-2 for causal-lm, T5 for translation and summarisation; classification heads have
    ``num_labels`` outputs (default: as many as the generated dataset's classes)."""
    torch.manual_seed(0)
    vocab = len(tokenizer)
    kind = KINDS.get(task, "bert")
    if kind == "gpt2":
        eos = tokenizer.eos_token_id
        config: Any = GPT2Config(
            vocab_size=vocab, n_positions=MAX_POSITIONS, n_embd=32, n_layer=2, n_head=2,
            bos_token_id=eos, eos_token_id=eos,
        )  # fmt: skip
        return GPT2LMHeadModel(config)
    if kind == "seq2seq":
        pad = tokenizer.pad_token_id
        config = T5Config(
            vocab_size=vocab, d_model=32, d_kv=16, d_ff=64, num_layers=2,
            num_decoder_layers=2, num_heads=2, pad_token_id=pad,
            eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=pad,
        )  # fmt: skip
        return T5ForConditionalGeneration(config)
    config = BertConfig(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id, num_labels=num_labels or NUM_LABELS.get(task, 2),
    )  # fmt: skip
    heads: dict[str, Any] = {
        "text-classification": BertForSequenceClassification,
        "token-classification": BertForTokenClassification,
        "question-answering": BertForQuestionAnswering,
        "masked-lm": BertForMaskedLM,
    }
    model: PreTrainedModel = heads[task](config)
    return model


def rows(task: str, n: int = 40, *, flat: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` learnable examples of ``task`` with columns c0, c1...; ``flat`` gives only
    scalar columns (what CSV holds) where the task allows it."""
    rng = random.Random(seed)
    return [_ROWS[task](rng, i, flat) for i in range(n)]


def _classification(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    positive = i % 2 == 0
    words = GOOD if positive else BAD
    a, b = rng.sample(words, 2)
    text = f"the {rng.choice(THINGS)} was {a} and {b}, {rng.choice(NAMES)} said"
    return {"c0": text, "c1": "positive" if positive else "negative"}


def _language(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    sentences = [
        f"{rng.choice(NAMES)} lives in {rng.choice(PLACES)} and likes the {rng.choice(THINGS)}."
        for _ in range(3)
    ]
    return {"c0": " ".join(sentences), "c1": i}


def _tagging(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    if flat:
        raise ValueError("token-classification needs list columns: use json, jsonl or parquet")
    who, other = rng.sample(NAMES, 2)
    words = [who, "visited", rng.choice(PLACES), "with", other]
    return {"c0": words, "c1": ["B-PER", "O", "B-LOC", "O", "B-PER"]}


def _qa(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    people = rng.sample(NAMES, 3)
    places = rng.sample(PLACES, 3)
    context = " ".join(f"{p} lives in {c}." for p, c in zip(people, places, strict=True))
    k = rng.randrange(3)
    answer = places[k]
    answers = {"text": [answer], "answer_start": [context.index(f"in {answer}") + 3]}
    return {
        "c0": f"where does {people[k]} live?",
        "c1": context,
        "c2": answer if flat else answers,
    }


def _translation(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    adj, noun, verb, obj = (
        rng.choice(list(ADJECTIVES)),
        rng.choice(list(NOUNS)),
        rng.choice(list(VERBS)),
        rng.choice(list(NOUNS)),
    )
    en = f"the {adj} {noun} {verb} the {obj}"
    fr = f"le {NOUNS[noun]} {ADJECTIVES[adj]} {VERBS[verb]} le {NOUNS[obj]}"
    return {"c0": en, "c1": fr} if flat else {"c0": {"en": en, "fr": fr}}


def _summary(rng: random.Random, i: int, flat: bool) -> dict[str, Any]:
    who, place = rng.choice(NAMES), rng.choice(PLACES)
    first = f"{who} moved to {place}."
    rest = [f"the {rng.choice(THINGS)} there was {rng.choice(GOOD + BAD)}." for _ in range(3)]
    return {"c0": " ".join([first, *rest]), "c1": first}


_ROWS = {
    "text-classification": _classification,
    "causal-lm": _language,
    "masked-lm": _language,
    "token-classification": _tagging,
    "question-answering": _qa,
    "translation": _translation,
    "summarization": _summary,
}


def write_records(records: list[dict[str, Any]], path: Path) -> Path:
    """``records`` as a CSV, JSON (array), JSONL or Parquet file, by ``path``'s suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".")
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    elif fmt == "json":
        path.write_text(json.dumps(records), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(records), path)
    else:
        raise ValueError(f"unknown format {fmt!r}: {', '.join(FORMATS)}")
    return path


def write_dataset(
    task: str, folder: Path, fmt: str = "jsonl", n: int = 40, *, split: str = "train"
) -> Path:
    """``folder/<split>.<fmt>`` holding ``n`` examples of ``task`` (see the module's
    table); the split name in the file name is what a folder of files is split by."""
    return write_records(rows(task, n, flat=fmt == "csv"), folder / f"{split}.{fmt}")


def corpus(task: str) -> list[str]:
    """Every text of ``task``'s generated examples: what its tokenizer is trained on."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [" ".join(s for v in value for s in strings(v))]
        return []

    return [s for row in rows(task, 200) for v in row.values() for s in strings(v)]


def save_model_dir(task: str, folder: Path) -> Path:
    """``folder/tiny-<task>``: a tokenizer trained on the task's texts and a tiny random
    model, both saved with ``save_pretrained`` (what ``--model`` points at)."""
    target = folder / f"tiny-{task}"
    tokenizer = train_tokenizer(corpus(task), KINDS.get(task, "bert"))
    tiny_model(task, tokenizer).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target
