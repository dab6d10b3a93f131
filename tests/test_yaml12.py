import time

import pytest

from modlab.errors import ConfigError
from modlab.yaml12 import MAX_NODES, dump, load, load_json


@pytest.mark.parametrize(
    "text, value",
    [
        ("010", 10),  # YAML 1.1 (PyYAML): 8
        ("1e3", 1000.0),  # PyYAML: the string '1e3'
        ("1:30", "1:30"),  # PyYAML: 90
        ("yes", "yes"),  # PyYAML: True
        ("no", "no"),
        ("true", True),
        ("~", None),
        ("0x1f", 31),
        ("0o17", 15),
        ("2001-12-14", "2001-12-14"),  # PyYAML: a date
        ("-.5", -0.5),
        (".inf", float("inf")),
        ("{a: [1, 2.5, x]}", {"a": [1, 2.5, "x"]}),
    ],
)
def test_values_read_as_yaml_1_2(text, value):
    assert load(text, "v") == value


def test_a_repeated_key_is_refused_with_its_line():
    with pytest.raises(ConfigError, match=r"spec: key 'a' given twice \(line 3"):
        load("a: 1\nb: 2\na: 3\n", "spec")
    with pytest.raises(ConfigError, match="key 'a' given twice"):
        load_json('{"a": 1, "a": 2}', "spec.json")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "2e308"])
def test_a_number_too_large_for_a_float_is_out_of_range(literal):
    with pytest.raises(ConfigError, match=f"the number '{literal}' is out of range"):
        load(literal, "--set n")
    with pytest.raises(ConfigError, match="out of range"):
        load_json(f'{{"n": {literal}}}', "c.json")


def test_a_billion_laughs_spec_is_refused_at_once_in_a_short_line():
    levels = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load("\n".join(levels), "spec")
    assert time.perf_counter() - start < 1.0
    assert f"more than {MAX_NODES} values" in str(err.value) and len(str(err.value)) < 200


def test_small_aliases_are_fine_and_a_self_reference_is_refused():
    assert load("a: &x {b: 1}\nc: *x\n", "spec") == {"a": {"b": 1}, "c": {"b": 1}}
    with pytest.raises(ConfigError, match="contains it"):
        load("&a [*a]", "spec")


def test_syntax_errors_and_deep_nesting_are_one_line():
    with pytest.raises(ConfigError, match=r"spec is not valid YAML: .*\(line 1"):
        load("a: [1, 2", "spec")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load("[" * 100_000, "spec")


def test_dump_quotes_what_yaml_1_2_would_read_otherwise():
    data = {"a": "1e3", "b": "0o17", "c": "yes", "d": 1e3, "e": [1, "010", None, True]}
    assert load(dump(data), "round trip") == data
