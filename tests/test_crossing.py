import numpy as np
import pytest

from modlab.theory.crossing import first_crossing


def test_a_power_law_crosses_where_log_log_interpolation_says():
    n = np.array([10.0, 100.0, 1000.0])
    loss = 10.0 / n  # 1, 0.1, 0.01: the target 0.05 lies at n = 200 exactly on this power law
    crossing = first_crossing(n, loss, 0.05)
    assert crossing.censored is None
    assert crossing.value == pytest.approx(200.0)


def test_a_rising_curve_is_interpolated_linearly_in_time():
    t = np.array([0.0, 1.0, 2.0])
    u = np.array([0.0, 0.2, 1.0])
    assert first_crossing(t, u, 0.6, direction="up", log=False).value == pytest.approx(1.5)


def test_censoring_is_stated_on_both_sides():
    n = np.array([10.0, 100.0])
    left = first_crossing(n, np.array([0.01, 0.001]), 0.1)
    right = first_crossing(n, np.array([1.0, 0.5]), 0.1)
    assert (left.censored, left.value, left.describe()) == ("left", 10.0, "≤ 10")
    assert right.censored == "right" and np.isnan(right.value) and right.describe() == "> 100"
