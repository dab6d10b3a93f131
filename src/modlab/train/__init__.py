"""Training many small networks at once: the ensemble trainer, mini-batch schedules, stacked
optimisers and device selection. Imported by the experiments; imports none of them."""

from modlab.train.device import resolve_device
from modlab.train.ensemble import EnsembleResult, TrainSettings, ensemble_forward, pad_members, train_ensemble

__all__ = ["EnsembleResult", "TrainSettings", "ensemble_forward", "pad_members", "resolve_device", "train_ensemble"]
