"""Data generators: every task returns tensors, deterministic from its generators."""

from modlab.tasks.dataset_space import (
    DatasetSpace,
    DatasetSpaceConfig,
    feature_patterns,
    full_rank_probability,
    make_dataset,
)
from modlab.tasks.random_features import RFProblem, sample_rf_problems
from modlab.tasks.sine import SineModules, SineTask, SineTaskConfig, make_sine_task

__all__ = [
    "DatasetSpace",
    "DatasetSpaceConfig",
    "RFProblem",
    "SineModules",
    "SineTask",
    "SineTaskConfig",
    "feature_patterns",
    "full_rank_probability",
    "make_dataset",
    "make_sine_task",
    "sample_rf_problems",
]
