"""The compression lab on CPU: small models trained, compressed, fine-tuned and served
under the real tracker, then read back from the real SQLite store.

The energy sources are the CPU and RAM models, so energy is estimated (with a range) on
every machine. Torch runs one thread here: on a shared two-core machine two intra-op
threads waiting on each other make a tiny forward pass 100 times slower.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from wattprint.bench import zoo
from wattprint.bench.runner import BenchOptions, make_loader
from wattprint.compress import parse_techniques, prune_unstructured
from wattprint.compress.lab import (
    PruneMask,
    compare,
    finetune_split,
    load_checkpoint,
    measure_device,
    train_epochs,
)
from wattprint.compress.results import Comparison, list_comparisons, load_comparison
from wattprint.config import Settings
from wattprint.errors import ConfigError, NotFoundError
from wattprint.estimate.lifecycle import break_even_inferences
from wattprint.store.repository import Store
from wattprint.tracking.tracker import Tracker

VARIANTS = ("prune:0.5", "quant:int8", "lowrank:4", "cast:bf16")
TEST_SAMPLES = 48
BATCH = 16


def mlp_spec() -> zoo.ModelSpec:
    """A CIFAR-10 classifier: 8x8 average-pooled images, 192 -> 32 -> 10."""
    return zoo.image_classifier_spec(
        "lab_mlp",
        lambda size, classes: nn.Sequential(
            nn.AvgPool2d(4), nn.Flatten(), nn.Linear(192, 32), nn.ReLU(), nn.Linear(32, classes)
        ),
    )


def small_options(**changes: object) -> BenchOptions:
    base: dict[str, object] = {
        "train_size": 64,
        "test_size": TEST_SAMPLES,
        "batch_size": BATCH,
        "size": "tiny",
    }
    return BenchOptions(**{**base, **changes})  # type: ignore[arg-type]


def lab_settings(folder: Path) -> Settings:
    return Settings(dir=folder, project="compress", sources=("cpu-model", "ram-model"))


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass(frozen=True)
class Stored:
    store: Store
    comparison: Comparison


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """The MLP trained one epoch, four variants, pruned/low-rank ones fine-tuned one epoch."""
    settings = lab_settings(tmp_path_factory.mktemp("lab"))
    comparison = compare(
        mlp_spec(),
        ",".join(VARIANTS),
        settings=settings,
        options=small_options(),
        finetune_epochs=1,
    )
    return Stored(Store.from_settings(settings), comparison)


def test_one_comparison_holds_a_training_run_a_run_per_variant_and_the_fine_tunings(
    stored: Stored,
) -> None:
    c = stored.comparison
    runs = stored.store.list_runs(labels={"comparison": c.id})
    roles = sorted((r.labels["role"], r.labels["variant"]) for r in runs)
    assert roles == sorted(
        [("train", "original"), ("measure", "original")]
        + [("measure", v) for v in VARIANTS]
        + [("finetune", "prune:0.5"), ("finetune", "lowrank:4")]
    )
    assert all(r.status == "finished" for r in runs)
    for r in runs:
        names = [w.name for w in stored.store.windows(r.run_id)]
        if r.labels["role"] == "measure":
            # 48 samples in batches of 16: 3 measured batches after one warm-up pass
            assert names.count("inference_batch") == 3 and names.count("inference_warmup") == 1
            assert "epoch" not in names
        else:
            assert names.count("train_warmup") == names.count("epoch") == 1
            assert "inference_batch" not in names
    labels = next(r.labels for r in runs if r.labels["variant"] == "cast:bf16")
    assert labels["model"] == "lab_mlp"
    assert labels["device"] == labels["requested_device"] == "cpu"
    assert labels["data"] == "synthetic" and "synthetic" in labels["data_reason"]
    assert labels["metric"] == "accuracy" and labels["higher_is_better"] == "true"
    assert labels["batch_size"] == "16"
    assert labels["input_dtype"] == "bfloat16"  # inputs were cast to the variant's dtype
    assert labels["finetune_note"].startswith("not fine-tuned: quantisation or casting only")
    assert c.variants[0].variant == "original" and c.original is c.variants[0]
    assert [v.variant for v in c.variants[1:]] == list(VARIANTS)
    assert c.source == "lab_mlp (size tiny, random init) trained here for 1 epoch(s)"
    assert c.train_run_id is not None and c.train_energy is not None and c.train_energy.j > 0


def test_each_variant_is_what_its_technique_makes(stored: Stored) -> None:
    by_name = {v.variant: v for v in stored.comparison.variants}
    original = by_name["original"]
    params = 192 * 32 + 32 + 32 * 10 + 10
    assert original.params == params
    pruned = by_name["prune:0.5"]
    assert pruned.params == params
    assert pruned.nonzero_params is not None and pruned.nonzero_params < params
    assert pruned.nonzero_params <= params - (192 * 32 + 32 * 10) // 2  # half of each weight
    quantized = by_name["quant:int8"]
    assert original.size_bytes is not None and quantized.size_bytes is not None
    assert quantized.size_bytes < original.size_bytes / 2
    lowrank = by_name["lowrank:4"]
    assert lowrank.params == 4 * (192 + 32) + 32 + 4 * (32 + 10) + 10
    cast = by_name["cast:bf16"]
    assert cast.size_bytes is not None and cast.size_bytes < 0.7 * original.size_bytes
    for v in by_name.values():
        assert v.samples == TEST_SAMPLES
        assert v.quality == "estimated"
        assert v.metric_value is not None and 0.0 <= v.metric_value <= 1.0
        assert v.latency_p50_s is not None and v.latency_p95_s is not None
        assert 0 < v.latency_p50_s <= v.latency_p95_s
        e = v.energy_per_sample
        assert e is not None and 0 < e.low_j < e.j < e.high_j


def test_savings_differences_and_break_even_come_from_the_stored_values(stored: Stored) -> None:
    store, c = stored.store, stored.comparison

    def per_sample(run_id: str) -> float:
        windows = store.windows(run_id)
        return sum(w.total_energy_j for w in windows if w.name == "inference_batch") / 48

    def metric(run_id: str) -> float:
        values = [m.value for m in store.metrics(run_id, "test_accuracy")]
        assert len(values) == 1 and values[0] is not None
        return values[0]

    original = c.variants[0]
    e_original = per_sample(original.run_id)
    assert original.energy_per_sample is not None
    assert original.energy_per_sample.j == pytest.approx(e_original)
    assert original.metric_delta is None and original.energy_saving is None
    tuned = 0
    for v in c.variants[1:]:
        e = per_sample(v.run_id)
        assert v.energy_saving == pytest.approx(1 - e / e_original)
        assert v.metric_delta == pytest.approx(metric(v.run_id) - metric(original.run_id))
        if v.finetune_run_id is None:
            assert v.finetune_energy is None and v.break_even_inferences is None
            continue
        tuned += 1
        epochs = [w for w in store.windows(v.finetune_run_id) if w.name == "epoch"]
        spent = sum(w.total_energy_j for w in epochs)
        assert v.finetune_energy is not None and v.finetune_energy.j == pytest.approx(spent)
        if e < e_original:
            assert v.break_even_inferences == pytest.approx(spent / (e_original - e))
        else:
            assert v.break_even_inferences is None and v.break_even_text.startswith("never")
    assert tuned == 2


def test_comparisons_are_listed_and_found_by_prefix(stored: Stored) -> None:
    c = stored.comparison
    (listed,) = list_comparisons(stored.store)
    assert listed.id == c.id and listed.model == "lab_mlp"
    assert listed.variants == ("original", *VARIANTS)
    assert listed.status == "finished" and listed.energy_j > 0
    assert load_comparison(stored.store, c.id[:12]).id == c.id
    assert load_comparison(stored.store).id == c.id
    with pytest.raises(NotFoundError, match=r"comparison 'nope' matches none"):
        load_comparison(stored.store, "nope")
    summary = c.summary()
    assert summary["data"] == "synthetic"
    assert [v["variant"] for v in summary["variants"]] == ["original", *VARIANTS]


def test_break_even_is_the_extra_energy_over_the_saving_per_inference() -> None:
    assert break_even_inferences(100.0, 3e-3, 1e-3) == pytest.approx(50_000)
    assert break_even_inferences(0.0, 2.0, 1.0) == 0.0
    assert break_even_inferences(100.0, 1e-3, 1e-3) is None  # no saving: never repaid
    assert break_even_inferences(100.0, 1e-3, 2e-3) is None
    with pytest.raises(ConfigError, match="accepted: energies >= 0"):
        break_even_inferences(-1.0, 2.0, 1.0)
    with pytest.raises(ConfigError, match="is not finite"):
        break_even_inferences(math.inf, 2.0, 1.0)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_fine_tuning_keeps_pruned_weights_at_zero(tmp_path: Path) -> None:
    spec = mlp_spec()
    torch.manual_seed(0)
    pruned, _ = prune_unstructured(spec.build(), 0.5)
    free = copy.deepcopy(pruned)  # trained the same way without the mask
    train, _, _ = spec.load_data(train_size=64, test_size=16)
    loader = make_loader(spec, train, small_options(), shuffle=True)
    zeros = [m.weight.detach() == 0 for m in linears(pruned)]
    before = [m.weight.detach().clone() for m in linears(pruned)]
    mask = PruneMask(pruned)
    assert mask.pruned == sum(int(z.sum()) for z in zeros) == (192 * 32 + 32 * 10) // 2
    with Tracker(lab_settings(tmp_path)) as tracker:
        for model, held in ((pruned, mask), (free, None)):
            train_epochs(
                tracker,
                spec,
                model,
                loader,
                epochs=2,
                device=torch.device("cpu"),
                lr=1e-2,
                mask=held,
            )
    for layer, zero, old in zip(linears(pruned), zeros, before, strict=True):
        weight = layer.weight.detach()
        assert bool((weight[zero] == 0).all())  # pruned entries stayed exactly zero
        assert not torch.equal(weight[~zero], old[~zero])  # the others were trained
    # without the mask the same training revives pruned weights: the mask is what held them
    for layer, zero in zip(linears(free), zeros, strict=True):
        assert bool((layer.weight.detach()[zero] != 0).any())


def test_where_fine_tuning_goes_and_where_int8_runs() -> None:
    before, after, note = finetune_split(parse_techniques("prune:0.5+lowrank:4+quant:int8"))
    assert [str(s) for s in before] == ["prune:0.5", "lowrank:4"]
    assert [str(s) for s in after] == ["quant:int8"] and note == ""
    before, after, note = finetune_split(parse_techniques("quant:int8"))
    assert before == () and [str(s) for s in after] == ["quant:int8"]
    assert note == "not fine-tuned: quantisation or casting only, nothing to recover"
    before, _, note = finetune_split(parse_techniques("cast:bf16+prune:0.5"))
    assert before == () and "prunes or factorises after a cast" in note
    cuda = torch.device("cuda")  # a device object needs no GPU
    device, why = measure_device(parse_techniques("prune:0.5+quant:int8"), cuda)
    assert device == torch.device("cpu")
    assert why == "int8 (torch.ao) kernels run on CPU only: measured on cpu, not cuda"
    assert measure_device(parse_techniques("prune:0.5"), cuda) == (cuda, "")
    cpu = torch.device("cpu")
    assert measure_device(parse_techniques("quant:int8"), cpu) == (cpu, "")


def test_a_checkpoint_round_trips_as_a_whole_module_or_a_state_dict(tmp_path: Path) -> None:
    spec = mlp_spec()
    torch.manual_seed(3)
    model = spec.build()
    whole, state, nested = tmp_path / "whole.pt", tmp_path / "state.pt", tmp_path / "ckpt.pt"
    torch.save(model, whole)
    torch.save(model.state_dict(), state)
    torch.save({"model_state_dict": model.state_dict(), "epoch": 3}, nested)
    for path, kind in ((whole, "module"), (state, "state_dict"), (nested, "state_dict")):
        loaded, held = load_checkpoint(path, spec)
        assert held == kind
        assert loaded is not model
        expected = model.state_dict()
        assert all(torch.equal(v, expected[k]) for k, v in loaded.state_dict().items())


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "no such file"),
        (b"not a checkpoint", "is not a torch.save file"),
        ([1, 2, 3], "holds a list, not a model"),
        ({"fc.weight": torch.zeros(2, 2)}, "does not fit lab_mlp (size full): missing 2.bias"),
        (
            nn.Sequential(
                nn.AvgPool2d(4), nn.Flatten(), nn.Linear(192, 8), nn.ReLU(), nn.Linear(8, 10)
            ).state_dict(),
            "does not fit lab_mlp (size full): size mismatch for 2.weight",
        ),
    ],
)
def test_a_bad_checkpoint_is_one_error_saying_what_is_accepted(
    tmp_path: Path, content: object, why: str
) -> None:
    path = tmp_path / "bad.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        torch.save(content, path)
    with pytest.raises(ConfigError) as caught:
        load_checkpoint(path, mlp_spec())
    message = str(caught.value)
    assert repr(str(path)) in message and why in message
    assert "accepted: a whole model saved with torch.save(model, FILE)" in message


def test_a_checkpoint_is_measured_as_saved_without_training(tmp_path: Path) -> None:
    spec = mlp_spec()
    torch.manual_seed(5)
    model = spec.build()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    settings = lab_settings(tmp_path / "data")
    c = compare(spec, "quant:int8", settings=settings, options=small_options(), checkpoint=path)
    store = Store.from_settings(settings)
    roles = sorted(r.labels["role"] for r in store.list_runs(labels={"comparison": c.id}))
    assert roles == ["measure", "measure"]  # no training run
    assert c.variants[0].labels["epochs"] == "0"
    assert c.train_run_id is None and c.train_energy is None
    assert c.source == "checkpoint model.pt: a state_dict of lab_mlp (size tiny)"
    _, test, _ = spec.load_data(train_size=64, test_size=TEST_SAMPLES)
    batch = spec.collate([test[i] for i in range(TEST_SAMPLES)])
    assert c.variants[0].metric_value == pytest.approx(spec.quality(model, batch))


def test_a_tiny_zoo_model_in_int8_and_a_variant_that_cannot_be_built(tmp_path: Path) -> None:
    settings = lab_settings(tmp_path)
    c = compare(
        "distilbert", "quant:int8,quant:int8-static", settings=settings, options=small_options()
    )
    original, int8, static = c.variants
    assert original.status == int8.status == "finished"
    assert int8.size_bytes is not None and original.size_bytes is not None
    assert int8.size_bytes < original.size_bytes
    assert int8.params == original.params
    assert int8.labels["family"] == "nlp"
    # static int8 calibrates on positional inputs, which the token models do not have:
    # stored as a failed run of the comparison with why, and the others still measured
    assert static.status == "failed" and static.error is not None
    assert "quant:int8-static calibrates on the model's positional input" in static.error
    assert c.failures == (static,)


def test_bad_lab_options_are_refused_before_any_run(tmp_path: Path) -> None:
    settings = lab_settings(tmp_path)
    with pytest.raises(ConfigError, match="amp=True"):
        compare(mlp_spec(), "quant:int8", settings=settings, options=small_options(amp=True))
    with pytest.raises(ConfigError, match="finetune_epochs=-1: accepted: an integer >= 0"):
        compare(mlp_spec(), "quant:int8", settings=settings, finetune_epochs=-1)
    with pytest.raises(ConfigError, match="variant 'quant:int8' given twice"):
        compare(mlp_spec(), "quant:int8,quant:int8", settings=settings)
    with pytest.raises(ConfigError, match="each variant may be given once"):
        chain = parse_techniques("prune:0.5")
        compare(mlp_spec(), [chain, chain], settings=settings)
    with pytest.raises(ConfigError, match="unknown benchmark model 'nope'"):
        compare("nope", "quant:int8", settings=settings)
    assert Store.from_settings(settings).list_runs() == []
