import json
import math

import numpy as np
import pytest

from modlab.metrics import Array, Curve, decode, encode, non_finite


def test_every_metric_kind_round_trips_through_json():
    values = {
        "count": 3471,
        "loss": 0.25,
        "curve": Curve([10, 20, 40], [1.0, 0.5, 0.25], "n"),
        "matrix": Array(np.arange(6.0).reshape(2, 3)),
    }
    back = {name: decode(json.loads(json.dumps(encode(v)))) for name, v in values.items()}
    assert back["count"] == 3471 and isinstance(back["count"], int)
    assert back["loss"] == 0.25
    assert back["curve"] == values["curve"] and back["curve"].x_name == "n"
    assert back["matrix"].shape == (2, 3)
    np.testing.assert_array_equal(back["matrix"].numpy(), np.arange(6.0).reshape(2, 3))


def test_a_plain_list_is_a_curve_over_its_index():
    assert decode(encode([0.5, 0.25])) == Curve([0, 1], [0.5, 0.25], "index")
    assert decode([0.5, 0.25]) == Curve([0, 1], [0.5, 0.25], "index")


def test_a_curve_needs_as_many_x_as_y():
    with pytest.raises(ValueError, match="2 x-values but 3 y-values"):
        Curve([1, 2], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_finds_bad_numbers_in_every_kind(bad):
    assert non_finite(bad)
    assert non_finite(Curve([0, 1], [0.0, bad]))
    assert non_finite(Array([[0.0, bad]]))
    assert non_finite([1.0, bad])
    assert not non_finite(Curve([0, 1], [0.0, 1.0])) and not non_finite(3)
