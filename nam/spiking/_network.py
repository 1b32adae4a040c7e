"""The spiking neuron-astrocyte network of Gordleeva et al. (2021), simulated with a fixed step.

Geometry (sec. 2): a side x side layer of Izhikevich neurons with no connections between them, and an
a_side x a_side layer of Li-Rinzel astrocytes; astrocyte (i, j) covers neurons [3i, 3i+4) x [3j, 3j+4),
so neighbouring blocks share one row/column (40 x 40 neurons, 13 x 13 astrocytes of 16 neurons).

Coupling, with every rule explicit (`GordleevaNetwork` holds the parameters):
- neuron -> astrocyte: each astrocyte watches its 16 neurons over a sliding window of `window_ms`
  (400 ms). With `rate_rule="per_neuron"` (default) the condition is: more than `min_active` (8) of
  them fire faster than `rate_hz` (17.5 Hz, i.e. more than 7 spikes in 400 ms). With
  `rate_rule="mean"`: more than `min_active` of them spike at all and their mean rate exceeds
  `rate_hz`. While it holds, the astrocyte receives I_neuro = `i_neuro` (5 uM/s) of IP3 production:
  `trigger="retrigger"` (default, as the authors' code) restarts a `pulse_ms` (60 ms) pulse on every
  step the condition holds, so the drive lasts as long as the condition plus 60 ms;
  `trigger="rising_edge"` starts one 60 ms pulse each time the condition becomes true.
- astrocyte -> neuron: a neuron receives I_astro = `i_astro` (30) while any astrocyte covering it has
  Ca > `ca_threshold` (0.15 uM) and more than `min_active` of that astrocyte's neurons are active,
  a neuron counting as active if it spiked within the last `activity_window_ms` (default 10 ms; the
  paper says only "activated").
- input: I_app = `i_app` (5) on the neurons whose pixel is on while an image is presented.

Clock: one step of `dt_ms` (default 0.1 ms) advances the neurons by dt ms (forward Euler, then the
spike reset) and the astrocytes by dt/1000 s (forward Euler; their fastest rate is ~20 /s, so the
error is negligible). We use `lax.scan`/`fori_loop` rather than diffrax: every step has a reset, the
window is a delay line indexed by the step number, and the step is fixed by the model, so there is
nothing for an adaptive solver or its step-size controller to do. The 400 ms window is an exact
delay line of window_ms / dt booleans per neuron (6.4 MB per trial at 0.1 ms), updated in place.
"""

from collections.abc import Iterable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import (
    ArgumentTypeError,
    as_float_array,
    check_choice,
    check_instance,
    check_int,
    check_memory,
    check_number,
    check_scalar,
    is_concrete,
    public_name,
)
from ._simulation import SpikingRun, _run
from ._units import Izhikevich, LiRinzel

MAX_DT_MS = 0.5  # Izhikevich's own scheme takes 0.5 ms half-steps; coarser Euler steps misplace spikes


class GordleevaNetwork(eqx.Module):
    """Parameters of the neuron-astrocyte network (Gordleeva et al. 2021, sec. 2), in one place.

    Numbers are 0-d arrays (changing them never recompiles); sizes, the step and the rule names are
    static. Units: ms and mV for neurons, s and uM for astrocytes, Hz for rates.
    """

    neuron: Izhikevich
    astrocyte: LiRinzel
    i_app: Float[Array, ""]
    i_astro: Float[Array, ""]
    i_neuro: Float[Array, ""]
    ca_threshold: Float[Array, ""]
    rate_hz: Float[Array, ""]
    pulse_ms: Float[Array, ""]
    activity_window_ms: Float[Array, ""]
    min_active: Int[Array, ""]
    side: int = eqx.field(static=True)
    block: int = eqx.field(static=True)
    stride: int = eqx.field(static=True)
    dt_ms: float = eqx.field(static=True)
    window_ms: float = eqx.field(static=True)
    rate_rule: str = eqx.field(static=True)
    trigger: str = eqx.field(static=True)

    def __init__(
        self,
        neuron: Izhikevich | None = None,
        astrocyte: LiRinzel | None = None,
        *,
        i_app=5.0,
        i_astro=30.0,
        i_neuro=5.0,
        ca_threshold=0.15,
        rate_hz=17.5,
        pulse_ms=60.0,
        activity_window_ms=10.0,
        min_active=8,
        side: int = 40,
        block: int = 4,
        stride: int = 3,
        dt_ms: float = 0.1,
        window_ms: float = 400.0,
        rate_rule: str = "per_neuron",
        trigger: str = "retrigger",
    ):
        self.neuron = check_instance("neuron", Izhikevich() if neuron is None else neuron, Izhikevich)
        self.astrocyte = check_instance("astrocyte", LiRinzel() if astrocyte is None else astrocyte, LiRinzel)
        self.i_app = check_scalar("i_app", i_app)
        self.i_astro = check_scalar("i_astro", i_astro)
        self.i_neuro = check_scalar("i_neuro", i_neuro, nonnegative=True)
        self.ca_threshold = check_scalar("ca_threshold", ca_threshold, nonnegative=True)
        self.rate_hz = check_scalar("rate_hz", rate_hz, nonnegative=True)
        self.pulse_ms = check_scalar("pulse_ms", pulse_ms, nonnegative=True)
        self.activity_window_ms = check_scalar("activity_window_ms", activity_window_ms, positive=True)
        for name, value in (("side", side), ("block", block), ("stride", stride)):
            check_int(name, value)
        # the coverage index (side^2 (block / stride)^2) and the delay line of every neuron are built here
        check_memory(
            "`side`, `block`, `stride`",
            8.0 * side * side * (-(-block // stride)) ** 2,
            f"the coverage of a {side} x {side} layer",
        )
        if block > side or (side - block) % stride:
            raise ValueError(
                f"`side` - `block` must be a non-negative multiple of `stride` so the astrocyte "
                f"blocks tile the layer, got side={side}, block={block}, stride={stride}"
            )
        check_int("min_active", min_active, 0, block * block - 1)
        self.min_active = jnp.asarray(min_active, dtype=jnp.int32)
        self.side, self.block, self.stride = side, block, stride
        dt_ms = check_number("dt_ms", dt_ms)
        if not 0 < dt_ms <= MAX_DT_MS:
            raise ValueError(
                f"`dt_ms` must be in (0, {MAX_DT_MS}] ms: Izhikevich's scheme uses 0.5 ms half-steps, "
                f"larger forward-Euler steps misplace spikes (linear stability alone allows "
                f"{self.neuron.max_stable_dt():.2g} ms); got {dt_ms}"
            )
        self.dt_ms = dt_ms
        window_ms = check_number("window_ms", window_ms)
        if not window_ms >= dt_ms:
            raise ValueError(f"`window_ms` must be at least one step `dt_ms` = {dt_ms} ms, got {window_ms}")
        if is_concrete(self.activity_window_ms) and float(self.activity_window_ms) < dt_ms:
            raise ValueError(
                f"`activity_window_ms` must be at least one step `dt_ms` = {dt_ms} ms, "
                f"got {float(self.activity_window_ms)}"
            )
        self.window_ms = window_ms
        self.rate_rule = check_choice("rate_rule", rate_rule, ("per_neuron", "mean"))
        self.trigger = check_choice("trigger", trigger, ("retrigger", "rising_edge"))

    @property
    def astro_side(self) -> int:
        return (self.side - self.block) // self.stride + 1

    @property
    def window_steps(self) -> int:
        return max(1, int(round(self.window_ms / self.dt_ms)))

    def block_sum(self, x: Array) -> Array:
        """Sum of a (side, side) map over each astrocyte's block: (astro_side, astro_side)."""
        return jax.lax.reduce_window(
            x, jnp.zeros((), x.dtype), jax.lax.add, (self.block, self.block), (self.stride, self.stride), "VALID"
        )

    def coverage(self) -> np.ndarray:
        """(side*side, c) flat indices of the astrocytes covering each neuron, padded with the index
        astro_side^2 (a slot that is always False). c = ceil(block / stride)^2 = 4 by default."""
        a, per = self.astro_side, -(-self.block // self.stride)
        idx = np.full((self.side, self.side, per * per), a * a, dtype=np.int32)
        for r in range(self.side):
            for c in range(self.side):
                rows = [i for i in range(a) if self.stride * i <= r < self.stride * i + self.block]
                cols = [j for j in range(a) if self.stride * j <= c < self.stride * j + self.block]
                cover = [i * a + j for i in rows for j in cols]
                idx[r, c, : len(cover)] = cover
        return idx.reshape(self.side * self.side, per * per)


class Stimulus(eqx.Module):
    """Images presented to the neurons: image s is on during [onsets_ms[s], onsets_ms[s] + durations_ms[s]).

    `images` (S, side, side) with 0/1 entries (1: the pixel drives its neuron with I_app). Presentations
    must not overlap. Batch trials by stacking Stimuli along a leading axis (`stack_stimuli`).
    """

    images: Float[Array, "s h w"]
    onsets_ms: Float[Array, " s"]
    durations_ms: Float[Array, " s"]

    def __init__(self, images, onsets_ms, durations_ms):
        images = as_float_array("images", images)
        if images.ndim != 3 or images.shape[1] != images.shape[2]:
            raise ValueError(f"`images` must have shape (S, side, side), got {images.shape}")
        if images.shape[0] < 1:
            raise ValueError(f"`images` must hold at least one image, got shape {images.shape}")
        onsets = as_float_array("onsets_ms", onsets_ms, ndim=1)
        durations = as_float_array("durations_ms", durations_ms, ndim=1)
        if onsets.shape != (images.shape[0],) or durations.shape != onsets.shape:
            raise ValueError(
                f"`onsets_ms` and `durations_ms` must have shape ({images.shape[0]},) (one per image), "
                f"got {onsets.shape} and {durations.shape}"
            )
        if is_concrete(images):
            im = np.asarray(images)
            if not np.all((im == 0) | (im == 1)):
                raise ValueError(
                    "`images` must be binary (0/1 pixels); threshold grey images first (nam.spiking.load_digit does)"
                )
        if is_concrete(onsets) and is_concrete(durations):
            on, du = np.asarray(onsets), np.asarray(durations)
            if not (np.all(np.isfinite(on)) and np.all(np.isfinite(du))):
                raise ValueError("`onsets_ms` and `durations_ms` must be finite, got NaN or inf")
            if np.any(du < 0) or np.any(on < 0):
                raise ValueError("`onsets_ms` and `durations_ms` must be >= 0")
            order = np.argsort(on)
            if np.any(on[order][1:] < (on + du)[order][:-1]):
                raise ValueError("presentations overlap: each image must end before the next one starts")
        self.images, self.onsets_ms, self.durations_ms = images, onsets, durations


def stack_stimuli(stimuli) -> Stimulus:
    """Stack Stimuli of equal shapes along a new leading (trial) axis, for `simulate_batch`."""
    items = list(stimuli) if isinstance(stimuli, Iterable) and not isinstance(stimuli, (Stimulus, str)) else None
    if items is None or not all(isinstance(x, Stimulus) for x in items):
        raise ArgumentTypeError(
            f"`stimuli` must be a sequence of {public_name(Stimulus)}, got {type(stimuli).__name__}"
        )
    stimuli = items
    if not stimuli:
        raise ValueError("`stimuli` must hold at least one Stimulus")
    shapes = {
        jax.tree_util.tree_map(jnp.shape, x).images + jax.tree_util.tree_map(jnp.shape, x).onsets_ms for x in stimuli
    }
    if len(shapes) != 1:
        raise ValueError(f"`stimuli` must all have the same shapes (images, onsets), got {sorted(shapes)}")
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *stimuli)


def max_duration_ms(dt_ms: float, dtype) -> float:
    """The longest run (ms) `simulate` can represent with steps of `dt_ms` and times in `dtype`: the step
    counter is int32 (at most 2^31 - 1 steps), and the time k * dt must be resolved to dt / 8 (beyond,
    float32 read-out windows and onsets would collapse onto each other)."""
    return float(min((2**31 - 1) * dt_ms, dt_ms / (8.0 * float(jnp.finfo(dtype).eps))))


def check_duration(name: str, t_ms: float, dt_ms: float, dtype) -> None:
    """ValueError naming `name` when a time of `t_ms` ms cannot be represented (`max_duration_ms`)."""
    limit = max_duration_ms(dt_ms, dtype)
    if t_ms > limit:
        raise ValueError(
            f"{name} must be at most {limit:.6g} ms (the longest run with steps of dt_ms = {dt_ms} "
            f"ms and {jnp.dtype(dtype).name} times), got {t_ms:g}"
        )


def _check_windows(name, windows, t_end_ms):
    """(W, 2) windows with 0 <= start < end <= t_end_ms (a window past the end would count fewer steps
    than it says)."""
    arr = np.asarray(as_float_array(name, windows if windows is not None else np.zeros((0, 2))), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"`{name}` must be a list of (start_ms, end_ms) pairs, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr[:, 1] <= arr[:, 0]) or np.any(arr < 0):
        raise ValueError(f"`{name}`: each window needs 0 <= start_ms < end_ms, got {arr.tolist()}")
    if np.any(arr[:, 1] > t_end_ms * (1 + 1e-9)):
        raise ValueError(
            f"`{name}`: each window must end by t_end_ms = {t_end_ms:g} (the end of the run), got {arr.tolist()}"
        )
    return arr


def _prepare(network, stimulus, t_end_ms, record_every_ms, readouts_ms, snapshot_ms, trace_neurons):
    check_instance("network", network, GordleevaNetwork)
    check_instance("stimulus", stimulus, Stimulus)
    if stimulus.images.shape[-1] != network.side:
        raise ValueError(
            f"`stimulus` images must be {network.side} x {network.side} (the neuron layer), "
            f"got {stimulus.images.shape[-2:]}"
        )
    dt = network.dt_ms
    t_end_ms = check_number("t_end_ms", t_end_ms)
    if not t_end_ms >= dt:
        raise ValueError(f"`t_end_ms` must be at least one step ({dt} ms), got {t_end_ms}")
    check_duration("`t_end_ms`", t_end_ms, dt, stimulus.images.dtype)
    if record_every_ms is None:
        per_record, records = int(round(t_end_ms / dt)), 0
    else:
        record_every_ms = check_number("record_every_ms", record_every_ms, minimum=0.0, open_min=True)
        per_record = int(round(record_every_ms / dt))
        if per_record < 1 or abs(per_record * dt - record_every_ms) > 1e-6 * record_every_ms:
            raise ValueError(f"`record_every_ms` must be a positive multiple of dt_ms = {dt}, got {record_every_ms}")
        records = int(round(t_end_ms / record_every_ms))
        if abs(records * record_every_ms - t_end_ms) > 1e-6 * t_end_ms:
            raise ValueError(f"`t_end_ms` ({t_end_ms}) must be a multiple of `record_every_ms` ({record_every_ms})")
    readouts = _check_windows("readouts_ms", readouts_ms, t_end_ms)
    snaps = np.asarray(
        as_float_array("snapshot_ms", [] if snapshot_ms is None else snapshot_ms), dtype=np.float64
    ).reshape(-1)
    if not np.all((snaps >= 0) & (snaps <= t_end_ms)):  # NaN fails too
        raise ValueError(f"`snapshot_ms` must lie in [0, t_end_ms = {t_end_ms}], got {snaps.tolist()}")
    if trace_neurons is not None and (
        isinstance(trace_neurons, (str, bytes)) or not isinstance(trace_neurons, Iterable)
    ):
        raise ArgumentTypeError(
            f"`trace_neurons` must be a list of flat neuron indices, got {type(trace_neurons).__name__}"
        )
    neurons = tuple(check_int("trace_neurons", i, 0) for i in (trace_neurons or ()))
    if any(not 0 <= i < network.side**2 for i in neurons):
        raise ValueError(f"`trace_neurons` must be flat neuron indices in [0, {network.side**2}), got {neurons}")
    a = network.astro_side
    # per trial: the window's delay line (booleans), the recorded traces and snapshots (8-byte numbers)
    per_trial = (
        network.window_steps * network.side**2
        + 8 * records * (len(neurons) + 5 * a * a + 1)
        + 8 * snaps.size * (network.side**2 + a * a)
        + 8 * len(readouts) * network.side**2
    )
    trials = stimulus.images.shape[0] if stimulus.images.ndim == 4 else 1
    check_memory(
        "`t_end_ms`, `record_every_ms`, the number of trials",
        float(trials) * per_trial,
        f"simulating {trials} trial(s)",
    )
    rest = jnp.asarray(network.neuron.rest_state() + network.astrocyte.rest_state(), stimulus.images.dtype)
    return dict(
        rest=rest,
        steps_per_record=per_record,
        records=records,
        readouts=jnp.asarray(readouts),
        snap_steps=jnp.asarray(np.round(snaps / dt).astype(np.int32)),
        trace_neurons=neurons,
    )


def simulate(
    network, stimulus, t_end_ms, *, record_every_ms=None, readouts_ms=None, snapshot_ms=None, trace_neurons=None
) -> SpikingRun:
    """Simulate one trial from rest for `t_end_ms` ms. See `SpikingRun` for what is returned.

    `readouts_ms`: list of (start, end) windows whose per-neuron spike counts are returned (the
    response maps used for accuracy). `snapshot_ms`: times of the V and Ca maps. `trace_neurons`: flat
    indices r * side + c of neurons whose V is sampled every `record_every_ms`.
    """
    prep = _prepare(network, stimulus, t_end_ms, record_every_ms, readouts_ms, snapshot_ms, trace_neurons)
    return _simulate(network, stimulus, **prep)


def simulate_batch(network, stimuli, t_end_ms, **kwargs) -> SpikingRun:
    """`simulate` vmapped over the leading (trial) axis of a stacked Stimulus (`stack_stimuli`)."""
    check_instance(
        "stimuli", stimuli, Stimulus, "a nam.spiking.Stimulus with a leading trial axis (use nam.spiking.stack_stimuli)"
    )
    if stimuli.images.ndim != 4 or stimuli.images.shape[0] < 1:
        raise ValueError(
            f"`stimuli` must be a Stimulus with a leading trial axis of at least one trial (use "
            f"nam.spiking.stack_stimuli), got images of shape {stimuli.images.shape}"
        )
    single = jax.tree_util.tree_map(lambda x: x[0], stimuli)
    single = eqx.tree_at(lambda s: s.images, single, stimuli.images)  # the trial count, for the memory check
    prep = _prepare(
        network,
        single,
        t_end_ms,
        kwargs.pop("record_every_ms", None),
        kwargs.pop("readouts_ms", None),
        kwargs.pop("snapshot_ms", None),
        kwargs.pop("trace_neurons", None),
    )
    if kwargs:
        raise ValueError(f"unknown arguments {sorted(kwargs)}")
    return _simulate_batch(network, stimuli, **prep)


@eqx.filter_jit
def _simulate_batch(network, stimuli, **prep):
    return jax.vmap(lambda s: _run(network, s, **prep))(stimuli)


@eqx.filter_jit
def _simulate(network, stimulus, **prep):
    return _run(network, stimulus, **prep)
