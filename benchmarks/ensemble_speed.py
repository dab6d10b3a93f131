"""How fast the ensemble engine trains many small networks, beside the two paths a researcher
would write by hand, all in one process on the same weights and data.

Cases (64 members, 100 plain SGD steps, lr 0.01, full batch: every member has ``batch`` samples):
  small: MLP 4 → 16 → 16 → 1, batch 128;   wide: MLP 16 → 64 → 64 → 1, batch 256.
modlab's paths run through ``modlab.train.ensemble.train_ensemble`` (loop, vmap, batched, compiled).
The peers:
  torch.compile — the whole step (forward, ``torch.func.grad``, SGD update) of the stacked members
    as one compiled graph, called once per step;
  JAX (when installed: ``pip install 'modlab[bench]'``) — ``jit(vmap(value_and_grad))`` with the
    whole run in one ``lax.scan``.
Every path starts from the same weights; each must end at the per-model loop's final losses
(relative 1e-3), else the benchmark stops. Times are the best of ``--repeats`` after a warm-up run
(compiles excluded; the compile seconds are reported apart). ``machine_peak_gflops`` is the best
2048² float32 matmul of torch and JAX. ``ratio_over_best_peer_*`` = best peer's seconds / the
seconds of the path ``auto`` takes for this shape in a sweep-length run (``default_path``);
≥ 1 means modlab is at least as fast. Prints a table; the last line is one JSON object.

Usage: python benchmarks/ensemble_speed.py [--threads N] [--repeats R] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from torch.func import grad, stack_module_state

from modlab.models import MLP
from modlab.train.engine import auto_path
from modlab.train.ensemble import TrainSettings, train_ensemble

CASES = {"small": dict(widths=(4, 16, 16, 1), batch=128), "wide": dict(widths=(16, 64, 64, 1), batch=256)}
MEMBERS = 64
STEPS = 100
LR = 1e-2
SWEEP_STEPS = 10_000  # the run length ``auto`` is asked about: a sweep's, so the compile is repaid
METHODS = ("loop", "vmap", "batched", "compiled")


def step_flops(widths: tuple[int, ...], batch: int) -> float:
    """Matmul FLOPs of one member's step: forward 2·B·in·out per layer, weight gradients the same,
    input gradients for every layer but the first."""
    products = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * batch * (2 * sum(products) + sum(products[1:]))


def case_data(widths, batch):
    gens = [torch.Generator().manual_seed(i) for i in range(MEMBERS)]
    xs = [torch.randn(batch, widths[0], generator=g) for g in gens]
    ys = [torch.randn(batch, generator=g) for g in gens]
    return xs, ys, gens


def members(widths):
    return [MLP(widths[0], widths[1:-1], widths[-1], torch.Generator().manual_seed(i)) for i in range(MEMBERS)]


def modlab_run(widths, batch, method, device):
    """A function training the members once with ``method`` → final per-member losses (models and
    data built beforehand, as for the peers; ``train_ensemble`` copies the models it is given)."""
    xs, ys, gens = case_data(widths, batch)
    models = members(widths)
    settings = TrainSettings(optimizer="sgd", lr=LR, steps=STEPS, batch_size=0, eval_every=STEPS)

    def run():
        result = train_ensemble(models, xs, ys, settings, gens, method=method, device=device)
        return result.curves["train"][:, -1].numpy()

    return run


def torch_compile_peer(widths, batch, device):
    """The hand-written torch.compile peer: returns a function running the 100 steps → final losses."""
    models = members(widths)
    template = models[0]
    start_params = {k: v.detach().to(device) for k, v in stack_module_state(models)[0].items()}
    xs, ys, _ = case_data(widths, batch)
    x, y = torch.stack(xs).to(device), torch.stack(ys).to(device)

    def loss(params):
        return ((template.stacked_forward(params, x).squeeze(-1) - y) ** 2).mean(-1).sum()

    @torch.compile(fullgraph=True, dynamic=False)
    def step(params):
        grads = grad(loss)(params)
        return {k: v - LR * grads[k] for k, v in params.items()}

    def run():
        params = start_params
        for _ in range(STEPS):
            params = step(params)
        with torch.no_grad():
            return ((template.stacked_forward(params, x).squeeze(-1) - y) ** 2).mean(-1).cpu().numpy()

    return run


def jax_peer(widths, batch):
    """The JAX peer (None when jax is missing): jit(vmap(value_and_grad)), the run in one lax.scan."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    models = members(widths)
    params = {k: jnp.asarray(v.detach().numpy()) for k, v in stack_module_state(models)[0].items()}
    xs, ys, _ = case_data(widths, batch)
    x, y = jnp.asarray(torch.stack(xs).numpy()), jnp.asarray(torch.stack(ys).numpy())
    names = sorted({k.rsplit(".", 1)[0] for k in params}, key=lambda n: int(n.split(".")[-1]))

    def forward(p, xb):
        for i, name in enumerate(names):
            xb = xb @ p[f"{name}.weight"].T + p[f"{name}.bias"]
            if i < len(names) - 1:
                xb = jax.nn.relu(xb)
        return xb[:, 0]

    def member_loss(p, xb, yb):
        return jnp.mean((forward(p, xb) - yb) ** 2)

    grads = jax.vmap(jax.grad(member_loss))
    losses = jax.vmap(member_loss)

    @jax.jit
    def run_all(p):
        def body(carry, _):
            g = grads(carry, x, y)
            return jax.tree_util.tree_map(lambda a, b: a - LR * b, carry, g), None

        final, _ = jax.lax.scan(body, p, None, length=STEPS)
        return losses(final, x, y)

    return lambda: np.asarray(jax.block_until_ready(run_all(params)))


def limit_xla_threads(threads: int) -> None:
    """Give XLA the same intra-op threads as torch (read when jax is first imported, so set before)."""
    multi = "true" if threads > 1 else "false"
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"


def timed(fn, repeats: int, device: torch.device):
    """(best seconds of ``repeats`` after one warm-up, warm-up seconds, the last result)."""
    start = time.perf_counter()
    result = fn()
    warm = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, warm, result


def matmul_gflops(repeats: int, device: torch.device, size: int = 2048) -> dict[str, float]:
    """Best GFLOP/s of a size² float32 matmul in torch and (when installed) JAX."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    out = {"torch": 2 * size**3 / timed(lambda: a @ b, repeats, device)[0] / 1e9}
    try:
        import jax
        import jax.numpy as jnp

        ja, jb = jnp.asarray(a.cpu().numpy()), jnp.asarray(b.cpu().numpy())
        mm = jax.jit(lambda p, q: p @ q)
        out["jax"] = 2 * size**3 / timed(lambda: mm(ja, jb).block_until_ready(), repeats, device)[0] / 1e9
    except ImportError:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    limit_xla_threads(args.threads)
    device = torch.device(args.device)
    peaks = matmul_gflops(args.repeats, device)
    peak = max(peaks.values())
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"device {device}, {args.threads} threads; {MEMBERS} members, {STEPS} SGD steps, full batch"
    )
    print("2048² float32 matmul GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    print(f"{'case':6s} {'path':16s} {'seconds':>9s} {'GFLOP/s':>9s} {'of peak':>8s} {'compile s':>10s}")
    out: dict[str, object] = {"machine_peak_gflops": round(peak, 1), "threads": args.threads, "device": str(device)}
    compile_seconds: dict[str, float] = {}
    for case, spec in CASES.items():
        widths, batch = spec["widths"], spec["batch"]
        flops = step_flops(widths, batch) * MEMBERS * STEPS
        reference = modlab_run(widths, batch, "loop", device)()
        paths = {f"modlab {m}": modlab_run(widths, batch, m, device) for m in METHODS}
        paths["torch.compile"] = torch_compile_peer(widths, batch, device)
        if (jax_run := jax_peer(widths, batch)) is not None and device.type == "cpu":
            paths["jax jit+scan"] = jax_run
        seconds = {}
        for name, fn in paths.items():
            seconds[name], warm, losses = timed(fn, args.repeats, device)
            if not np.allclose(losses, reference, rtol=1e-3, atol=1e-6):
                raise RuntimeError(f"{case} {name}: final losses differ from the per-model loop's")
            compile_seconds[f"{case} {name}"] = round(max(warm - seconds[name], 0.0), 2)
            rate = flops / seconds[name] / 1e9
            print(
                f"{case:6s} {name:16s} {seconds[name]:9.3f} {rate:9.1f} {rate / peak:8.1%} "
                f"{compile_seconds[f'{case} {name}']:10.1f}"
            )
        default = "modlab " + auto_path(True, device, SWEEP_STEPS, step_flops(widths, batch) * MEMBERS)
        best_peer = min(seconds[p] for p in ("torch.compile", "jax jit+scan") if p in seconds)
        out[f"default_path_{case}"] = default
        out[f"ratio_over_best_peer_{case}"] = round(best_peer / seconds[default], 3)
        out[f"ratio_compiled_over_best_peer_{case}"] = round(best_peer / seconds["modlab compiled"], 3)
        out[f"{case}_seconds"] = {k: round(v, 4) for k, v in seconds.items()}
        if case == "wide":
            out["gflops_wide"] = round(flops / seconds[default] / 1e9, 1)
    out["compile_seconds"] = compile_seconds
    out["matmul_gflops"] = {k: round(v, 1) for k, v in peaks.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
