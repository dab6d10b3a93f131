"""Data generators: every task returns tensors, deterministic from its generators."""

from modlab.tasks.random_features import RFProblem, sample_rf_problems
from modlab.tasks.sine import SineModules, SineTask, SineTaskConfig, make_sine_task

__all__ = ["RFProblem", "SineModules", "SineTask", "SineTaskConfig", "make_sine_task", "sample_rf_problems"]
