"""What the report says around each figure: a caption, the theory-vs-simulation errors, and the
papers' own numbers beside ours.

The papers' numbers are those they state or that can be read off their figures (marked so); where
our set-up differs from theirs (a spectrum, a network size, a data set) the note says so, and the
comparison is of shape, not of value.
"""

from __future__ import annotations

from dataclasses import dataclass

from modlab.report.checks import MaxAbsDifference, Number, Quantity, RelativeGap, Value, number


@dataclass(frozen=True)
class PaperNumber:
    """One of a paper's numbers (``paper``, as text) beside ours (``ours``, read from a figure)."""

    quantity: str
    paper: str
    ours: Number
    note: str = ""


@dataclass(frozen=True)
class FigureNote:
    caption: str
    errors: tuple[Quantity, ...] = ()
    paper: tuple[PaperNumber, ...] = ()


def _error(figure: str, label: str, key: str) -> Quantity:
    return Value(number(figure, label, ("summary", key), key))


READ_OFF = "read off the paper's figure"
SHAPE = "our spectrum and sizes differ from the paper's: compare the trend, not the value"


def _sample_row(method: str, paper: str, m: int) -> PaperNumber:
    return PaperNumber(
        f"{method}: samples to target, m = {m}",
        paper,
        number(
            "a-sample-complexity",
            f"{method} n at m = {m}",
            ("sample_complexity", method, "id", "n"),
            ("sample_complexity", method, "id", "n_mean"),
            at=("m", m),
            unreached=True,
        ),
        f"{READ_OFF}; the paper's loss threshold and networks differ from ours",
    )


def _table_row(method: str, key: str, paper: float) -> PaperNumber:
    split = "unseen" if key == "unseen_accuracy" else "unseen, with noise"
    return PaperNumber(
        f"{method.replace('_', ' ')}: accuracy ({split})",
        f"{paper:.4f}",
        number("a-ccifar", f"{method} {key}", (key, method)),
        "paper: CIFAR-10, one epoch; ours: the data named in the section",
    )


def _vs_k_row(method: str, k: int, paper: float) -> PaperNumber:
    return PaperNumber(
        f"{method.replace('_', ' ')}: unseen accuracy, k = {k}",
        f"{paper:.3f}",
        number("a-ccifar", f"{method} at k = {k}", ("accuracy_vs_k", method, "mean"), at=("n_slots", k)),
        READ_OFF,
    )


def _mode_row(figure: str, mode: str, paper: str, formula: str) -> PaperNumber:
    return PaperNumber(
        f"fixed point of {mode.split('_')[-1].replace('pi', 'π')} ({formula})",
        paper,
        number(figure, f"{mode} final strength", ("modes", mode, "sim_mean", -1)),
        "the paper's closed form at (n1 n2 k1 k2 r) = (3 1 3 1 1); ours: the simulated strength after training",
    )


def _u0_row(figure: str, mode: str, paper: str) -> PaperNumber:
    return PaperNumber(
        "initial mode strength u0 of the theory curves",
        paper,
        number(figure, f"{mode} effective u0", ("modes", mode, "u0_mean")),
        "the paper set u0 by hand; ours is fitted per seed to the simulated half-rise time",
    )


def _dynamics_errors(figure: str) -> tuple[Quantity, ...]:
    return (_error(figure, "largest |u_sim − u_theory| / fixed point, over modes and epochs", "max_rel_error"),)


NOTES: dict[str, FigureNote] = {
    "a-theory": FigureNote(
        "The linear random-features model: test loss against the number of samples n (double descent at n = p), "
        "the number of parameters p, the task dimension m (monolithic loss rises, modular stays flat) and the "
        "task's number of modules k at fixed m (flat), and the samples needed to reach a target loss against m. "
        "Lines: closed forms; markers: simulation (mean ± s.e. over seeds; hollow where only an asymptotic "
        "formula exists).",
        (
            _error("a-theory", "largest relative error, exact-theory points", "max_rel_error"),
            _error("a-theory", "largest relative error, asymptotic points", "max_rel_error_asymptotic"),
        ),
        (
            PaperNumber(
                "monolithic test loss, smallest m",
                "≈ 0.6 (m = 2)",
                number("a-theory", "theory loss at smallest m", ("panels", "loss_vs_m_monolithic", "theory_test", 0)),
                f"{READ_OFF}; {SHAPE}",
            ),
            PaperNumber(
                "monolithic test loss, largest m",
                "≈ 2.85 (m = 9)",
                number("a-theory", "theory loss at largest m", ("panels", "loss_vs_m_monolithic", "theory_test", -1)),
                f"{READ_OFF}; {SHAPE}",
            ),
            PaperNumber(
                "test loss vs the task's number of modules k",
                "flat, ≈ 1.85",
                number("a-theory", "simulated loss at largest k", ("panels", "loss_vs_k", "mean", -1)),
                f"{READ_OFF}; flat here too by construction: the monolithic spectrum depends on m only",
            ),
            PaperNumber(
                "monolithic samples to target, m = 9",
                "≈ 3 × 10⁵ (m = 9), from ≈ 10² at m = 2",
                number(
                    "a-theory",
                    "theory n at m = 9",
                    ("sample_complexity", "monolithic", "theory_n"),
                    at=("m", 9),
                ),
                f"{READ_OFF}; {SHAPE}",
            ),
        ),
    ),
    "a-sine-loss": FigureNote(
        "The modular sine-wave task: test loss (test MSE / variance of the target) against the number of training "
        "samples for a monolithic network, a modular network given the true projections and one learning them "
        "from a random start. Top: the paper's random layout, in distribution and under a scale shift; bottom: "
        "modules correlated during training, tested without the correlation (a combinatorial shift). Mean ± s.e. "
        "over task draws and network seeds.",
    ),
    "a-sample-complexity": FigureNote(
        "Samples needed to reach a target test loss against the task dimension m on the sine task, in and out of "
        "distribution: monolithic, modular by plain gradient descent, a mixture of experts, modular with projections "
        "found first by the kernel rule (joint, and the paper's per-module Algorithm 1) and, as a reference, modular "
        "given the true projections. Also: test loss against n at the largest m, from which the samples are read.",
        (),
        (
            _sample_row("kernel rule (per-module, Alg. 1)", "≈ 460", 2),
            _sample_row("kernel rule (per-module, Alg. 1)", "≈ 14,000", 9),
            _sample_row("monolithic", "≈ 2,200", 2),
            _sample_row("monolithic", "≈ 11,500", 9),
            _sample_row("modular, plain GD", "≈ 7,500", 2),
            _sample_row("modular, plain GD", "≈ 80,000", 9),
        ),
    ),
    "a-projections": FigureNote(
        "Did the modules find the task's true projections? Overlap (squared cosine) between each true module's "
        "direction and the learned ones after training, for plain gradient descent and the kernel rule's "
        "variants, and the mean overlap along the projection search and then along training (the paper plots a "
        "similarity score against iteration).",
    ),
    "a-ccifar": FigureNote(
        "Compositional images: k images side by side, one label per image; accuracy on class combinations never "
        "seen in training, for monolithic, modular and modular + kernel rule networks. Panels: accuracy on seen "
        "and unseen combinations and under input noise; unseen accuracy against k, against the number of training "
        "composites and against training epochs; each module's share of input energy per image (does a module "
        "read one image?). Without the CIFAR-10 files the figure runs on the offline digits stand-in.",
        (),
        (
            *(
                _table_row(method, key, value)
                for method, values in (
                    ("monolithic", (0.4256, 0.3947)),
                    ("modular", (0.4526, 0.4307)),
                    ("kernel_rule", (0.4990, 0.4695)),
                )
                for key, value in zip(("unseen_accuracy", "noisy_accuracy"), values)
            ),
            *(
                _vs_k_row(method, k, value)
                for method, values in (
                    ("monolithic", (0.529, 0.390)),
                    ("modular", (0.535, 0.433)),
                    ("kernel_rule", (0.552, 0.482)),
                )
                for k, value in zip((1, 8), values)
            ),
        ),
    ),
    "a-module-mismatch": FigureNote(
        "Beyond the paper (a question of its reviewers): what if the network has a different number of modules "
        "than the task? Test loss in and out of distribution and the overlap with the true projections against "
        "the network's number of modules, for plain gradient descent and both kernel-rule variants.",
    ),
    "a-compute-matched": FigureNote(
        "Beyond the paper (a question of its reviewers): test loss against total training compute, with the "
        "kernel rule's projection search counted, so a kernel-rule curve starts at its search's cost.",
    ),
    "b-dense": FigureNote(
        "The dense two-layer linear network on the default data set: the strength of each learning mode over "
        "epochs (simulation solid, closed form dashed), the four quadrant norms of the network's map, and the "
        "training loss. The systematic outputs keep a non-zero weight on the non-systematic inputs.",
        _dynamics_errors("b-dense"),
        (
            PaperNumber(
                "systematic share of the systematic outputs, P/(k1 r² + P)",
                "8/11 ≈ 0.727",
                number("b-dense", "dense systematicity", ("summary", "systematicity"), "systematicity"),
                "the paper's closed form; ours: the trained network's ‖W[Ωy,Ωx]‖² / (‖W[Ωy,Ωx]‖² + ‖W[Ωy,Γx]‖²)",
            ),
            _mode_row("b-dense", "dense_pi1", "√(9/11) ≈ 0.905", "√((k2 r² + P)/(k1 r² + P))"),
            _mode_row("b-dense", "dense_pi2", "√(1/11) ≈ 0.302", "√(k2 r²/(k1 r² + P))"),
            _mode_row("b-dense", "dense_pi3", "√(1/3) ≈ 0.577", "√(k2/k1)"),
            _u0_row("b-dense", "dense_pi1", "7 × 10⁻⁷ and 8 × 10⁻⁷"),
        ),
    ),
    "b-split": FigureNote(
        "Two modules split by output (one for the systematic outputs, one for the rest), each seeing the whole "
        "input: mode strengths, quadrant norms and loss, simulation against the closed form. Splitting the "
        "outputs removes their coupling but the systematic module still reads the non-systematic inputs.",
        _dynamics_errors("b-split"),
    ),
    "b-segregated": FigureNote(
        "Modules segregated by input as well as output: the systematic module sees only the systematic inputs, "
        "so its map is fully systematic (‖W[Ωy,Γx]‖ stays 0). Mode strengths, quadrant norms and loss against "
        "the closed form.",
        _dynamics_errors("b-segregated"),
        (
            PaperNumber(
                "systematicity of the segregated network",
                "1 (fully systematic)",
                number("b-segregated", "segregated systematicity", ("summary", "systematicity"), "systematicity"),
            ),
        ),
    ),
    "b-shallow": FigureNote(
        "A one-layer linear network: its modes rise exponentially from the start, without the plateau of the "
        "two-layer network; simulation against the closed form.",
        _dynamics_errors("b-shallow"),
    ),
    "b-rules": FigureNote(
        "Quadrant norms of the dense network under gradient descent and the four other learning rules of the "
        "paper's appendix, each with the paper's settings; dashed: the gradient-flow fixed point (and, for "
        "gradient descent, the full closed-form curves).",
        (
            Value(
                number(
                    "b-rules",
                    "gradient descent: largest relative error of the modes",
                    ("summary", "max_rel_error_gradient"),
                    "max_rel_error",
                )
            ),
        ),
    ),
    "b-heldout": FigureNote(
        "The motivating example: a dense linear network trained on 3 of the 8 combinations of three binary "
        "features and tested on the other 5, for five data sets that add non-systematic inputs and outputs; "
        "compositional and non-compositional loss on training and held-out points; dashed: the held-out loss of "
        "the minimum-norm map that training from a small start converges to.",
        tuple(
            RelativeGap(
                number("b-heldout", f"{s} held-out loss, simulated", ("settings", s, "test_loss_comp", "final_mean")),
                number(
                    "b-heldout", f"{s} min-norm prediction", ("settings", s, "min_norm_prediction", "test_loss_comp")
                ),
            )
            for s in ("(3 2 1 0 2)", "(3 2 1 1 2)")
        ),
    ),
    "b-fullrank": FigureNote(
        "Probability that j sampled combinations of n1 binary features give a full-rank systematic input "
        "covariance (the structure becomes identifiable), for n1 = 3 and 4: Monte Carlo with a rank test, the "
        "exact count over all subsets, and the test the paper's figure used.",
        tuple(
            MaxAbsDifference(
                number("b-fullrank", f"n1 = {n1} Monte Carlo", (f"n1={n1}", "rank")),
                number("b-fullrank", "exact count", (f"n1={n1}", "rank_exact")),
            )
            for n1 in (3, 4)
        ),
    ),
    "b-cmnist": FigureNote(
        "Compositional MNIST, the non-linear check: three digits side by side; targets are the three digit "
        "labels (compositional) and the one-hot three-digit number (non-compositional). Normalised error on "
        "training and test images over epochs for a dense ConvNet and one split into two ConvNets by output. "
        "Without the MNIST files the figure runs on the offline digits stand-in.",
    ),
}
