"""What a job is: one validated ``JobSpec`` (a fine-tuning or a benchmark, the executor that
runs it, the SLURM resources it asks for), from Python or a YAML/JSON file.

Validating a spec imports neither PyTorch nor transformers, so a server can check what a
user submits. What only the runner can check (a model of the zoo, a device this machine
has, a model found offline) fails the job with the runner's message in its log.
"""

from __future__ import annotations

import json
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
from wattprint.finetune.spec import SPEC_SUFFIXES, FinetuneSpec

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
            raise ConfigError(_explain(exc)) from None


def load_job_spec(
    path: Path | str, *, slurm: dict[str, Any] | None = None, **overrides: Any
) -> JobSpec:
    """Read a YAML/JSON job spec. A file without ``kind`` is a fine-tuning spec as
    ``wattprint finetune --save-spec`` writes it. ``overrides`` (top-level values) and
    ``slurm`` (resources) replace the file's where not ``None``."""
    source = Path(path)
    document = _read_mapping(source)
    if "kind" not in document:
        document = {"kind": "finetune", "finetune": document}
    resources = {**(document.get("slurm") or {}), **_given(slurm or {})}
    return JobSpec.build(**{**document, **_given(overrides), "slurm": resources})


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _read_mapping(source: Path) -> dict[str, Any]:
    if source.suffix.lower() not in SPEC_SUFFIXES:
        raise ConfigError(
            f"job spec {str(source)!r}: accepted suffixes: {', '.join(SPEC_SUFFIXES)}"
        )
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read job spec {str(source)!r}: {exc.strerror}") from None
    import yaml

    try:
        document = json.loads(text) if source.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"job spec {str(source)!r} is not valid: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"job spec {str(source)!r} must hold a mapping of options")
    return document


def _explain(exc: ValidationError) -> str:
    """A pydantic error as one line per problem, naming the value and what is accepted."""
    problems = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        field = ".".join(loc) or "spec"
        if err["type"] == "extra_forbidden":
            accepted = ", ".join(_options_at(loc[:-1]))
            problems.append(f"unknown option {field!r}; accepted: {accepted}")
        elif err["type"] == "missing":
            problems.append(f"{field} is required")
        elif not loc:
            problems.append(err["msg"].removeprefix("Value error, "))
        else:
            problems.append(f"{field}={err.get('input')!r}: {err['msg']}")
    return "bad job spec: " + "; ".join(problems)


def _options_at(loc: tuple[str, ...]) -> list[str]:
    """The option names of the section of a spec at ``loc`` (``()``: the top level)."""
    model: type[BaseModel] = JobSpec
    for part in loc:
        field = model.model_fields.get(part)
        nested = (
            [
                t
                for t in (field.annotation, *getattr(field.annotation, "__args__", ()))
                if isinstance(t, type) and issubclass(t, BaseModel)
            ]
            if field is not None
            else []
        )
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)
