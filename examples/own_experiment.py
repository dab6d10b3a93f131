"""Your own experiment in modlab: a task, a model, a registered experiment, a sweep, a store, a plot.

    python examples/own_experiment.py [OUT_DIR]          # sweep, table and plot in OUT_DIR

The same experiment from the command line, on any backend (every worker imports the file too):

    modlab sweep SPEC --import examples/own_experiment.py --workers 2
"""

import sys
from pathlib import Path

import torch
from pydantic import Field

import modlab


class TeacherConfig(modlab.Config):
    """A student MLP learns a random tanh teacher from ``n_train`` samples."""

    n_train: int = Field(64, ge=1, description="training samples")
    hidden: int = Field(16, ge=1, description="hidden width of the student")
    steps: int = Field(200, ge=1, description="full-batch Adam steps")
    seed: int = Field(0, ge=0, description="draws the teacher, the data and the student")


def make_task(n_train: int, gen: torch.Generator):
    """The task: inputs x ~ N(0, I_8), targets tanh(x·w) for a random teacher w; 1000 test points."""
    teacher = torch.randn(8, 1, generator=gen)
    x_train, x_test = torch.randn(n_train, 8, generator=gen), torch.randn(1000, 8, generator=gen)
    return x_train, torch.tanh(x_train @ teacher), x_test, torch.tanh(x_test @ teacher)


def run_batch(configs, device):
    """One metrics dict per config: the test loss (a number) and the training loss (a curve)."""
    results = []
    for cfg in configs:
        x, y, x_test, y_test = make_task(cfg.n_train, torch.Generator().manual_seed(cfg.seed))
        torch.manual_seed(cfg.seed)
        model = torch.nn.Sequential(torch.nn.Linear(8, cfg.hidden), torch.nn.Tanh(), torch.nn.Linear(cfg.hidden, 1))
        optimiser, losses = torch.optim.Adam(model.parameters(), lr=1e-2), []
        for _ in range(cfg.steps):
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimiser.zero_grad(), loss.backward(), optimiser.step()
            losses.append(loss.item())
        with torch.no_grad():
            test_loss = torch.nn.functional.mse_loss(model(x_test), y_test).item()
        results.append({"test_loss": test_loss, "train_loss": modlab.Curve(range(cfg.steps), losses, "step")})
    return results


EXPERIMENT = modlab.register(modlab.Experiment("teacher", TeacherConfig, run_batch, "a student MLP fits a teacher"))

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "results/own_experiment")
    spec = modlab.SweepSpec(experiment="teacher", axes={"n_train": [16, 64, 256], "hidden": [4, 32], "seed": [0, 1]})
    with modlab.Store.create(out / "modlab.sqlite") as store:
        modlab.run_sweep(spec, store, progress=False)
        runs = store.records(spec.keys(), status="done")
    print(modlab.results_table(runs, agg="seeds").to_string(index=False))
    figure, numbers = modlab.plot_table(runs, "n_train", "test_loss", hue="hidden", logx=True, logy=True)
    print(*modlab.save_plot(figure, numbers, out / "teacher.png"), sep="\n")
