"""The one reader of every sweep spec, config file and ``--set`` value: YAML 1.2 (JSON for ``.json``).

YAML 1.2's core schema reads values as a person would: ``010`` is 10, ``1e3`` is 1000.0, ``1:30``
and ``yes`` are strings, ``true``/``false`` and ``null`` are what they say; dates stay strings. It
refuses what a person did not mean: a key given twice, a number too large for a float (``1e400``),
and aliases that expand a small file into a huge document (a "billion laughs" spec) or into itself.
Every problem is a one-line :class:`~modlab.errors.ConfigError`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modlab.errors import ConfigError, echo

MAX_NODES = 100_000  # values in a document once its aliases are expanded
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(r"^(?:[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))\Z")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)\Z")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z")
_HASHABLE = (str, int, float, bool)


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that modlab refuses (a repeated key, an overflowing number, alias bombs)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe parser with the resolver and constructors of YAML 1.2's core schema."""

    yaml_implicit_resolvers: dict = {}

    def construct_document(self, node: Node) -> Any:
        _expanded_size(node, {}, set())
        return super().construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, _HASHABLE):
                continue  # the base constructor refuses an unhashable key
            if key in seen:
                raise _Refused(None, None, f"key {echo(key)} given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        base = 8 if text.startswith("0o") else 16 if text.startswith("0x") else 10
        return int(text[2:] if base != 10 else text, base)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node)
        if problem := _out_of_range(text):
            raise _Refused(None, None, problem, node.start_mark)
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))


_Loader.add_constructor("tag:yaml.org,2002:bool", lambda loader, node: str(node.value).lower() == "true")
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


def load(text: str, where: str) -> Any:
    """A YAML 1.2 document → Python values, or a one-line ConfigError naming ``where``."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as err:
        raise ConfigError(f"{where}: {_first_line(err)}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{where} is not valid YAML: {_first_line(err)}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None


def load_json(text: str, where: str) -> Any:
    """A JSON document, read with the same rules (no repeated keys, no out-of-range numbers)."""

    def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ConfigError(f"{where} is not valid JSON: key {echo(key)} given twice")
            out[key] = value
        return out

    def number(literal: str) -> float:
        if problem := _out_of_range(literal):
            raise ConfigError(f"{where}: {problem}")
        return float(literal)

    try:
        return json.loads(text, object_pairs_hook=mapping, parse_float=number)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{where} is not valid JSON: {err}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None


def _out_of_range(literal: str) -> str | None:
    """Why a finite-looking number literal cannot be a float (it overflows), or None."""
    if "inf" in literal.lower() or "nan" in literal.lower() or math.isfinite(float(literal)):
        return None
    return f"the number {echo(literal)} is out of range (a float's magnitude is at most about 1.8e308)"


def _expanded_size(node: Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many values ``node`` holds once aliases are expanded; refuses more than MAX_NODES and an
    alias inside itself. ``sizes`` memoises shared (aliased) nodes, so this costs one pass."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_nodes:
        raise _Refused(None, None, "an alias refers to a value that contains it", node.start_mark)
    open_nodes.add(id(node))
    children: list[Node] = []
    if isinstance(node, SequenceNode):
        children = node.value
    elif isinstance(node, MappingNode):
        children = [item for pair in node.value for item in pair]
    size = 1 + sum(_expanded_size(child, sizes, open_nodes) for child in children)
    if size > MAX_NODES:
        raise _Refused(None, None, f"aliases expand it to more than {MAX_NODES} values", node.start_mark)
    open_nodes.discard(id(node))
    sizes[id(node)] = size
    return size


def _first_line(err: yaml.YAMLError) -> str:
    """The problem and its position, on one line."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper that also quotes strings YAML 1.2 would read as something else
    (``1e3``, ``0o17``), so what :func:`dump` writes :func:`load` reads back unchanged."""


for _tag, _pattern, _first in (
    ("bool", _BOOL, list("tTfF")),
    ("null", _NULL, ["~", "n", "N", ""]),
    ("int", _INT, list("-+0123456789")),
    ("float", _FLOAT, list("-+0123456789.")),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", _pattern, _first)
    _Dumper.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", _pattern, _first)


def dump(data: Any) -> str:
    """Plain data → YAML text (sorted keys) that :func:`load` reads back as the same data."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True)
