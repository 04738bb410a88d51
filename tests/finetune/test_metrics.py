"""Per-task metrics on hand-made predictions, and QA evaluation through a real Trainer."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sacrebleu
import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    BertConfig,
    BertForQuestionAnswering,
    EvalPrediction,
    PreTrainedTokenizerFast,
    Trainer,
    TrainingArguments,
)

from wattprint.errors import ConfigError
from wattprint.finetune.metrics import (
    add_perplexity,
    compute_metrics_for,
    evaluate_qa,
    normalize_answer,
    postprocess_qa,
    rouge,
    squad_scores,
)

P = -100  # padding in labels and in Trainer's gathered generations
WORDS = ["<pad>", "</s>", "<unk>", "the", "cat", "dog", "sat", "ran", "on", "mat"]


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer whose ids are the positions in ``WORDS``."""
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def ids(text: str, length: int, fill: int = P) -> list[int]:
    """``text`` as ids, then ``</s>``, then ``fill`` up to ``length``."""
    row = [WORDS.index(w) for w in text.split()] + [1]
    return row + [fill] * (length - len(row))


def one_hot(classes: list[Any], n: int = 4) -> np.ndarray:
    """Logits whose arg-max is ``classes`` (any shape of class ids)."""
    return np.eye(n)[np.array(classes)] * 5.0


def score(task: str, predictions: Any, labels: Any, **kwargs: Any) -> dict[str, float]:
    compute = compute_metrics_for(task, **kwargs)
    assert compute is not None
    return compute(EvalPrediction(predictions=predictions, label_ids=np.array(labels)))


# --- text classification ------------------------------------------------------------


def test_classification_perfect_and_with_extra_outputs() -> None:
    logits = one_hot([0, 2, 1, 2], n=3)
    hidden = np.zeros((4, 7))  # a model returning more than its logits
    result = score("text-classification", (logits, hidden), [0, 2, 1, 2], tokenizer=None)
    assert result == {"accuracy": 1.0, "f1": 1.0}


def test_classification_partial_is_macro_f1() -> None:
    result = score("text-classification", one_hot([0, 1, 1, 1], 2), [0, 0, 1, 1], tokenizer=None)
    assert result["accuracy"] == pytest.approx(0.75)
    # class 0: P 1, R 1/2 -> F1 2/3; class 1: P 2/3, R 1 -> F1 4/5; macro = mean
    assert result["f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)


# --- token classification -----------------------------------------------------------

ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}
TAGS = [[1, 2, 0, 3], [0, 3, P, P]]  # gold: PER(0-1), LOC(3); LOC(1); then padding


def test_token_classification_ignores_minus_100() -> None:
    # at the ignored positions the model says B-PER: counted, they would add two entities
    predicted = [[1, 2, 0, 3], [0, 3, 1, 1]]
    result = score(
        "token-classification", one_hot(predicted), TAGS, tokenizer=None, id2label=ID2LABEL
    )
    assert result == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "accuracy": 1.0}


def test_token_classification_partial_is_entity_level() -> None:
    predicted = [[1, 0, 0, 3], [0, 3, 0, 0]]  # the PER entity is cut short: wrong as a whole
    result = score(
        "token-classification", one_hot(predicted), TAGS, tokenizer=None, id2label=ID2LABEL
    )
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["accuracy"] == pytest.approx(5 / 6)  # one of six labelled tokens wrong


def test_token_classification_needs_label_names() -> None:
    with pytest.raises(ConfigError, match="id2label"):
        compute_metrics_for("token-classification", None)


# --- language models ------------------------------------------------------------------


def test_perplexity_is_exp_of_the_loss_and_keeps_the_rest() -> None:
    result = add_perplexity({"eval_loss": math.log(5.0), "eval_runtime": 2.5})
    assert result["eval_perplexity"] == pytest.approx(5.0)
    assert result["eval_runtime"] == 2.5
    assert add_perplexity({"test_loss": 0.0}, prefix="test")["test_perplexity"] == 1.0


def test_perplexity_overflow_is_inf_and_said(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wattprint.finetune.metrics"):
        result = add_perplexity({"eval_loss": 1000.0})
    assert result["eval_perplexity"] == math.inf
    assert "eval_loss=1000" in caplog.text and "inf" in caplog.text


def test_perplexity_without_a_loss_names_what_it_got() -> None:
    with pytest.raises(ValueError, match=r"'eval_loss'.*eval_runtime"):
        add_perplexity({"eval_runtime": 1.0})


@pytest.mark.parametrize("task", ["causal-lm", "masked-lm", "question-answering"])
def test_tasks_scored_elsewhere_have_no_compute_metrics(task: str) -> None:
    assert compute_metrics_for(task, None) is None


def test_unknown_task_lists_the_accepted_ones() -> None:
    with pytest.raises(ConfigError, match=r"'regression'.*text-classification.*summarization"):
        compute_metrics_for("regression", None)


# --- generation ---------------------------------------------------------------------

REFERENCES = ["the cat sat on the mat", "the dog ran on the mat"]


def generated(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Generations padded with <pad> then -100 (as Trainer gathers them), and labels."""
    predictions = np.array([[*ids(t, 8, fill=0), P] for t in texts])
    labels = np.array([ids(t, 9) for t in REFERENCES])
    return predictions, labels


def test_bleu_perfect_after_decoding(tokenizer: PreTrainedTokenizerFast) -> None:
    result = score("translation", *generated(REFERENCES), tokenizer=tokenizer)
    assert result["bleu"] == pytest.approx(100.0)


def test_bleu_partial_is_sacrebleu_on_the_decoded_text(
    tokenizer: PreTrainedTokenizerFast,
) -> None:
    hypotheses = ["the cat sat on the mat", "the dog sat on the mat"]
    result = score("translation", *generated(hypotheses), tokenizer=tokenizer)
    expected = sacrebleu.corpus_bleu(hypotheses, [REFERENCES]).score
    assert 0.0 < result["bleu"] < 100.0
    assert result["bleu"] == pytest.approx(expected)


def test_rouge_perfect_after_decoding(tokenizer: PreTrainedTokenizerFast) -> None:
    result = score("summarization", *generated(REFERENCES), tokenizer=tokenizer)
    assert result == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}


def test_rouge_partial_values() -> None:
    result = rouge(["the cat sat"], ["the cat ran"])
    assert result["rouge1"] == pytest.approx(2 / 3)  # 2 of 3 words
    assert result["rouge2"] == pytest.approx(1 / 2)  # "the cat" of 2 bigrams
    assert result["rougeL"] == pytest.approx(2 / 3)  # longest common subsequence: 2


def test_rouge_stems() -> None:
    assert rouge(["cats running"], ["cat runs"])["rouge1"] == 1.0


def test_generation_metrics_need_a_tokenizer() -> None:
    with pytest.raises(ConfigError, match="tokenizer"):
        compute_metrics_for("summarization", None)


# --- question answering: post-processing ----------------------------------------------

CONTEXT = "The cat sat on the mat."
#: [CLS] two question tokens [SEP] The cat sat on the mat [SEP]
OFFSETS: list[Any] = [None] * 4 + [[0, 3], [4, 7], [8, 11], [12, 14], [15, 18], [19, 22], None]
START = [0, 9, 0, 0, 0.5, 5, 2, 0, 0, 0, 0]  # best at a question token: not an answer
END = [0, 0, 0, 0, 8, 0, 4, 0, 0, 3, 9]  # best at [SEP]: not an answer


def qa(feature: dict[str, Any] | None = None, **options: Any) -> str:
    features = [{"example_id": "a", "offset_mapping": OFFSETS, **(feature or {})}]
    examples = [{"id": "a", "context": CONTEXT}]
    answers = postprocess_qa(examples, features, np.array([START]), np.array([END]), **options)
    return answers["a"]


def test_qa_picks_the_best_span_inside_the_context() -> None:
    # start 5 + end 6 = 9 beats "The" (0.5 + 8) and "cat sat on the mat" (5 + 3)
    assert qa() == "cat sat"


def test_qa_respects_max_answer_length() -> None:
    assert qa(max_answer_length=1) == "The"  # 8.5 beats "sat" (6) and "cat" (5)


def test_qa_with_no_valid_span_answers_empty_as_run_qa() -> None:
    assert qa(n_best=1) == "empty"  # the only candidates are the question and [SEP]


def test_qa_skips_starts_outside_their_max_context() -> None:
    context = {str(i): i != 5 for i in range(11)}  # "cat" is better seen in another window
    assert qa({"token_is_max_context": context}) == "The"


def test_qa_takes_the_best_feature_of_an_example() -> None:
    context = "Paris is in France."
    features = [
        {"example_id": "b", "offset_mapping": [None, [0, 5], [6, 8], None]},
        # a second window: "in France"; past its offsets the logits are padding
        {"example_id": "b", "offset_mapping": [None, [9, 11], [12, 18], None]},
        {"example_id": "a", "offset_mapping": OFFSETS},
    ]
    start = np.array([[0, 2, 0, 0] + [0] * 7, [0, 0, 4, 0, 0, 0, 0, 0, 50, 0, 0], START])
    end = np.array([[0, 2, 0, 0] + [0] * 7, [0, 0, 4, 0, 0, 0, 0, 0, 50, 0, 0], END])
    examples = [{"id": "a", "context": CONTEXT}, {"id": "b", "context": context}]
    answers = postprocess_qa(examples, features, start, end)
    assert answers == {"a": "cat sat", "b": "France"}


# --- question answering: SQuAD scores -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Cat!", "cat"),
        ("  a  big   dog ", "big dog"),
        ("An apple, the pear.", "apple pear"),
        ("Theatre", "theatre"),  # articles only as whole words
        ("rock-n-roll", "rocknroll"),  # punctuation is dropped, not made a space
    ],
)
def test_squad_normalisation(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_squad_perfect() -> None:
    assert squad_scores({"q1": "the Cat"}, {"q1": ["cat"]}) == {"exact_match": 100, "f1": 100}


def test_squad_partial_takes_the_best_gold_answer() -> None:
    result = squad_scores(
        {"q1": "cat sat", "q2": "Paris"},
        {"q1": ["the cat sat on mat"], "q2": ["London", "paris"]},
    )
    assert result["exact_match"] == pytest.approx(50.0)
    # q1: precision 1, recall 2/4 -> F1 2/3; q2: 1
    assert result["f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)


def test_squad_unanswered_question_scores_zero() -> None:
    result = squad_scores({"q1": "cat"}, {"q1": ["cat"], "q2": ["dog"]})
    assert result == {"exact_match": 50.0, "f1": 50.0}


def test_squad_leaves_out_unanswerable_questions(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wattprint.finetune.metrics"):
        result = squad_scores({"q1": "cat", "q2": "dog"}, {"q1": ["cat"], "q2": []})
    assert result == {"exact_match": 100.0, "f1": 100.0}
    assert "1 of 2 questions have no gold answer" in caplog.text


# --- question answering: through Trainer.predict --------------------------------------


def test_evaluate_qa_predicts_and_scores(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
    )
    model = BertForQuestionAnswering(config).eval()
    input_ids = torch.randint(5, 50, (3, len(OFFSETS)), generator=torch.Generator().manual_seed(1))
    features = Dataset.from_list(
        [
            {"input_ids": row, "attention_mask": [1] * len(row), "example_id": eid}
            | {"offset_mapping": OFFSETS}
            for row, eid in zip(input_ids.tolist(), ["a", "b", "b"], strict=True)
        ]
    )
    with torch.no_grad():
        output = model(input_ids=input_ids)
    contexts = [{"id": "a", "context": CONTEXT}, {"id": "b", "context": CONTEXT}]
    direct = postprocess_qa(
        contexts, features, output.start_logits.numpy(), output.end_logits.numpy()
    )
    # gold: what the model says for "a", something it cannot say for "b"
    examples = Dataset.from_list(
        [
            contexts[0] | {"answers": {"text": [direct["a"]], "answer_start": [0]}},
            contexts[1] | {"answers": {"text": ["no such words"], "answer_start": [0]}},
        ]
    )
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_eval_batch_size=2,
        dataloader_pin_memory=False,
        report_to=[],
        disable_tqdm=True,
    )
    result = evaluate_qa(Trainer(model=model, args=args), features, examples)
    assert result["eval_exact_match"] == pytest.approx(50.0)
    assert result["eval_f1"] == pytest.approx(50.0)
    assert "eval_runtime" in result  # the prediction's own metrics come along
