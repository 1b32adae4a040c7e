"""The retrieval demo (`nam demo`): every model in the toolkit stores the same random memories and retrieves
them from corrupted cues; a table is printed and figures are written. The experiment is
`Demo`."""

import dataclasses
import os
import time
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from tqdm import tqdm

from .._checks import check_instance, check_int, check_memory, check_number
from .._io import write_json
from .._patterns import flip_bits, random_patterns
from ..dynamics._binary import retrieve_binary
from ..dynamics._config import SolverConfig
from ..dynamics._retrieve import retrieve_batch
from ..dynamics._status import Status, status_ok
from ..models._astrocyte_tensor import HebbianTensor
from ..models._dense import DenseAssociativeMemory
from ..models._hidden import HiddenNeuronDAM
from ..models._hopfield import ClassicalHopfield
from ..models._neuron_astrocyte import NeuronAstrocyte, NeuronAstrocyteEffective
from ..models._separation import Polynomial
from ._base import AbstractExperiment, option


@dataclasses.dataclass(frozen=True)
class DemoRow:
    model: str
    dynamics: str
    n: int
    k: int
    rho: float
    trials: int
    retrieved: float  # fraction of cues that finished cleanly (nam.status_ok) with the memory as read-out
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


def _run_demo(
    n: int, k: int, rho: float, trials: int, seed: int, config: SolverConfig | None = None, progress: bool = True
):
    """Store K random memories of N bits in every model; retrieve `trials` cues with round(rho N) flipped
    bits. Returns (rows, example) where `example` holds one full-model energy trace for plotting. The
    options are checked by `Demo`."""
    config = (
        SolverConfig("tsit5", t1=50.0, max_steps=4000)
        if config is None
        else check_instance("config", config, SolverConfig)
    )
    key = jr.PRNGKey(seed)
    xi = random_patterns(jr.fold_in(key, 0), k, n)
    which = jnp.arange(trials) % k
    cues = jax.vmap(lambda kk, i: flip_bits(kk, xi[i], rho))(jr.split(jr.fold_in(key, 1), trials), which)
    targets = xi[which]
    rows, example = [], {}
    models = _models(xi)
    for name, (dynamics, model) in tqdm(models.items(), desc="models", disable=not progress):
        t0 = time.perf_counter()
        out: Any
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
        codes = np.asarray(out.status)
        ok = np.asarray(status_ok(codes, time_limit_ok=not dynamics.startswith("binary") and not config.steady_state))
        pattern = np.where(ok[:, None], np.asarray(out.pattern), 0.0)  # a sample that did not finish counts as lost
        rows.append(
            DemoRow(
                model=name,
                dynamics=dynamics,
                n=n,
                k=k,
                rho=rho,
                trials=trials,
                retrieved=float(np.mean(np.all(pattern == np.asarray(targets), axis=1))),
                mean_overlap=float(np.mean(np.sum(pattern * np.asarray(targets), axis=1) / n)),
                mean_steps=float(np.mean(np.asarray(steps))),
                status={Status(c).name: int(np.sum(codes == c)) for c in np.unique(codes)},
                seconds=seconds,
            )
        )
    return rows, example


def format_table(rows) -> str:
    head = f"{'model':<28} {'dynamics':<13} {'retrieved':>9} {'overlap':>8} {'steps':>7} {'time s':>7}  status"
    lines = [head, "-" * len(head)]
    for r in rows:
        status = ", ".join(f"{k}:{v}" for k, v in r.status.items())
        lines.append(
            f"{r.model:<28} {r.dynamics:<13} {r.retrieved:>9.2f} {r.mean_overlap:>8.3f} "
            f"{r.mean_steps:>7.1f} {r.seconds:>7.2f}  {status}"
        )
    return "\n".join(lines)


def write_outputs(rows, example, out_dir: str) -> list[str]:
    """Write demo.json (the table) and demo.png (retrieval per model, one energy trace)."""
    from matplotlib.figure import Figure  # object API: no pyplot state, no backend switch

    os.makedirs(out_dir, exist_ok=True)
    table = os.path.join(out_dir, "demo.json")
    write_json(table, [dataclasses.asdict(r) for r in rows], indent=2)

    fig = Figure(figsize=(12, 4.6))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.1, 1)})
    names = [r.model for r in rows]
    y = np.arange(len(rows))
    h = 0.38
    axes[0].barh(y - h / 2, [r.retrieved for r in rows], height=h, color="tab:blue", label="retrieved exactly")
    axes[0].barh(
        y + h / 2, [r.mean_overlap for r in rows], height=h, color="tab:orange", label="mean overlap with the memory"
    )
    for yi, r in zip(y, rows):
        axes[0].text(max(r.retrieved, 0.0) + 0.01, yi - h / 2, f"{r.retrieved:.2f}", va="center", fontsize=7)
        axes[0].text(max(r.mean_overlap, 0.0) + 0.01, yi + h / 2, f"{r.mean_overlap:.3f}", va="center", fontsize=7)
    low = min(0.0, min(r.mean_overlap for r in rows))
    axes[0].set_xlim(low - (0.05 if low < 0 else 0.0), 1.15)
    if low < 0:
        axes[0].axvline(0, color="k", lw=0.5)
    axes[0].set_yticks(y, names)
    axes[0].set_xlabel("fraction of cues, or overlap xi . sign(x) / N (dimensionless)")
    r0 = rows[0]
    axes[0].set_title(f"N={r0.n}, K={r0.k}, {round(r0.rho * r0.n)} bits flipped, {r0.trials} cues", fontsize=10)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    axes[0].invert_yaxis()
    if example:
        e = example["energies"]
        ok = np.isfinite(e)
        axes[1].plot(example["ts"][ok], e[ok], label="neuron-astrocyte full")
        axes[1].set_xlabel("time (units of the neuron time constant tau_n)")
        axes[1].set_ylabel("energy E(t) (dimensionless)")
        axes[1].set_title("full neuron-astrocyte network: energy along one retrieval", fontsize=10)
        axes[1].legend(fontsize=8)
    else:
        axes[1].set_axis_off()
    fig.tight_layout()
    png = os.path.join(out_dir, "demo.png")
    fig.savefig(png, dpi=110)
    return [table, png]


# --- the experiment (`nam demo`) ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoResult:
    """`rows`: one `DemoRow` per model; `example`: one energy trace of the full model (for the figure)."""

    rows: list
    example: dict


@dataclasses.dataclass(frozen=True)
class Demo(AbstractExperiment):
    """`nam demo`: random memories stored in every model and retrieved from corrupted cues."""

    command: ClassVar[str] = "demo"
    summary: ClassVar[str] = "store random memories in every model and retrieve them from corrupted cues"
    description: ClassVar[str] = (
        "Store K random +-1 memories in N neurons in every model (classical Hopfield, "
        "DAM, hidden-neuron DAM, effective and full neuron-astrocyte networks), retrieve "
        "them from cues with round(rho N) bits flipped, print the table, draw the figure."
    )

    n: int = option(100, "neurons N (at least 2)")
    k: int = option(10, "memories K")
    rho: float = option(0.15, "fraction of bits flipped in each cue, an exact count round(rho N), in [0, 0.5)")
    trials: int = option(16, "cues per model")
    seed: int = option(0, "random seed")
    out: str = option("nam_output/demo", "output folder")

    def __post_init__(self):
        check_int("n", self.n, minimum=2)
        check_int("k", self.k)
        check_number("rho", self.rho, minimum=0.0, maximum=0.5, open_max=True)
        check_int("trials", self.trials)
        check_int("seed", self.seed, minimum=0)
        check_instance("out", self.out, str, "a folder path")
        # the memories and cues, and one cue of the full model (N + 2 N^2 numbers) in about 12 solver copies
        check_memory(
            "`n`, `k`, `trials`",
            8 * (2 * self.k * self.n + 2 * self.trials * self.n + 12 * (2 * self.n * self.n + self.n)),
            "the demo (memories, cues and the full model's state)",
        )

    def run(self, *, progress: bool = True) -> DemoResult:
        rows, example = _run_demo(
            n=self.n, k=self.k, rho=self.rho, trials=self.trials, seed=self.seed, progress=progress
        )
        return DemoResult(rows, example)

    def format(self, result: DemoResult) -> str:
        return format_table(result.rows)

    def write(self, result: DemoResult, out_dir: str | None) -> list[str]:
        return write_outputs(result.rows, result.example, self.out if out_dir is None else out_dir)

    def resume_hint(self, error: BaseException) -> str:
        return "the demo keeps no partial results, nothing was saved; run it again"
