"""Property-based fuzzing of every public callable (issue 26, "close the class, not the instances").

The export list is the source of truth: every public, non-module name of `nam` and of each namespace in
`tests/test_exports.py` (`nam.models`, `nam.dynamics`, ...) that is callable must have a row in `TABLE`
(`test_every_exported_callable_is_in_the_table`), so a new export without a row fails. A row is either
`Fuzz`: a valid baseline call (small, so a bad value that is legal costs little) and, per argument, a
hypothesis strategy of bad values (wrong type, wrong shape, NaN/inf, out of range, empty, huge); or
`Exempt`, with the reason it is not called with user input (abstract bases, result types, exceptions).

Each example replaces ONE argument of the baseline by a drawn bad value and asserts that the call either
raises a ValueError/TypeError whose message names that argument (nam's own checks: the jaxtyping/beartype
checks of the test run are switched off, as in tests/test_validation.py), or returns a result valid by the
function's own contract (`Fuzz.contract`; by default every floating leaf finite, or a status that says it
is not). Any other exception (ZeroDivisionError, OverflowError, IndexError, an XLA error...) fails.

Default run: a fixed seed (`derandomize=True`) and a few examples per row. `NAM_FUZZ=slow` (or the
`slow`-marked copy of the test, `pytest -m slow`) runs the hypothesis profile "slow": many more examples,
random seeds.
"""

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

import nam
from nam import astrosnn as snn
from nam import attention, capacity, learning, spiking

NAMESPACES = ("models", "dynamics", "sweep", "capacity", "learning", "spiking", "astrosnn", "attention", "experiments")
FAST_EXAMPLES = 3
settings.register_profile(
    "fuzz",
    max_examples=FAST_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "slow",
    max_examples=60,
    derandomize=False,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
PROFILE = "slow" if os.environ.get("NAM_FUZZ") == "slow" else "fuzz"

NAN, INF = float("nan"), float("inf")
TMP = tempfile.mkdtemp(prefix="nam-fuzz-")


# --- the table's rows ------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Fuzz:
    fn: Callable
    base: Any  # dict of keyword arguments, or a function returning one (built on first use)
    args: dict  # argument -> strategy of bad values
    contract: Callable | None = None  # result -> None (asserts); default `finite_or_flagged`
    names: dict = dataclasses.field(default_factory=dict)  # argument -> the word its messages use
    errors: tuple = (ValueError, TypeError)
    xfail: str | None = None  # a known failure left to the owner of the code (strict: fails once fixed)
    skip_baseline: str | None = None  # why the valid baseline call itself must not run in a test

    def kwargs(self):
        if callable(self.base):
            self.base = self.base()
        return dict(self.base)


@dataclasses.dataclass
class Exempt:
    reason: str


def finite_or_flagged(result):
    """Every floating leaf finite, unless the result carries a status saying the sample failed."""
    status = getattr(result, "status", None)
    if isinstance(status, str) and status != "bracketed":  # CrossingResult: no crossing found, k_star NaN
        return
    if status is not None and not isinstance(status, str):
        ok = np.asarray(nam.status_ok(jnp.asarray(status), time_limit_ok=True))
        if not np.all(ok):
            return  # a failed sample says so; its values are not claimed meaningful
    for leaf in jax.tree.leaves(result):
        if isinstance(leaf, (float, np.floating)) or (
            hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.inexact)
        ):
            assert np.all(np.isfinite(np.asarray(leaf))), f"non-finite result without a failure status: {result}"


def returns(cls):
    def check(result):
        assert isinstance(result, cls), f"expected a {cls.__name__}, got {type(result).__name__}"
        finite_or_flagged(result)

    return check


def anything(result):
    """For callables whose result is text, files or a container built from valid input."""


# --- strategies of bad values ----------------------------------------------------------------------------------
WRONG_TYPES = st.sampled_from([None, "x", b"\xff", 1j, object(), {"a": 1}, [None]])


def bad_int(minimum=1, maximum=None, huge=False):
    """Not an integer (floats, bools, strings, None, 0-d arrays) or outside [minimum, maximum]."""
    options = [
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.sampled_from([None, "3", np.float64(2.0), jnp.asarray(3), [1]]),
    ]
    if maximum is not None:
        options.append(st.integers(min_value=maximum + 1, max_value=maximum + 10**6))
    if huge:
        options.append(st.integers(min_value=10**13, max_value=10**18))
    return st.one_of(options)


def bad_number(minimum=None, maximum=None, open_min=False, open_max=False, extra=()):
    """NaN, inf, wrong types, arrays where a scalar is expected, and values outside the range."""
    options = [st.sampled_from([NAN, INF, -INF, "0.5", None, True, 1j, np.ones(2), *extra])]
    if minimum is not None:
        options.append(st.floats(max_value=minimum, exclude_max=not open_min, allow_nan=False, allow_infinity=False))
    if maximum is not None:
        options.append(st.floats(min_value=maximum, exclude_min=not open_max, allow_nan=False, allow_infinity=False))
    return st.one_of(options)


def bad_bool():
    return st.sampled_from([1, 0, "yes", None, 1.0, np.ones(2)])


def bad_choice(choices):
    return st.one_of(st.text(max_size=8).filter(lambda s: s not in choices), st.sampled_from([None, 3, ["x"], b"x"]))


def bad_instance(optional=False):
    """Not an instance of the expected class; None only where None is not the default."""
    return st.sampled_from(([] if optional else [None]) + ["x", 3, 1.5, {"a": 1}, np.ones(3), object()])


def bad_callable():
    return st.sampled_from([None, 3, "f", np.ones(2)])


def bad_key():
    return st.sampled_from(
        [0, None, "key", np.array([1.0, 2.0]), jnp.zeros(3, jnp.uint32), jnp.zeros((2, 2), jnp.uint32), np.int64(3)]
    )


def bad_array(base, *, pm1=False, binary=False, nonneg=False, min_rows=1):
    """Variants of a valid array `base`: NaN/inf at a drawn position, bool and complex dtypes, a wrong
    last dimension, an extra or a missing dimension, no rows, non-array types; values off the +-1 / 0-1 /
    >= 0 domain where the argument requires it."""
    base = np.asarray(base, dtype=np.float64)

    def poke(value):
        def f(i):
            a = base.copy().reshape(-1)
            a[i % max(a.size, 1)] = value
            return jnp.asarray(a.reshape(base.shape))

        return st.integers(0, 10**6).map(f)

    variants = [
        poke(NAN),
        poke(INF),
        poke(-INF),
        st.just(jnp.asarray(base != 0)),
        st.just(jnp.asarray(base.astype(complex))),
        st.just(jnp.asarray(base[..., :-1]) if base.ndim else jnp.ones(2)),
        st.just(jnp.asarray(base[None])),
        WRONG_TYPES,
    ]
    if base.ndim >= 1:
        variants.append(st.just(jnp.asarray(base[:0])))
        variants.append(st.just(jnp.asarray(np.concatenate([base, base[..., -1:]], axis=-1))))
    if base.ndim >= 2:
        variants.append(st.just(jnp.asarray(base.reshape(-1))))
    if pm1:
        variants += [st.just(jnp.asarray(base * 0.5)), poke(0.0), poke(3.0)]
    if binary:
        variants += [st.just(jnp.asarray(base * 0.5)), poke(0.5), poke(-1.0)]
    if nonneg:
        variants += [poke(-1.0)]
    return st.one_of(variants)


def bad_ints_array(base, vocab):
    """Token-id arrays: floats, bools, ids outside [0, vocab), wrong rank, empty, non-arrays."""
    base = np.asarray(base)
    return st.one_of(
        st.sampled_from(
            [
                jnp.asarray(base, float),
                jnp.asarray(base != 0),
                jnp.asarray(base[None]),
                jnp.asarray(base[:0]) if base.ndim == 1 else jnp.asarray(base[:, :0]),
                base.tolist(),
                None,
                "abc",
            ]
        ),
        st.integers(vocab, 10**9).map(lambda v: jnp.asarray(base).at[(0,) * base.ndim].set(v)),
        st.integers(-(10**9), -1).map(lambda v: jnp.asarray(base).at[(0,) * base.ndim].set(v)),
    )


# --- fixtures shared by the rows -------------------------------------------------------------------------------
K = jr.PRNGKey(0)
XI = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])
X0 = jnp.asarray(XI[0])
HOP = nam.ClassicalHopfield(XI)
DAM = nam.DenseAssociativeMemory(XI)
HEB = nam.HebbianTensor(XI)
EFF = nam.NeuronAstrocyteEffective(HEB)
FULL = nam.NeuronAstrocyte(HEB)
T4 = np.asarray(HEB.dense())
FAST = nam.SolverConfig(t1=5.0, max_steps=200)
ATT_FEATURES = attention.PositiveRandomFeatures(4, 8)
ATT_Q = np.linspace(-0.5, 0.5, 12).reshape(3, 4)
ATT_PHI = np.full((3, 8), 0.25)
FILE = os.path.join(TMP, "a-file")
with open(FILE, "w") as _f:
    _f.write("not a folder\n")

NET = spiking.GordleevaNetwork(side=7, block=4, stride=3)
IMG = np.zeros((7, 7))
IMG[2:5, 2:5] = 1.0
STIM = spiking.Stimulus(np.stack([IMG, IMG]), [0.0, 10.0], [4.0, 4.0])
PROTO = spiking.Protocol(n_samples=1, delay_ms=10.0, gap_ms=5.0, after_ms=5.0)

LM = snn.build_model("astrosnn", 10, 8, 1, key=K, chunk=8)
LSTM = snn.build_model("lstm", 3, 8, 1, key=K)
VOCAB = snn.Vocab("abc")
DATA = snn.CharData("abcabcabca" * 30)
TASK = snn.RetentionTask("recall", 8, multiple=8, pairs=2, keys=4, values=4)
TOK = jnp.zeros((8,), jnp.int32)
KRON = learning.SymmetricKronecker.from_patterns(XI)
SPEC = nam.SweepSpec(n_grid={"hopfield": (16,)}, trials=8, batch=8, max_evals=3)


def _loss(p, batch):
    return jnp.sum(p.coeffs**2), None


OPT = learning.make_optimizer("adam", 0.1)
STATE = learning.TrainState(
    params=KRON, opt_state=OPT.init(eqx.filter(KRON, eqx.is_array)), step=jnp.asarray(0, jnp.int32), key=K
)


def _sweep_result():
    return nam.run_sweep(SPEC, os.path.join(TMP, "sweep"), progress=False)


def _checkpoint():
    path = os.path.join(TMP, "ckpt.eqx")
    if not os.path.exists(path):
        learning.train(KRON, _loss, OPT, lambda k: 0.0, steps=1, checkpoint=path, progress=False)
    return path


def _lm_checkpoint():
    path = os.path.join(TMP, "lm.eqx")
    if not os.path.exists(path):
        snn.train_lm("lstm", DATA, d=8, layers=1, chunk=8, length=8, batch=2, steps=1, checkpoint=path, progress=False)
    return path


def _shards():
    dirs = [os.path.join(TMP, f"shard{i}") for i in (1, 2)]
    for i, d in enumerate(dirs, start=1):
        nam.run_sweep(SPEC, d, progress=False, shard=(i, 2))
    return dirs


P, I, F = bad_int, bad_instance, bad_number  # short names for the table
POS = dict(minimum=0.0, open_min=True)
FRAC = dict(minimum=0.0, maximum=1.0)

# --- the table: every exported callable ------------------------------------------------------------------------
# Functions that read or write files may also raise the OSError of the file system, naming the path.
IO_ERRORS = (ValueError, TypeError, OSError)
RESULT = "a result or state container that nam builds and returns; its fields are checked where it is used"
ABSTRACT = "an abstract base: instantiating it raises TypeError by design; its subclasses are rows"
EXCEPTION = "an exception class raised by nam"
LAGRANGIANS = {
    cls: Fuzz(cls, {}, {"beta": F(**POS)}, returns(cls))
    for cls in (nam.LogCosh, nam.Softplus, nam.Exponential, nam.LogSumExp)
}
TABLE = {
    **{
        getattr(nam, n): Exempt(ABSTRACT)
        for n in (
            "AbstractAstrocyteTensor",
            "AbstractBinaryModel",
            "AbstractDenseTensor",
            "AbstractEnergyModel",
            "AbstractLagrangian",
            "AbstractSeparation",
            "AbstractSingleLayerModel",
        )
    },
    **{
        obj: Exempt(RESULT)
        for obj in (
            nam.BinaryRetrieval,
            nam.BlockSpectrum,
            nam.HiddenState,
            nam.JacobianSpectrum,
            nam.NeuronAstrocyteState,
            nam.Retrieval,
            nam.Status,
            nam.SweepResult,
            capacity.BootstrapCI,
            capacity.CrossingResult,
            capacity.PowerLawFit,
            capacity.RetrievalOutcome,
            learning.LossAux,
            learning.TrainState,
            spiking.SpikingRun,
        )
    },
    **{
        obj: Exempt(EXCEPTION)
        for obj in (
            nam.SpecMismatch,
            nam.SweepInterrupted,
            learning.CheckpointError,
            learning.NonFiniteLoss,
            learning.TrainInterrupted,
        )
    },
    **LAGRANGIANS,
    nam.Identity: Fuzz(nam.Identity, {}, {}, returns(nam.Identity)),
    nam.RectifiedPower: Fuzz(nam.RectifiedPower, {}, {"n": F(minimum=1.0)}, returns(nam.RectifiedPower)),
    nam.SphericalNorm: Fuzz(nam.SphericalNorm, {}, {"eps": F(**POS)}, returns(nam.SphericalNorm)),
    nam.Polynomial: Fuzz(nam.Polynomial, {}, {"degree": P(2)}, returns(nam.Polynomial)),
    nam.RectifiedPolynomial: Fuzz(nam.RectifiedPolynomial, {}, {"degree": P(2)}, returns(nam.RectifiedPolynomial)),
    nam.ExponentialSeparation: Fuzz(
        nam.ExponentialSeparation, {}, {"beta": F(**POS)}, returns(nam.ExponentialSeparation)
    ),
    nam.ClassicalHopfield: Fuzz(
        nam.ClassicalHopfield,
        dict(patterns=XI),
        dict(
            patterns=bad_array(XI, pm1=True),
            lagrangian=I(),
            zero_diagonal=bad_bool(),
            tau=F(**POS),
            b=bad_array(XI[0]),
            mask=st.sampled_from([np.ones(2), np.zeros(2, bool), np.ones(3, bool), "x"]),
        ),
        returns(nam.ClassicalHopfield),
    ),
    nam.DenseAssociativeMemory: Fuzz(
        nam.DenseAssociativeMemory,
        dict(patterns=XI),
        dict(
            patterns=bad_array(XI, pm1=True),
            separation=I(),
            lagrangian=I(),
            scale=F(**POS),
            tau=F(**POS),
            b=bad_array(XI[0]),
            mask=st.sampled_from([np.ones(2), np.zeros(2, bool), np.ones(3, bool)]),
        ),
        returns(nam.DenseAssociativeMemory),
    ),
    nam.HebbianTensor: Fuzz(
        nam.HebbianTensor,
        dict(patterns=XI),
        dict(
            patterns=bad_array(XI, pm1=True),
            scale=F(**POS),
            distinct_indices=bad_bool(),
            mask=st.sampled_from([np.ones(2), np.zeros(2, bool), np.ones(3, bool)]),
        ),
        returns(nam.HebbianTensor),
    ),
    nam.DenseTensor: Fuzz(
        nam.DenseTensor, dict(tensor=T4), dict(tensor=bad_array(T4), scale=F()), returns(nam.DenseTensor)
    ),
    nam.KroneckerTensor: Fuzz(
        nam.KroneckerTensor,
        dict(coeffs=np.ones(2), mats=np.stack([np.eye(3)] * 2)),
        dict(coeffs=bad_array(np.ones(2)), mats=bad_array(np.stack([np.eye(3)] * 2)), scale=F()),
        returns(nam.KroneckerTensor),
    ),
    nam.HiddenNeuronDAM: Fuzz(
        nam.HiddenNeuronDAM,
        dict(patterns=XI),
        dict(
            patterns=bad_array(XI),
            feature_lagrangian=I(),
            hidden_lagrangian=I(),
            tau_f=F(**POS),
            tau_h=F(**POS),
            inputs=bad_array(XI[0]),
        ),
        returns(nam.HiddenNeuronDAM),
    ),
    nam.NeuronAstrocyte: Fuzz(
        nam.NeuronAstrocyte,
        dict(tensor=HEB),
        dict(
            tensor=st.one_of(I(), st.just(T4)),
            neuron_lagrangian=I(),
            synapse_lagrangian=I(),
            process_lagrangian=I(),
            lam=F(minimum=0.0),
            alpha=F(minimum=0.0),
            gamma=F(minimum=0.0),
            tau_n=F(**POS),
            tau_s=F(**POS),
            tau_p=F(**POS),
            b=bad_array(XI[0]),
            c=bad_array(np.eye(4)),
            d=bad_array(np.eye(4)),
        ),
        returns(nam.NeuronAstrocyte),
    ),
    nam.NeuronAstrocyteEffective: Fuzz(
        nam.NeuronAstrocyteEffective,
        dict(tensor=HEB),
        dict(tensor=st.one_of(I(), st.just(XI)), lagrangian=I(), tau=F(**POS), b=bad_array(XI[0])),
        returns(nam.NeuronAstrocyteEffective),
    ),
    nam.SolverConfig: Fuzz(
        nam.SolverConfig,
        {},
        dict(
            solver=bad_choice(("tsit5", "dopri5", "euler", "heun", "kvaerno5")),
            adaptive=bad_bool(),
            dt0=F(**POS),
            t1=F(**POS),
            rtol=F(**POS),
            atol=F(**POS),
            steady_state=bad_bool(),
            steady_rtol=F(**POS),
            steady_atol=F(**POS),
            max_steps=P(1),
            adjoint=bad_choice(("recursive", "implicit")),
            adjoint_rtol=F(**POS),
            adjoint_atol=F(**POS),
            adjoint_max_steps=P(1),
            divergence_factor=F(minimum=1.0),
            stepsize_controller=st.sampled_from(["pid", 3, object()]),
        ),
        returns(nam.SolverConfig),
    ),
    nam.SweepSpec: Fuzz(
        nam.SweepSpec,
        dict(n_grid={"hopfield": (16,)}),
        dict(
            n_grid=st.sampled_from(
                [
                    None,
                    {},
                    {"bogus": (16,)},
                    {"hopfield": None},
                    {"hopfield": ()},
                    {"hopfield": (1,)},
                    {"hopfield": (16.5,)},
                    {"hopfield": "16"},
                    [("hopfield", (16,))],
                ]
            ),
            rho=F(minimum=0.0, maximum=0.5, open_max=True),
            trials=P(1),
            batch=P(1),
            seed=P(0),
            criterion=bad_choice(("retrieved", "fixed_point")),
            level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
            rel_tol=F(**POS),
            max_evals=P(1),
            k_max=P(1),
            cues_per_set=P(1),
            step_factor=F(**POS),
        ),
        returns(nam.SweepSpec),
        names={"n_grid": "n_grid"},
    ),
    nam.flip_bits: Fuzz(
        nam.flip_bits,
        dict(key=K, pattern=X0, fraction=0.2),
        dict(key=bad_key(), pattern=bad_array(XI[0], pm1=True), fraction=F(**FRAC)),
    ),
    nam.random_patterns: Fuzz(
        nam.random_patterns,
        dict(key=K, k=3, n=8),
        dict(key=bad_key(), k=P(1, huge=True), n=P(2, huge=True)),
        names={"k": "k", "n": "n"},
    ),
    nam.overlap: Fuzz(nam.overlap, dict(a=X0, b=X0), dict(a=bad_array(XI[0]), b=bad_array(XI[0]))),
    nam.retrieve: Fuzz(
        nam.retrieve,
        dict(model=DAM, cue=X0, config=FAST),
        dict(
            model=I(),
            cue=bad_array(XI[0]),
            config=I(optional=True),
            settle_blocks=bad_bool(),
            energy_ts=st.one_of(
                bad_array(np.array([0.0, 1.0])),
                st.sampled_from([np.array([2.0, 1.0]), np.array([0.0, 1e9]), np.array([-1.0, 1.0])]),
            ),
            state0=st.sampled_from([X0, {"x": X0}]),
        ),
        names={"state0": "cue"},
    ),
    nam.retrieve_batch: Fuzz(
        nam.retrieve_batch,
        dict(model=DAM, cues=jnp.asarray(XI), config=FAST),
        dict(
            model=I(),
            cues=bad_array(XI),
            config=I(optional=True),
            settle_blocks=bad_bool(),
            chunk_size=P(1),
            energy_ts=st.sampled_from([np.array([2.0, 1.0]), np.array([0.0, 1e9]), np.ones((2, 2)), "t"]),
        ),
    ),
    nam.retrieve_binary: Fuzz(
        nam.retrieve_binary,
        dict(model=HOP, cue=X0),
        dict(
            model=st.one_of(I(), st.just(DAM)),
            cue=bad_array(XI[0], pm1=True),
            mode=bad_choice(("async", "sync")),
            max_sweeps=P(1),
            key=bad_key(),
        ),
    ),
    nam.settle: Fuzz(
        nam.settle,
        dict(model=FULL, state=FULL.init_state(X0), config=FAST),
        dict(
            model=st.one_of(I(), st.just(HOP)),
            state=st.sampled_from(
                [
                    X0,
                    None,
                    nam.NeuronAstrocyteState(X0, jnp.full((4, 4), NAN), jnp.eye(4)),
                    nam.NeuronAstrocyteState(X0, jnp.eye(3), jnp.eye(4)),
                ]
            ),
            config=I(optional=True),
        ),
    ),
    nam.jacobian_spectrum: Fuzz(
        nam.jacobian_spectrum,
        dict(model=FULL, state=FULL.init_state(X0)),
        dict(
            model=st.one_of(I(), st.just(HOP.patterns)),
            state=st.sampled_from([X0, None, nam.NeuronAstrocyteState(X0, jnp.full((4, 4), INF), jnp.eye(4))]),
            symmetric=bad_bool(),
            tol=F(minimum=0.0),
            max_size=P(1, huge=False),
        ),
        returns(nam.JacobianSpectrum),
    ),
    nam.status_ok: Fuzz(
        nam.status_ok,
        dict(status=jnp.zeros(3, jnp.int32)),
        dict(status=st.sampled_from([jnp.zeros(3), "ok", None, jnp.ones(2, bool), [0, 1]]), time_limit_ok=bad_bool()),
    ),
    # sweeps
    nam.preset: Fuzz(
        nam.preset,
        dict(name="default"),
        dict(name=bad_choice(("default", "full", "crossover"))),
        names={"name": ("name", "preset")},
    ),
    nam.plan_sweep: Fuzz(nam.plan_sweep, dict(spec=SPEC), dict(spec=I()), anything),
    nam.format_plan: Fuzz(
        nam.format_plan,
        lambda: dict(spec=SPEC, rows=nam.plan_sweep(SPEC)),
        dict(spec=I(), rows=st.sampled_from([None, 3, "rows", [3], [{"model": "x"}]])),
        anything,
    ),
    nam.shard_pairs: Fuzz(
        nam.shard_pairs, dict(spec=SPEC, index=1, count=2), dict(spec=I(), index=P(1, maximum=2), count=P(1)), anything
    ),
    nam.run_sweep: Fuzz(
        nam.run_sweep,
        dict(spec=SPEC, out_dir=None, progress=False),
        dict(
            spec=I(),
            out_dir=st.sampled_from([5, FILE, os.path.join(FILE, "sub"), 1.5]),
            progress=bad_bool(),
            max_new_rows=P(0),
            shard=st.sampled_from([(0, 2), (3, 2), "1/2", (1,), (1.5, 2)]),
            workers=P(1),
        ),
        returns(nam.SweepResult),
        errors=IO_ERRORS,
        names={"out_dir": ("out_dir", TMP)},
    ),
    nam.load_sweep: Fuzz(
        nam.load_sweep,
        lambda: (_sweep_result(), dict(out_dir=os.path.join(TMP, "sweep")))[1],
        dict(out_dir=st.sampled_from([5, None, FILE, os.path.join(TMP, "none")])),
        returns(nam.SweepResult),
        errors=IO_ERRORS,
        names={"out_dir": ("out_dir", TMP)},
    ),
    nam.merge_sweeps: Fuzz(
        nam.merge_sweeps,
        lambda: dict(out_dir=os.path.join(TMP, "merged"), shard_dirs=_shards()),
        dict(
            out_dir=st.sampled_from([5, None, FILE]),
            shard_dirs=st.sampled_from([[], None, 5, "dir", [5], [os.path.join(TMP, "none")]]),
        ),
        returns(nam.SweepResult),
        names={"shard_dirs": ("shard", "folder", TMP), "out_dir": ("out_dir", TMP)},
        errors=IO_ERRORS,
    ),
    nam.format_summary: Fuzz(nam.format_summary, lambda: dict(result=_sweep_result()), dict(result=I()), anything),
    nam.write_sweep_figures: Fuzz(
        nam.write_sweep_figures,
        lambda: dict(result=_sweep_result(), out_dir=os.path.join(TMP, "figs")),
        dict(result=I(), out_dir=st.sampled_from([5, None, FILE])),
        anything,
    ),
    nam.initialize_distributed: Fuzz(
        nam.initialize_distributed,
        dict(coordinator="localhost:1", num_processes=2, process_id=0),
        dict(
            coordinator=st.sampled_from([5, b"host:1", "nocolon", 1.5]),
            num_processes=bad_int(1).filter(lambda v: v is not None),
            process_id=st.one_of(
                st.integers(min_value=2, max_value=100), st.integers(max_value=-1), st.sampled_from([1.5, True, "0"])
            ),
        ),
        anything,
        skip_baseline="a valid call joins a 2-process job and waits for the other process",
    ),
    # capacity
    capacity.amit_capacity: Fuzz(capacity.amit_capacity, dict(n=100), dict(n=F(**POS))),
    capacity.no_error_capacity: Fuzz(
        capacity.no_error_capacity, dict(n=100), dict(n=F(**POS), degree=P(2), distinct_indices=bad_bool())
    ),
    capacity.fixed_point_capacity: Fuzz(
        capacity.fixed_point_capacity,
        dict(n=100),
        dict(
            n=F(**POS),
            degree=P(2),
            level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
            finite_size=bad_bool(),
            distinct_indices=bad_bool(),
        ),
    ),
    capacity.fixed_point_fraction_at_no_error_load: Fuzz(
        capacity.fixed_point_fraction_at_no_error_load, dict(n=100), dict(n=F(**POS))
    ),
    capacity.normal_cdf: Fuzz(capacity.normal_cdf, dict(x=0.5), dict(x=st.sampled_from([NAN, "a", None, 1j, True]))),
    capacity.snr: Fuzz(
        capacity.snr,
        dict(n=100, k=5),
        dict(n=F(**POS), k=F(minimum=0.0), degree=P(2), finite_size=bad_bool(), distinct_indices=bad_bool()),
    ),
    capacity.bit_error_probability: Fuzz(
        capacity.bit_error_probability,
        dict(n=100, k=5),
        dict(n=F(**POS), k=F(minimum=0.0), degree=P(2), finite_size=bad_bool(), distinct_indices=bad_bool()),
    ),
    capacity.fixed_point_fraction: Fuzz(
        capacity.fixed_point_fraction,
        dict(n=100, k=5),
        dict(n=F(**POS), k=F(minimum=0.0), degree=P(2), finite_size=bad_bool(), distinct_indices=bad_bool()),
    ),
    capacity.self_coupling_capacity: Fuzz(
        capacity.self_coupling_capacity,
        dict(n=32),
        dict(n=F(**POS), beta=F(**POS), rho=F(minimum=0.0, maximum=0.5, open_max=True), scale=F(**POS)),
    ),
    capacity.double_factorial: Fuzz(capacity.double_factorial, dict(m=7), dict(m=P(-1)), anything),
    capacity.student_t_quantile: Fuzz(
        capacity.student_t_quantile,
        dict(q=0.9, dof=3.0),
        dict(q=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True), dof=F(**POS)),
    ),
    capacity.fit_power_law: Fuzz(
        capacity.fit_power_law,
        dict(n=[10.0, 20.0, 40.0], k_star=[1.0, 2.1, 3.9]),
        dict(
            n=bad_array([10.0, 20.0, 40.0], nonneg=True),
            k_star=bad_array([1.0, 2.1, 3.9], nonneg=True),
            level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
        ),
        returns(capacity.PowerLawFit),
    ),
    capacity.bootstrap_ci: Fuzz(
        capacity.bootstrap_ci,
        dict(samples=[1.0, 2.0, 3.0], statistic=np.mean, key_or_seed=0, n_boot=20),
        dict(
            samples=bad_array([1.0, 2.0, 3.0]),
            statistic=bad_callable(),
            key_or_seed=st.sampled_from([-1, "a", True, 1.5]),
            n_boot=P(2),
            level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
        ),
        returns(capacity.BootstrapCI),
    ),
    capacity.find_crossing: Fuzz(
        capacity.find_crossing,
        dict(evaluate=lambda k: (max(0, 8 - k), 8), k0=4, n_boot=20),
        dict(
            evaluate=st.sampled_from([None, 3, lambda k: (9, 8), lambda k: (1, 0), lambda k: "x", lambda k: (1.5, 8)]),
            k0=P(1),
            level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
            k_min=P(1),
            k_max=P(1),
            rel_tol=F(minimum=0.0),
            max_evals=P(1),
            n_boot=P(2),
            ci_level=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
            seed=P(0),
        ),
        returns(capacity.CrossingResult),
        names={"k_min": ("k_min", "k0"), "k_max": ("k_max", "k0")},
    ),
    capacity.one_step_stable_bits: Fuzz(
        capacity.one_step_stable_bits,
        dict(model=HOP, mu=0),
        dict(model=st.one_of(I(), st.just(EFF)), mu=P(0, maximum=1)),
    ),
    capacity.is_fixed_point: Fuzz(
        capacity.is_fixed_point, dict(model=HOP, mu=0), dict(model=st.one_of(I(), st.just(EFF)), mu=P(0, maximum=1))
    ),
    capacity.retrieval_outcome: Fuzz(
        capacity.retrieval_outcome,
        dict(model=HOP, mu=0, key=K, rho=0.2),
        dict(
            model=st.one_of(I(), st.just(EFF)),
            mu=P(0, maximum=1),
            key=bad_key(),
            rho=F(**FRAC),
            mode=bad_choice(("async", "sync")),
            max_sweeps=P(1),
        ),
        returns(capacity.RetrievalOutcome),
    ),
    # learning
    learning.SymmetricKronecker: Fuzz(
        learning.SymmetricKronecker,
        dict(params=np.ones((2, 4))),
        dict(
            params=bad_array(np.ones((2, 4))),
            coeffs=bad_array(np.ones(2)),
            scale=F(),
            form=bad_choice(("outer", "full")),
        ),
        returns(learning.SymmetricKronecker),
    ),
    learning.SymmetrizedDense: Fuzz(
        learning.SymmetrizedDense,
        dict(raw=np.ones((2, 2, 2, 2))),
        dict(raw=bad_array(np.ones((2, 2, 2, 2))), scale=F()),
        returns(learning.SymmetrizedDense),
    ),
    learning.build_energy_model: Fuzz(
        learning.build_energy_model,
        dict(tensor=HEB),
        dict(
            tensor=st.one_of(I(), st.just(XI)),
            model=bad_choice(("effective", "full")),
            lagrangian=I(),
            model_kwargs=st.sampled_from([3, "x", {"tau": -1.0}, {"nope": 1}]),
        ),
        anything,
        names={"model_kwargs": ("model_kwargs", "tau", "nope")},
    ),
    learning.tensor_parameter_count: Fuzz(
        learning.tensor_parameter_count, dict(tensor=KRON), dict(tensor=st.one_of(I(), st.just(HEB))), anything
    ),
    learning.digit_patterns: Fuzz(learning.digit_patterns, dict(side=8), dict(side=P(3, huge=True))),
    learning.make_optimizer: Fuzz(
        learning.make_optimizer,
        dict(name="adamw", learning_rate=0.1, schedule_steps=10, clip=1.0, weight_decay=0.01),
        dict(
            name=bad_choice(("adam", "sgd", "adamw")),
            learning_rate=F(**POS),
            schedule_steps=P(1),
            warmup=P(0),
            clip=F(**POS),
            weight_decay=F(minimum=0.0),
        ),
        anything,
        names={"name": "optimizer"},
    ),
    learning.retrieval_loss: Fuzz(
        learning.retrieval_loss,
        dict(tensor=HEB, cues=jnp.asarray(XI), targets=jnp.asarray(XI), config=FAST),
        dict(
            tensor=st.one_of(I(), st.just(XI)),
            cues=bad_array(XI),
            targets=bad_array(XI, pm1=True),
            config=I(optional=True),
            model=bad_choice(("effective", "full")),
            kind=bad_choice(("mse", "hinge")),
            state_margin=F(),
            margin=F(),
            stability_weight=F(minimum=0.0),
            patterns=bad_array(XI, pm1=True),
        ),
    ),
    learning.train: Fuzz(
        learning.train,
        dict(
            params=KRON,
            loss_fn=_loss,
            optimizer=learning.make_optimizer("adam", 0.1),
            sample_batch=lambda k: 0.0,
            steps=1,
            progress=False,
        ),
        dict(
            params=st.sampled_from([{"step": 3}, None]),
            loss_fn=bad_callable(),
            optimizer=I(),
            sample_batch=bad_callable(),
            steps=P(1),
            seed=P(0),
            checkpoint=st.sampled_from([5, FILE + "/sub/x.eqx", TMP]),
            checkpoint_every=P(1),
            eval_fn=bad_callable().filter(lambda v: v is not None),
            eval_every=P(0),
            progress=bad_bool(),
            stop_after=P(0),
            config=st.sampled_from(["x", {"f": object()}, 3]),
            restart=bad_bool(),
        ),
        anything,
    ),
    learning.checkpoint_config: Fuzz(
        learning.checkpoint_config,
        lambda: dict(path=_checkpoint()),
        dict(path=st.sampled_from([5, None, FILE, os.path.join(TMP, "none.eqx")])),
        anything,
        errors=IO_ERRORS,
        names={"path": ("path", TMP)},
    ),
    learning.load_checkpoint: Fuzz(
        learning.load_checkpoint,
        lambda: dict(path=_checkpoint(), template=STATE),
        dict(path=st.sampled_from([5, None, FILE, os.path.join(TMP, "none.eqx")]), template=I()),
        anything,
        errors=IO_ERRORS,
        names={"path": ("path", TMP)},
    ),
    # spiking
    spiking.Izhikevich: Fuzz(
        spiking.Izhikevich, {}, dict(a=F(**POS), b=F(), c=F(), d=F(), v_peak=F()), returns(spiking.Izhikevich)
    ),
    spiking.LiRinzel: Fuzz(
        spiking.LiRinzel,
        {},
        dict(c0=F(**POS), v4=F(**POS), alpha=F(**POS), tau_r=F(**POS), k3=F(**POS)),
        returns(spiking.LiRinzel),
    ),
    spiking.GordleevaNetwork: Fuzz(
        spiking.GordleevaNetwork,
        dict(side=7, block=4, stride=3),
        dict(
            neuron=I(),
            astrocyte=I(),
            i_app=F(),
            i_neuro=F(minimum=0.0),
            dt_ms=F(**POS, maximum=0.5),
            side=P(1, huge=True),
            block=P(1, huge=True),
            stride=P(1, huge=True),
            min_active=P(0),
            rate_rule=bad_choice(("per_neuron", "mean")),
            trigger=bad_choice(("retrigger", "rising")),
            window_ms=F(**POS),
            activity_window_ms=F(**POS),
            rate_hz=F(**POS),
            ca_threshold=F(**POS),
        ),
        returns(spiking.GordleevaNetwork),
        names={"side": "side", "block": ("block", "side"), "stride": ("stride", "side")},
    ),
    spiking.Stimulus: Fuzz(
        spiking.Stimulus,
        dict(images=np.stack([IMG, IMG]), onsets_ms=[0.0, 10.0], durations_ms=[4.0, 4.0]),
        dict(
            images=bad_array(np.stack([IMG, IMG]), binary=True),
            onsets_ms=bad_array([0.0, 10.0], nonneg=True),
            durations_ms=bad_array([4.0, 4.0], nonneg=True),
        ),
        returns(spiking.Stimulus),
        names={"onsets_ms": ("onsets_ms", "images"), "durations_ms": ("durations_ms", "images")},
    ),
    spiking.stack_stimuli: Fuzz(
        spiking.stack_stimuli,
        dict(stimuli=[STIM, STIM]),
        dict(stimuli=st.sampled_from([[], None, 5, [IMG], [STIM, IMG], "x"])),
        returns(spiking.Stimulus),
    ),
    spiking.simulate: Fuzz(
        spiking.simulate,
        dict(network=NET, stimulus=STIM, t_end_ms=20.0),
        dict(
            network=I(),
            stimulus=st.one_of(I(), st.just(IMG)),
            t_end_ms=F(minimum=0.0, extra=(1e9, 1e15)),
            record_every_ms=F(**POS),
            readouts_ms=st.sampled_from([[(5.0, 1.0)], [(0.0, NAN)], [(5.0, 500.0)], [1.0], "x", [(-1.0, 2.0)]]),
            snapshot_ms=st.sampled_from([[40.0], [NAN], [-1.0], "x"]),
            trace_neurons=st.sampled_from([[49], [-1], ["a"]]),
        ),
        returns(spiking.SpikingRun),
    ),
    spiking.simulate_batch: Fuzz(
        spiking.simulate_batch,
        dict(network=NET, stimuli=spiking.stack_stimuli([STIM]), t_end_ms=20.0),
        dict(network=I(), stimuli=st.one_of(I(), st.just(STIM)), t_end_ms=F(minimum=0.0, extra=(1e9, 1e15))),
        returns(spiking.SpikingRun),
    ),
    spiking.Protocol: Fuzz(
        spiking.Protocol,
        {},
        dict(
            n_samples=P(1),
            train_noise=F(**FRAC),
            present_ms=F(**POS),
            test_ms=F(**POS),
            delay_ms=F(minimum=0.0),
            gap_ms=F(minimum=0.0),
            after_ms=F(minimum=0.0),
            order=bad_choice(("blocked", "interleaved")),
            noise=bad_choice(("flip", "salt_and_pepper")),
            readout_ms=st.sampled_from([(), (-1.0,), (INF,), "x", None]),
        ),
        returns(spiking.Protocol),
    ),
    spiking.add_noise: Fuzz(
        spiking.add_noise,
        dict(key=K, image=IMG, level=0.2),
        dict(
            key=bad_key(),
            image=bad_array(IMG, binary=True),
            level=F(**FRAC),
            noise=bad_choice(("flip", "salt_and_pepper")),
        ),
    ),
    spiking.balanced_accuracy: Fuzz(
        spiking.balanced_accuracy,
        dict(response=IMG, target=IMG),
        dict(
            response=st.sampled_from([np.ones(3), np.ones((3, 3)), IMG * 1j, None, "x"]),
            target=st.sampled_from([np.ones(3), np.ones((3, 3)), IMG * 1j, None, "x", np.full((7, 7), NAN)]),
        ),
    ),
    spiking.load_digit: Fuzz(
        spiking.load_digit,
        dict(digit=0, side=8),
        dict(
            digit=st.one_of(P(0, maximum=9), st.just("ten")),
            side=P(3, huge=True),
            threshold=F(minimum=0.0, maximum=1.0, open_min=True),
        ),
    ),
    spiking.make_stimulus: Fuzz(
        spiking.make_stimulus,
        dict(key=K, patterns=IMG[None], test_index=0, test_noise=0.1, protocol=PROTO),
        dict(
            key=bad_key(),
            patterns=bad_array(IMG[None], binary=True),
            test_index=P(0, maximum=0),
            test_noise=F(**FRAC),
            protocol=I(),
        ),
        returns(spiking.Stimulus),
    ),
    spiking.run_trials: Fuzz(
        spiking.run_trials,
        dict(network=NET, patterns=IMG, test_noise=[0.1], trials=1, protocol=PROTO),
        dict(
            network=I(),
            patterns=bad_array(IMG, binary=True),
            test_noise=bad_array([0.1], nonneg=True),
            trials=P(1),
            test_index=P(0, maximum=0),
            protocol=st.one_of(I(), st.just(spiking.Protocol(delay_ms=1e9))),
            seed=P(0),
            chunk=P(1),
        ),
        anything,
    ),
    spiking.example_run: Fuzz(
        spiking.example_run,
        dict(network=NET, patterns=IMG, protocol=PROTO),
        dict(
            network=I(),
            patterns=bad_array(IMG, binary=True),
            test_noise=F(**FRAC),
            test_index=P(0, maximum=0),
            protocol=st.one_of(I(), st.just(spiking.Protocol(delay_ms=1e9))),
            seed=P(0),
            record_every_ms=F(**POS),
        ),
        anything,
    ),
    spiking.without_astrocytes: Fuzz(
        spiking.without_astrocytes, dict(network=NET), dict(network=I()), returns(spiking.GordleevaNetwork)
    ),
    # astrosnn
    snn.AMSU: Fuzz(
        snn.AMSU,
        dict(d_in=4, d_out=8, key=K, heads=2),
        dict(
            d_in=P(1, huge=True),
            d_out=P(1, huge=True),
            heads=P(1),
            decay=st.sampled_from([1.5, 0.0, "fast", [0.5, NAN], np.ones(3), True]),
            beta=F(),
            theta=F(),
            alpha=F(**POS),
            reset=bad_choice(("hard", "soft", "none")),
            surrogate=bad_choice(snn.SURROGATES),
            read=bad_choice(("membrane", "residual", "both", "gated")),
            normalise=bad_bool(),
        ),
        returns(snn.AMSU),
        names={"d_in": "d_in", "d_out": "d_out", "heads": "heads"},
    ),
    snn.AstroSNN: Fuzz(
        snn.AstroSNN,
        dict(vocab=10, d=8, layers=1, key=K, heads=2, chunk=8),
        dict(
            vocab=P(1, huge=True),
            d=P(1, huge=True),
            layers=P(1),
            heads=P(1),
            chunk=P(1),
            ffn_mult=P(1),
            astrocyte=bad_bool(),
        ),
        returns(snn.AstroSNN),
        names={"heads": "heads", "d": "`d`"},
    ),
    snn.RNNLM: Fuzz(
        snn.RNNLM,
        dict(vocab=10, d=8, layers=1, key=K),
        dict(vocab=P(1, huge=True), d=P(1, huge=True), layers=P(1), cell=bad_choice(("lstm", "gru"))),
        returns(snn.RNNLM),
    ),
    snn.TransformerLM: Fuzz(
        snn.TransformerLM,
        dict(vocab=10, d=8, layers=1, key=K, heads=2),
        dict(vocab=P(1, huge=True), d=P(1, huge=True), layers=P(1), heads=P(1), ffn_mult=P(1)),
        returns(snn.TransformerLM),
        names={"heads": "heads", "d": "`d`"},
    ),
    snn.AstrocyteAttentionLM: Fuzz(
        snn.AstrocyteAttentionLM,
        dict(vocab=10, d=8, layers=1, key=K, heads=2, num_features=8, orthogonal=False),
        dict(
            vocab=P(1, huge=True),
            d=P(1, huge=True),
            layers=P(1),
            heads=P(1),
            ffn_mult=P(1),
            num_features=P(1, huge=True),
            orthogonal=bad_bool(),
            feature_seed=P(0),
            qk_norm=bad_bool(),
            learned_features=bad_bool(),
            radius=F(**POS),
        ),
        returns(snn.AstrocyteAttentionLM),
        names={"heads": "heads", "d": "`d`"},
    ),
    snn.build_model: Fuzz(
        snn.build_model,
        dict(kind="astrosnn", vocab=10, d=8, layers=1, key=K, chunk=8),
        dict(kind=bad_choice(snn.MODEL_KINDS), vocab=P(1), d=P(1), layers=P(1), heads=P(1), chunk=P(1)),
        anything,
        names={"kind": "model", "d": "`d`"},
    ),
    snn.match_width: Fuzz(
        snn.match_width,
        dict(kind="lstm", vocab=10, target=1000, layers=1),
        dict(kind=bad_choice(snn.MODEL_KINDS), vocab=P(1), target=P(1), layers=P(1), heads=P(1)),
        anything,
        names={"kind": "model"},
    ),
    snn.parameter_count: Fuzz(snn.parameter_count, dict(model=LM), dict(model=I()), anything),
    snn.generate: Fuzz(
        snn.generate,
        dict(model=LM, prompt=jnp.array([1, 2], jnp.int32), steps=3, key=K),
        dict(
            model=st.one_of(I(), st.just(HOP)),
            prompt=bad_ints_array(np.array([1, 2]), 10),
            steps=P(1, huge=True),
            key=bad_key(),
            temperature=F(**POS),
        ),
    ),
    snn.sample_text: Fuzz(
        snn.sample_text,
        dict(model=LSTM, vocab=VOCAB, prompt="ab", n=3),
        dict(
            model=I(),
            vocab=st.one_of(I(), st.just(snn.Vocab("abcd"))),
            prompt=st.sampled_from(["", "xyz", 5, None]),
            n=P(1),
            seed=P(0),
            temperature=F(**POS),
        ),
        anything,
        names={"vocab": ("vocab", "vocabulary"), "prompt": ("prompt", "vocabulary")},
    ),
    snn.sequence_loss: Fuzz(
        snn.sequence_loss,
        dict(model=LM, tokens=TOK[None], targets=TOK[None]),
        dict(
            model=I(),
            tokens=bad_ints_array(np.zeros((1, 8), int), 10),
            targets=bad_ints_array(np.zeros((1, 8), int), 10),
            mask=st.sampled_from([jnp.ones((2, 4), bool), jnp.ones((1, 8)), "x"]),
            form=bad_choice(("parallel", "recurrent")),
        ),
    ),
    snn.spike: Fuzz(
        snn.spike,
        dict(v=jnp.ones(2)),
        dict(v=st.sampled_from([None, "x", jnp.ones(2, bool)]), kind=bad_choice(snn.SURROGATES), alpha=F(**POS)),
        names={"kind": "surrogate"},
    ),
    snn.surrogate_derivative: Fuzz(
        snn.surrogate_derivative,
        dict(v=jnp.ones(2)),
        dict(v=st.sampled_from([None, "x", jnp.ones(2, bool)]), kind=bad_choice(snn.SURROGATES), alpha=F(**POS)),
        names={"kind": "surrogate"},
    ),
    snn.RetentionTask: Fuzz(
        snn.RetentionTask,
        {},
        dict(
            kind=bad_choice(("recall", "copy")),
            max_delay=P(0, huge=True),
            multiple=P(1),
            pairs=P(1),
            keys=P(1),
            values=P(1),
            copy_length=P(1),
            symbols=P(1),
        ),
        returns(snn.RetentionTask),
        names={"kind": "task", "pairs": ("pairs", "keys"), "keys": ("keys", "pairs")},
    ),
    snn.Vocab: Fuzz(
        snn.Vocab, dict(chars="abc"), dict(chars=st.sampled_from(["", "aa", 5, None, ["a"]])), returns(snn.Vocab)
    ),
    snn.CharData: Fuzz(
        snn.CharData,
        dict(text="abcabc"),
        dict(
            text=st.sampled_from(["", 5, None, b"abc"]),
            train_fraction=F(minimum=0.0, maximum=1.0, open_min=True, open_max=True),
            vocab=st.one_of(I(), st.just(snn.Vocab("ab"))),
        ),
        returns(snn.CharData),
        names={"vocab": ("vocab", "vocabulary")},
    ),
    snn.load_text: Fuzz(
        snn.load_text,
        {},
        dict(
            path=st.sampled_from([5, FILE + "/x", os.path.join(TMP, "none.txt")]), corpus=bad_choice(tuple(snn.CORPORA))
        ),
        anything,
        errors=IO_ERRORS,
        names={"path": ("path", TMP)},
    ),
    snn.load_model: Fuzz(
        snn.load_model,
        lambda: dict(checkpoint=_lm_checkpoint()),
        dict(checkpoint=st.sampled_from([5, None, FILE, os.path.join(TMP, "none.eqx")]), vocab=I()),
        anything,
        errors=IO_ERRORS,
        names={"checkpoint": ("checkpoint", TMP), "vocab": ("vocab", TMP)},
    ),
    snn.bits_per_char: Fuzz(
        snn.bits_per_char,
        dict(model=LM, data=DATA, length=8, max_windows=2, batch=2),
        dict(model=I(), data=st.one_of(I(), st.just("abc")), length=P(1, huge=True), max_windows=P(1), batch=P(1)),
    ),
    snn.retention_accuracy: Fuzz(
        snn.retention_accuracy,
        dict(model=LM, task=TASK, delays=[0], trials=2),
        dict(
            model=I(),
            task=I(),
            delays=st.sampled_from([[9], [-1], [True], [2.0], "x", [], None]),
            trials=P(1),
            seed=P(0),
        ),
        names={"delays": "delay"},
    ),
    snn.astrocyte_trace: Fuzz(
        snn.astrocyte_trace,
        dict(model=LM, tokens=TOK[None]),
        dict(
            model=st.one_of(I(), st.just(snn.build_model("lif", 10, 8, 1, key=K, chunk=8))),
            tokens=bad_ints_array(np.zeros((1, 8), int), 10),
        ),
        anything,
        names={"model": ("model", "no astrocytes")},
    ),
    snn.remove_astrocyte_read: Fuzz(
        snn.remove_astrocyte_read,
        dict(model=LM),
        dict(model=st.one_of(I(), st.just(snn.build_model("lif", 10, 8, 1, key=K, chunk=8)))),
        anything,
        names={"model": ("model", "no astrocytes")},
    ),
    snn.train_lm: Fuzz(
        snn.train_lm,
        dict(kind="astrosnn", data=DATA, d=8, layers=1, chunk=8, length=8, batch=2, steps=1, progress=False),
        dict(
            kind=bad_choice(snn.MODEL_KINDS),
            data=I(),
            d=P(1, huge=True),
            layers=P(1),
            heads=P(1),
            chunk=P(1),
            steps=P(1),
            batch=P(1, huge=True),
            length=P(1),
            learning_rate=F(**POS),
            seed=P(0),
            eval_every=P(0),
            progress=bad_bool(),
            restart=bad_bool(),
            checkpoint=st.sampled_from([5, TMP]),
        ),
        anything,
        names={"kind": "model", "d": "`d`", "length": ("length", "chunk"), "chunk": "chunk", "batch": "`batch`"},
    ),
    snn.train_retention: Fuzz(
        snn.train_retention,
        dict(kind="lif", task=TASK, d=8, layers=1, chunk=8, batch=2, steps=1, progress=False),
        dict(
            kind=bad_choice(snn.MODEL_KINDS),
            task=I(),
            d=P(1, huge=True),
            layers=P(1),
            chunk=P(1),
            steps=P(1),
            batch=P(1, huge=True),
            learning_rate=F(**POS),
            seed=P(0),
            progress=bad_bool(),
        ),
        anything,
        names={"kind": "model", "d": "`d`", "chunk": "chunk", "batch": "`batch`"},
    ),
    # the extension API: the validation helpers a user's model calls, the sweep registry, fixed-step integration
    nam.check_patterns: Fuzz(
        nam.check_patterns,
        dict(name="patterns", patterns=XI, binary=True),
        dict(patterns=bad_array(XI, pm1=True), binary=bad_bool()),
        anything,
    ),
    nam.check_scalar: Fuzz(
        nam.check_scalar, dict(name="tau", x=1.0, positive=True), dict(x=F(**POS)), anything, names={"x": "tau"}
    ),
    nam.check_vector: Fuzz(
        nam.check_vector, dict(name="b", x=np.zeros(4), n=4), dict(x=bad_array(np.zeros(4))), anything, names={"x": "b"}
    ),
    nam.optional_vector: Fuzz(
        nam.optional_vector,
        dict(name="b", x=None, n=4),
        dict(x=st.one_of(bad_array(np.zeros(4)).filter(lambda v: v is not None))),
        anything,
        names={"x": "b"},
    ),
    nam.check_square: Fuzz(
        nam.check_square,
        dict(name="w", x=np.eye(4), n=4, symmetric=True),
        dict(x=bad_array(np.eye(4))),
        anything,
        names={"x": "w"},
    ),
    nam.optional_square: Fuzz(
        nam.optional_square,
        dict(name="w", x=None, n=4),
        dict(x=bad_array(np.eye(4)).filter(lambda v: v is not None)),
        anything,
        names={"x": "w"},
    ),
    nam.check_mask: Fuzz(
        nam.check_mask,
        dict(name="mask", mask=np.ones(2, bool), k=2),
        dict(mask=st.sampled_from([np.ones(3, bool), np.ones(2), "x", None, np.ones((2, 2), bool)]), k=P(1)),
        anything,
    ),
    nam.check_lagrangian: Fuzz(
        nam.check_lagrangian,
        dict(name="lagrangian", value=None, default=nam.LogCosh(1.0)),
        dict(value=bad_instance(optional=True)),
        anything,
        names={"value": "lagrangian"},
    ),
    nam.SweepModel: Exempt("a frozen record of a sweep model's facts; `register_sweep_model` checks its fields"),
    nam.register_sweep_model: Fuzz(
        nam.register_sweep_model,
        dict(model=nam.REGISTRY["hopfield"], replace=True),
        dict(model=bad_instance(), replace=bad_bool()),
        anything,
    ),
    nam.euler_trajectory: Fuzz(
        nam.euler_trajectory,
        dict(vector_field=lambda y: -y, y0=jnp.ones(3), steps=3, dt=0.1),
        dict(vector_field=bad_callable(), steps=P(1), dt=F(**POS)),
    ),
    # the applications: every experiment's constructor checks its declared options
    nam.experiments.AbstractExperiment: Exempt(ABSTRACT),
    nam.experiments.Option: Exempt(RESULT),
    nam.experiments.option: Fuzz(nam.experiments.option, dict(default=1, help="h"), {}, anything),
    **{
        cls: Fuzz(
            cls,
            base,
            {
                o.name: (
                    bad_bool()
                    if o.kind is bool
                    else bad_choice(o.choices)
                    if o.choices
                    else bad_int(0 if "seed" in o.name else 1, huge=True)
                    if o.kind is int
                    else bad_number(minimum=0.0, open_min=True)
                    if o.kind is float
                    else WRONG_TYPES.filter(lambda v: v is not None)
                )
                for o in cls.options()
                if not o.positional and o.name != "out"
            },
            anything,
            names={o.name: (o.name, o.flag) for o in cls.options()} | {"rho": ("rho", "n")},
        )
        for cls, base in (
            (nam.experiments.Demo, dict(n=8, k=2, trials=2, out=TMP)),
            (nam.experiments.Gordleeva, dict(trials=1, out=TMP)),
            (nam.experiments.LearnDigits, dict(steps=1, out=TMP)),
            (nam.experiments.LearnInpainting, dict(steps=1, out=TMP)),
            (nam.experiments.LearnGain, dict(steps=1, out=TMP)),
            (nam.experiments.AstroSNNRetention, dict(steps=1, out=TMP)),
            (nam.experiments.AstroSNNLM, dict(steps=1, out=TMP)),
            (nam.experiments.AstroSNNGenerate, dict(checkpoint=FILE)),
            (nam.experiments.Sweep, dict(out=TMP)),
        )
    },
    # the attention end of the family (Appendix C)
    attention.AbstractPositiveFeatures: Exempt(ABSTRACT),
    attention.AttentionState: Exempt(RESULT),
    attention.NetworkSolution: Exempt(RESULT),
    attention.PositiveRandomFeatures: Fuzz(
        attention.PositiveRandomFeatures,
        dict(dim=4, num_features=8),
        dict(dim=P(1, huge=True), num_features=P(1, huge=True), seed=P(0), orthogonal=bad_bool()),
        anything,
    ),
    attention.LearnedPositiveFeatures: Fuzz(
        attention.LearnedPositiveFeatures, dict(init=ATT_FEATURES), dict(init=I()), anything
    ),
    attention.AstrocyteAttention: Fuzz(
        attention.AstrocyteAttention,
        dict(features=ATT_FEATURES),
        dict(features=I(), causal=bad_bool(), chunk=P(1)),
        anything,
    ),
    attention.astrocyte_attention: Fuzz(
        attention.astrocyte_attention,
        dict(query=ATT_Q, key=ATT_Q, value=ATT_Q, features=ATT_FEATURES),
        dict(
            query=bad_array(ATT_Q),
            key=bad_array(ATT_Q),
            value=bad_array(ATT_Q),
            features=I(),
            causal=bad_bool(),
            scale=F(**POS),
            chunk=P(1),
        ),
    ),
    attention.softmax_attention: Fuzz(
        attention.softmax_attention,
        dict(query=ATT_Q, key=ATT_Q, value=ATT_Q),
        dict(query=bad_array(ATT_Q), key=bad_array(ATT_Q), value=bad_array(ATT_Q), causal=bad_bool(), scale=F(**POS)),
    ),
    attention.softmax_kernel: Fuzz(
        attention.softmax_kernel, dict(x=ATT_Q, y=ATT_Q), dict(x=bad_array(ATT_Q), y=bad_array(ATT_Q))
    ),
    attention.linear_attention: Fuzz(
        attention.linear_attention,
        dict(query_features=ATT_PHI, key_features=ATT_PHI, value=ATT_Q),
        dict(
            query_features=bad_array(ATT_PHI, nonneg=True),
            key_features=bad_array(ATT_PHI, nonneg=True),
            value=bad_array(ATT_Q),
            causal=bad_bool(),
            chunk=P(1),
        ),
    ),
    attention.hebbian_write: Fuzz(
        attention.hebbian_write,
        dict(values=ATT_Q, key_features=ATT_PHI),
        dict(values=bad_array(ATT_Q), key_features=bad_array(ATT_PHI, nonneg=True), mask=bad_array(np.ones(3))),
    ),
    attention.read_init: Fuzz(
        attention.read_init,
        dict(query_features=ATT_PHI[0], key_features=ATT_PHI, n=4),
        dict(
            query_features=bad_array(ATT_PHI[0], nonneg=True),
            key_features=bad_array(ATT_PHI, nonneg=True),
            n=P(1, huge=True),
            mask=bad_array(np.ones(3)),
        ),
    ),
    attention.AttentionNetwork: Fuzz(
        attention.AttentionNetwork,
        dict(c=np.ones((4, 8)), inputs=np.ones(8)),
        dict(
            c=bad_array(np.ones((4, 8))),
            inputs=bad_array(np.ones(8)),
            read=F(),
            tau_n=F(**POS),
            tau_s=F(**POS),
            tau_p=F(**POS),
        ),
        anything,
    ),
    attention.solve_network: Fuzz(
        attention.solve_network,
        lambda: dict(
            network=attention.AttentionNetwork(np.ones((4, 8)), np.ones(8)),
            state0=attention.AttentionNetwork(np.ones((4, 8)), np.ones(8)).init_state(np.full((4, 8), 0.5)),
            config=FAST,
        ),
        dict(network=I(), state0=I(), config=I(optional=True)),
        skip_baseline="its state comes from the network",
    ),
    # the sweep's figures
    **{
        fn: Fuzz(
            fn,
            lambda: dict(result=_sweep_result()),
            dict(result=st.sampled_from([None, 5, "x", {"rows": 1}])),
            anything,
        )
        for fn in (nam.plot_capacity, nam.plot_collapse, nam.plot_bit_errors, nam.plot_per_unit)
    },
    # the Appendix E network and its data, the Gordleeva experiments as computations
    learning.ReducedAstrocyteNet: Fuzz(
        learning.ReducedAstrocyteNet,
        dict(n=4, key=K),
        dict(n=P(2, huge=True), key=bad_key(), weight_scale=F()),
        anything,
    ),
    learning.image_patches: Fuzz(
        learning.image_patches, dict(side=16, tile=64), dict(side=P(1, huge=True), tile=P(1, huge=True)), anything
    ),
    learning.random_masks: Fuzz(
        learning.random_masks,
        dict(key=K, count=2),
        dict(key=bad_key(), count=P(1, huge=True), side=P(1, huge=True), holes=P(0), hole=P(1)),
        anything,
    ),
    learning.masked_input: Fuzz(
        learning.masked_input,
        dict(images=np.ones((2, 4)), masks=np.zeros((2, 4), bool)),
        dict(
            images=bad_array(np.ones((2, 4))),
            masks=st.sampled_from([None, "x", np.zeros((3, 4), bool), np.zeros((2, 4))]),
        ),
        anything,
    ),
    learning.mean_fill: Fuzz(
        learning.mean_fill,
        dict(images=np.ones((2, 4)), masks=np.zeros((2, 4), bool)),
        dict(
            images=bad_array(np.ones((2, 4))),
            masks=st.sampled_from([None, "x", np.zeros((3, 4), bool), np.zeros((2, 4))]),
        ),
        anything,
    ),
    learning.masked_rms: Fuzz(
        learning.masked_rms,
        dict(outputs=np.ones((2, 4)), images=np.ones((2, 4)), masks=np.ones((2, 4), bool)),
        dict(
            outputs=bad_array(np.ones((2, 4))),
            images=bad_array(np.ones((2, 4))),
            masks=st.sampled_from([None, "x", np.zeros((3, 4), bool), np.zeros((2, 4))]),
        ),
        anything,
    ),
    spiking.run_experiments: Fuzz(
        spiking.run_experiments,
        dict(network=NET, which=("noise",), trials=1, protocol=PROTO, example=False),
        dict(
            network=I(),
            which=st.sampled_from([("three",), "noise", None, (), 5]),
            trials=P(1),
            protocol=I(),
            seed=P(0),
            example=bad_bool(),
            on_result=bad_callable().filter(lambda v: v is not None),
        ),
        anything,
        skip_baseline="simulates 20 noise levels of the spiking network",
    ),
}

# Methods the issue names (not exports themselves, but where the silent inputs were): fuzzed as well.
_UNIT = snn.AMSU(4, 8, key=K, heads=2)
_TLM = snn.build_model("transformer", 10, 8, 1, key=K, heads=2)
METHODS = {
    "AstroSNN.step": Fuzz(
        lambda state, token: LM.step(state, token),
        dict(state=LM.init_state(), token=3),
        dict(token=st.one_of(bad_int(0, maximum=9), st.sampled_from([jnp.asarray([1, 2]), jnp.asarray(99)]))),
    ),
    "RNNLM.step": Fuzz(
        lambda state, token: LSTM.step(state, token),
        dict(state=LSTM.init_state(), token=1),
        dict(token=bad_int(0, maximum=2)),
    ),
    "TransformerLM.step": Fuzz(
        lambda state, token: _TLM.step(state, token),
        dict(state=_TLM.init_state(4), token=1),
        dict(token=bad_int(0, maximum=9)),
    ),
    "TransformerLM.init_state": Fuzz(
        lambda capacity: _TLM.init_state(capacity), dict(capacity=4), dict(capacity=P(1, huge=True)), anything
    ),
    "AMSU.parallel": Fuzz(
        lambda x, chunk: _UNIT.parallel(x, chunk=chunk),
        dict(x=jnp.ones((8, 4)), chunk=4),
        dict(x=bad_array(np.ones((8, 4))), chunk=st.one_of(P(1), st.just(3))),
    ),
    "AMSU.recurrent": Fuzz(lambda x: _UNIT.recurrent(x), dict(x=jnp.ones((8, 4))), dict(x=bad_array(np.ones((8, 4))))),
    "RetentionTask.batch": Fuzz(
        lambda key, size: TASK.batch(key, size),
        dict(key=K, size=2),
        dict(key=bad_key(), size=P(1, huge=True)),
        anything,
        names={"size": "size"},
    ),
    "CharData.batch": Fuzz(
        lambda key, size, length, split: DATA.batch(key, size, length, split),
        dict(key=K, size=2, length=8, split="train"),
        dict(key=bad_key(), size=P(1, huge=True), length=P(1, huge=True), split=bad_choice(("train", "val"))),
        anything,
        names={"size": "size", "length": "length"},
    ),
    "model.__call__": Fuzz(
        lambda tokens: LM(tokens), dict(tokens=TOK), dict(tokens=bad_ints_array(np.zeros(8, int), 10))
    ),
}


# --- the tests -------------------------------------------------------------------------------------------------
def _public(module):
    return {
        n: getattr(module, n)
        for n in dir(module)
        if not n.startswith("_") and type(getattr(module, n)).__name__ != "module"
    }


def exported_callables():
    """name -> object for every callable public name of nam and its namespaces (each object once)."""
    found = {}
    for name in ("",) + NAMESPACES:
        module = nam if not name else getattr(nam, name)
        for attr, obj in _public(module).items():
            if callable(obj) and all(obj is not o for o in found.values()):
                found[f"nam{'.' + name if name else ''}.{attr}"] = obj
    return found


def test_every_exported_callable_is_in_the_table():
    """A new export without a row fails here; so does a row for a name that is no longer exported."""
    exported = exported_callables()
    missing = [name for name, obj in exported.items() if obj not in TABLE]
    assert not missing, f"exported callables without a fuzz row: {missing}"
    stale = [obj for obj in TABLE if all(obj is not o for o in exported.values())]
    assert not stale, f"rows for names that are not exported: {stale}"
    fuzzed = sum(isinstance(row, Fuzz) for row in TABLE.values())
    print(
        f"{len(exported)} exported callables: {fuzzed} fuzzed, {len(exported) - fuzzed} exempt; "
        f"{len(METHODS)} methods fuzzed"
    )


def test_exempt_rows_give_reasons():
    for obj, row in TABLE.items():
        if isinstance(row, Exempt):
            assert len(row.reason) > 20, obj


@pytest.fixture(autouse=True)
def production_checks():
    """nam's own checks, as users meet them (the test run's jaxtyping/beartype hooks switched off)."""
    import jaxtyping

    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    yield
    jaxtyping.config.update("jaxtyping_disable", before)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    shutil.rmtree(TMP, ignore_errors=True)


def _label(obj):
    return getattr(obj, "__qualname__", None) or repr(obj)


ROWS = [
    pytest.param(
        row,
        id=f"{getattr(obj, '__module__', 'nam')}.{_label(obj)}",
        marks=[pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else [],
    )
    for obj, row in TABLE.items()
    if isinstance(row, Fuzz)
]
ROWS += [pytest.param(row, id=name) for name, row in METHODS.items()]
BASELINES = [pytest.param(p.values[0], id=p.id) for p in ROWS]  # without the xfail marks


def _check_one(row: Fuzz, argument: str, value):
    kwargs = row.kwargs()
    kwargs[argument] = value
    try:
        result = row.fn(**kwargs)
    except row.errors as e:
        words = row.names.get(argument, argument)
        words = (words,) if isinstance(words, str) else words
        message = str(e)
        assert any(w in message for w in words), (
            f"{_label(row.fn)}({argument}={_short(value)}): {type(e).__name__} does not name {words}: {message}"
        )
        return
    except Exception as e:  # anything else is a bug: a raw JAX/NumPy/Python error or a crash
        pytest.fail(f"{_label(row.fn)}({argument}={_short(value)}) raised {type(e).__name__}: {str(e)[:500]}")
    (row.contract or finite_or_flagged)(result)


def _short(v):
    text = repr(v) if not hasattr(v, "shape") else f"{type(v).__name__}{tuple(v.shape)} {getattr(v, 'dtype', '')}"
    return text if len(text) <= 60 else text[:57] + "..."


def _cases(row: Fuzz):
    return st.sampled_from(sorted(row.args)).flatmap(lambda a: row.args[a].map(lambda v: (a, v)))


def _run(row: Fuzz, profile: str):
    if not row.args:  # nothing to vary: the baseline itself must meet the contract
        (row.contract or finite_or_flagged)(row.fn(**row.kwargs()))
        return

    @settings(settings.get_profile(profile))
    @given(case=_cases(row))
    def check(case):
        _check_one(row, *case)

    check()


@pytest.mark.parametrize("row", ROWS)
def test_bad_arguments_are_refused_or_meet_the_contract(row):
    _run(row, PROFILE)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS)
def test_bad_arguments_are_refused_or_meet_the_contract_slow(row):
    """The same property under the hypothesis profile "slow": many examples, random seeds."""
    _run(row, "slow")


@pytest.mark.slow
@pytest.mark.parametrize("row", BASELINES)
def test_baselines_are_valid_calls(row):
    """The baseline of each row is a valid call that meets its contract (so each drawn bad value is the
    only thing wrong with a call)."""
    if row.skip_baseline:
        pytest.skip(row.skip_baseline)
    (row.contract or finite_or_flagged)(row.fn(**row.kwargs()))


def test_fuzz_profile_is_small_by_default():
    assert settings.get_profile("fuzz").max_examples == FAST_EXAMPLES and settings.get_profile("fuzz").derandomize
    assert settings.get_profile("slow").max_examples > 10 * FAST_EXAMPLES
