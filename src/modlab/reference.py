"""The config reference: every field of an experiment's config with its dotted name, type, default,
allowed values and description, read from the config classes themselves. ``modlab config NAME``
prints it; ``docs/config.md`` is :func:`markdown` of every experiment."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel

from modlab.experiments import EXPERIMENTS, get_experiment
from modlab.table import flatten

_BOUNDS = {
    annotated_types.Ge: ("≥", "ge"),
    annotated_types.Gt: (">", "gt"),
    annotated_types.Le: ("≤", "le"),
    annotated_types.Lt: ("<", "lt"),
}


@dataclass(frozen=True)
class FieldInfo:
    """One settable field: ``name`` is dotted (``train.lr``)."""

    name: str
    type: str
    default: Any
    allowed: str
    description: str


def fields_of(experiment: str) -> list[FieldInfo]:
    """Every leaf field of the experiment's config, nested blocks flattened, in declaration order.
    Defaults are the experiment's own (a nested block's default may differ from its class's)."""
    config_cls = get_experiment(experiment).config
    defaults = flatten(config_cls().to_dict())
    return [
        FieldInfo(name, _type_name(annotation), defaults.get(name), _allowed(annotation, metadata), description)
        for name, annotation, metadata, description in _walk(config_cls, "")
    ]


def _walk(model: Any, prefix: str, block: str = "") -> list[tuple[str, Any, list, str]]:
    """(dotted name, annotation, constraints, description) of every leaf of a pydantic model or a
    dataclass; fields holding a model or a dataclass are walked into. A leaf without a description
    of its own (a plain dataclass's) is described by its block's: ``"the spectrum: omega"``."""
    out = []
    for name, annotation, metadata, description in _fields(model):
        if _is_block(annotation):
            out += _walk(annotation, f"{prefix}{name}.", description)
        else:
            out.append((prefix + name, annotation, metadata, description or (block and f"{block}: {name}")))
    return out


def _fields(model: Any) -> list[tuple[str, Any, list, str]]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [(n, f.annotation, f.metadata, f.description or "") for n, f in model.model_fields.items()]
    hints = typing.get_type_hints(model)
    return [(f.name, hints[f.name], [], "") for f in dataclasses.fields(model)]


def _is_block(annotation: Any) -> bool:
    return isinstance(annotation, type) and (issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation))


def _type_name(annotation: Any) -> str:
    """``int``, ``float | None``, ``tuple[int, ...]``, ``str`` for a choice of strings …"""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " | ".join(dict.fromkeys(type(v).__name__ for v in typing.get_args(annotation)))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    if origin is not None:
        return str(annotation).replace("typing.", "")
    return getattr(annotation, "__name__", str(annotation))


def _allowed(annotation: Any, metadata: list) -> str:
    """The choices of a Literal, or the bounds of a constrained number (``> 0, < 1``)."""
    for arg in [annotation, *typing.get_args(annotation)]:
        if typing.get_origin(arg) is Literal:
            return ", ".join(str(v) for v in typing.get_args(arg))
    bounds = []
    for item in metadata:
        for kind, (sign, attribute) in _BOUNDS.items():
            if isinstance(item, kind):
                bounds.append(f"{sign} {getattr(item, attribute)}")
    return ", ".join(bounds)


def text(experiment: str) -> str:
    """The reference of one experiment as aligned plain-text columns."""
    rows = [("field", "type", "default", "allowed", "description")]
    rows += [(f.name, f.type, _show(f.default), f.allowed, f.description) for f in fields_of(experiment)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] for row in rows]
    return f"{experiment}: {get_experiment(experiment).description}\n" + "\n".join(line.rstrip() for line in lines)


def markdown() -> str:
    """``docs/config.md``: one table per experiment modlab defines."""
    parts = [
        "# Config reference",
        "",
        "Every field of every experiment, generated from the config classes by",
        "`python -m modlab.reference > docs/config.md` (a test checks it is current). Set a field with",
        "`--set NAME=VALUE` (dotted names for nested blocks), in a `--config` file, or in a sweep spec's",
        "`base` and `axes`; `modlab config EXPERIMENT` prints the same table.",
    ]
    for name in builtin_experiments():
        parts += ["", f"## `{name}`", "", get_experiment(name).description, ""]
        parts += ["| field | type | default | allowed | description |", "|---|---|---|---|---|"]
        parts += [_markdown_row(f) for f in fields_of(name)]
    return "\n".join(parts) + "\n"


def builtin_experiments() -> list[str]:
    """The names of the experiments modlab itself defines (not those a user registered)."""
    return sorted(name for name, exp in EXPERIMENTS.items() if exp.config.__module__.startswith("modlab."))


def _markdown_row(field: FieldInfo) -> str:
    cells = [f"`{field.name}`", field.type, f"`{_show(field.default)}`", field.allowed, field.description]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _show(value: Any) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


if __name__ == "__main__":
    print(markdown(), end="")
