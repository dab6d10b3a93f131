import numpy as np
import pytest

from modlab.theory import Spectrum
from modlab.theory.spectrum import _harmonic


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


def _harmonic_by_cumsum(n: np.ndarray, alpha: float) -> np.ndarray:
    """The old implementation (a cumulative sum, right wherever it fitted in memory), kept as the reference."""
    partial = np.concatenate([[0.0], np.cumsum(np.arange(1, int(n.max()) + 1, dtype=float) ** -alpha)])
    return partial[n.astype(int)]


@pytest.mark.parametrize("alpha", [0.3, 0.5, 1.0, 1.2, 1.5, 3.0])
def test_harmonic_numbers_match_the_plain_sum(alpha):
    n = np.array([0, 1, 2, 5, 63, 64, 65, 100, 1000, 12345, 10**5, 10**6])
    assert np.allclose(_harmonic(n, alpha), _harmonic_by_cumsum(n, alpha), rtol=1e-10, atol=0)


def test_harmonic_numbers_far_past_any_cumulative_sum():
    n = np.array([1e9, 1e12])
    assert np.allclose(_harmonic(n, 1.0), np.log(n) + np.euler_gamma + 1 / (2 * n), rtol=1e-14)
    # α < 1: H(n, α) = n^(1−α)/(1−α) + ζ(α) + n^(−α)/2 + O(n^(−α−1)), ζ(0.5) = −1.4603545088095868
    assert np.allclose(_harmonic(n, 0.5), 2 * np.sqrt(n) - 1.4603545088095868 + 0.5 / np.sqrt(n), rtol=1e-13)
    assert np.allclose(_harmonic(n, 2.0), np.pi**2 / 6 - 1 / n, rtol=1e-12)


def test_truncated_power_spectrum_with_a_billion_features():
    spectrum = Spectrum(family="truncated_power", omega=10.0, alpha=0.8)
    assert spectrum.n_features(9) == 1e9
    assert 0 < spectrum.tail_trace(9, 1e6) < spectrum.tail_trace(9, 1e3) < 1
