"""Accelerator specifications from ``data/gpu_specs.csv`` and name matching.

``gpu_spec(name)`` accepts the table's names, its ``aliases`` (``nvidia-smi`` /
``rocm-smi`` style, e.g. "NVIDIA A100-SXM4-80GB", "Tesla V100-SXM2-16GB") and short
user forms ("A100-80GB", "a100 80gb", "H100", "V100"), case- and
punctuation-insensitively. Matching, in order:

1. **exact**: the normalised query equals a normalised name or alias;
2. **partial**: every word of the query is a word of a name or alias (a "contains"
   match on words, so "H100" never matches "GH100"), then, if none, the query is a
   substring of a name or alias with its words run together ("RTX4090");
3. several rows left: when the query names no form factor and exactly one candidate
   is an SXM part (the board of HGX/DGX training servers), that one is taken and
   ``GpuSpec.match`` says so; otherwise ``ConfigError`` lists the candidates.

An unknown name raises ``ConfigError`` with up to five close matches (difflib).
The table is read on first use and kept; its source, licence and year are in
``data/README.md`` (Epoch AI "Data on Machine Learning Hardware", CC-BY-4.0, plus
curated rows and LLMCarbon die-only embodied figures).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, replace

from wattprint.errors import ConfigError
from wattprint.hardware import tables

VENDOR_WORDS = frozenset({"nvidia", "amd", "tesla"})
"""Words dropped before matching: "Tesla V100" and "V100" name the same part."""

FORM_FACTOR_PREFIXES = ("sxm", "pcie", "pcle", "nvl", "dgxs", "oam", "hgx")
"""Words that name a board form factor ("pcle" is a typo present in Epoch's data)."""

MAX_SUGGESTIONS = 5
MAX_LISTED = 10


@dataclass(frozen=True)
class GpuSpec:
    """One accelerator of ``gpu_specs.csv``: TDP, memory, dense peak TFLOPS per
    precision (``None`` where the table has no figure), release year, die-only embodied
    emissions (LLMCarbon; ``None`` for most rows), sources, and how the name given was
    matched (``match``)."""

    name: str
    vendor: str
    type: str
    tdp_w: float | None
    memory_gb: float | None
    fp32_tflops: float | None
    fp16_tflops: float | None
    tf32_tensor_tflops: float | None
    fp16_bf16_tensor_tflops: float | None
    fp8_tflops: float | None
    release_year: int | None
    embodied_die_kgco2eq: float | None
    embodied_source: str
    aliases: tuple[str, ...]
    source: str
    source_url: str
    notes: str
    match: str = ""

    @property
    def words(self) -> frozenset[str]:
        """The normalised words of the name and every alias."""
        found: set[str] = set()
        for text in (self.name, *self.aliases):
            found.update(_words(text))
        return frozenset(found)


# --- normalisation -----------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"^\d+$")


def _words(text: str) -> tuple[str, ...]:
    """Lower-case alphanumeric words; a number followed by "gb" becomes one word
    ("80 GB" and "80GB" → "80gb"); vendor words are dropped."""
    raw = _TOKEN.findall(text.lower())
    merged: list[str] = []
    i = 0
    while i < len(raw):
        word = raw[i]
        if _NUMBER.match(word) and i + 1 < len(raw) and raw[i + 1] == "gb":
            word += "gb"
            i += 1
        merged.append(word)
        i += 1
    return tuple(w for w in merged if w not in VENDOR_WORDS)


def _strict_key(text: str) -> str:
    """Like ``normalise_gpu_name`` but keeping the vendor words (to split exact ties)."""
    return "".join(_TOKEN.findall(text.lower()))


def normalise_gpu_name(name: str) -> str:
    """The key exact matching compares: the words of ``name`` run together."""
    return "".join(_words(name))


# --- the table -----------------------------------------------------------------------


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _int(text: str) -> int | None:
    text = text.strip()
    return int(float(text)) if text else None


@functools.cache
def gpu_specs() -> tuple[GpuSpec, ...]:
    """Every row of ``gpu_specs.csv`` as a ``GpuSpec`` (parsed once)."""
    return tuple(
        GpuSpec(
            name=row["name"],
            vendor=row["vendor"],
            type=row["type"],
            tdp_w=_float(row["tdp_w"]),
            memory_gb=_float(row["memory_gb"]),
            fp32_tflops=_float(row["fp32_tflops"]),
            fp16_tflops=_float(row["fp16_tflops"]),
            tf32_tensor_tflops=_float(row["tf32_tensor_tflops"]),
            fp16_bf16_tensor_tflops=_float(row["fp16_bf16_tensor_tflops"]),
            fp8_tflops=_float(row["fp8_tflops"]),
            release_year=_int(row["release_year"]),
            embodied_die_kgco2eq=_float(row["embodied_die_kgco2eq"]),
            embodied_source=row["embodied_source"],
            aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
            source=row["source"],
            source_url=row["source_url"],
            notes=row["notes"],
        )
        for row in tables.gpu_specs()
    )


@functools.cache
def _exact_index() -> dict[str, tuple[GpuSpec, ...]]:
    index: dict[str, list[GpuSpec]] = {}
    for spec in gpu_specs():
        keys = {normalise_gpu_name(text) for text in (spec.name, *spec.aliases)}
        for key in keys:
            index.setdefault(key, []).append(spec)
    return {key: tuple(specs) for key, specs in index.items()}


def _describe(spec: GpuSpec) -> str:
    tdp = f"{spec.tdp_w:g} W" if spec.tdp_w is not None else "no TDP"
    memory = f", {spec.memory_gb:g} GB" if spec.memory_gb is not None else ""
    return f"{spec.name!r} ({tdp}{memory})"


def _is_sxm(spec: GpuSpec) -> bool:
    return any(word.startswith("sxm") for word in spec.words)


def _names_form_factor(words: tuple[str, ...]) -> bool:
    return any(word.startswith(FORM_FACTOR_PREFIXES) for word in words)


def _by_words(words: tuple[str, ...]) -> list[GpuSpec]:
    wanted = set(words)
    return [spec for spec in gpu_specs() if wanted <= spec.words]


def _by_substring(words: tuple[str, ...]) -> list[GpuSpec]:
    key = "".join(words)
    return [
        spec
        for spec in gpu_specs()
        if any(key in normalise_gpu_name(text) for text in (spec.name, *spec.aliases))
    ]


def _suggestions(name: str) -> list[str]:
    choices: dict[str, str] = {}
    for spec in gpu_specs():
        for text in (spec.name, *spec.aliases):
            choices.setdefault(normalise_gpu_name(text), spec.name)
    keys = difflib.get_close_matches(
        normalise_gpu_name(name), list(choices), n=MAX_SUGGESTIONS * 3, cutoff=0.5
    )
    names: list[str] = []
    for key in keys:
        if choices[key] not in names:
            names.append(choices[key])
    return names[:MAX_SUGGESTIONS]


class UnknownGpuError(ConfigError):
    """No row of ``gpu_specs.csv`` matches the name (the message lists close matches)."""


class AmbiguousGpuError(ConfigError):
    """Several rows match the name (the message lists them)."""


def gpu_spec(name: str) -> GpuSpec:
    """The ``gpu_specs.csv`` row that ``name`` designates (see the module docstring for
    the matching rules). Raises ``AmbiguousGpuError`` listing the candidates, or
    ``UnknownGpuError`` with up to five close matches; both are ``ConfigError``."""
    words = _words(name)
    if not words:
        raise UnknownGpuError(
            f"GPU name {name!r} is empty; give a model such as 'A100-SXM4-80GB' or 'H100'"
        )
    exact = _exact_index().get("".join(words), ())
    if len(exact) > 1:  # e.g. "Tesla P100 PCIe 16GB" and "P100 PCIe 16GB": keep the vendor words
        strict = _strict_key(name)
        exact = (
            tuple(
                spec
                for spec in exact
                if any(_strict_key(text) == strict for text in (spec.name, *spec.aliases))
            )
            or exact
        )
    if len(exact) == 1:
        spec = exact[0]
        how = "name" if normalise_gpu_name(spec.name) == "".join(words) else "alias"
        return _with_match(spec, f"{name!r}: exact {how} match")
    by_words = [] if exact else _by_words(words)
    candidates = list(exact) or by_words or _by_substring(words)
    if len(candidates) == 1:
        return _with_match(candidates[0], f"{name!r}: the only row containing these words")
    if len(candidates) > 1:
        sxm = [spec for spec in by_words if _is_sxm(spec)]
        if len(sxm) == 1 and not _names_form_factor(words):
            others = ", ".join(_describe(s) for s in candidates if s is not sxm[0])
            return _with_match(
                sxm[0],
                f"{name!r} names no form factor: took the SXM board (HGX/DGX servers); "
                f"other matches: {others}",
            )
        listed = "; ".join(_describe(s) for s in candidates[:MAX_LISTED])
        more = f"; and {len(candidates) - MAX_LISTED} more" if len(candidates) > MAX_LISTED else ""
        raise AmbiguousGpuError(
            f"GPU name {name!r} is ambiguous: it matches {len(candidates)} rows of "
            f"gpu_specs.csv: {listed}{more}. Give one of these names, or add the memory "
            "and form factor (e.g. 'A100-SXM4-80GB', 'A100 PCIe 40GB')"
        )
    close = _suggestions(name)
    hint = f"; close matches: {', '.join(repr(c) for c in close)}" if close else ""
    raise UnknownGpuError(
        f"unknown GPU {name!r}: not a name or alias in gpu_specs.csv{hint}. "
        "Names are matched case- and punctuation-insensitively "
        "(e.g. 'NVIDIA A100-SXM4-80GB', 'A100-80GB', 'H100', 'V100')"
    )


def _with_match(spec: GpuSpec, how: str) -> GpuSpec:
    return replace(spec, match=how)
