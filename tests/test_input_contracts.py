"""The last silent inputs (issue 26): each case below used to return something that looked like an answer
(or failed deep inside JAX without naming the argument); each is now refused before compute with a message
that names the argument, or, under jit, raises at run time (`eqx.error_if`)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import nam
from nam import astrosnn as snn
from nam import learning, spiking

K = jr.PRNGKey(0)
XI = np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])
NET = spiking.GordleevaNetwork(side=7, block=4, stride=3)
IMG = np.zeros((7, 7))
IMG[2:5, 2:5] = 1.0
STIM = spiking.Stimulus(np.stack([IMG, IMG]), [0.0, 10.0], [4.0, 4.0])
HUGE_N = 10**6  # N x N floats: 4-8 TB, more than any machine running this


@pytest.fixture(autouse=True)
def production_checks():
    """nam's own checks, as users meet them: the jaxtyping/beartype checks that the test run adds to
    annotated functions are switched off (as in tests/test_validation.py)."""
    import jaxtyping

    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    yield
    jaxtyping.config.update("jaxtyping_disable", before)


def _not_type_error(info):
    assert not isinstance(info.value, TypeError), info.value


@pytest.mark.parametrize("kind", ["astrosnn", "lif", "lstm", "transformer"])
def test_step_refuses_a_token_outside_the_vocabulary(kind):
    """Item 1: `model.step(state, 99)` with a 10-token vocabulary returned token 9's logits (the gather
    clamps). Concrete ids are refused naming `token`; traced ones raise at run time."""
    model = snn.build_model(kind, 10, 8, 1, key=K, chunk=8)
    state = model.init_state(4)
    for bad in (99, 10, -1, np.int64(10), jnp.asarray(12)):
        with pytest.raises(ValueError, match=r"`token` must be an id in \[0, 10\)") as info:
            model.step(state, bad)
        _not_type_error(info)
    for bad in (1.0, True, "a", jnp.asarray(1.0)):
        with pytest.raises(TypeError, match="`token`"):
            model.step(state, bad)
    with pytest.raises(ValueError, match="`token`"):
        model.step(state, jnp.array([1, 2]))
    logits, _ = model.step(state, 9)
    assert logits.shape == (10,) and bool(jnp.all(jnp.isfinite(logits)))
    step = eqx.filter_jit(lambda s, t: model.step(s, t)[0])
    np.testing.assert_allclose(step(state, jnp.asarray(9)), logits, rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match=r"`token` must be an id in \[0, 10\)"):
        jax.block_until_ready(step(state, jnp.asarray(99)))


def test_generate_still_runs_with_the_traced_check():
    """Item 1: `generate` feeds traced tokens to `step`; the run-time check does not fire on valid ones."""
    model = snn.build_model("lstm", 10, 8, 1, key=K)
    toks = snn.generate(model, jnp.array([1, 2], jnp.int32), 5, K)
    assert toks.shape == (5,) and bool(jnp.all((toks >= 0) & (toks < 10)))


def test_retrieval_loss_refuses_targets_that_are_not_pm1():
    """Item 2: targets * 7 gave a loss of 9.0 for a loss documented to lie in [0, 1] for +-1 targets."""
    tensor = nam.HebbianTensor(XI)
    cues = jnp.asarray(XI)
    for targets in (cues * 7, cues * 0.5, jnp.zeros_like(cues)):
        with pytest.raises(ValueError, match="`targets` must contain only") as info:
            learning.retrieval_loss(tensor, cues, targets)
        _not_type_error(info)
    with pytest.raises(ValueError, match="`patterns`"):
        learning.retrieval_loss(tensor, cues, cues, patterns=cues * 0.5, stability_weight=0.1)
    loss, _ = learning.retrieval_loss(tensor, cues, cues)
    assert 0.0 <= float(loss) <= 1.0


def test_simulate_refuses_a_readout_window_past_the_end():
    """Item 3: a (5, 500) ms window on a 10 ms run silently counted only 5-10 ms."""
    with pytest.raises(ValueError, match="`readouts_ms`: each window must end by t_end_ms = 10") as info:
        spiking.simulate(NET, STIM, 10.0, readouts_ms=[(5.0, 500.0)])
    _not_type_error(info)
    run = spiking.simulate(NET, STIM, 10.0, readouts_ms=[(5.0, 10.0)])
    assert run.readout_counts.shape == (1, 7, 7) and int(run.status) == nam.Status.COMPLETED


def test_add_noise_refuses_a_grey_image():
    """Item 4: a 0.5-valued image gave values {0, 0.5, 1}; the docstring says 0/1 images."""
    for image in (IMG * 0.5, IMG + 1.0, np.full((7, 7), np.nan)):
        with pytest.raises(ValueError, match="`image` must be binary") as info:
            spiking.add_noise(K, image, 0.1)
        _not_type_error(info)
    with pytest.raises(ValueError, match="`image`"):
        spiking.add_noise(K, np.zeros((0, 7)), 0.1)
    out = spiking.add_noise(K, IMG, 0.1)
    assert set(np.unique(np.asarray(out)).tolist()) <= {0.0, 1.0}
    assert int(np.sum(np.asarray(out) != IMG)) == round(0.1 * 49)
    # vmapped over keys (traced images are not value-checked, only concrete ones)
    many = jax.vmap(lambda k: spiking.add_noise(k, IMG, 0.1))(jr.split(K, 3))
    assert many.shape == (3, 7, 7)


def test_amsu_refuses_nan_wrong_width_and_wrong_rank():
    """Item 5: NaN inputs gave zeros (as a zero input would), a wrong width a raw dot_general TypeError, a
    1-D input to `recurrent` a lax.scan carry error."""
    unit = snn.AMSU(8, 8, key=K, heads=2)
    with pytest.raises(ValueError, match="`x` must be finite") as info:
        unit.parallel(jnp.full((8, 8), jnp.nan), chunk=4)
    _not_type_error(info)
    for x in (jnp.ones((8, 5)), jnp.ones((8,)), jnp.ones((0, 8)), jnp.ones((2, 8, 8))):
        for call in (lambda x: unit.parallel(x, chunk=4), unit.recurrent):
            with pytest.raises(ValueError, match=r"`x` must have shape \(T, d_in\) with d_in = 8") as info:
                call(x)
            _not_type_error(info)
    with pytest.raises(TypeError, match="`x`"):
        unit.recurrent(jnp.ones((8, 8), bool))
    with pytest.raises(ValueError, match=r"`x_t` must have shape \(d_in,\)"):
        unit.step(unit.init_state(), jnp.ones((8, 8)))
    assert unit.parallel(jnp.ones((8, 8)), chunk=4).shape == (8, 8)


@pytest.mark.parametrize("kind", ["astrosnn", "lstm", "transformer"])
def test_an_empty_token_sequence_is_refused(kind):
    """Item 6: an empty sequence raised `ZeroDivisionError: integer modulo by zero`."""
    model = snn.build_model(kind, 10, 8, 1, key=K, chunk=8)
    with pytest.raises(ValueError, match="`tokens` must hold at least one token") as info:
        model(jnp.zeros((0,), jnp.int32))
    _not_type_error(info)


@pytest.mark.parametrize(
    "ts, message",
    [
        ([0.0, 1e9], r"`energy_ts` must lie in \[0, t1 = 200\]"),
        ([-1.0, 1.0], r"`energy_ts` must lie in \[0, t1"),
        ([2.0, 1.0], "`energy_ts` must be non-decreasing"),
    ],
)
def test_energy_ts_outside_the_solve_or_decreasing_is_refused(ts, message):
    """Item 9: these failed inside jit with diffrax's "saveat.ts must lie between t0 and t1"."""
    dam = nam.DenseAssociativeMemory(XI)
    for call in (
        lambda: nam.retrieve(dam, jnp.asarray(XI[0]), energy_ts=jnp.asarray(ts)),
        lambda: nam.retrieve_batch(dam, jnp.asarray(XI), energy_ts=jnp.asarray(ts)),
    ):
        with pytest.raises(ValueError, match=message) as info:
            call()
        _not_type_error(info)
    out = nam.retrieve(dam, jnp.asarray(XI[0]), energy_ts=jnp.asarray([0.0, 1.0, 1.0, 200.0]))
    assert out.energies.shape == (4,)


def test_huge_durations_are_refused_naming_the_argument():
    """Item 10: `simulate(net, stim, 1e9)` raised a JAX OverflowError (10^10 steps in int32); a protocol
    with `delay_ms=1e9` collapsed its read-out windows in float32 and was refused naming `readouts_ms`."""
    with pytest.raises(ValueError, match="`t_end_ms` must be at most") as info:
        spiking.simulate(NET, STIM, 1e9)
    _not_type_error(info)
    with pytest.raises(ValueError, match="`t_end_ms` must be at most"):
        spiking.simulate_batch(NET, spiking.stack_stimuli([STIM]), 1e9)
    limit = spiking._network.max_duration_ms(NET.dt_ms, jnp.float32)
    assert 5_000.0 < limit < 1e6  # the paper's longest delay (5 s) fits
    protocol = spiking.Protocol(n_samples=1, delay_ms=1e9)
    with pytest.raises(ValueError, match=r"`protocol.delay_ms` \(1000000000.0\)"):
        protocol.check_duration(1, NET.dt_ms)  # what a command line calls to name its own flag
    spiking.Protocol(delay_ms=5000.0).check_duration(1, NET.dt_ms)  # the paper's longest delay
    for call in (
        lambda: spiking.run_trials(NET, IMG, [0.1], trials=1, protocol=protocol),
        lambda: spiking.example_run(NET, IMG, protocol=protocol),
    ):
        with pytest.raises(ValueError, match=r"`protocol.delay_ms` \(1000000000.0\)") as info:
            call()
        _not_type_error(info)


def test_retention_batch_refuses_an_empty_batch():
    """Item 11: `RetentionTask(max_delay=8).batch(key, 0)` returned empty arrays."""
    task = snn.RetentionTask(max_delay=8)
    for size, error in ((0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="`size`"):
            task.batch(K, size)
    with pytest.raises(TypeError, match="`key`"):
        task.batch(0, 2)
    with pytest.raises(ValueError, match="`size`, `max_delay`"):
        task.batch(K, 10**13)
    tokens, targets, mask = task.batch(K, 2)
    assert tokens.shape == targets.shape == mask.shape == (2, task.length)


def _corrupt_rows(tmp_path, edit):
    spec = nam.SweepSpec(n_grid={"hopfield": (16,)}, trials=8, batch=8)
    nam.run_sweep(spec, str(tmp_path), progress=False)
    path = tmp_path / "rows.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    edit(header, row)
    lines[2] = ",".join(row)
    path.write_text("\n".join(lines) + "\n")
    return spec


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("retrieved", "999", r"`retrieved` must lie in \[0, trials = 8\]"),
        ("retrieved", "-1", r"`retrieved` must lie in \[0, trials"),
        ("converged", "9", r"`converged` must lie in \[0, trials"),
        ("overlap", "7.5", r"`overlap` must lie in \[-1, 1\]"),
        ("trials", "0", "expected n >= 2, k >= 1, cap >= k and trials >= 1"),
    ],
)
def test_corrupt_counts_in_rows_csv_name_the_file_and_line(tmp_path, column, value, message):
    """Item 12: a corrupted `retrieved` count was reported as "`evaluate(21)` must return (successes,
    trials)" with neither the file nor the line."""

    def edit(header, row):
        row[header.index(column)] = value

    spec = _corrupt_rows(tmp_path, edit)
    with pytest.raises(ValueError, match=rf"rows.csv: line 3: {message}") as info:
        nam.run_sweep(spec, str(tmp_path), progress=False)
    _not_type_error(info)
    with pytest.raises(ValueError, match="rows.csv: line 3"):
        nam.load_sweep(str(tmp_path))


def test_undecodable_rows_csv_names_the_file(tmp_path):
    """Item 12: undecodable bytes gave a bare codec error without the file."""
    spec = nam.SweepSpec(n_grid={"hopfield": (16,)}, trials=8, batch=8)
    nam.run_sweep(spec, str(tmp_path), progress=False)
    path = tmp_path / "rows.csv"
    path.write_bytes(path.read_bytes()[:60] + b"\xff\xfe\x80" + path.read_bytes()[60:])
    with pytest.raises(ValueError, match=r"rows.csv: not a readable results table \(not UTF-8"):
        nam.run_sweep(spec, str(tmp_path), progress=False)


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda xi: nam.NeuronAstrocyte(nam.HebbianTensor(xi)), "`tensor` (its N)"),
        (lambda xi: nam.KroneckerTensor.from_patterns(xi), "`patterns` (K, N)"),
        (lambda xi: learning.SymmetricKronecker.from_patterns(xi, form="full"), "`patterns` (its N), `rank`"),
        (lambda xi: nam.HebbianTensor(xi).dense(), "the tensor's N"),
    ],
)
def test_quadratic_allocations_are_estimated_first(call, names):
    """Item 13: `NeuronAstrocyte` at N = 10^5 failed with XLA RESOURCE_EXHAUSTED: `c` and `d` (N x N) were
    allocated before `retrieve`'s memory check. Each O(N^2)+ allocation is now estimated first and refused
    in the sweep's message style."""
    xi = np.ones((2, HUGE_N), np.float32)
    xi[1, ::2] = -1.0
    with pytest.raises(ValueError, match="more than the .* of memory available; choose smaller sizes") as info:
        call(xi)
    assert str(info.value).startswith(names)
    _not_type_error(info)


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: snn.AstroSNN(10, 2**20, 2, key=K, heads=4), "`vocab`, `d`, `layers`"),
        (lambda: snn.RNNLM(10, 2**20, 2, key=K), "`vocab`, `d`, `layers`"),
        (lambda: snn.TransformerLM(10, 2**20, 2, key=K), "`vocab`, `d`, `layers`"),
        (lambda: snn.AMSU(2**20, 2**20, key=K), "`d_in`, `d_out`"),
        (lambda: snn.TransformerLM(10, 8, 1, key=K, heads=2).init_state(10**13), "`capacity`"),
        (lambda: spiking.GordleevaNetwork(side=10**7, block=4, stride=3), "`side`, `block`, `stride`"),
        (
            lambda: snn.generate(snn.build_model("lstm", 10, 8, 1, key=K), jnp.array([1], jnp.int32), 10**13, K),
            "`steps`",
        ),
        (lambda: snn.CharData("abcabcabca" * 30).batch(K, 10**12, 8), "`size`, `length`"),
        (lambda: spiking.load_digit(0, side=10**7), "`side`"),
        (lambda: learning.digit_patterns(side=10**7), "`side`"),
    ],
)
def test_sequence_and_spiking_models_estimate_memory_first(call, names):
    """Item 13 / part 3: constructors whose weights or caches grow as a square estimate them first."""
    with pytest.raises(ValueError, match="choose smaller sizes") as info:
        call()
    assert str(info.value).startswith(names)


def test_retrieval_loss_checks_traced_targets_at_run_time():
    """Item 2 under jit (a training step): targets that are not +-1 raise at run time."""
    tensor = nam.HebbianTensor(XI)
    cues = jnp.asarray(XI)
    loss = eqx.filter_jit(lambda t: learning.retrieval_loss(tensor, cues, t)[0])
    assert 0.0 <= float(loss(cues)) <= 1.0
    with pytest.raises(Exception, match="`targets` must contain only"):
        jax.block_until_ready(loss(cues * 7))
