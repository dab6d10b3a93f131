"""Data generators: every task returns tensors, deterministic from its generators."""

from modlab.tasks.dataset_space import DatasetSpace, DatasetSpaceConfig, feature_patterns, full_rank_probability, make_dataset
from modlab.tasks.random_features import RFProblem, sample_rf_problems

__all__ = ["DatasetSpace", "DatasetSpaceConfig", "RFProblem", "feature_patterns", "full_rank_probability", "make_dataset",
           "sample_rf_problems"]
