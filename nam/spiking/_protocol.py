"""The training and test protocol of Gordleeva et al. (2021, sec. 3), noise, accuracy, experiments.

Protocol (defaults are the paper's):
- training: `n_samples` (10) noisy copies of each pattern, each presented for `present_ms` (4 ms),
  with `gap_ms` (40 ms) between presentations, so one every 44 ms. With several patterns the
  samples are presented pattern by pattern (`order="blocked"`, default) or alternating
  (`order="interleaved"`); the paper does not say. Interleaving halves each neuron's rate (11 Hz),
  below the 17.5 Hz the astrocytes need, so nothing is stored.
- test: one noisy sample of one pattern presented for `test_ms` (20 ms), starting `delay_ms` after
  the end of the last training presentation.
- noise, a fraction `level` of the pixels, an exact count round(level * side^2) chosen at random:
  `noise="flip"` inverts each chosen pixel (the fraction of pixels that differ is exactly `level`);
  `noise="salt_and_pepper"` replaces each chosen pixel by a fair coin (0 or 1), the usual
  salt-and-pepper convention, so only about half of them change.
- response and accuracy: a neuron responds if it spikes in [test onset, test onset + t) for each
  read-out time t in `readout_ms` (the paper shows t = 4.4 and 11.6 ms). The accuracy is the
  balanced accuracy (TPR + TNR) / 2 of the response against the clean pattern, as the authors' code
  computes it: 0.5 for an all-on or all-off response, 1 for a perfect one.
"""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._checks import (
    ArgumentTypeError,
    as_float_array,
    check_choice,
    check_instance,
    check_int,
    check_key,
    check_number,
    is_concrete,
)
from .._data import DIGITS as DIGITS
from .._data import load_digit as load_digit
from ._network import GordleevaNetwork, Stimulus, check_duration, max_duration_ms, simulate, simulate_batch


def add_noise(key, image, level, noise: str = "flip"):
    """A noisy copy of a 0/1 image: exactly round(level * pixels) pixels chosen at random are flipped
    (`noise="flip"`) or replaced by a fair coin (`noise="salt_and_pepper"`). Jit- and vmap-able; the
    image's 0/1 values and the level's range are checked when concrete."""
    check_choice("noise", noise, ("flip", "salt_and_pepper"))
    key = check_key("key", key)
    image = as_float_array("image", image)
    if image.size == 0:
        raise ValueError(f"`image` must hold at least one pixel, got shape {image.shape}")
    if is_concrete(image) and not bool(np.all((np.asarray(image) == 0) | (np.asarray(image) == 1))):
        raise ValueError("`image` must be binary (0/1); threshold it first (nam.spiking.load_digit does)")
    level_arr = as_float_array("level", level)
    if level_arr.shape != ():
        raise ValueError(f"`level` must be a scalar (vmap for several), got shape {level_arr.shape}")
    if is_concrete(level_arr) and not 0.0 <= float(level_arr) <= 1.0:  # NaN fails too
        raise ValueError(f"`level` must be a fraction of pixels in [0, 1], got {float(level_arr)}")
    flat = image.reshape(-1)
    n = flat.shape[0]
    level = jnp.asarray(level, flat.dtype)
    kpick, kcoin = jr.split(key)
    count = jnp.round(level * n).astype(jnp.int32)
    chosen = jnp.zeros((n,), jnp.bool_).at[jr.permutation(kpick, n)].set(jnp.arange(n, dtype=jnp.int32) < count)
    if noise == "flip":
        new = 1.0 - flat
    else:
        new = jr.bernoulli(kcoin, 0.5, (n,)).astype(flat.dtype)
    return jnp.where(chosen, new, flat).reshape(image.shape)


def _as_map(name, x):
    try:
        return x if isinstance(x, jax.Array) else jnp.asarray(x)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"`{name}` must be a real or boolean map, got {type(x).__name__}") from e


def balanced_accuracy(response, target):
    """(TPR + TNR) / 2 of a boolean response map against a 0/1 target map (last two axes). `response`
    (booleans or spike counts) and `target` must broadcast together and have at least two axes."""
    r, t = (_as_map(name, x) for name, x in (("response", response), ("target", target)))
    for name, x in (("response", r), ("target", t)):
        real = x.dtype == jnp.bool_ or jnp.issubdtype(x.dtype, jnp.number)
        if jnp.issubdtype(x.dtype, jnp.complexfloating) or not real:
            raise ArgumentTypeError(f"`{name}` must be a real or boolean map, got dtype {x.dtype}")
        if x.ndim < 2:
            raise ValueError(f"`{name}` must be a map with at least two axes (side, side), got shape {x.shape}")
    try:
        shape = jnp.broadcast_shapes(r.shape, t.shape)
    except ValueError:
        raise ValueError(f"`response` {r.shape} and `target` {t.shape} must have broadcastable shapes") from None
    r, t = r > 0, t > 0.5
    r, t = jnp.broadcast_to(r, shape), jnp.broadcast_to(t, shape)
    tp = jnp.sum(r & t, axis=(-2, -1))
    tn = jnp.sum(~r & ~t, axis=(-2, -1))
    return 0.5 * (tp / jnp.maximum(jnp.sum(t, axis=(-2, -1)), 1) + tn / jnp.maximum(jnp.sum(~t, axis=(-2, -1)), 1))


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Timing and noise of one training + test run (see the module docstring). Times in ms."""

    n_samples: int = 10
    train_noise: float = 0.1
    present_ms: float = 4.0
    gap_ms: float = 40.0
    order: str = "blocked"
    test_ms: float = 20.0
    delay_ms: float = 1000.0
    after_ms: float = 60.0
    noise: str = "flip"
    readout_ms: tuple = (4.4, 11.6, 20.0)

    def __post_init__(self):
        check_int("n_samples", self.n_samples)
        check_number("train_noise", self.train_noise, minimum=0.0, maximum=1.0)
        for name in ("present_ms", "test_ms"):  # finite: an infinite time would never end the simulation
            check_number(name, getattr(self, name), minimum=0.0, open_min=True)
        for name in ("gap_ms", "delay_ms", "after_ms"):
            check_number(name, getattr(self, name), minimum=0.0)
        check_choice("order", self.order, ("blocked", "interleaved"))
        check_choice("noise", self.noise, ("flip", "salt_and_pepper"))
        if isinstance(self.readout_ms, (str, bytes)) or not hasattr(self.readout_ms, "__len__") or not self.readout_ms:
            raise ValueError(f"`readout_ms` must be a non-empty list of positive times, got {self.readout_ms!r}")
        for t in self.readout_ms:
            check_number("readout_ms", t, minimum=0.0, open_min=True)

    def train_end_ms(self, n_patterns: int) -> float:
        return n_patterns * self.n_samples * (self.present_ms + self.gap_ms) - self.gap_ms

    def test_onset_ms(self, n_patterns: int) -> float:
        return self.train_end_ms(n_patterns) + self.delay_ms

    def t_end_ms(self, n_patterns: int) -> float:
        return self.test_onset_ms(n_patterns) + max(self.test_ms, max(self.readout_ms)) + self.after_ms

    def check_duration(self, n_patterns: int = 1, dt_ms: float = 0.1) -> None:
        """Refuse (ValueError) a run of `n_patterns` patterns longer than a simulation with steps of `dt_ms`
        and JAX's default float can represent (`nam.spiking.simulate` refuses it too), naming the field that
        makes it so long, e.g. `protocol.delay_ms`. `run_trials` and `example_run` call it before any
        compute; a command line can call it to name its own flag."""
        _check_protocol_duration(
            self, check_int("n_patterns", n_patterns), check_number("dt_ms", dt_ms, minimum=0.0, open_min=True)
        )

    def readout_windows(self, n_patterns: int):
        onset = self.test_onset_ms(n_patterns)
        return [(onset, onset + t) for t in self.readout_ms]


def make_stimulus(key, patterns, test_index, test_noise, protocol: Protocol) -> Stimulus:
    """The training presentations of every pattern and one test presentation of `patterns[test_index]`
    with noise `test_noise`, as a Stimulus. Jit- and vmap-able in `key` and `test_noise` (checked when
    concrete). `patterns` (P, side, side) of 0/1."""
    check_instance("protocol", protocol, Protocol)
    patterns = as_float_array("patterns", patterns)
    if patterns.ndim != 3 or patterns.shape[1] != patterns.shape[2]:
        raise ValueError(f"`patterns` must have shape (P, side, side), got {patterns.shape}")
    if patterns.shape[0] < 1:
        raise ValueError(f"`patterns` must hold at least one pattern, got shape {patterns.shape}")
    if is_concrete(patterns) and not bool(np.all((np.asarray(patterns) == 0) | (np.asarray(patterns) == 1))):
        raise ValueError("`patterns` must be binary (0/1); threshold them first (nam.spiking.load_digit does)")
    test_index = check_int("test_index", test_index, 0)
    if test_index >= patterns.shape[0]:
        raise ValueError(f"`test_index` must be in [0, {patterns.shape[0]}), got {test_index}")
    noise_arr = as_float_array("test_noise", test_noise)
    if noise_arr.shape != () or (is_concrete(noise_arr) and not 0.0 <= float(noise_arr) <= 1.0):
        raise ValueError(f"`test_noise` must be a fraction of pixels in [0, 1], got {test_noise!r}")
    n_pat = patterns.shape[0]
    per = protocol.n_samples
    if protocol.order == "blocked":
        which = np.repeat(np.arange(n_pat), per)
    else:
        which = np.tile(np.arange(n_pat), per)
    keys = jr.split(key, len(which) + 1)
    train = jax.vmap(lambda k, img: add_noise(k, img, protocol.train_noise, protocol.noise))(keys[:-1], patterns[which])
    test = add_noise(keys[-1], patterns[test_index], test_noise, protocol.noise)
    period = protocol.present_ms + protocol.gap_ms
    onsets = np.concatenate([np.arange(len(which)) * period, [protocol.test_onset_ms(n_pat)]])
    durations = np.concatenate([np.full(len(which), protocol.present_ms), [protocol.test_ms]])
    return Stimulus(jnp.concatenate([train, test[None]]), onsets, durations)


def _check_run(network, protocol, patterns, test_index):
    """The checks `run_trials` and `example_run` share: (protocol, patterns as (P, side, side), test_index)."""
    check_instance("network", network, GordleevaNetwork)
    protocol = (
        Protocol()
        if protocol is None
        else check_instance("protocol", protocol, Protocol, "a nam.spiking.Protocol or None")
    )
    pats = _check_patterns(patterns, network.side)
    test_index = check_int("test_index", test_index, 0)
    if test_index >= pats.shape[0]:
        raise ValueError(f"`test_index` must be in [0, {pats.shape[0]}), got {test_index}")
    protocol.check_duration(pats.shape[0], network.dt_ms)
    return protocol, pats, test_index


def _check_protocol_duration(protocol, n_patterns, dt_ms):
    """Refuse, before any compute, a protocol whose run is longer than a simulation can represent
    (`check_duration`), naming the protocol's field that makes it so long (e.g. `protocol.delay_ms`)."""
    t_end = protocol.t_end_ms(n_patterns)
    if t_end <= max_duration_ms(dt_ms, jnp.result_type(float)):
        return
    train = n_patterns * protocol.n_samples * (protocol.present_ms + protocol.gap_ms)
    shares = {
        "n_samples": train,
        "delay_ms": protocol.delay_ms,
        "after_ms": protocol.after_ms,
        "test_ms": max(protocol.test_ms, max(protocol.readout_ms)),
    }
    field = max(shares, key=shares.get)
    check_duration(
        f"`protocol.{field}` ({getattr(protocol, field)!r}) makes the run ({t_end:g} ms), which",
        t_end,
        dt_ms,
        jnp.result_type(float),
    )


def _check_patterns(patterns, side):
    arr = np.asarray(as_float_array("patterns", patterns), dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (side, side):
        raise ValueError(
            f"`patterns` must be (side, side) or (P, side, side) images with side = {side}, "
            f"got shape {np.shape(patterns)}"
        )
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("`patterns` must be binary (0/1); threshold them first (nam.spiking.load_digit does)")
    return arr


def run_trials(
    network: GordleevaNetwork,
    patterns,
    test_noise,
    *,
    trials: int = 20,
    test_index: int = 0,
    protocol: Protocol | None = None,
    seed: int = 0,
    chunk: int = 64,
    progress=None,
):
    """Accuracy of retrieving `patterns[test_index]` for each test noise level, `trials` independent
    trials each (fresh training and test noise per trial), batched with vmap in chunks of `chunk`.
    `progress`, if given, is a tqdm-like bar whose `update(n)` is called with the trials of each chunk.

    Returns a dict: `noise` (L,), `accuracy` (L, trials, R) per read-out time, `input_accuracy`
    (L, trials) of the noisy test image itself, `status` (L, trials).
    """
    protocol, pats, test_index = _check_run(network, protocol, patterns, test_index)
    levels = np.atleast_1d(np.asarray(as_float_array("test_noise", test_noise), dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels >= 0) & (levels <= 1)):  # NaN fails too
        raise ValueError(f"`test_noise` must be a non-empty list of levels in [0, 1], got {test_noise!r}")
    trials, seed, chunk = check_int("trials", trials), check_int("seed", seed, 0), check_int("chunk", chunk)
    n_pat = pats.shape[0]
    keys = jr.split(jr.PRNGKey(seed), levels.size * trials).reshape(levels.size, trials, 2)
    flat_keys = keys.reshape(-1, 2)
    flat_levels = np.repeat(levels, trials)
    pats_j = jnp.asarray(pats)
    make = jax.jit(jax.vmap(lambda k, lvl: make_stimulus(k, pats_j, test_index, lvl, protocol)))
    windows = protocol.readout_windows(n_pat)
    acc, status, inp = [], [], []
    for start in range(0, flat_levels.size, chunk):
        stim = make(flat_keys[start : start + chunk], jnp.asarray(flat_levels[start : start + chunk]))
        run = simulate_batch(network, stim, protocol.t_end_ms(n_pat), readouts_ms=windows)
        acc.append(np.asarray(balanced_accuracy(run.readout_counts, pats[test_index])))
        inp.append(np.asarray(balanced_accuracy(stim.images[:, -1], pats[test_index])))
        status.append(np.asarray(run.status))
        if progress is not None:
            progress.update(int(min(chunk, flat_levels.size - start)))
    shape = (levels.size, trials)
    return {
        "noise": levels,
        "accuracy": np.concatenate(acc).reshape(*shape, len(windows)),
        "input_accuracy": np.concatenate(inp).reshape(shape),
        "status": np.concatenate(status).reshape(shape),
        "readout_ms": np.asarray(protocol.readout_ms),
    }


def example_run(
    network: GordleevaNetwork,
    patterns,
    *,
    test_noise: float = 0.4,
    test_index: int = 0,
    protocol: Protocol | None = None,
    seed: int = 0,
    record_every_ms: float = 1.0,
):
    """One trial recorded for figures: the test stimulus, V and Ca maps at each read-out time, Ca
    traces of every astrocyte, V traces of a neuron inside and one outside the pattern, and the network's
    calcium threshold ("ca_threshold_uM") the traces are read against."""
    protocol, pats, test_index = _check_run(network, protocol, patterns, test_index)
    test_noise = check_number("test_noise", test_noise, minimum=0.0, maximum=1.0)
    seed = check_int("seed", seed, 0)
    record_every_ms = check_number("record_every_ms", record_every_ms, minimum=0.0, open_min=True)
    n_pat = pats.shape[0]
    stim = make_stimulus(jr.PRNGKey(seed), jnp.asarray(pats), test_index, test_noise, protocol)
    target = pats[test_index]
    inside = int(np.flatnonzero(target.reshape(-1))[len(np.flatnonzero(target)) // 2])
    outside = int(np.flatnonzero(1 - target.reshape(-1))[0])
    onset = protocol.test_onset_ms(n_pat)
    t_end = protocol.t_end_ms(n_pat)
    t_end = float(np.ceil(t_end / record_every_ms) * record_every_ms)
    run = simulate(
        network,
        stim,
        t_end,
        record_every_ms=record_every_ms,
        readouts_ms=protocol.readout_windows(n_pat),
        snapshot_ms=[onset + t for t in protocol.readout_ms],
        trace_neurons=[inside, outside],
    )
    return {
        "stimulus": stim,
        "run": run,
        "target": target,
        "inside": inside,
        "outside": outside,
        "test_onset_ms": onset,
        "t_end_ms": t_end,
        "ca_threshold_uM": float(network.ca_threshold),
    }
