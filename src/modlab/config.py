"""Typed configs: validated on creation, round-trip to YAML/JSON, hashed canonically.

Every experiment's config subclasses :class:`Config` (a frozen pydantic model that forbids unknown
keys). A bad value fails before any work with one line naming the field, the value and what is
allowed, as a :class:`~modlab.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modlab import yaml12
from modlab.errors import ECHO_LIMIT, ConfigError, clip, echo

C = TypeVar("C", bound="Config")
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a signed 64-bit seed


class Config(BaseModel):
    """Base of every modlab config: frozen, strict about unknown keys, YAML/JSON round-trip."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @classmethod
    def parse(cls: type[C], data: Any, where: str = "config") -> C:
        """Validate ``data`` (a mapping) into this config, or raise a one-line ConfigError."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ConfigError(describe_validation_error(err, cls, where)) from None

    def to_dict(self) -> dict[str, Any]:
        """All fields, defaults included, as plain JSON types."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_yaml(self) -> str:
        return yaml12.dump(self.to_dict())

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        return cls.parse(json.loads(text))

    @classmethod
    def from_yaml(cls: type[C], text: str) -> C:
        return cls.parse(yaml12.load(text, cls.__name__))

    def replace(self: C, **changes: Any) -> C:
        """A validated copy with some fields changed."""
        return type(self).parse({**self.to_dict(), **changes})


def describe_validation_error(err: ValidationError, cls: type[BaseModel], where: str) -> str:
    """One line: every failing field with its value (cut to a few hundred characters) and what is
    allowed; an unknown field with the closest allowed name."""
    parts = []
    for item in err.errors(include_url=False):
        field = "'" + clip(".".join(str(x) for x in item["loc"]) or "(config)") + "'"
        if item["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            allowed = _fields_at(cls, item["loc"][:-1])
            hint = did_you_mean(str(item["loc"][-1]), allowed)
            parts.append(f"unknown field {field} ({hint}allowed: {', '.join(allowed)})")
        elif item["type"] == "value_error":
            parts.append(clip(item["msg"].removeprefix("Value error, "), 2 * ECHO_LIMIT))
        else:
            parts.append(f"field {field} = {echo(item.get('input'))}: {item['msg']}")
    return f"{where}: " + "; ".join(parts)


def did_you_mean(name: str, choices: list[str]) -> str:
    """``"did you mean 'train'? "`` for the choice closest to a mistyped ``name``, else ``""``."""
    close = difflib.get_close_matches(name[:100], choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _fields_at(cls: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (possibly nested) model that ``loc`` points into."""
    model: Any = cls
    for key in loc:
        field = _field_map(model).get(key)
        if field is None:
            return []
        model = field
    return sorted(_field_map(model))


def _field_map(model: Any) -> dict[str, Any]:
    """Field name → annotation of a pydantic model or a dataclass (empty for anything else)."""
    if hasattr(model, "model_fields"):
        return {name: f.annotation for name, f in model.model_fields.items()}
    if dataclasses.is_dataclass(model):
        return {f.name: f.type for f in dataclasses.fields(model)}
    return {}


def canonical_json(data: Any) -> str:
    """Sorted-key compact JSON: the form that config hashes are computed from."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_key(experiment: str, config: Config) -> str:
    """The store key of a run: a hash of the experiment name and the full config."""
    payload = canonical_json({"experiment": experiment, "config": config.to_dict()})
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def read_mapping_file(path: str | Path, what: str) -> dict[str, Any]:
    """Read a YAML 1.2 or JSON file holding one mapping (:mod:`modlab.yaml12`), with a one-line error
    if it cannot. A ``.json`` file is read as JSON (YAML refuses some characters that JSON strings
    may hold)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{what} file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"{what} file {path} is a folder, not a file")
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise ConfigError(f"{what} file {path} is not UTF-8 text: {err.reason}") from None
    where = f"{what} file {path}"
    data = yaml12.load_json(text, where) if path.suffix.lower() == ".json" else yaml12.load(text, where)
    if not isinstance(data, dict):
        raise ConfigError(f"{what} file {path} must hold a mapping, got {type(data).__name__}")
    return data


def check_finite(fields: dict[str, Any], where: str, prefix: str = "") -> None:
    """Configs are hashed as JSON, which has no NaN or infinity: refuse them with a clear line."""
    for name, value in fields.items():
        if isinstance(value, dict):
            check_finite(value, where, f"{prefix}{name}.")
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{where}: field {echo(prefix + name)} = {echo(value)}: must be a finite number")


def deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def nested_defaults(config_cls: type[Config]) -> dict[str, Any]:
    """Where the experiment's default of a nested-config field (``train``, ``kernel_rule`` …) differs
    from that class's own defaults, the differing values; so setting one nested field keeps the
    experiment's other choices in that block. Shape: field name → {sub-field: value}."""
    out = {}
    for name, field in config_cls.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if not isinstance(default, Config):
            continue
        try:
            plain = type(default)().to_dict()
        except ValidationError:
            plain = {}
        changed = {key: value for key, value in default.to_dict().items() if plain.get(key, object()) != value}
        if changed:
            out[name] = changed
    return out


def merge_nested(defaults: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """``point`` with each nested block it sets laid over that block's default."""
    merged = dict(point)
    for name, default in defaults.items():
        if isinstance(point.get(name), dict):
            merged[name] = _overlay(default, point[name])
    return merged


def _overlay(default: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over ``default``, recursively where both hold mappings (neither is changed)."""
    out = dict(default)
    for name, value in given.items():
        below = default.get(name)
        out[name] = _overlay(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return out


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    if not all(dotted.split(".")):
        raise ConfigError(f"field name {echo(dotted)}: expected names joined by dots, like 'train.lr'")
    *parents, leaf = dotted.split(".")
    for name in parents:
        child = target.setdefault(name, {})
        if not isinstance(child, dict):
            raise ConfigError(f"field {echo(dotted)} goes inside {echo(name)}, which is not a mapping")
        target = child
    target[leaf] = value
