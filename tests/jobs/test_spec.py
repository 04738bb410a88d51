"""Job specs: validation with one clear error, files (also `finetune --save-spec` ones),
overrides, and SLURM resources completed from the settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
import yaml

from tests.jobs.conftest import QUICK_BENCH, bench_spec
from wattprint.config import Settings, load_settings
from wattprint.errors import ConfigError
from wattprint.finetune.spec import FinetuneSpec
from wattprint.jobs.spec import JobSpec, Size, SlurmResources, Suite, load_job_spec

FINETUNE = {"task": "causal-lm", "model": "./m", "dataset": "d.txt"}


def _bench(**changes: object) -> dict[str, object]:
    return {"kind": "bench", "bench": QUICK_BENCH, **changes}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (_bench(kind="train"), "kind='train': Input should be 'finetune' or 'bench'"),
        (_bench(executor="lsf"), "executor='lsf': Input should be 'local' or 'slurm'"),
        ({"kind": "bench"}, "a bench job needs a 'bench' section"),
        (_bench(bench={"size": "huge"}), "bench.size='huge': Input should be 'full' or 'tiny'"),
        (_bench(bench={"device": "tpu"}), "bench.device='tpu'"),
        (_bench(bench={"gpu": 1}), "unknown option 'bench.gpu'; accepted: suite, models"),
        (_bench(bench={"suite": "scaling", "models": "gpt2"}), "models does not apply to"),
        (_bench(slurm={"cpus": 0}), "slurm.cpus=0: Input should be greater than or equal to 1"),
        (_bench(project="a/b"), "project='a/b': Value error, must not contain '/'"),
        (_bench(finetune=FINETUNE), "a bench job takes no 'finetune' section"),
        ({"kind": "finetune", "finetune": {"task": "ner"}}, "finetune.task='ner'"),
    ],
)
def test_bad_specs_are_one_config_error(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        JobSpec.build(**values)
    assert message in str(raised.value)
    assert str(raised.value).startswith("bad job spec: ")


def test_spec_literals_match_the_benchmark() -> None:
    pytest.importorskip("torch")
    from wattprint.bench.suites import SUITES
    from wattprint.bench.zoo import SIZES

    assert get_args(Suite) == SUITES
    assert get_args(Size) == SIZES


def test_a_finetune_save_spec_file_is_a_finetune_job(tmp_path: Path) -> None:
    written = FinetuneSpec.build(
        task="text-classification", model="./m", dataset="d.csv", project="nlp"
    ).to_file(tmp_path / "ft.yaml")
    spec = load_job_spec(written, executor="slurm", slurm={"partition": "gpu", "cpus": None})
    assert spec.kind == "finetune"
    assert spec.finetune is not None and spec.finetune.model == "./m"
    assert spec.executor == "slurm"
    assert spec.slurm.partition == "gpu" and spec.slurm.cpus is None
    assert spec.run_project == "nlp"


def test_job_file_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    document = {"kind": "bench", "bench": {**QUICK_BENCH, "models": "gpt2, bert"}}
    path.write_text(json.dumps({**document, "slurm": {"partition": "cpu", "mem_gb": 2}}))
    spec = load_job_spec(path, project="p1", slurm={"partition": "gpu"})
    assert spec.bench is not None and spec.bench.models == ("gpt2", "bert")
    assert spec.run_project == "p1"
    assert spec.slurm == SlurmResources(partition="gpu", mem_gb=2)
    assert bench_spec(QUICK_BENCH).run_project == "bench"
    (tmp_path / "list.yaml").write_text(yaml.safe_dump([document]))
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_job_spec(tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match=r"accepted suffixes: \.yaml, \.yml, \.json"):
        load_job_spec(tmp_path / "job.toml")


def test_slurm_resources_come_from_spec_then_settings() -> None:
    settings = Settings(slurm_partition="debug", slurm_account="lab", slurm_time_min=30)
    resolved = SlurmResources(cpus=4, mem_gb=8).resolved(settings)
    assert resolved == SlurmResources(
        partition="debug", account="lab", gpus=0, cpus=4, mem_gb=8, time_min=30
    )
    assert resolved.submitit_parameters() == {
        "slurm_partition": "debug",
        "slurm_account": "lab",
        "cpus_per_task": 4,
        "mem_gb": 8,
        "timeout_min": 30,
    }
    assert SlurmResources(gpus=2).submitit_parameters() == {"gpus_per_node": 2}


def test_slurm_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="WATTPRINT_SLURM_CPUS='0'"):
        load_settings(environ={"WATTPRINT_SLURM_CPUS": "0"})
    assert load_settings(environ={"WATTPRINT_SLURM_PARTITION": "gpu"}).slurm_partition == "gpu"
