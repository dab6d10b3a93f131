import math

import pytest
import torch

from modlab.errors import ConfigError
from modlab.tasks.dataset_space import DatasetSpaceConfig, feature_patterns, full_rank_probability, make_dataset


def test_default_point_shapes_and_blocks():
    data = make_dataset(DatasetSpaceConfig())
    assert data.x.shape == (27, 8) and data.y.shape == (9, 8)
    assert torch.equal(data.x[:3], feature_patterns(3))
    assert torch.equal(data.x[:, 0][:3], -torch.ones(3, dtype=torch.float64))  # binary counting order: all −1 first
    for block in range(3):
        assert torch.equal(data.x[3 + 8 * block : 11 + 8 * block], torch.eye(8, dtype=torch.float64))
    assert torch.equal(data.y[0], data.x[0]) and torch.equal(data.y[1:], torch.eye(8, dtype=torch.float64))
    assert data.omega_x.tolist() == [0, 1, 2] and data.gamma_x.tolist() == list(range(3, 27))
    assert data.omega_y.tolist() == [0] and data.gamma_y.tolist() == list(range(1, 9))
    assert data.train.tolist() == list(range(8)) and data.test.numel() == 0


def test_identity_blocks_scale_with_r():
    data = make_dataset(DatasetSpaceConfig(r=2.5, k1=1, k2=2))
    assert torch.equal(data.x[3:], 2.5 * torch.eye(8, dtype=torch.float64))
    assert torch.equal(data.y[1:9], data.y[9:]) and data.y[1, 0] == 2.5


def test_seeded_output_rows_are_a_subset_of_the_systematic_inputs():
    cfg = DatasetSpaceConfig(n1=4, n2=2, row_seed=3)
    data = make_dataset(cfg)
    rows = data.output_rows.tolist()
    assert len(set(rows)) == 2 and torch.equal(data.y[:2], data.x[rows])
    picks = {tuple(make_dataset(cfg.replace(row_seed=s)).output_rows.tolist()) for s in range(10)}
    assert len(picks) > 1
    assert make_dataset(DatasetSpaceConfig(n1=4, n2=2)).output_rows.tolist() == [0, 1]


def test_held_out_split_first_and_seeded():
    data = make_dataset(DatasetSpaceConfig(n_train=3))
    assert data.train.tolist() == [0, 1, 2] and data.test.tolist() == [3, 4, 5, 6, 7]
    seeded = make_dataset(DatasetSpaceConfig(n_train=3, split_seed=1))
    assert sorted(seeded.train.tolist() + seeded.test.tolist()) == list(range(8))
    assert len(seeded.train) == 3


@pytest.mark.parametrize(
    "fields, shape",
    [
        ({"k1": 0}, ((3, 8), (9, 8))),
        ({"k2": 0}, ((27, 8), (1, 8))),
        ({"n2": 0}, ((27, 8), (8, 8))),
        ({"n1": 0, "n2": 0}, ((3, 1), (1, 1))),
        ({"n1": 0, "n2": 0, "n_features": 3}, ((24, 8), (8, 8))),
    ],
)
def test_special_cases_build(fields, shape):
    data = make_dataset(DatasetSpaceConfig(**fields))
    assert (tuple(data.x.shape), tuple(data.y.shape)) == shape
    assert len(data.omega_x) + len(data.gamma_x) == data.x.shape[0]
    assert len(data.omega_y) + len(data.gamma_y) == data.y.shape[0]


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"n2": 4}, "n2 = 4"),
        ({"n1": -1}, "n1"),
        ({"k1": -2}, "k1"),
        ({"r": -0.5}, "'r'"),
        ({"n1": 0, "n2": 0, "k1": 0}, "input is empty"),
        ({"n2": 0, "k2": 0}, "output is empty"),
        ({"n_train": 9}, "n_train = 9"),
        ({"n1": 11, "n2": 0}, "n_features = 11"),
        ({"n1": 3, "n_features": 2}, "n_features = 2"),
        ({"bogus": 1}, "unknown field 'bogus'"),
    ],
)
def test_bad_points_are_one_line_config_errors(fields, words):
    with pytest.raises(ConfigError) as err:
        DatasetSpaceConfig.parse(fields)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_full_rank_probability_exact_counts_and_monte_carlo():
    out = full_rank_probability(3, [3, 4, 5, 7], draws=4000, seed=0)
    # n1 = 3: of the C(8,3) = 56 triples, 32 are independent; of the 70 quadruples, 64.
    assert out["rank_exact"][:2] == pytest.approx([32 / 56, 64 / 70])
    assert out["rank_exact"][2:] == [1.0, 1.0]
    assert out["rank"] == pytest.approx(out["rank_exact"], abs=0.03)
    assert out["paper_det"] == out["rank"]  # same draws, and the tests agree for n1 = 3


def test_paper_determinant_test_disagrees_with_rank_for_n1_4():
    out = full_rank_probability(4, [4], draws=4000, seed=1)
    assert out["rank"][0] == pytest.approx(out["rank_exact"][0], abs=0.03)
    assert out["rank"][0] - out["paper_det"][0] > 0.1


def test_full_rank_probability_rejects_bad_sample_sizes():
    with pytest.raises(ValueError, match="n_samples entry 9"):
        full_rank_probability(3, [9])
    assert math.isnan(full_rank_probability(8, [128], draws=10, exact=True)["rank_exact"][0])
