"""The retrieval demo: every model in the toolkit stores the same random memories and retrieves them
from corrupted cues; a table is printed and figures are written. (The main job until the capacity
sweep lands.)"""

import dataclasses
import json
import os
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from tqdm import tqdm

from ._io import atomic_write
from ._patterns import flip_bits, random_patterns
from .dynamics._binary import retrieve_binary
from .dynamics._config import SolverConfig
from .dynamics._retrieve import retrieve_batch
from .dynamics._status import Status
from .models._astrocyte_tensor import HebbianTensor
from .models._dense import DenseAssociativeMemory
from .models._hidden import HiddenNeuronDAM
from .models._hopfield import ClassicalHopfield
from .models._neuron_astrocyte import NeuronAstrocyte, NeuronAstrocyteEffective
from .models._separation import Polynomial


@dataclasses.dataclass(frozen=True)
class DemoRow:
    model: str
    dynamics: str
    n: int
    k: int
    rho: float
    trials: int
    retrieved: float  # fraction of cues whose read-out equals the memory exactly
    mean_overlap: float  # mean of read-out . memory / N
    mean_steps: float
    status: dict  # Status name -> count
    seconds: float  # wall time including compilation


def _models(xi):
    return {
        "classical Hopfield": ("binary async", ClassicalHopfield(xi)),
        "DAM F=z^3": ("binary async", DenseAssociativeMemory(xi, Polynomial(3))),
        "hidden-neuron DAM": ("continuous", HiddenNeuronDAM(xi)),
        "neuron-astrocyte effective": ("continuous", NeuronAstrocyteEffective(HebbianTensor(xi))),
        "neuron-astrocyte full": ("continuous", NeuronAstrocyte(HebbianTensor(xi))),
    }


def run_demo(n: int = 100, k: int = 10, rho: float = 0.15, trials: int = 16, seed: int = 0,
             config: SolverConfig | None = None, progress: bool = True):
    """Store K random memories of N bits in every model; retrieve `trials` cues with round(rho N) flipped
    bits. Returns (rows, example) where `example` holds one full-model energy trace for plotting."""
    if not 0.0 <= rho < 0.5:
        raise ValueError(f"`rho` must be in [0, 0.5), got {rho}")
    if trials < 1:
        raise ValueError(f"`trials` must be >= 1, got {trials}")
    config = SolverConfig("tsit5", t1=50.0, max_steps=4000) if config is None else config
    key = jr.PRNGKey(seed)
    xi = random_patterns(jr.fold_in(key, 0), k, n)
    which = jnp.arange(trials) % k
    cues = jax.vmap(lambda kk, i: flip_bits(kk, xi[i], rho))(jr.split(jr.fold_in(key, 1), trials), which)
    targets = xi[which]
    rows, example = [], {}
    models = _models(xi)
    for name, (dynamics, model) in tqdm(models.items(), desc="models", disable=not progress):
        t0 = time.perf_counter()
        if dynamics.startswith("binary"):
            out = jax.vmap(lambda c: retrieve_binary(model, c))(cues)
            steps = out.sweeps
        else:
            ts = jnp.linspace(0.0, min(float(config.t1), 20.0), 201) if name == "neuron-astrocyte full" else None
            out = retrieve_batch(model, cues, config=config, energy_ts=ts)
            steps = out.num_steps
            if ts is not None:
                example = {"ts": np.asarray(ts), "energies": np.asarray(out.energies[0])}
        jax.block_until_ready(out)
        seconds = time.perf_counter() - t0
        pattern = np.asarray(out.pattern)
        codes = np.asarray(out.status)
        rows.append(DemoRow(
            model=name, dynamics=dynamics, n=n, k=k, rho=rho, trials=trials,
            retrieved=float(np.mean(np.all(pattern == np.asarray(targets), axis=1))),
            mean_overlap=float(np.mean(np.sum(pattern * np.asarray(targets), axis=1) / n)),
            mean_steps=float(np.mean(np.asarray(steps))),
            status={Status(c).name: int(np.sum(codes == c)) for c in np.unique(codes)},
            seconds=seconds))
    return rows, example


def format_table(rows) -> str:
    head = f"{'model':<28} {'dynamics':<13} {'retrieved':>9} {'overlap':>8} {'steps':>7} {'time s':>7}  status"
    lines = [head, "-" * len(head)]
    for r in rows:
        status = ", ".join(f"{k}:{v}" for k, v in r.status.items())
        lines.append(f"{r.model:<28} {r.dynamics:<13} {r.retrieved:>9.2f} {r.mean_overlap:>8.3f} "
                     f"{r.mean_steps:>7.1f} {r.seconds:>7.2f}  {status}")
    return "\n".join(lines)


def write_outputs(rows, example, out_dir: str) -> list[str]:
    """Write demo.json (the table) and demo.png (retrieval per model, one energy trace)."""
    from matplotlib.figure import Figure  # object API: no pyplot state, no backend switch

    os.makedirs(out_dir, exist_ok=True)
    table = os.path.join(out_dir, "demo.json")
    atomic_write(table, json.dumps([dataclasses.asdict(r) for r in rows], indent=2))

    fig = Figure(figsize=(12, 4.2))
    axes = fig.subplots(1, 2)
    names = [r.model for r in rows]
    axes[0].barh(names, [r.retrieved for r in rows], color="tab:blue", label="retrieved exactly")
    axes[0].barh(names, [r.mean_overlap for r in rows], color="none", edgecolor="k", label="mean overlap")
    axes[0].set_xlim(-1, 1)
    axes[0].axvline(0, color="k", lw=0.5)
    r0 = rows[0]
    axes[0].set_title(f"N={r0.n}, K={r0.k}, {round(r0.rho * r0.n)} bits flipped, {r0.trials} cues")
    axes[0].legend(loc="lower left", fontsize=8)
    axes[0].invert_yaxis()
    if example:
        e = example["energies"]
        ok = np.isfinite(e)
        axes[1].plot(example["ts"][ok], e[ok])
        axes[1].set_xlabel("time (tau_n)")
        axes[1].set_ylabel("energy E(t)")
        axes[1].set_title("full neuron-astrocyte network: energy along one retrieval")
    fig.tight_layout()
    png = os.path.join(out_dir, "demo.png")
    fig.savefig(png, dpi=110)
    return [table, png]
