"""Data generators: every task returns tensors, deterministic from its generators."""

from modlab.tasks.random_features import RFProblem, sample_rf_problems

__all__ = ["RFProblem", "sample_rf_problems"]
