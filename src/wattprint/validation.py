"""Pydantic validation errors as the one clear message every bad input gets: each problem
names the field, the value and what is accepted (the options of the section, for an
unknown one). Used by the job and fine-tuning specs, the estimate requests and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from wattprint.errors import ConfigError

__all__ = ["explain", "validated"]

_M = TypeVar("_M", bound=BaseModel)


def explain(
    errors: ValidationError | Sequence[Mapping[str, Any]],
    model: type[BaseModel] | None,
    what: str,
) -> str:
    """Pydantic ``errors`` on ``model`` (an exception or its ``errors()`` list) as one line
    per problem; without the model an unknown option is named but its section's options
    are not."""
    found = errors.errors() if isinstance(errors, ValidationError) else errors
    problems = []
    for err in found:
        loc = tuple(str(p) for p in err["loc"])
        field = ".".join(loc) or "spec"
        if err["type"] == "extra_forbidden":
            accepted = ", ".join(_options_at(model, loc[:-1])) if model else "see the schema"
            problems.append(f"unknown option {field!r}; accepted: {accepted}")
        elif err["type"] == "missing":
            problems.append(f"{field} is required")
        elif not loc:
            problems.append(str(err["msg"]).removeprefix("Value error, "))
        else:
            problems.append(f"{field}={err.get('input')!r}: {err['msg']}")
    return f"bad {what}: " + "; ".join(problems)


def validated(model: type[_M], data: Mapping[str, Any], what: str) -> _M:
    """``model`` from ``data``; a ``ConfigError`` (see ``explain``) when it does not fit."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(explain(exc, model, what)) from None


def _options_at(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The option names of the section of ``model`` at ``loc`` (``()``: the top level)."""
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
