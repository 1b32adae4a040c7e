"""Bad input is refused before compute, by every public entry point (issue 16, part 3).

One table: (callable, keyword arguments, expected exception type, substring naming the argument). A wrong
type raises a TypeError (`nam._checks.ArgumentTypeError`, or the jaxtyping/beartype check the test run
adds to annotated functions); a wrong value (shape, size, range, NaN/inf, unknown name) a ValueError that
is not a TypeError. Each call must fail within a few seconds: nothing large is allocated or compiled first.
Sizes that cannot fit in memory are refused with an estimate (`nam._checks.check_memory`).
"""

import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam
from nam import astrosnn as snn
from nam import capacity, learning, spiking

K = jr.PRNGKey(0)
XI = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])
X0 = jnp.asarray(XI[0])
HOP = nam.ClassicalHopfield(XI)
DAM = nam.DenseAssociativeMemory(XI)
HEB = nam.HebbianTensor(XI)
EFF = nam.NeuronAstrocyteEffective(HEB)
FULL = nam.NeuronAstrocyte(HEB)
HID = nam.HiddenNeuronDAM(XI)
NAN, INF = float("nan"), float("inf")
BIG = 10**6

NET = spiking.GordleevaNetwork(side=7, block=4, stride=3)
IMG = np.zeros((7, 7))
IMG[2:5, 2:5] = 1.0
STIM = spiking.Stimulus(np.stack([IMG, IMG]), [0.0, 10.0], [4.0, 4.0])
PROTO = spiking.Protocol(n_samples=1, delay_ms=10.0)

LM = snn.build_model("astrosnn", 10, 8, 1, key=K, chunk=8)
VOCAB = snn.Vocab("abc")
DATA = snn.CharData("abcabcabca" * 30)
TASK = snn.RetentionTask("recall", 8)
TOK = jnp.zeros((2, 8), jnp.int32)


def _loss(p, batch):
    return jnp.sum(p.coeffs**2), None


KRON = learning.SymmetricKronecker.from_patterns(XI)
TRAIN = dict(
    params=KRON,
    loss_fn=_loss,
    optimizer=learning.make_optimizer("adam", 0.1),
    sample_batch=lambda k: 0.0,
    steps=2,
    progress=False,
)

CASES = []


def bad(fn, base, error, name, /, **changes):
    """One row: `fn(**{**base, **changes})` raises `error` with `name` in its message."""
    label = ",".join(f"{k}={_short(v)}" for k, v in changes.items()) or "default"
    CASES.append(pytest.param(fn, {**base, **changes}, error, name, id=f"{fn.__qualname__}[{label}]"))


def _short(v):
    text = repr(v) if not hasattr(v, "shape") else f"{type(v).__name__}{tuple(v.shape)}"
    return text if len(text) <= 24 else text[:21] + "..."


T, V = TypeError, ValueError

# --- patterns ------------------------------------------------------------------------------------------------
B = dict(key=K, k=3, n=8)
for k, e in ((0, V), (-1, V), (1.5, T), (True, T), ("3", T), (None, T), (jnp.asarray(3.0), T)):
    bad(nam.random_patterns, B, e, "k", k=k)
for n, e in ((1, V), (0, V), (2.0, T), (False, T)):
    bad(nam.random_patterns, B, e, "n", n=n)
bad(nam.random_patterns, B, V, "`k`, `n`", k=BIG, n=BIG)  # 10^12 entries: refused with a memory estimate
bad(nam.random_patterns, B, V, "`k`, `n`", k=10**9, n=10**9)
for key in (0, None, jnp.zeros(3, jnp.uint32), np.array([1.0, 2.0]), "key"):
    bad(nam.random_patterns, B, T, "key", key=key)

B = dict(key=K, pattern=X0, fraction=0.2)
for f, e in (
    (-0.1, V),
    (1.5, V),
    (NAN, V),
    (INF, V),
    (True, T),
    (0.2 + 0j, T),
    ("0.2", T),
    (None, T),
    (np.array([0.1, 0.2]), V),
):
    bad(nam.flip_bits, B, e, "fraction", fraction=f)
for p, e in (
    ([1.0, -1.0, 1.0], T),
    (jnp.asarray(XI), V),
    (jnp.zeros(0), V),
    (jnp.array([0.0, 1.0, 1.0, 0.0]), V),
    (jnp.array([True, False]), T),
    (jnp.array([1 + 0j, -1]), T),
    (jnp.array([1.0, NAN]), V),
    (None, T),
):
    bad(nam.flip_bits, B, e, "pattern", pattern=p)
bad(nam.flip_bits, B, T, "key", key=None)

B = dict(a=X0, b=X0)
for b, e in ((X0[:3], V), (jnp.asarray(XI), V), (jnp.array([1j, 1, 1, 1]), T), (jnp.ones(4, bool), T), (None, T)):
    bad(nam.overlap, B, e, "b", b=b)

# --- Lagrangians and separations ----------------------------------------------------------------------------
for cls in (nam.LogCosh, nam.Softplus, nam.Exponential, nam.LogSumExp):
    for beta, e in ((0.0, V), (-1.0, V), (NAN, V), (INF, V), (True, T), (1j, T), ("2", T), (None, T), (np.ones(2), V)):
        bad(cls, {}, e, "beta", beta=beta)
for n, e in ((1.0, V), (NAN, V), (False, T), ("3", T)):
    bad(nam.RectifiedPower, {}, e, "n", n=n)
for eps, e in ((0.0, V), (-1e-3, V), (INF, V), (True, T)):
    bad(nam.SphericalNorm, {}, e, "eps", eps=eps)
for cls in (nam.Polynomial, nam.RectifiedPolynomial):
    for degree, e in ((1, V), (0, V), (2.5, T), (True, T), ("3", T), (None, T)):
        bad(cls, {}, e, "degree", degree=degree)
for beta, e in ((0.0, V), (NAN, V), (True, T)):
    bad(nam.ExponentialSeparation, {}, e, "beta", beta=beta)

# --- models --------------------------------------------------------------------------------------------------
BAD_PATTERNS = (
    (np.ones((0, 4)), V),
    (np.ones((3, 1)), V),
    (np.ones(4), V),
    (np.array([[1.0, 0.5], [1.0, -1.0]]), V),
    (np.array([[1.0, NAN], [1.0, -1.0]]), V),
    (np.ones((2, 4), bool), T),
    (XI.astype(complex), T),
    (None, T),
    ("abc", T),
)
for cls in (nam.ClassicalHopfield, nam.DenseAssociativeMemory, nam.HebbianTensor):
    for p, e in BAD_PATTERNS:
        bad(cls, {}, e, "patterns", patterns=p)
for p, e in ((np.array([[0.3, INF], [2.0, 0.1]]), V), (np.ones((3,)), V), (np.ones((2, 2), bool), T), (None, T)):
    bad(nam.HiddenNeuronDAM, {}, e, "patterns", patterns=p)
for cls in (nam.ClassicalHopfield, nam.DenseAssociativeMemory):
    for kw, e, name in (
        ({"tau": 0.0}, V, "tau"),
        ({"tau": -1.0}, V, "tau"),
        ({"tau": NAN}, V, "tau"),
        ({"tau": True}, T, "tau"),
        ({"b": np.ones(3)}, V, "b"),
        ({"b": np.array([0.0, NAN, 0, 0])}, V, "b"),
        ({"b": np.ones(4, bool)}, T, "b"),
        ({"mask": np.ones(2)}, T, "mask"),
        ({"mask": np.zeros(2, bool)}, V, "mask"),
        ({"mask": np.ones(3, bool)}, V, "mask"),
        ({"lagrangian": "tanh"}, T, "lagrangian"),
    ):
        bad(cls, {"patterns": XI}, e, name, **kw)
bad(nam.ClassicalHopfield, {"patterns": XI}, T, "zero_diagonal", zero_diagonal="yes")
for kw, e, name in (
    ({"separation": "z^3"}, T, "separation"),
    ({"scale": -1.0}, V, "scale"),
    ({"scale": INF}, V, "scale"),
):
    bad(nam.DenseAssociativeMemory, {"patterns": XI}, e, name, **kw)
for kw, e, name in (
    ({"tau_f": 0.0}, V, "tau_f"),
    ({"tau_h": NAN}, V, "tau_h"),
    ({"inputs": np.ones(5)}, V, "inputs"),
    ({"feature_lagrangian": "tanh"}, T, "feature_lagrangian"),
    ({"hidden_lagrangian": 3}, T, "hidden_lagrangian"),
):
    bad(nam.HiddenNeuronDAM, {"patterns": XI}, e, name, **kw)
for kw, e, name in (
    ({"tau_n": 0.0}, V, "tau_n"),
    ({"tau_s": -2.0}, V, "tau_s"),
    ({"tau_p": INF}, V, "tau_p"),
    ({"alpha": -1.0}, V, "alpha"),
    ({"gamma": np.inf}, V, "gamma"),
    ({"lam": -0.5}, V, "lam"),
    ({"lam": True}, T, "lam"),
    ({"b": np.ones(5)}, V, "b"),
    ({"c": np.ones((4, 3))}, V, "c"),
    ({"d": np.arange(16.0).reshape(4, 4)}, V, "d"),
    ({"c": np.eye(4) * 1j}, T, "c"),
    ({"neuron_lagrangian": "tanh"}, T, "neuron_lagrangian"),
    ({"process_lagrangian": None, "synapse_lagrangian": 1.0}, T, "synapse_lagrangian"),
    ({"tensor": np.ones((4, 4, 4, 4))}, T, "tensor"),
    ({"tensor": None}, T, "tensor"),
):
    bad(nam.NeuronAstrocyte, {"tensor": HEB}, e, name, **kw)
for kw, e, name in (
    ({"tau": 0.0}, V, "tau"),
    ({"b": np.ones(2)}, V, "b"),
    ({"tensor": XI}, T, "tensor"),
    ({"lagrangian": "relu"}, T, "lagrangian"),
):
    bad(nam.NeuronAstrocyteEffective, {"tensor": HEB}, e, name, **kw)
for kw, e, name in (
    ({"tensor": np.ones((3, 3, 3))}, V, "tensor"),
    ({"tensor": np.full((2, 2, 2, 2), NAN)}, V, "tensor"),
    ({"tensor": np.ones((2, 2, 2, 2), bool)}, T, "tensor"),
    ({"scale": NAN}, V, "scale"),
):
    bad(nam.DenseTensor, {"tensor": np.ones((2, 2, 2, 2))}, e, name, **kw)
for kw, e, name in (
    ({"coeffs": np.ones(3)}, V, "coeffs"),
    ({"mats": np.ones((2, 3, 4))}, V, "mats"),
    ({"mats": np.stack([np.eye(3), np.triu(np.ones((3, 3)))])}, V, "mats"),
    ({"coeffs": np.array([1.0, NAN])}, V, "coeffs"),
):
    bad(nam.KroneckerTensor, {"coeffs": np.ones(2), "mats": np.stack([np.eye(3)] * 2)}, e, name, **kw)

# --- solver settings and continuous retrieval ----------------------------------------------------------------
for kw, e, name in (
    ({"solver": "rk4"}, V, "solver"),
    ({"solver": 5}, T, "solver"),
    ({"solver": "euler"}, V, "adaptive"),
    ({"adaptive": "yes"}, T, "adaptive"),
    ({"steady_state": 1}, T, "steady_state"),
    ({"dt0": -0.1}, V, "dt0"),
    ({"dt0": 0.0}, V, "dt0"),
    ({"t1": INF}, V, "t1"),
    ({"t1": NAN}, V, "t1"),
    ({"t1": True}, T, "t1"),
    ({"t1": 1j}, T, "t1"),
    ({"t1": np.ones(2)}, V, "t1"),
    ({"rtol": -1.0}, V, "rtol"),
    ({"atol": 1e-7 + 0j}, T, "atol"),
    ({"steady_rtol": NAN}, V, "steady_rtol"),
    ({"max_steps": 0}, V, "max_steps"),
    ({"max_steps": 1.5}, T, "max_steps"),
    ({"max_steps": True}, T, "max_steps"),
    ({"adjoint": "magic"}, V, "adjoint"),
    ({"adjoint": "implicit", "steady_state": False}, V, "steady_state"),
    ({"adjoint_rtol": 0.0}, V, "adjoint_rtol"),
    ({"adjoint_max_steps": 0}, V, "adjoint_max_steps"),
    ({"divergence_factor": 0.0}, V, "divergence_factor"),
    ({"divergence_factor": NAN}, V, "divergence_factor"),
):
    bad(nam.SolverConfig, {}, e, name, **kw)
for kw, e, name in (
    ({"steps": 0}, V, "steps"),
    ({"steps": 2.0}, T, "steps"),
    ({"dt": -1.0}, V, "dt"),
    ({"dt": NAN}, V, "dt"),
):
    bad(nam.SolverConfig.fixed_euler, {}, e, name, **kw)

B = dict(model=DAM, cue=X0)
for kw, e, name in (
    ({"model": None}, T, "model"),
    ({"model": "hopfield"}, T, "model"),
    ({"cue": np.ones(3)}, V, "cue"),
    ({"cue": np.array([1.0, NAN, 1, 1])}, V, "cue"),
    ({"cue": np.array([1.0, INF, 1, 1])}, V, "cue"),
    ({"cue": np.ones(4, bool)}, T, "cue"),
    ({"cue": X0.astype(jnp.complex128)}, T, "cue"),
    ({"cue": "x"}, T, "cue"),
    ({"cue": None}, V, "cue"),
    ({"state0": X0}, V, "cue"),
    ({"config": "tsit5"}, T, "config"),
    ({"settle_blocks": "yes"}, T, "settle_blocks"),
    ({"energy_ts": np.ones((2, 2))}, V, "energy_ts"),
    ({"energy_ts": np.array([0.0, NAN])}, V, "energy_ts"),
):
    bad(nam.retrieve, B, e, name, **kw)
bad(nam.retrieve, dict(model=FULL, cue=None), V, "state0", state0=X0)
bad(
    nam.retrieve,
    dict(model=FULL, cue=None),
    V,
    "state0",
    state0=nam.NeuronAstrocyteState(jnp.ones(3), jnp.eye(4), jnp.eye(4)),
)
bad(
    nam.retrieve,
    dict(model=FULL, cue=None),
    V,
    "state0",
    state0=nam.NeuronAstrocyteState(X0, jnp.full((4, 4), INF), jnp.eye(4)),
)
B = dict(model=DAM, cues=jnp.asarray(XI))
for kw, e, name in (
    ({"cues": jnp.zeros((0, 4))}, V, "cues"),
    ({"cues": X0}, V, "cues"),
    ({"cues": np.ones((2, 3))}, V, "cues"),
    ({"cues": np.full((2, 4), NAN)}, V, "cues"),
    ({"cues": np.ones((2, 4), bool)}, T, "cues"),
    ({"chunk_size": 0}, V, "chunk_size"),
    ({"chunk_size": 1.5}, T, "chunk_size"),
    ({"chunk_size": True}, T, "chunk_size"),
    ({"model": HOP.patterns}, T, "model"),
    ({"config": {}}, T, "config"),
    ({"settle_blocks": None}, T, "settle_blocks"),
):
    bad(nam.retrieve_batch, B, e, name, **kw)
for kw, e, name in (
    ({"model": None}, T, "model"),
    ({"state": X0}, V, "state"),
    ({"state": nam.NeuronAstrocyteState(X0, jnp.full((4, 4), NAN), jnp.eye(4))}, V, "state"),
    ({"config": 1}, T, "config"),
):
    bad(nam.settle, dict(model=FULL, state=FULL.init_state(X0)), e, name, **kw)
_EULER = dict(vector_field=lambda y: -y, y0=jnp.ones(3), steps=4, dt=0.1)
for kw, e, name in (
    ({"vector_field": 3}, T, "vector_field"),
    ({"steps": 0}, V, "steps"),
    ({"steps": 2.5}, T, "steps"),
    ({"dt": 0.0}, V, "dt"),
    ({"dt": NAN}, V, "dt"),
    ({"dt": "a"}, T, "dt"),
):
    bad(nam.euler_trajectory, _EULER, e, name, **kw)
for kw, e, name in (
    ({"model": None}, T, "model"),
    ({"model": HOP.patterns}, T, "model"),
    ({"state": X0}, V, "state"),
    ({"state": nam.NeuronAstrocyteState(X0, jnp.full((4, 4), NAN), jnp.eye(4))}, V, "state"),
    ({"symmetric": "yes"}, T, "symmetric"),
    ({"tol": -1.0}, V, "tol"),
    ({"tol": "0"}, T, "tol"),
    ({"max_size": 0}, V, "max_size"),
    ({"max_size": 1.5}, T, "max_size"),
    ({"max_size": 10}, V, "max_size"),
):
    bad(nam.jacobian_spectrum, dict(model=FULL, state=FULL.init_state(X0)), e, name, **kw)
for kw, e, name in (({"status": jnp.zeros(3)}, T, "status"), ({"time_limit_ok": 1}, T, "time_limit_ok")):
    bad(nam.status_ok, dict(status=jnp.zeros(3, jnp.int32)), e, name, **kw)

B = dict(model=HOP, cue=X0)
for kw, e, name in (
    ({"mode": "parallel"}, V, "mode"),
    ({"max_sweeps": 0}, V, "max_sweeps"),
    ({"cue": np.ones(5)}, V, "cue"),
    ({"cue": np.array([1.0, 0.2, 1, 1])}, V, "cue"),
    ({"cue": np.ones(4, bool)}, T, "cue"),
    ({"model": HID}, T, "model"),
    ({"max_sweeps": True}, T, "max_sweeps"),
    ({"max_sweeps": 1.5}, T, "max_sweeps"),
):
    bad(nam.retrieve_binary, B, e, name, **kw)

# --- capacity ------------------------------------------------------------------------------------------------
for fn in (capacity.one_step_stable_bits, capacity.is_fixed_point):
    for kw, e, name in (
        ({"mu": 5}, V, "mu"),
        ({"mu": -1}, V, "mu"),
        ({"mu": 1.5}, T, "mu"),
        ({"mu": True}, T, "mu"),
        ({"mu": jnp.arange(2)}, V, "mu"),
        ({"model": EFF}, T, "model"),
    ):
        bad(fn, dict(model=HOP, mu=0), e, name, **kw)
B = dict(model=HOP, mu=0, key=K, rho=0.2)
for kw, e, name in (
    ({"rho": -0.1}, V, "rho"),
    ({"rho": 1.5}, V, "rho"),
    ({"rho": NAN}, V, "rho"),
    ({"rho": "a"}, T, "rho"),
    ({"rho": True}, T, "rho"),
    ({"key": None}, T, "key"),
    ({"mode": "both"}, V, "mode"),
    ({"max_sweeps": 0}, V, "max_sweeps"),
    ({"mu": 2}, V, "mu"),
):
    bad(capacity.retrieval_outcome, B, e, name, **kw)
B = dict(evaluate=lambda k: (1, 2), k0=4)
for kw, e, name in (
    ({"evaluate": None}, T, "evaluate"),
    ({"k0": 0}, V, "k0"),
    ({"k0": 2.5}, T, "k0"),
    ({"k0": 10, "k_max": 5}, V, "k0"),
    ({"level": 0.0}, V, "level"),
    ({"level": 1.5}, V, "level"),
    ({"level": NAN}, V, "level"),
    ({"ci_level": 1.0}, V, "ci_level"),
    ({"rel_tol": -1.0}, V, "rel_tol"),
    ({"rel_tol": NAN}, V, "rel_tol"),
    ({"max_evals": 0}, V, "max_evals"),
    ({"k_min": 1.5}, T, "k_min"),
    ({"n_boot": True}, T, "n_boot"),
    ({"seed": -1}, V, "seed"),
):
    bad(capacity.find_crossing, B, e, name, **kw)
for kw, e, name in (({"m": 2.5}, T, "m"), ({"m": "7"}, T, "m"), ({"m": -7}, V, "m")):
    bad(capacity.double_factorial, {}, e, name, **kw)
for kw, e, name in (
    ({"n": 0}, V, "n"),
    ({"n": NAN}, V, "n"),
    ({"k": -1}, V, "k"),
    ({"degree": 1}, V, "degree"),
    ({"degree": 2.5}, T, "degree"),
    ({"n": "100"}, T, "n"),
    ({"degree": True}, T, "degree"),
    ({"k": np.ones(2, bool)}, T, "k"),
    ({"distinct_indices": 1}, T, "distinct_indices"),
):
    bad(capacity.snr, dict(n=100, k=5), e, name, **kw)
for fn in (capacity.no_error_capacity, capacity.amit_capacity):
    for kw, e, name in (({"n": -1}, V, "n"), ({"n": INF}, V, "n"), ({"n": None}, T, "n")):
        bad(fn, dict(n=100), e, name, **kw)
for kw, e, name in (({"level": 0.0}, V, "level"), ({"level": NAN}, V, "level"), ({"degree": 1}, V, "degree")):
    bad(capacity.fixed_point_capacity, dict(n=100), e, name, **kw)
for kw, e, name in (
    ({"q": 0.0}, V, "q"),
    ({"q": 1.0}, V, "q"),
    ({"dof": 0.0}, V, "dof"),
    ({"dof": INF}, V, "dof"),
    ({"q": True}, T, "q"),
    ({"dof": "3"}, T, "dof"),
):
    bad(capacity.student_t_quantile, dict(q=0.9, dof=3.0), e, name, **kw)
for kw, e, name in (
    ({"n": np.ones((2, 2))}, V, "n"),
    ({"k_star": [1.0, 2.0, 3.0]}, V, "n"),
    ({"n": [10.0]}, V, "n"),
    ({"k_star": [1.0, -2.0]}, V, "k_star"),
    ({"level": 2.0}, V, "level"),
):
    bad(capacity.fit_power_law, dict(n=[10.0, 20.0], k_star=[1.0, 2.0]), e, name, **kw)
for kw, e, name in (
    ({"samples": np.ones((2, 2))}, V, "samples"),
    ({"samples": [1.0]}, V, "samples"),
    ({"samples": [1.0, NAN]}, V, "samples"),
    ({"n_boot": 1}, V, "n_boot"),
    ({"statistic": None}, T, "statistic"),
    ({"key_or_seed": -1}, V, "key_or_seed"),
    ({"key_or_seed": "a"}, T, "key_or_seed"),
    ({"key_or_seed": True}, T, "key_or_seed"),
    ({"n_boot": 2.5}, T, "n_boot"),
    ({"level": "0.9"}, T, "level"),
):
    bad(capacity.bootstrap_ci, dict(samples=[1.0, 2.0, 3.0], statistic=np.mean, key_or_seed=0), e, name, **kw)

# --- learning ------------------------------------------------------------------------------------------------
for kw, e, name in (
    ({"learning_rate": 0.0}, V, "learning_rate"),
    ({"learning_rate": -1.0}, V, "learning_rate"),
    ({"learning_rate": NAN}, V, "learning_rate"),
    ({"learning_rate": INF}, V, "learning_rate"),
    ({"learning_rate": True}, T, "learning_rate"),
    ({"learning_rate": "0.1"}, T, "learning_rate"),
    ({"name": "nope"}, V, "optimizer"),
    ({"name": 5}, T, "optimizer"),
):
    bad(learning.make_optimizer, {}, e, name, **kw)
for kw, e, name in (
    ({"steps": 0}, V, "steps"),
    ({"steps": 1.5}, T, "steps"),
    ({"steps": True}, T, "steps"),
    ({"optimizer": "adam"}, T, "optimizer"),
    ({"loss_fn": None}, T, "loss_fn"),
    ({"sample_batch": 5}, T, "sample_batch"),
    ({"checkpoint_every": 0}, V, "checkpoint_every"),
    ({"eval_every": -1}, V, "eval_every"),
    ({"eval_fn": "x"}, T, "eval_fn"),
    ({"seed": -1}, V, "seed"),
    ({"seed": 1.5}, T, "seed"),
    ({"config": "lr=1"}, T, "config"),
    ({"config": {"f": object()}}, V, "config"),
    ({"params": {"step": 3}}, V, "params"),
    ({"progress": "yes"}, T, "progress"),
    ({"restart": 1}, T, "restart"),
    ({"stop_after": -1}, V, "stop_after"),
    ({"checkpoint": 5}, T, "checkpoint"),
):
    bad(learning.train, TRAIN, e, name, **kw)
bad(learning.retrieval_loss, dict(tensor=HEB, cues=jnp.asarray(XI), targets=jnp.asarray(XI)), T, "tensor", tensor=XI)
for kw, e, name in (
    ({"kind": "l1"}, V, "kind"),
    ({"model": "half"}, V, "model"),
    ({"cues": jnp.ones((2, 3))}, V, "cues"),
    ({"cues": X0}, V, "cues"),
    ({"targets": jnp.ones((3, 4))}, V, "targets"),
    ({"cues": jnp.full((2, 4), NAN)}, V, "cues"),
    ({"cues": jnp.ones((2, 4), bool)}, T, "cues"),
    ({"config": "tsit5"}, T, "config"),
    ({"stability_weight": -1.0}, V, "stability_weight"),
    ({"stability_weight": 1.0}, V, "stability_weight"),
    ({"state_margin": NAN}, V, "state_margin"),
    ({"margin": INF}, V, "margin"),
):
    bad(learning.retrieval_loss, dict(tensor=HEB, cues=jnp.asarray(XI), targets=jnp.asarray(XI)), e, name, **kw)
for kw, e, name in (
    ({"tensor": XI}, T, "tensor"),
    ({"model": "half"}, V, "model"),
    ({"model_kwargs": 3}, T, "model_kwargs"),
):
    bad(learning.build_energy_model, dict(tensor=HEB), e, name, **kw)
for kw, e, name in (
    ({"params": np.ones((2, 3, 4)), "form": "full"}, V, "params"),
    ({"coeffs": np.ones(3)}, V, "coeffs"),
    ({"form": "diag"}, V, "form"),
    ({"params": np.ones((2, 4), bool)}, T, "params"),
    ({"params": np.full((2, 4), NAN)}, V, "params"),
    ({"scale": NAN}, V, "scale"),
    ({"coeffs": np.ones(2) * 1j}, T, "coeffs"),
):
    bad(learning.SymmetricKronecker, dict(params=np.ones((2, 4))), e, name, **kw)
for kw, e, name in (
    ({"rank": 0}, V, "rank"),
    ({"rank": 1.5}, T, "rank"),
    ({"patterns": np.ones((2, 4)) * 0.5}, V, "patterns"),
    ({"noise": NAN}, V, "noise"),
    ({"noise": -1.0}, V, "noise"),
):
    bad(learning.SymmetricKronecker.from_patterns, dict(patterns=XI), e, name, **kw)
for kw, e, name in (
    ({"raw": np.ones((2, 2, 2, 3))}, V, "raw"),
    ({"raw": np.full((2, 2, 2, 2), NAN)}, V, "raw"),
    ({"scale": INF}, V, "scale"),
):
    bad(learning.SymmetrizedDense, dict(raw=np.ones((2, 2, 2, 2))), e, name, **kw)
bad(learning.tensor_parameter_count, {}, T, "tensor", tensor=HEB)
STATE = learning.TrainState(params=KRON, opt_state=(), step=jnp.asarray(0, jnp.int32), key=K)
bad(learning.load_checkpoint, dict(template=STATE), V, "/no/such/ckpt.eqx", path="/no/such/ckpt.eqx")
bad(learning.load_checkpoint, dict(path="/no/such/ckpt.eqx"), T, "template", template=None)
bad(learning.checkpoint_config, {}, FileNotFoundError, "/no/such/ckpt.eqx", path="/no/such/ckpt.eqx")

# --- spiking -------------------------------------------------------------------------------------------------
for kw, e, name in (
    ({"dt_ms": 0.0}, V, "dt_ms"),
    ({"dt_ms": 1.0}, V, "dt_ms"),
    ({"dt_ms": NAN}, V, "dt_ms"),
    ({"dt_ms": INF}, V, "dt_ms"),
    ({"dt_ms": "0.1"}, T, "dt_ms"),
    ({"side": 0}, V, "side"),
    ({"side": 1.5}, T, "side"),
    ({"side": 3}, V, "side"),
    ({"min_active": 20}, V, "min_active"),
    ({"min_active": True}, T, "min_active"),
    ({"rate_rule": "median"}, V, "rate_rule"),
    ({"trigger": "edge"}, V, "trigger"),
    ({"i_app": NAN}, V, "i_app"),
    ({"i_neuro": -1.0}, V, "i_neuro"),
    ({"neuron": "izh"}, T, "neuron"),
    ({"astrocyte": 1}, T, "astrocyte"),
    ({"window_ms": 0.0}, V, "window_ms"),
    ({"window_ms": INF}, V, "window_ms"),
    ({"activity_window_ms": 0.0}, V, "activity_window_ms"),
    ({"rate_hz": True}, T, "rate_hz"),
):
    bad(spiking.GordleevaNetwork, {}, e, name, **kw)
for kw, e, name in (({"a": 0.0}, V, "a"), ({"b": NAN}, V, "b"), ({"c": True}, T, "c"), ({"v_peak": INF}, V, "v_peak")):
    bad(spiking.Izhikevich, {}, e, name, **kw)
for kw, e, name in (
    ({"c0": 0.0}, V, "c0"),
    ({"v4": -1.0}, V, "v4"),
    ({"alpha": NAN}, V, "alpha"),
    ({"tau_r": 1j}, T, "tau_r"),
):
    bad(spiking.LiRinzel, {}, e, name, **kw)
B = dict(images=np.stack([IMG, IMG]), onsets_ms=[0.0, 10.0], durations_ms=[4.0, 4.0])
for kw, e, name in (
    ({"images": np.full((2, 7, 7), 0.5)}, V, "images"),
    ({"images": np.ones((2, 7, 7), bool)}, T, "images"),
    ({"images": IMG}, V, "images"),
    ({"onsets_ms": [0.0, NAN]}, V, "onsets_ms"),
    ({"durations_ms": [4.0, INF]}, V, "durations_ms"),
    ({"onsets_ms": [0.0, 2.0]}, V, "overlap"),
    ({"onsets_ms": [0.0]}, V, "onsets_ms"),
    ({"onsets_ms": [0.0, -5.0]}, V, "onsets_ms"),
    ({"images": None}, T, "images"),
):
    bad(spiking.Stimulus, B, e, name, **kw)
B = dict(network=NET, stimulus=STIM, t_end_ms=30.0)
for kw, e, name in (
    ({"network": None}, T, "network"),
    ({"stimulus": IMG}, T, "stimulus"),
    ({"t_end_ms": 0.0}, V, "t_end_ms"),
    ({"t_end_ms": INF}, V, "t_end_ms"),
    ({"t_end_ms": NAN}, V, "t_end_ms"),
    ({"t_end_ms": "30"}, T, "t_end_ms"),
    ({"record_every_ms": 0.05}, V, "record_every_ms"),
    ({"record_every_ms": 7.0}, V, "t_end_ms"),
    ({"readouts_ms": [(5.0, 1.0)]}, V, "readouts_ms"),
    ({"readouts_ms": [(0.0, NAN)]}, V, "readouts_ms"),
    ({"snapshot_ms": [40.0]}, V, "snapshot_ms"),
    ({"snapshot_ms": [NAN]}, V, "snapshot_ms"),
    ({"trace_neurons": [49]}, V, "trace_neurons"),
    ({"t_end_ms": 1e12, "record_every_ms": 0.1}, V, "t_end_ms"),
):
    bad(spiking.simulate, B, e, name, **kw)
for kw, e, name in (
    ({"stimuli": STIM}, V, "stimuli"),
    ({"stimuli": "x"}, T, "stimuli"),
    ({"stimuli": spiking.stack_stimuli([STIM]), "colour": 1}, V, "colour"),
):
    bad(spiking.simulate_batch, dict(network=NET, t_end_ms=30.0), e, name, **kw)
bad(spiking.stack_stimuli, {}, V, "stimuli", stimuli=[])
bad(spiking.stack_stimuli, {}, T, "stimuli", stimuli=[IMG])
bad(spiking.stack_stimuli, {}, T, "stimuli", stimuli=5)
for kw, e, name in (
    ({"n_samples": 0}, V, "n_samples"),
    ({"n_samples": 1.5}, T, "n_samples"),
    ({"train_noise": 1.5}, V, "train_noise"),
    ({"train_noise": NAN}, V, "train_noise"),
    ({"present_ms": 0.0}, V, "present_ms"),
    ({"test_ms": INF}, V, "test_ms"),
    ({"delay_ms": INF}, V, "delay_ms"),
    ({"delay_ms": NAN}, V, "delay_ms"),
    ({"delay_ms": "1s"}, T, "delay_ms"),
    ({"gap_ms": -1.0}, V, "gap_ms"),
    ({"order": "random"}, V, "order"),
    ({"noise": "gauss"}, V, "noise"),
    ({"readout_ms": ()}, V, "readout_ms"),
    ({"readout_ms": (-1.0,)}, V, "readout_ms"),
    ({"readout_ms": (INF,)}, V, "readout_ms"),
):
    bad(spiking.Protocol, {}, e, name, **kw)
B = dict(key=K, image=IMG, level=0.2)
for kw, e, name in (
    ({"level": 1.5}, V, "level"),
    ({"level": NAN}, V, "level"),
    ({"noise": "gauss"}, V, "noise"),
    ({"image": IMG > 0}, T, "image"),
    ({"level": np.ones(2)}, V, "level"),
    ({"key": 3}, T, "key"),
):
    bad(spiking.add_noise, B, e, name, **kw)
for kw, e, name in (
    ({"response": np.ones((3, 3)), "target": np.ones((4, 4))}, V, "target"),
    ({"response": np.ones(3)}, V, "response"),
    ({"target": np.ones((7, 7)) * 1j}, T, "target"),
):
    bad(spiking.balanced_accuracy, dict(response=IMG, target=IMG), e, name, **kw)
for kw, e, name in (
    ({"digit": 10}, V, "digit"),
    ({"digit": "ten"}, V, "digit"),
    ({"digit": True}, T, "digit"),
    ({"digit": 2.0}, T, "digit"),
    ({"side": 2}, V, "side"),
    ({"side": 4.5}, T, "side"),
    ({"threshold": 0.0}, V, "threshold"),
    ({"threshold": NAN}, V, "threshold"),
):
    bad(spiking.load_digit, dict(digit=0), e, name, **kw)
B = dict(key=K, patterns=IMG[None], test_index=0, test_noise=0.1, protocol=PROTO)
for kw, e, name in (
    ({"protocol": None}, T, "protocol"),
    ({"test_index": 1}, V, "test_index"),
    ({"test_noise": 1.5}, V, "test_noise"),
    ({"patterns": IMG * 0.5}, V, "patterns"),
    ({"patterns": np.ones((2, 3))}, V, "patterns"),
    ({"test_index": True}, T, "test_index"),
    ({"test_index": -1}, V, "test_index"),
):
    bad(spiking.make_stimulus, B, e, name, **kw)
B = dict(network=NET, patterns=IMG, test_noise=[0.1], trials=1, protocol=PROTO)
for kw, e, name in (
    ({"trials": 0}, V, "trials"),
    ({"trials": 1.5}, T, "trials"),
    ({"test_noise": [NAN]}, V, "test_noise"),
    ({"test_noise": []}, V, "test_noise"),
    ({"test_noise": [1.5]}, V, "test_noise"),
    ({"test_index": 1}, V, "test_index"),
    ({"patterns": IMG * 0.5}, V, "patterns"),
    ({"patterns": np.ones((8, 8))}, V, "patterns"),
    ({"network": None}, T, "network"),
    ({"protocol": {}}, T, "protocol"),
    ({"chunk": 0}, V, "chunk"),
    ({"seed": -1}, V, "seed"),
):
    bad(spiking.run_trials, B, e, name, **kw)
B = dict(network=NET, patterns=IMG, protocol=PROTO)
for kw, e, name in (
    ({"test_noise": 2.0}, V, "test_noise"),
    ({"record_every_ms": 0.0}, V, "record_every_ms"),
    ({"test_index": -1}, V, "test_index"),
    ({"protocol": "paper"}, T, "protocol"),
):
    bad(spiking.example_run, B, e, name, **kw)

# --- AstroSNN ------------------------------------------------------------------------------------------------
for kw, e, name in (
    ({"d_in": 0}, V, "d_in"),
    ({"heads": 3}, V, "heads"),
    ({"decay": 1.5}, V, "decay"),
    ({"decay": "fast"}, V, "decay"),
    ({"decay": [0.5, NAN]}, V, "decay"),
    ({"reset": "zero"}, V, "reset"),
    ({"surrogate": "relu"}, V, "surrogate"),
    ({"beta": NAN}, V, "beta"),
    ({"theta": "1"}, T, "theta"),
    ({"alpha": INF}, V, "alpha"),
    ({"d_out": 2.5}, T, "d_out"),
):
    bad(snn.AMSU, dict(d_in=4, d_out=8, key=K, heads=2), e, name, **kw)
for kw, e, name in (
    ({"vocab": 0}, V, "vocab"),
    ({"d": 1.5}, T, "d"),
    ({"heads": 3}, V, "heads"),
    ({"chunk": 0}, V, "chunk"),
    ({"layers": 0}, V, "layers"),
):
    bad(snn.AstroSNN, dict(vocab=10, d=8, layers=1, key=K), e, name, **kw)
bad(snn.RNNLM, dict(vocab=10, d=8, layers=1, key=K), V, "cell", cell="rnn")
bad(snn.TransformerLM, dict(vocab=10, d=6, layers=1, key=K), V, "heads", heads=4)
for kw, e, name in (
    ({"radius": 0.0}, V, "radius"),
    ({"num_features": 0}, V, "num_features"),
    ({"heads": 3}, V, "heads"),
):
    bad(snn.AstrocyteAttentionLM, dict(vocab=10, d=8, layers=1, key=K), e, name, **kw)
for kw, e, name in (
    ({"kind": "mamba"}, V, "model"),
    ({"kind": "lstm", "decay": "wide"}, V, "decay"),
    ({"vocab": -1}, V, "vocab"),
    ({"d": True}, T, "d"),
):
    bad(snn.build_model, dict(kind="astrosnn", vocab=10, d=8, layers=1, key=K), e, name, **kw)
for kw, e, name in (({"target": 0}, V, "target"), ({"kind": "rwkv"}, V, "model"), ({"heads": 0}, V, "heads")):
    bad(snn.match_width, dict(kind="lstm", vocab=10, target=1000, layers=1), e, name, **kw)
B = dict(model=LM, prompt=jnp.array([1, 2], jnp.int32), steps=3, key=K)
for kw, e, name in (
    ({"temperature": 0.0}, V, "temperature"),
    ({"temperature": -1.0}, V, "temperature"),
    ({"temperature": NAN}, V, "temperature"),
    ({"temperature": "hot"}, T, "temperature"),
    ({"temperature": jnp.ones(2)}, T, "temperature"),
    ({"prompt": jnp.array([1, 12], jnp.int32)}, V, "prompt"),
    ({"prompt": jnp.array([-1], jnp.int32)}, V, "prompt"),
    ({"prompt": jnp.array([1.0, 2.0])}, T, "prompt"),
    ({"prompt": jnp.zeros(0, jnp.int32)}, V, "prompt"),
    ({"prompt": [1, 2]}, T, "prompt"),
    ({"steps": 0}, V, "steps"),
    ({"key": None}, T, "key"),
    ({"model": HOP}, T, "model"),
):
    bad(snn.generate, B, e, name, **kw)
B = dict(model=snn.build_model("lstm", 3, 8, 1, key=K), vocab=VOCAB, prompt="ab", n=3)
for kw, e, name in (
    ({"temperature": 0.0}, V, "temperature"),
    ({"temperature": -1.0}, V, "temperature"),
    ({"temperature": NAN}, V, "temperature"),
    ({"temperature": True}, T, "temperature"),
    ({"n": 0}, V, "n"),
    ({"prompt": ""}, V, "prompt"),
    ({"prompt": "xyz"}, V, "vocabulary"),
    ({"prompt": 5}, T, "prompt"),
    ({"vocab": "abc"}, T, "vocab"),
    ({"seed": -2}, V, "seed"),
    ({"vocab": snn.Vocab("abcd")}, V, "vocabulary"),
):
    bad(snn.sample_text, B, e, name, **kw)
B = dict(model=LM, tokens=TOK, targets=TOK)
for kw, e, name in (
    ({"tokens": TOK.astype(float)}, T, "tokens"),
    ({"targets": jnp.zeros((2, 16), jnp.int32)}, V, "targets"),
    ({"mask": jnp.ones((2, 4), bool)}, V, "mask"),
    ({"tokens": TOK + 10}, V, "tokens"),
    ({"targets": TOK - 1}, V, "targets"),
    ({"tokens": TOK[0]}, V, "tokens"),
    ({"tokens": [[0] * 8]}, T, "tokens"),
    ({"model": HOP}, T, "model"),
    ({"tokens": jnp.zeros((0, 8), jnp.int32)}, V, "tokens"),
):
    bad(snn.sequence_loss, B, e, name, **kw)
AMSU = snn.AMSU(4, 8, key=K, heads=2)


def amsu_parallel(x, chunk):
    return AMSU.parallel(x, chunk=chunk)


for kw, e, name in (({"chunk": True}, T, "chunk"), ({"chunk": 3}, V, "chunk"), ({"chunk": 0}, V, "chunk")):
    bad(amsu_parallel, dict(x=jnp.ones((8, 4)), chunk=4), e, name, **kw)
for fn in (snn.spike, snn.surrogate_derivative):
    bad(fn, dict(v=jnp.ones(2)), V, "surrogate", kind="relu")
for kw, e, name in (
    ({"kind": "sort"}, V, "task"),
    ({"max_delay": -1}, V, "max_delay"),
    ({"max_delay": 1.5}, T, "max_delay"),
    ({"pairs": 20, "keys": 8}, V, "pairs"),
    ({"multiple": 0}, V, "multiple"),
    ({"kind": "copy", "copy_length": 20}, V, "copy_length"),
):
    bad(snn.RetentionTask, {}, e, name, **kw)
for kw, e, name in (
    ({"train_fraction": 0.0}, V, "train_fraction"),
    ({"train_fraction": NAN}, V, "train_fraction"),
    ({"text": ""}, V, "text"),
    ({"text": 5}, T, "text"),
    ({"vocab": "ab"}, T, "vocab"),
):
    bad(snn.CharData, dict(text="abcabc"), e, name, **kw)
for kw, e, name in (({"chars": ""}, V, "chars"), ({"chars": "aa"}, V, "chars"), ({"chars": 5}, T, "chars")):
    bad(snn.Vocab, {}, e, name, **kw)
bad(snn.load_text, {}, FileNotFoundError, "/no/such.txt", path="/no/such.txt")
for kw, e, name in (
    ({"learning_rate": 0.0}, V, "learning_rate"),
    ({"schedule_steps": 0}, V, "schedule_steps"),
    ({"clip": 0.0}, V, "clip"),
    ({"warmup": -1}, V, "warmup"),
    ({"learning_rate": True}, T, "learning_rate"),
    ({"weight_decay": NAN}, V, "weight_decay"),
):
    bad(
        learning.make_optimizer,
        dict(name="adamw", learning_rate=1e-3, schedule_steps=10, clip=1.0, weight_decay=0.01),
        e,
        name,
        **kw,
    )
B = dict(kind="astrosnn", data=DATA, d=8, layers=1, chunk=8, length=16, batch=2, steps=1, progress=False)
for kw, e, name in (
    ({"d": 0}, V, "d"),
    ({"length": 12}, V, "chunk"),
    ({"steps": 0}, V, "steps"),
    ({"data": "abc"}, T, "data"),
    ({"kind": "rwkv"}, V, "model"),
    ({"d": 10**6}, V, "`d`"),
    ({"batch": 10**9}, V, "`batch`"),
    ({"learning_rate": -1.0}, V, "learning_rate"),
    ({"eval_every": -1}, V, "eval_every"),
    ({"restart": "no"}, T, "restart"),
):
    bad(snn.train_lm, B, e, name, **kw)
B = dict(kind="lif", task=TASK, d=8, layers=1, chunk=8, batch=2, steps=1, progress=False)
for kw, e, name in (
    ({"task": "recall"}, T, "task"),
    ({"d": 10**6}, V, "`d`"),
    ({"chunk": 7}, V, "chunk"),
    ({"seed": 0.5}, T, "seed"),
):
    bad(snn.train_retention, B, e, name, **kw)
for kw, e, name in (
    ({"delays": [4, 9]}, V, "delay"),
    ({"trials": 0}, V, "trials"),
    ({"task": "recall"}, T, "task"),
    ({"delays": [True]}, T, "delay"),
    ({"delays": [2.0]}, T, "delay"),
):
    bad(snn.retention_accuracy, dict(model=LM, task=TASK, delays=[0]), e, name, **kw)
for kw, e, name in (
    ({"length": 0}, V, "length"),
    ({"batch": 0}, V, "batch"),
    ({"max_windows": 0}, V, "max_windows"),
    ({"data": "abc"}, T, "data"),
    ({"length": 4096}, V, "length"),
):
    bad(snn.bits_per_char, dict(model=LM, data=DATA, length=8), e, name, **kw)
bad(snn.load_model, {}, FileNotFoundError, "/no/such.eqx", checkpoint="/no/such.eqx")
bad(snn.load_model, {}, T, "checkpoint", checkpoint=5)
bad(snn.parameter_count, {}, T, "model", model=None)
LIF = snn.build_model("lif", 10, 8, 1, key=K, chunk=8)
for kw, e, name in (({"model": None}, T, "model"), ({"model": LIF}, V, "no astrocytes")):
    bad(snn.remove_astrocyte_read, dict(model=LM), e, name, **kw)
for kw, e, name in (
    ({"model": "lm"}, T, "model"),
    ({"model": LIF}, V, "no astrocytes"),
    ({"tokens": jnp.zeros((2, 12), jnp.int32)}, V, "tokens"),
    ({"tokens": jnp.zeros((16,), jnp.int32)}, V, "tokens"),
):
    bad(snn.astrocyte_trace, dict(model=LM, tokens=jnp.zeros((2, 16), jnp.int32)), e, name, **kw)

# --- experiments behind the CLI ------------------------------------------------------------------------------
for kw, e, name in (({"side": 2}, V, "side"), ({"side": 4.5}, T, "side")):
    bad(learning.digit_patterns, {}, e, name, **kw)

from nam.experiments import Demo  # noqa: E402
from nam.experiments.learn_digits import run_digits  # noqa: E402
from nam.experiments.learn_inpainting import run_inpainting  # noqa: E402

for kw, e, name in (
    ({"n": 10**5}, V, "`n`"),
    ({"n": 1}, V, "n"),
    ({"k": 0}, V, "k"),
    ({"rho": 0.5}, V, "rho"),
    ({"rho": NAN}, V, "rho"),
    ({"trials": 0}, V, "trials"),
    ({"out": 3}, T, "out"),
    ({"n": 10, "k": 10**9}, V, "`k`"),
):
    bad(Demo, {}, e, name, **kw)
for kw, e, name in (
    ({"batch": 0}, V, "batch"),
    ({"batch": 10**9}, V, "`batch`"),
    ({"rho_train": 0.6}, V, "rho_train"),
    ({"adjoint": "forward"}, V, "adjoint"),
    ({"trials": 0}, V, "trials"),
    ({"steps": 0}, V, "steps"),
):
    bad(run_digits, dict(progress=False), e, name, **kw)
for kw, e, name in (
    ({"batch": 0}, V, "batch"),
    ({"dt": -0.1}, V, "dt"),
    ({"euler_steps": 0}, V, "euler_steps"),
    ({"batch": 10**9}, V, "`batch`"),
    ({"seed": "a"}, T, "seed"),
):
    bad(run_inpainting, dict(progress=False), e, name, **kw)

bad(nam.HebbianTensor, dict(patterns=XI), V, "scale", scale=-1.0)
bad(nam.HebbianTensor, dict(patterns=XI), T, "distinct_indices", distinct_indices="yes")
for kw, e, name in (
    ({"beta": 0.0}, V, "beta"),
    ({"beta": True}, T, "beta"),
    ({"rho": 0.5}, V, "rho"),
    ({"rho": "0.1"}, T, "rho"),
    ({"n": None}, T, "n"),
):
    bad(capacity.self_coupling_capacity, dict(n=32), e, name, **kw)


@pytest.fixture
def production_checks():
    """The table tests nam's own checks, as users meet them: the jaxtyping/beartype checks that the test
    run adds to annotated functions are switched off for these calls."""
    import jaxtyping

    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    yield
    jaxtyping.config.update("jaxtyping_disable", before)


@pytest.mark.parametrize("fn, kwargs, error, name", CASES)
def test_bad_input_is_refused_before_compute(fn, kwargs, error, name, production_checks):
    start = time.perf_counter()
    with pytest.raises(error) as info:
        fn(**kwargs)
    seconds = time.perf_counter() - start
    assert name in str(info.value), f"the message does not name {name!r}: {info.value}"
    if error is ValueError:  # a wrong value, not a wrong type
        assert not isinstance(info.value, TypeError), info.value
    assert seconds < 10.0, f"refused only after {seconds:.1f} s"


def test_the_table_covers_the_public_api():
    """Every callable exported by nam, nam.capacity, nam.learning, nam.spiking and nam.astrosnn has a row
    (except result types and abstract bases, which are not constructed by users)."""
    covered = {c.values[0] for c in CASES}
    covered = {getattr(f, "__func__", f) for f in covered} | {getattr(f, "__self__", None) for f in covered}
    skip = {
        "AbstractLagrangian",
        "AbstractAstrocyteTensor",
        "AbstractBinaryModel",
        "AbstractEnergyModel",
        "AbstractSingleLayerModel",
        "AbstractDenseTensor",
        "AbstractSeparation",
        "Retrieval",
        "BinaryRetrieval",
        "Status",
        "HiddenState",
        "NeuronAstrocyteState",
        "JacobianSpectrum",
        "BlockSpectrum",
        "CrossingResult",
        "RetrievalOutcome",
        "PowerLawFit",
        "BootstrapCI",
        "LossAux",
        "TrainState",
        "NonFiniteLoss",
        "TrainInterrupted",
        "CheckpointError",
        "SpikingRun",
        "MODEL_KINDS",
        "SURROGATES",
        "MAX_DT_MS",
        "Identity",
        # the sweep engine is the lead engineer's (issue 16, his part)
        "SpecMismatch",
        "SweepResult",
        "run_sweep",
        "format_summary",
        "write_sweep_figures",
        "SweepSpec",
        "preset",
        "SweepInterrupted",
        "load_sweep",
        "plan_sweep",
        "format_plan",
        # bad input of these is tested in tests/test_sweep_distributed.py
        "initialize_distributed",
        "merge_sweeps",
        "shard_pairs",
        # formatting and figures of results that nam itself produced
        "without_astrocytes",
        "run_experiments",
        "LM_VARIANTS",
        "LM_MODELS",
        "ReducedAstrocyteNet",
        "image_patches",
        "masked_input",
        "masked_rms",
        "mean_fill",
        "random_masks",
        "self_coupling_capacity",
        "bit_error_probability",
        "fixed_point_fraction",
        "normal_cdf",
        "fixed_point_fraction_at_no_error_load",
        # the extension API, the sweep's figures and the attention LM: their bad input is drawn by the
        # fuzzer over every export (tests/test_fuzz_public_api.py), not listed here
        "SweepModel",
        "REGISTRY",
        "register_sweep_model",
        "check_lagrangian",
        "check_mask",
        "check_patterns",
        "check_scalar",
        "check_square",
        "check_vector",
        "optional_square",
        "optional_vector",
        "euler_trajectory",
        "plot_capacity",
        "plot_collapse",
        "plot_bit_errors",
        "plot_per_unit",
        "AstrocyteAttentionLM",
    }
    missing = []
    for module in (nam, capacity, learning, spiking, snn):
        for name in dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or name in skip or not callable(obj) or type(obj).__name__ == "module":
                continue
            if obj not in covered:
                missing.append(f"{module.__name__}.{name}")
    assert not missing, missing
    assert len(CASES) >= 300


def test_count_of_cases():
    print(f"{len(CASES)} bad-input cases")


# --- one mechanism: integers, instances, choices, public names (nam._checks) -------------------------------
from nam._checks import check_choices, public_name  # noqa: E402
from nam._plotting import moving_average  # noqa: E402

INTEGER_ARGUMENTS = [  # (argument, a call taking it, a valid value)
    ("max_sweeps", lambda v: nam.retrieve_binary(HOP, X0, max_sweeps=v).pattern, 5),
    ("k", lambda v: nam.random_patterns(K, v, 8), 3),
    ("degree", lambda v: capacity.snr(100, 5, degree=v), 3),
    ("n_boot", lambda v: capacity.bootstrap_ci([1.0, 2.0, 4.0], np.mean, 0, n_boot=v), 50),
    ("key_or_seed", lambda v: capacity.bootstrap_ci([1.0, 2.0, 4.0], np.mean, v, n_boot=20), 3),
    ("m", capacity.double_factorial, 7),
    ("delay", TASK.check_delay, 4),
    ("chunk", lambda v: AMSU.parallel(jnp.ones((8, 4)), chunk=v), 4),
    ("digit", lambda v: spiking.load_digit(v, side=8), 3),
    ("test_index", lambda v: spiking.make_stimulus(K, IMG[None], v, 0.1, PROTO).images, 0),
    ("window", lambda v: moving_average([1.0, 2.0, 3.0], v), 2),
]


@pytest.mark.parametrize("name, call, value", INTEGER_ARGUMENTS, ids=[a[0] for a in INTEGER_ARGUMENTS])
def test_integers_are_python_or_numpy_integers_never_bools(name, call, value, production_checks):
    """One rule for every integer argument (`nam._checks.is_integer`): a NumPy integer gives exactly what the
    same Python int gives; a bool is refused with a TypeError naming the argument (before: some checks took
    True as 1 and refused np.int64, others the reverse)."""
    expected = call(value)
    for v in (np.int64(value), np.int32(value)):
        for a, b in zip(jax.tree.leaves(call(v)), jax.tree.leaves(expected)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match=f"`{name}`"):
        call(True)


def test_integer_known_answers_with_numpy_integers(production_checks):
    assert capacity.double_factorial(np.int64(7)) == 105
    np.testing.assert_allclose(moving_average([1.0, 2.0, 3.0], np.int64(2)), [1.0, 1.5, 2.5])
    assert TASK.check_delay(np.int16(8)) == 8 and type(TASK.check_delay(np.int16(8))) is int


@pytest.mark.parametrize(
    "cls, argument",
    [
        (nam.ClassicalHopfield, "lagrangian"),
        (nam.DenseAssociativeMemory, "lagrangian"),
        (nam.HiddenNeuronDAM, "feature_lagrangian"),
        (nam.HiddenNeuronDAM, "hidden_lagrangian"),
        (nam.NeuronAstrocyte, "neuron_lagrangian"),
        (nam.NeuronAstrocyte, "synapse_lagrangian"),
        (nam.NeuronAstrocyte, "process_lagrangian"),
        (nam.NeuronAstrocyteEffective, "lagrangian"),
    ],
)
def test_one_lagrangian_check_for_every_model(cls, argument, production_checks):
    """Every model's Lagrangian arguments go through `nam._lagrangians.check_lagrangian`: one message, the
    public class name, a TypeError; None gives the model's default."""
    first = HEB if cls in (nam.NeuronAstrocyte, nam.NeuronAstrocyteEffective) else XI
    with pytest.raises(TypeError) as info:
        cls(first, **{argument: "tanh"})
    assert str(info.value) == f"`{argument}` must be a nam.AbstractLagrangian, got str"
    default = getattr(cls(first, **{argument: None}), argument)
    assert isinstance(default, nam.AbstractLagrangian)


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: spiking.simulate(None, STIM, 30.0), ["nam.spiking.GordleevaNetwork"]),
        (lambda: spiking.simulate(NET, IMG, 30.0), ["nam.spiking.Stimulus"]),
        (lambda: spiking.GordleevaNetwork(neuron="izh"), ["nam.spiking.Izhikevich"]),
        (lambda: spiking.GordleevaNetwork(astrocyte=1), ["nam.spiking.LiRinzel"]),
        (lambda: spiking.stack_stimuli([IMG]), ["nam.spiking.Stimulus"]),
        (lambda: spiking.simulate_batch(NET, "x", 30.0), ["nam.spiking.Stimulus", "nam.spiking.stack_stimuli"]),
        (lambda: spiking.simulate_batch(NET, STIM, 30.0), ["nam.spiking.stack_stimuli"]),
        (lambda: spiking.run_trials(NET, IMG, [0.1], protocol={}), ["nam.spiking.Protocol"]),
        (lambda: nam.retrieve(DAM, X0, config="tsit5"), ["nam.SolverConfig"]),
        (lambda: snn.train_retention("lif", "recall"), ["nam.astrosnn.RetentionTask"]),
        (lambda: learning.load_checkpoint("x.eqx", None), ["nam.learning.TrainState"]),
        (lambda: nam.DenseAssociativeMemory(XI, separation="z^3"), ["nam.AbstractSeparation"]),
    ],
)
def test_messages_name_the_public_class(call, names, production_checks):
    """A type error names each class by the path users import it from, and that path resolves to it (before:
    `nam.GordleevaNetwork`, `nam.Izhikevich`, `nam.LiRinzel`, `nam.Stimulus`, `nam.stack_stimuli`, which do
    not exist: they live in `nam.spiking`)."""
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    for name in names:
        assert name in str(info.value), info.value
        assert _resolve(name) is not None, name


def _resolve(dotted):
    """The object `nam.a.b` names, or None; a field of a dataclass/Module resolves to its class."""
    import importlib

    obj = nam
    parts = dotted.split(".")
    for i, part in enumerate(parts[1:], start=2):
        if isinstance(obj, type) and part in getattr(obj, "__dataclass_fields__", {}):
            return obj
        found = getattr(obj, part, None)
        if found is None and type(obj).__name__ == "module":  # a submodule not imported yet
            try:
                found = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                found = None
        obj = found
        if obj is None:
            return None
    return obj


def test_public_names_in_the_source_exist():
    """Every `nam.x.y` written in nam's source (messages and docstrings) with no private part is a real
    public path."""
    import pathlib
    import re

    root = pathlib.Path(nam.__file__).parent
    missing = set()
    for path in root.rglob("*.py"):
        for name in re.findall(r"(?<![\w/.])nam(?:\.[A-Za-z_]\w*)+", path.read_text()):
            if not any(p.startswith("_") for p in name.split(".")) and _resolve(name) is None:
                missing.add(f"{path.relative_to(root.parent)}: {name}")
    assert not missing, sorted(missing)


def test_public_name_and_check_choices():
    import optax

    assert public_name(spiking.GordleevaNetwork) == "nam.spiking.GordleevaNetwork"
    assert public_name(nam.SolverConfig) == "nam.SolverConfig"
    assert public_name(snn.Vocab) == "nam.astrosnn.Vocab"
    assert public_name(optax.GradientTransformation) == "optax.GradientTransformation"
    assert public_name(dict) == "dict"
    choices = ("noise", "two", "lifetime")
    assert check_choices("which", ["two", "noise"], choices) == ("two", "noise")
    assert check_choices("which", (c for c in ("lifetime",)), choices) == ("lifetime",)
    for value, error in (
        ("noise", TypeError),
        (3, TypeError),
        ([1], TypeError),
        ([], ValueError),
        (["noise", "three"], ValueError),
    ):
        with pytest.raises(error, match="`which`"):
            check_choices("which", value, choices)
        if error is ValueError:
            with pytest.raises(ValueError) as info:
                check_choices("which", value, choices)
            assert not isinstance(info.value, TypeError)
