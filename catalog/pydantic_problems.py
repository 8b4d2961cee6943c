"""Turn pydantic's validation errors into ``(file, line, message)`` problems with a suggested fix.

Example:
    >>> from pydantic import ValidationError
    >>> from catalog.models import Period
    >>> try:
    ...     Period.model_validate({"size": "week", "strat": "2020-01-01"})
    ... except ValidationError as exc:
    ...     translate(exc, Period, "k.yaml", {("strat",): 4})
    [('k.yaml', 4, "unknown key 'strat': did you mean 'start'?")]
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from catalog.checks import Problems
from catalog.yamllines import line_for

__all__ = ["translate"]


def translate(
    exc: ValidationError, model: type[BaseModel], file: str, lines: dict[tuple[str | int, ...], int]
) -> Problems:
    """Turn pydantic's errors into ``(file, line, message)`` with a suggested fix."""
    out: Problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(part) for part in loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(allowed)}"
            out.append((file, line_for(lines, loc), f"unknown key '{dotted}': {hint}"))
        elif kind == "missing":
            parent = ".".join(str(part) for part in loc[:-1])
            where = f" under '{parent}'" if parent else ""
            out.append((file, line_for(lines, loc[:-1]), f"missing required key '{loc[-1]}'{where}: add it"))
        elif kind == "string_pattern_mismatch" and loc == ("id",):
            out.append(
                (
                    file,
                    line_for(lines, loc),
                    f"id {err['input']!r} may use only lowercase letters, digits and dashes, "
                    "e.g. 'pothole-days-to-close'",
                )
            )
        else:
            shown = repr(err.get("input"))
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            message = err["msg"].removeprefix("Value error, ")
            out.append((file, line_for(lines, loc), f"'{dotted}': {message} (got {shown})"))
    return out


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names of the model found by following ``loc`` from ``model``."""
    current: Any = model
    i = 0
    while i < len(loc):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(loc[i]))
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if isinstance(current, _DictOf):  # a mapping of names to models (portals): skip the name
            current = current.model
            i += 1
        i += 1
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X``, ``X | None`` or ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    if origin is dict and len(args) == 2:
        return _DictOf(args[1])
    return None


class _DictOf:
    """Marker while walking: the next location part is a mapping key, then comes ``model``."""

    def __init__(self, model: Any) -> None:
        self.model = model
