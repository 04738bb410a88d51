import math
from pathlib import Path

import pytest
import torch

from wattprint.bench import zoo
from wattprint.errors import ConfigError

ALL = [
    "resnet50",
    "densenet121",
    "vgg16",
    "mobilenet_v2",
    "efficientnet_b0",
    "wav2vec2_base",
    "wav2letter",
    "deepspeech",
    "hdemucs",
    "distilbert",
    "gpt2",
    "t5_small",
]


def test_registry_lists_every_model_by_family() -> None:
    assert zoo.names() == ALL
    assert zoo.names("vision") == ALL[:5]
    assert zoo.names("audio") == ALL[5:9]
    assert zoo.names("nlp") == ALL[9:]


def test_unknown_name_family_and_size_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"'bert'.*resnet50.*t5_small"):
        zoo.get("bert")
    with pytest.raises(ConfigError, match=r"'speech'.*vision, audio, nlp"):
        zoo.names("speech")
    with pytest.raises(ConfigError, match=r"'huge'.*full, tiny"):
        zoo.get("gpt2").build("huge")


@pytest.mark.parametrize("name", ALL)
def test_one_training_step_changes_parameters_and_metric_computes(name: str) -> None:
    torch.manual_seed(0)
    spec = zoo.get(name)
    model = spec.build("tiny")
    train, _test, info = spec.load_data(train_size=2, test_size=2)
    assert info.synthetic
    batch = spec.collate([train[0], train[1]])
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    loss = spec.loss(model, batch)
    assert loss.dim() == 0 and math.isfinite(loss.item())
    loss.backward()
    optimizer.step()
    changed = sum(
        not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters(), strict=True)
    )
    assert changed > 0
    quality = spec.quality(model, batch)
    assert math.isfinite(quality)
    assert model.training  # quality() restores the mode
    if spec.metric == "accuracy":
        assert 0.0 <= quality <= 1.0
    elif spec.metric == "wer":
        assert quality >= 0.0


def test_full_size_nlp_configs_are_the_named_architectures() -> None:
    gpt2 = zoo.get("gpt2").build("full")
    assert 120e6 < sum(p.numel() for p in gpt2.parameters()) < 130e6


def test_greedy_ctc_decode_collapses_repeats_and_blanks() -> None:
    # frames: a a _ a b b  -> "a a b" as indices 3 3 4
    frames = [3, 3, 0, 3, 4, 4]
    log_probs = torch.nn.functional.one_hot(torch.tensor([frames]), 29).float()
    assert zoo.greedy_ctc_decode(log_probs) == [[3, 3, 4]]
    assert zoo.greedy_ctc_decode(log_probs, torch.tensor([2])) == [[3]]
    assert zoo.char_error_rate([[3, 3, 4]], [[3, 4]]) == 0.5


def test_word_error_rate_counts_words() -> None:
    space = 1  # AUDIO_VOCAB: blank, space, apostrophe, a-z
    ab, cd = [3, 4], [5, 6]
    assert zoo.word_error_rate([[*ab, space, *cd]], [[*ab, space, *cd]]) == 0.0
    assert zoo.word_error_rate([[*ab, space, *ab]], [[*ab, space, *cd]]) == 0.5
    assert zoo.word_error_rate([[*ab, *cd]], [[*ab, space, *cd]]) == 1.0  # merged: 1 sub + 1 del
    assert zoo.word_error_rate([[space, *ab, space, space]], [[*ab]]) == 0.0


def test_si_sdr_prefers_the_reference() -> None:
    ref = torch.sin(torch.linspace(0, 50, 1000))
    assert zoo.si_sdr(2 * ref, ref) > 60
    assert zoo.si_sdr(ref + 0.5 * torch.randn(1000), ref) < zoo.si_sdr(
        ref + 0.05 * torch.randn(1000), ref
    )


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("wav2vec2_base", 90e6, 100e6), ("deepspeech", 20e6, 60e6), ("hdemucs", 80e6, 90e6)],
)
def test_full_size_audio_models_run_forward(name: str, low: float, high: float) -> None:
    spec = zoo.get(name)
    model = spec.build("full")
    assert low < sum(p.numel() for p in model.parameters()) < high
    train, _, _ = spec.load_data(train_size=1, test_size=1)
    batch = spec.collate([train[0]])
    assert math.isfinite(spec.quality(model, batch))


def test_pretrained_weights_are_loaded_from_the_local_cache_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision  # type: ignore[import-untyped]

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    spec = zoo.get("mobilenet_v2")
    path = zoo.local_weights_path("mobilenet_v2")
    with pytest.raises(
        ConfigError,
        match=r"no local pretrained weights for mobilenet_v2: expected .*7ebf99e0\.pth",
    ):
        spec.build(pretrained=True)
    torch.manual_seed(3)
    imagenet = torchvision.models.mobilenet_v2(weights=None)  # stands in for the real file
    path.parent.mkdir(parents=True)
    torch.save(imagenet.state_dict(), path)
    model = spec.build(pretrained=True)
    first = next(iter(imagenet.state_dict()))
    assert torch.equal(model.state_dict()[first], imagenet.state_dict()[first])
    assert model.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 10)  # a new head for CIFAR-10


def test_pretrained_is_refused_where_it_does_not_apply() -> None:
    with pytest.raises(
        ConfigError, match=r"wav2letter: no pretrained weights are known for it; accepted: resnet50"
    ):
        zoo.get("wav2letter").build(pretrained=True)
    with pytest.raises(ConfigError, match="size 'full' only"):
        zoo.get("resnet50").build("tiny", pretrained=True)


def test_nlp_pretrained_weights_come_from_the_local_hugging_face_cache(tmp_path: Path) -> None:
    """A tiny GPT-2 saved in the Hub cache layout under HF_HOME is what gpt2 loads; an
    empty cache is one clear error (nothing is downloaded: HF_HUB_OFFLINE is not needed)."""
    import os
    import subprocess
    import sys

    snapshot = tmp_path / "hf" / "hub" / "models--gpt2" / "snapshots" / "0123abc"
    tiny = zoo.get("gpt2").build("tiny")
    tiny.save_pretrained(snapshot)  # type: ignore[operator]
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abc")
    code = (
        "from wattprint.bench import zoo\n"
        "m = zoo.get('gpt2').build(pretrained=True)\n"
        "print(m.config.n_layer, m.config.vocab_size)\n"
        "try:\n    zoo.get('t5_small').build(pretrained=True)\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    assert first == "2 256"  # the tiny model saved above, not GPT-2 124M
    assert second.startswith("ConfigError no local pretrained weights for t5_small ('t5-small'")
    assert "nothing is downloaded" in second
