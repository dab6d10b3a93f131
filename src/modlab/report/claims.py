"""Every claim of the two papers the report checks, with the rules that decide its verdict.

Each claim names the figure whose section shows it and the checks that decide it: numbers read by
key from the figures' JSON, held to thresholds stated here (and printed on the page). A claim made
on images names the data it needs: without the real files (CIFAR-10, MNIST) it is "not run", and a
twin claim on the offline digits stand-in says what replaced the paper's data and settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modlab.report.checks import (
    NOT_RUN,
    Check,
    Difference,
    GapChange,
    GrowthPerStep,
    Number,
    Ratio,
    Result,
    Value,
    evaluate,
    number,
    verdict,
)

OFFLINE = "data not available offline"


@dataclass(frozen=True)
class Claim:
    """``statement`` of paper ``paper`` ("A" or "B"), shown in figure ``figure``'s section.

    ``source``: the data the figure must have run on (its JSON's ``source``) for the checks to
    speak to this claim; ``stand_in``: for a claim on an offline substitute, what was substituted."""

    id: str
    paper: str
    statement: str
    figure: str
    checks: tuple[Check, ...]
    source: str | None = None
    stand_in: str = ""

    def figures(self) -> set[str]:
        return {self.figure} | {f for check in self.checks for f in check.quantity.figures()}


def judge(claim: Claim, figures: Mapping[str, Mapping[str, Any]], not_run: Mapping[str, str]) -> Result:
    """The claim's verdict on this build's figure JSONs; ``not_run``: figure → why it was not made."""
    missing = sorted(name for name in claim.figures() if name not in figures)
    if missing:
        reasons = "; ".join(f"{name}: {not_run.get(name, 'not made in this build')}" for name in missing)
        return Result(NOT_RUN, reason=reasons)
    if claim.source is not None:
        used = figures[claim.figure].get("source")
        if used is None:
            return Result(NOT_RUN, reason=f"{claim.figure}'s JSON does not name its data source (key 'source')")
        if used != claim.source:
            if claim.stand_in:
                return Result(NOT_RUN, reason=f"the figure ran on the real data ({used}), not on the stand-in")
            return Result(NOT_RUN, reason=f"{OFFLINE}: the figure ran on the {used} stand-in (its own claim below)")
    outcomes = evaluate(claim.checks, figures)
    return Result(verdict(outcomes), tuple(outcomes))


# ---- paper A -------------------------------------------------------------------------------------

SC = "a-sample-complexity"
SHORT = {
    "monolithic": "monolithic",
    "modular (true projections)": "true-projection modular",
    "modular, plain GD": "plain-GD modular",
    "kernel rule (joint)": "kernel rule (joint)",
    "kernel rule (per-module, Alg. 1)": "kernel rule (Alg. 1)",
}


def samples(method: str, split: str, end: int) -> Number:
    """Samples ``method`` needs to reach the target at the smallest (end 0) or largest (−1) m."""
    where = "largest m" if end == -1 else "smallest m"
    return number(
        SC,
        f"{SHORT[method]} n, {where} ({split.upper()})",
        ("sample_complexity", method, split, "n", end),
        ("sample_complexity", method, split, "n_mean", end),
        unreached=True,
    )


def task_dim(method: str, split: str, end: int) -> Number:
    return number(SC, f"{'largest' if end == -1 else 'smallest'} m", ("sample_complexity", method, split, "m", end))


def growth(method: str, split: str, at_least: float | None = None, at_most: float | None = None, if_fails: str = ""):
    quantity = GrowthPerStep(
        f"{SHORT[method]} samples ({split.upper()}): growth per added dimension",
        samples(method, split, -1),
        samples(method, split, 0),
        task_dim(method, split, -1),
        task_dim(method, split, 0),
    )
    return Check(quantity, at_least, at_most, if_fails)


def rf_growth(network: str, kind: str, at_least=None, at_most=None, if_fails: str = "") -> Check:
    """Growth per added dimension of the random-features model's samples to target, between the
    smallest and the largest m of ``kind`` "theory" (every m) or "simulated" (the m simulated)."""
    n_key, m_key = ("theory_n", "m") if kind == "theory" else ("simulated_n", "simulated_m")
    where = {-1: "largest m", 0: "smallest m"}
    n = [
        number("a-theory", f"RF {network} n ({kind}), {where[end]}", ("sample_complexity", network, n_key, end))
        for end in (-1, 0)
    ]
    m = [number("a-theory", f"{where[end]} ({kind})", ("sample_complexity", network, m_key, end)) for end in (-1, 0)]
    quantity = GrowthPerStep(f"random-features {network} samples ({kind}): growth per added dimension", *n, *m)
    return Check(quantity, at_least, at_most, if_fails)


def fewer_samples(method: str, than: str, split: str) -> Check:
    return Check(
        Ratio(samples(method, split, -1), samples(than, split, -1)),
        at_most=1.0,
        if_fails=f"At the largest m the {SHORT[method]} network needed more samples than the {SHORT[than]} one "
        f"({split.upper()}).",
    )


def overlap(key: str, label: str) -> Number:
    return number("a-projections", f"overlap, {label}", ("summary", f"overlap {label}"), ("summary", key), key)


def unseen(method: str) -> Number:
    return number("a-ccifar", f"{method.replace('_', ' ')} unseen accuracy", ("unseen_accuracy", method))


def vs_k(method: str, end: int) -> Number:
    where = "largest k" if end == -1 else "smallest k"
    return number("a-ccifar", f"{method.replace('_', ' ')}, {where}", ("accuracy_vs_k", method, "mean", end))


def image_checks() -> tuple[Check, ...]:
    return (
        Check(
            Difference(unseen("kernel_rule"), unseen("modular")),
            at_least=0.01,
            if_fails="The kernel rule's projections gave no gain over the plain modular network on unseen "
            "combinations (a tie or worse).",
        ),
        Check(
            Difference(unseen("modular"), unseen("monolithic")),
            at_least=0.01,
            if_fails="The modular network did not beat the monolithic one on unseen combinations.",
        ),
        Check(
            GapChange(vs_k("kernel_rule", -1), vs_k("monolithic", -1), vs_k("kernel_rule", 0), vs_k("monolithic", 0)),
            at_least=0.02,
            if_fails="The kernel rule's lead over the monolithic network did not widen with the number of images k.",
        ),
    )


# Per added task dimension, the samples needed multiply by at least GROWS ("grows exponentially";
# the paper's monolithic curve: 2.2k at m = 2 to 11.5k at m = 9, ≈ 1.27× per dimension) or at most
# FLAT ("does not depend on m").
GROWS, FLAT = 1.15, 1.05
SLOWER = f"the monolithic network's samples grow by less than {GROWS}× per added dimension"
NOT_FLAT = f"the modular network's samples grow by more than {FLAT}× per added dimension"

DIGITS_A = (
    "offline digits stand-in: composites of 8 × 8 scikit-learn digits instead of CIFAR-10 images, trained "
    "with Adam for several epochs (the paper: CIFAR-10, one epoch); few training composites, so that the "
    "monolithic network struggles"
)

PAPER_A = (
    Claim(
        "a-theory-matches",
        "A",
        "The random-features theory of the test loss matches simulation (loss vs n, p, m and the task's "
        "number of modules).",
        "a-theory",
        (
            Check(
                Value(
                    number(
                        "a-theory",
                        "largest relative error, exact points",
                        ("summary", "max_rel_error"),
                        "max_rel_error",
                    )
                ),
                at_most=0.05,
                if_fails="Some simulated losses differ from the closed form by more than 5% (the figure's JSON "
                "names the point, summary › max_rel_error_at). Next to the interpolation peak (N ≈ p) the loss is "
                "heavy-tailed and its seed mean converges slowly: weigh the gap against its standard error, the "
                "next check.",
            ),
            Check(
                Value(number("a-theory", "largest gap in standard errors, all points", ("summary", "max_abs_z"))),
                at_most=4.0,
                if_fails="Some simulated losses differ from the closed form by more than 4 standard errors: more "
                "than the seeds' noise explains.",
            ),
            Check(
                Value(
                    number(
                        "a-theory",
                        "largest relative error, asymptotic points",
                        ("summary", "max_rel_error_asymptotic"),
                        "max_rel_error_asymptotic",
                    )
                ),
                at_most=0.15,
                if_fails="Where only a large-size (asymptotic) formula exists, finite sizes differ from it by more "
                "than 15%.",
            ),
        ),
    ),
    Claim(
        "a-monolithic-exponential",
        "A",
        "A monolithic network's sample complexity grows exponentially with the task dimension m.",
        SC,
        (
            rf_growth("monolithic", "theory", at_least=GROWS, if_fails=f"In the theory {SLOWER}."),
            rf_growth(
                "monolithic", "simulated", at_least=GROWS, if_fails=f"In the simulated random-features model {SLOWER}."
            ),
            growth("monolithic", "id", at_least=GROWS, if_fails=f"On the sine task {SLOWER}, over this preset's m."),
        ),
    ),
    Claim(
        "a-modular-flat",
        "A",
        "For modules that read the right projections, the sample complexity does not depend on m.",
        SC,
        (
            rf_growth("modular", "theory", at_most=FLAT, if_fails=f"In the theory {NOT_FLAT}."),
            rf_growth(
                "modular", "simulated", at_most=FLAT, if_fails=f"In the simulated random-features model {NOT_FLAT}."
            ),
            growth(
                "modular (true projections)",
                "id",
                at_most=FLAT,
                if_fails=f"On the sine task, with the true projections given, {NOT_FLAT}.",
            ),
        ),
    ),
    Claim(
        "a-kernel-rule-finds-projections",
        "A",
        "Plain gradient descent does not find the modules' projections; the kernel rule does.",
        "a-projections",
        (
            Check(
                Value(overlap("mean_overlap_plain_gd", "modular, plain GD")),
                at_most=0.8,
                if_fails="Plain gradient descent aligned the modules with the true projections after all.",
            ),
            Check(
                Value(overlap("mean_overlap_kernel_rule", "kernel rule (joint)")),
                at_least=0.9,
                if_fails="The joint kernel rule (all projections optimised together) missed some true projections.",
            ),
            Check(
                Value(overlap("mean_overlap_kernel_rule_per_module", "kernel rule (per-module, Alg. 1)")),
                at_least=0.9,
                if_fails="The paper's per-module Algorithm 1 runs one independent descent per module: the descents "
                "fall into the same strong directions and miss the weakest module. Optimising all projections "
                "jointly, on the sum of the modules' kernels, finds them.",
            ),
        ),
    ),
    Claim(
        "a-kernel-rule-fewer-samples",
        "A",
        "The kernel rule needs fewer samples than monolithic and plain-GD modular networks, in and out of "
        "distribution.",
        SC,
        tuple(
            fewer_samples("kernel rule (joint)", than, split)
            for split in ("id", "ood")
            for than in ("monolithic", "modular, plain GD")
        ),
    ),
    Claim(
        "a-images-cifar",
        "A",
        "On compositional CIFAR-10, kernel rule > modular > monolithic on unseen combinations, with the gap "
        "widening in the number of images k.",
        "a-ccifar",
        image_checks(),
        source="cifar10",
    ),
    Claim(
        "a-images-digits",
        "A",
        "The same ordering and widening gap on the offline digits stand-in.",
        "a-ccifar",
        image_checks(),
        source="digits",
        stand_in=DIGITS_A,
    ),
)

# ---- paper B -------------------------------------------------------------------------------------

DYNAMICS = ("b-dense", "b-split", "b-segregated", "b-shallow")


def systematicity(figure: str) -> Number:
    return number(figure, f"{figure} systematicity", ("summary", "systematicity"), "systematicity")


def rule_systematicity(rule: str) -> Check:
    label = f"{rule.replace('_', ' ')} systematicity"
    paths = (("summary", "systematicity", rule), ("rules", rule, "systematicity"))
    return Check(
        Value(number("b-rules", label, *paths)),
        at_most=0.9,
        if_fails=f"Under the {rule.replace('_', ' ')} rule the dense network became systematic.",
    )


def heldout(setting: str) -> Number:
    return number(
        "b-heldout",
        f"{setting} held-out compositional loss",
        ("summary", "final_compositional_test_loss", setting),
        ("final_compositional_test_loss", setting),
        ("settings", setting, "test_loss_comp", "final_mean"),
    )


def cmnist(key: str, architecture: str) -> Number:
    kind = "compositional" if key == "final_test_compositional_error" else "non-compositional"
    return number("b-cmnist", f"{architecture} {kind} test error", ("summary", key, architecture))


def convnet_checks() -> tuple[Check, ...]:
    comp, noncomp = "final_test_compositional_error", "final_test_non_compositional_error"
    return (
        Check(
            Difference(cmnist(comp, "dense"), cmnist(comp, "split")),
            at_least=0.05,
            if_fails="The split ConvNet's compositional test error is not clearly below the dense one's.",
        ),
        *(
            Check(
                Value(cmnist(noncomp, arch)),
                at_least=0.5,
                if_fails=f"The {arch} network generalised the non-compositional (lookup) outputs, which only "
                "memorisation can give.",
            )
            for arch in ("dense", "split")
        ),
    )


DIGITS_B = (
    "offline digits stand-in: three 8 × 8 scikit-learn digits side by side (8 × 24) instead of 28 × 84 MNIST, "
    "kernels scaled to the image, and Adam (lr 1e-3) instead of the paper's SGD (lr 2e-3), which learns nothing "
    "at this size"
)

PAPER_B = (
    Claim(
        "b-dynamics-match",
        "B",
        "The exact learning dynamics of the linear networks (dense, split, segregated, shallow) match simulation.",
        "b-dense",
        tuple(
            Check(
                Value(number(name, f"{name} largest relative error", ("summary", "max_rel_error"), "max_rel_error")),
                at_most=0.03,
                if_fails=f"{name}: a mode's simulated strength departs from the closed form by more than 3% of its "
                "fixed point.",
            )
            for name in DYNAMICS
        ),
    ),
    Claim(
        "b-systematicity",
        "B",
        "The dense network is not systematic; splitting the outputs alone does not fix it; segregating the "
        "inputs does.",
        "b-segregated",
        (
            Check(
                Value(systematicity("b-dense")),
                at_most=0.9,
                if_fails="The dense network's systematic outputs did not use the non-systematic inputs.",
            ),
            Check(
                Difference(
                    systematicity("b-dense"),
                    number(
                        "b-dense",
                        "theory share P/(k1 r² + P)",
                        ("summary", "systematicity_dense_theory"),
                        "systematicity_dense_theory",
                        "systematic_share_dense_theory",
                    ),
                ),
                at_least=-0.02,
                at_most=0.02,
                if_fails="The dense network's systematicity differs from the closed-form share P/(k1 r² + P).",
            ),
            Check(
                Value(systematicity("b-split")),
                at_most=0.9,
                if_fails="Splitting the outputs alone made the network systematic.",
            ),
            Check(
                Value(systematicity("b-segregated")),
                at_least=0.99,
                if_fails="The input-segregated network's systematic module still leans on the non-systematic inputs.",
            ),
        ),
    ),
    Claim(
        "b-rules",
        "B",
        "The dense network stays non-systematic under the other learning rules (Hebbian, anti-Hebbian, "
        "contrastive Hebbian, predictive coding).",
        "b-rules",
        tuple(rule_systematicity(r) for r in ("hebbian", "anti_hebbian", "contrastive_hebbian", "predictive_coding")),
    ),
    Claim(
        "b-heldout",
        "B",
        "Motivating example: trained on 3 of 8 combinations, a dense network generalises its compositional "
        "outputs to the held-out ones only when the data have no non-systematic part.",
        "b-heldout",
        (
            Check(
                Value(heldout("(3 2 0 0 0)")),
                at_most=0.05,
                if_fails="Even without non-systematic structure the held-out compositional loss stayed high.",
            ),
            Check(
                Value(heldout("(3 2 1 0 2)")),
                at_least=0.1,
                if_fails="Identity inputs alone did not spoil compositional generalisation.",
            ),
            Check(
                Value(heldout("(3 2 1 1 2)")),
                at_least=0.1,
                if_fails="Identity inputs and outputs did not spoil compositional generalisation.",
            ),
        ),
    ),
    Claim(
        "b-fullrank",
        "B",
        "The probability that j sampled combinations give a full-rank systematic input covariance, as the "
        "paper's figure plots it for n1 = 3 and 4.",
        "b-fullrank",
        tuple(
            Check(
                Value(
                    number(
                        "b-fullrank",
                        f"n1 = {n1}: max |paper's test − rank test|",
                        ("summary", f"n1={n1}", "max_gap_rank_vs_paper"),
                        (f"n1={n1}", "max_gap_rank_vs_paper"),
                    )
                ),
                at_most=0.02,
                if_fails=f"For n1 = {n1} the paper's test (determinant of the element-wise absolute value of SᵀS "
                "above 0.1) is not a rank test: its curve is not the full-rank probability.",
            )
            for n1 in (3, 4)
        ),
    ),
    Claim(
        "b-convnet-mnist",
        "B",
        "On compositional MNIST, the split ConvNet generalises compositionally better than the dense one; "
        "neither generalises the non-compositional outputs.",
        "b-cmnist",
        convnet_checks(),
        source="mnist",
    ),
    Claim(
        "b-convnet-digits",
        "B",
        "The same on the offline digits stand-in.",
        "b-cmnist",
        convnet_checks(),
        source="digits",
        stand_in=DIGITS_B,
    ),
)

CLAIMS: tuple[Claim, ...] = PAPER_A + PAPER_B
