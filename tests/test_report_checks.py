import math
from types import SimpleNamespace

import pytest

from modlab.report.checks import (
    DOES_NOT,
    FAIL,
    MISSING,
    NO_DATA,
    PARTLY,
    PASS,
    REPRODUCES,
    UNDETERMINED,
    Check,
    Difference,
    GapChange,
    GrowthPerStep,
    MaxAbsDifference,
    MissingNumber,
    Ratio,
    Value,
    evaluate,
    fmt,
    measure,
    number,
    verdict,
)

FIGURES = {
    "fig": {
        "summary": {"error": 0.01},
        "old_error": 0.5,
        "curve": {"m": [2, 4, 8], "n": [100, 400, None]},
        "pair": {"a": [0.1, 0.2], "b": [0.1, 0.5], "short": [0.1]},
    }
}


def test_a_number_is_the_first_of_its_paths_present():
    assert number("fig", "e", ("summary", "error"), "old_error").read(FIGURES) == 0.01
    assert number("fig", "e", ("summary", "gone"), "old_error").read(FIGURES) == 0.5
    assert number("fig", "n", ("curve", "n", 1)).read(FIGURES) == 400
    assert number("fig", "n", ("curve", "n", -2)).read(FIGURES) == 400


def test_a_number_can_be_picked_by_its_x_value():
    assert number("fig", "n at m=4", ("curve", "n"), at=("m", 4)).read(FIGURES) == 400
    with pytest.raises(MissingNumber, match="m = 9 is not on this preset's grid"):
        number("fig", "n at m=9", ("curve", "n"), at=("m", 9)).read(FIGURES)


def test_a_missing_number_says_which_keys_were_looked_for():
    with pytest.raises(MissingNumber, match=r"fig: no key summary › gone or other\[3\]"):
        number("fig", "x", ("summary", "gone"), ("other", 3)).read(FIGURES)
    with pytest.raises(MissingNumber, match="figure nope was not run"):
        number("nope", "x", "a").read(FIGURES)


def test_a_null_is_missing_unless_it_means_never_reached():
    with pytest.raises(MissingNumber, match="is null"):
        number("fig", "n", ("curve", "n", -1)).read(FIGURES)
    assert number("fig", "n", ("curve", "n", -1), unreached=True).read(FIGURES) == math.inf


def _n(end, unreached=True):
    return number("fig", f"n[{end}]", ("curve", "n", end), unreached=unreached)


def _m(end):
    return number("fig", f"m[{end}]", ("curve", "m", end))


def _pair(key):
    return number("fig", key, ("pair", key))


def test_quantities_compute_what_their_formula_says():
    assert measure(Ratio(_n(1), _n(0)), FIGURES).value == 4
    assert measure(Difference(_n(1), _n(0)), FIGURES).value == 300
    assert measure(GrowthPerStep("n growth", _n(1), _n(0), _m(1), _m(0)), FIGURES).value == pytest.approx(2.0)
    assert measure(GrowthPerStep("n growth", _n(-1), _n(0), _m(-1), _m(0)), FIGURES).value == math.inf
    assert measure(GapChange(_n(1), _n(0), _m(1), _m(0)), FIGURES).value == (400 - 100) - (4 - 2)
    assert measure(MaxAbsDifference(_pair("a"), _pair("b")), FIGURES).value == pytest.approx(0.3)
    assert "same length" in measure(MaxAbsDifference(_pair("a"), _pair("short")), FIGURES).problem
    assert Ratio(_n(1), _n(0)).formula() == "n[1] / n[0]"


def test_two_never_reached_values_cannot_be_compared():
    measured = measure(Ratio(_n(-1), _n(-1)), FIGURES)
    assert math.isnan(measured.value)
    assert Check(Ratio(_n(-1), _n(-1)), at_most=1).judge(measured) == UNDETERMINED


def test_a_check_states_its_rule_and_judges_against_it():
    error = Value(number("fig", "error", ("summary", "error")))
    assert Check(error, at_most=0.05).rule() == "≤ 0.05"
    assert Check(error, at_least=-0.02, at_most=0.02).rule() == "between −0.02 and 0.02"
    statuses = [o.status for o in evaluate([Check(error, at_most=0.05), Check(error, at_least=0.05)], FIGURES)]
    assert statuses == [PASS, FAIL]
    missing = evaluate([Check(Value(number("fig", "x", "gone")), at_most=1)], FIGURES)[0]
    assert missing.status == MISSING and "no key gone" in missing.measured.problem
    with pytest.raises(ValueError, match="give at_least or at_most"):
        Check(error)


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([PASS, PASS], REPRODUCES),
        ([PASS, FAIL], PARTLY),
        ([PASS, MISSING], PARTLY),
        ([FAIL, FAIL], DOES_NOT),
        ([FAIL, MISSING], DOES_NOT),
        ([MISSING, MISSING], NO_DATA),
        ([UNDETERMINED], NO_DATA),
    ],
)
def test_verdict_rules(statuses, expected):
    assert verdict([SimpleNamespace(status=s) for s in statuses]) == expected


def test_numbers_print_readably():
    assert fmt(12345.6) == "12,346"
    assert fmt(0.123456) == "0.123"
    assert fmt(-0.02) == "−0.02"
    assert fmt(math.inf) == "not reached"
    assert fmt(None) == "—"
