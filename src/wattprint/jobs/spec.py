"""What a job is: one validated ``JobSpec`` (a fine-tuning or a benchmark, the executor that
runs it, the SLURM resources it asks for), from Python or a YAML/JSON file.

Validating a spec imports neither PyTorch nor transformers, so a server can check what a
user submits. What only the runner can check (a model of the zoo, a device this machine
has, a model found offline) fails the job with the runner's message in its log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.finetune.spec import FinetuneSpec, read_spec_file
from wattprint.validation import explain

__all__ = [
    "EXECUTORS",
    "JOB_KINDS",
    "BenchJob",
    "JobSpec",
    "SlurmResources",
    "load_job_spec",
]

JobKind = Literal["finetune", "bench"]
JOB_KINDS: tuple[str, ...] = JobKind.__args__  # type: ignore[attr-defined]
Executor = Literal["local", "slurm"]
EXECUTORS: tuple[str, ...] = Executor.__args__  # type: ignore[attr-defined]
# The values of bench.suites.SUITES and bench.zoo.SIZES (which import PyTorch); a test
# keeps them equal.
Suite = Literal["vision", "audio", "nlp", "all", "scaling"]
Size = Literal["full", "tiny"]
DEFAULT_BENCH_PROJECT = "bench"


class BenchJob(BaseModel):
    """A benchmark suite, with the options of ``wattprint bench``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: Suite = "vision"
    models: tuple[str, ...] = Field((), description="Only these models of the suite.")
    epochs: int | None = Field(None, ge=1, description="Training epochs (3; 2 with quick).")
    batch_size: int | None = Field(None, ge=1, description="Batch size (64; 32 with quick).")
    device: str | None = Field(
        None,
        pattern=r"^(cpu|cuda(:\d+)?)$",
        description="cpu, cuda or cuda:N (default: cuda when available).",
    )
    amp: bool = False
    quick: bool = Field(False, description="Tiny sizes, 256 samples, 2 epochs.")
    size: Size | None = None
    train_size: int | None = Field(None, ge=1)
    test_size: int | None = Field(None, ge=1)
    data_root: Path | None = None
    pretrained: bool = False

    @field_validator("models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        return value

    @model_validator(mode="after")
    def _scaling_models(self) -> BenchJob:
        if self.suite == "scaling" and self.models:
            raise ValueError("models does not apply to suite 'scaling' (its models are set)")
        return self


class SlurmResources(BaseModel):
    """What a SLURM job asks for; unset values come from the settings (``slurm_*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partition: str | None = Field(None, min_length=1)
    account: str | None = Field(None, min_length=1)
    gpus: int | None = Field(None, ge=0, le=64, description="GPUs per node.")
    cpus: int | None = Field(None, ge=1, le=1024, description="CPU cores.")
    mem_gb: float | None = Field(None, gt=0, le=8192)
    time_min: int | None = Field(None, ge=1, le=525_600, description="Time limit, minutes.")

    def resolved(self, settings: Settings) -> SlurmResources:
        """These resources, each unset one taken from ``settings``."""
        return SlurmResources(
            partition=self.partition or settings.slurm_partition,
            account=self.account or settings.slurm_account,
            gpus=settings.slurm_gpus if self.gpus is None else self.gpus,
            cpus=self.cpus or settings.slurm_cpus,
            mem_gb=self.mem_gb or settings.slurm_mem_gb,
            time_min=self.time_min or settings.slurm_time_min,
        )

    def submitit_parameters(self) -> dict[str, Any]:
        """The parameters of ``submitit.AutoExecutor.update_parameters`` for the values set."""
        names = {
            "partition": "slurm_partition",
            "account": "slurm_account",
            "gpus": "gpus_per_node",
            "cpus": "cpus_per_task",
            "mem_gb": "mem_gb",
            "time_min": "timeout_min",
        }
        given = self.model_dump(exclude_none=True)
        if not given.get("gpus"):
            given.pop("gpus", None)
        return {names[key]: value for key, value in given.items()}


class JobSpec(BaseModel):
    """One job: its kind and payload (``finetune`` or ``bench``, the section named by
    ``kind``), where it runs, and the project its runs are stored under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: JobKind
    executor: Executor = "local"
    project: str | None = Field(
        None,
        min_length=1,
        description="Project of the job's runs (default: the fine-tuning spec's, or bench).",
    )
    finetune: FinetuneSpec | None = None
    bench: BenchJob | None = None
    slurm: SlurmResources = Field(default_factory=lambda: SlurmResources.model_validate({}))

    @field_validator("project")
    @classmethod
    def _no_slash(cls, value: str | None) -> str | None:
        if value is not None and ("/" in value or value.strip() != value):
            raise ValueError("must not contain '/' or surrounding spaces")
        return value

    @model_validator(mode="after")
    def _payload_of_kind(self) -> JobSpec:
        other = "bench" if self.kind == "finetune" else "finetune"
        if getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} job needs a {self.kind!r} section")
        if getattr(self, other) is not None:
            raise ValueError(f"a {self.kind} job takes no {other!r} section")
        return self

    @property
    def run_project(self) -> str:
        """The project the job's runs are stored under."""
        if self.project is not None:
            return self.project
        if self.finetune is not None:
            return self.finetune.project
        return DEFAULT_BENCH_PROJECT

    @classmethod
    def build(cls, **values: Any) -> JobSpec:
        """Validate ``values`` (``None`` ones are dropped); one ``ConfigError`` otherwise."""
        try:
            return cls.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            raise ConfigError(explain(exc, cls, "job spec")) from None


def load_job_spec(
    path: Path | str, *, slurm: dict[str, Any] | None = None, **overrides: Any
) -> JobSpec:
    """Read a YAML/JSON job spec. A file without ``kind`` is a fine-tuning spec as
    ``wattprint finetune --save-spec`` writes it. ``overrides`` (top-level values) and
    ``slurm`` (resources) replace the file's where not ``None``."""
    source = Path(path)
    document = read_spec_file(source)
    if "kind" not in document:
        document = {"kind": "finetune", "finetune": document}
    resources = {**(document.get("slurm") or {}), **_given(slurm or {})}
    return JobSpec.build(**{**document, **_given(overrides), "slurm": resources})


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
