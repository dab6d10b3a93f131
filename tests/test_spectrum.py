import numpy as np
import pytest

from modlab.theory import Spectrum


@pytest.mark.parametrize("family", ["power_increment", "equal", "truncated_power"])
def test_head_plus_tail_is_total_and_eigenvalues_sum_to_head(family):
    spectrum = Spectrum(family=family, scale=2.0, omega=1.5)
    p = np.array([0, 1, 5, 40])
    assert np.allclose(spectrum.head_trace(6, p) + spectrum.tail_trace(6, p), 2.0)
    eigs = spectrum.eigenvalues(6, 40)
    assert np.isclose(eigs.sum(), spectrum.head_trace(6, 40))
    assert np.all(np.diff(eigs) <= 1e-15) and np.all(eigs >= 0)


def test_power_increment_tail_matches_closed_form():
    spectrum = Spectrum(scale=1.0, omega=1.2)
    a = 1.2**-5
    assert np.isclose(spectrum.tail_trace(5, 99), 100.0**-a)


def test_higher_dimension_puts_more_power_in_the_tail():
    spectrum = Spectrum()
    tails = spectrum.tail_trace(np.arange(2, 10), 100)
    assert np.all(np.diff(tails) > 0)


def test_equal_family_has_round_omega_power_features():
    spectrum = Spectrum(family="equal", omega=2.0)
    assert spectrum.n_features(5) == 32
    assert spectrum.tail_trace(5, 32) == 0.0
    assert np.isclose(spectrum.tail_trace(5, 16), 0.5)


def test_invalid_fields_raise():
    with pytest.raises(ValueError, match="omega"):
        Spectrum(omega=1.0)
    with pytest.raises(ValueError, match="family"):
        Spectrum(family="cubic")
