"""The fixed-step simulation of the Gordleeva et al. network (`nam.spiking.simulate`): the carry, the step
(neurons, the spike-count delay line, the neuron -> astrocyte condition, the astrocytes' calcium) under
`lax.fori_loop`/`lax.scan`, and its result, `SpikingRun`."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ..dynamics._status import Status


class SpikingRun(eqx.Module):
    """Result of `simulate` for one trial (a leading trial axis for `simulate_batch`).

    - `readout_counts` (W, side, side): spikes of each neuron in each readout window [start, end) ms.
    - `spike_counts` (side, side): all spikes.
    - `snapshot_v` (Q, side, side), `snapshot_ca` (Q, a, a): V (mV) and Ca (uM) at the step nearest each
      of `snapshot_ms`.
    - `times_ms` (R,), `trace_v` (R, M) for `trace_neurons`, `trace_ca`, `trace_ip3` (R, a, a),
      `trace_drive` (R, a, a) (1 while I_neuro is on), `trace_feedback` (R, a, a) (1 while the
      astrocyte drives its neurons), `trace_spikes` (R,) population spikes per record interval.
      Sampled every `record_every_ms`; empty (R = 0) when it is None.
    - `status`: nam.Status.COMPLETED, or NON_FINITE if V, U, Ca, h or IP3 stopped being finite.
    """

    readout_counts: Int[Array, "w h w2"]
    spike_counts: Int[Array, "h w2"]
    snapshot_v: Float[Array, "q h w2"]
    snapshot_ca: Float[Array, "q a a2"]
    times_ms: Float[Array, " r"]
    trace_v: Float[Array, "r m"]
    trace_ca: Float[Array, "r a a2"]
    trace_ip3: Float[Array, "r a a2"]
    trace_drive: Float[Array, "r a a2"]
    trace_feedback: Float[Array, "r a a2"]
    trace_spikes: Int[Array, " r"]
    status: Int[Array, ""]


def _initial_state(rest, p: int, a: int, window: int, n_readouts: int, n_snap: int, dtype) -> dict:
    """The simulation's carry at t = 0: every cell at rest, no spikes, empty delay line and counters."""
    v_rest, u_rest, ca_rest, h_rest, ip3_rest = rest
    return dict(
        k=jnp.asarray(0, jnp.int32),
        v=jnp.full((p,), v_rest, dtype),
        u=jnp.full((p,), u_rest, dtype),
        ca=jnp.full((a, a), ca_rest, dtype),
        h=jnp.full((a, a), h_rest, dtype),
        ip3=jnp.full((a, a), ip3_rest, dtype),
        ring=jnp.zeros((window, p), jnp.uint8),
        leaving=jnp.zeros((p,), jnp.uint8),
        count=jnp.zeros((p,), jnp.int32),
        last_spike=jnp.full((p,), -1e9, dtype),
        pulse_end=jnp.full((a, a), -1e9, dtype),
        cond_prev=jnp.zeros((a, a), jnp.bool_),
        feedback=jnp.zeros((a, a), jnp.bool_),
        readout=jnp.zeros((n_readouts, p), jnp.int32),
        spikes=jnp.zeros((p,), jnp.int32),
        snap_v=jnp.zeros((n_snap, p), dtype),
        snap_ca=jnp.zeros((n_snap, a, a), dtype),
        block_spikes=jnp.asarray(0, jnp.int32),
    )


def _rate_condition(network, count, window_s, dtype):
    """The neuron -> astrocyte condition per astrocyte from the window's spike counts (`rate_rule`)."""
    side = network.side
    if network.rate_rule == "per_neuron":
        fast = (count.astype(dtype) / window_s > network.rate_hz).astype(jnp.int32)
        return network.block_sum(fast.reshape(side, side)) > network.min_active
    n_spiking = network.block_sum((count > 0).astype(jnp.int32).reshape(side, side))
    total = network.block_sum(count.reshape(side, side)).astype(dtype)
    mean_rate = total / (jnp.maximum(n_spiking, 1).astype(dtype) * window_s)
    return (n_spiking > network.min_active) & (mean_rate > network.rate_hz)


def _step_function(network, stimulus, images, cover, readouts, snap_steps, window: int, window_s: float, dtype):
    """One step of the network (neurons, the delay line of spike counts, the neuron -> astrocyte condition, the
    astrocytes), as the body of `lax.fori_loop`."""
    side, dt = network.side, network.dt_ms

    def step(_, s):
        k = s["k"]
        t = k.astype(dtype) * dt
        # snapshots of the state at the start of step k (time t)
        hit = snap_steps == k
        snap_v = jnp.where(hit[:, None], s["v"][None], s["snap_v"])
        snap_ca = jnp.where(hit[:, None, None], s["ca"][None], s["snap_ca"])
        # input current
        on = (stimulus.onsets_ms <= t) & (t < stimulus.onsets_ms + stimulus.durations_ms)
        image = images[jnp.argmax(on)] * jnp.any(on).astype(images.dtype)
        # astrocyte -> neuron feedback, from the state at time t
        recent = (t - s["last_spike"] < network.activity_window_ms).astype(jnp.int32).reshape(side, side)
        feedback = (s["ca"] > network.ca_threshold) & (network.block_sum(recent) > network.min_active)
        covered = jnp.any(jnp.concatenate([feedback.reshape(-1), jnp.zeros((1,), jnp.bool_)])[cover], axis=1)
        current = network.i_app * image + network.i_astro * covered.astype(dtype)
        v, u, spiked = network.neuron.step(s["v"], s["u"], current, dt)
        # sliding-window spike counts: an exact delay line of `window` steps. The row that leaves at
        # step k was read at step k - 1, after that step's write: reading a row before writing the
        # same buffer makes XLA copy the whole delay line every step (100x slower).
        slot = k % window
        count = s["count"] - s["leaving"].astype(jnp.int32) + spiked.astype(jnp.int32)
        ring = jax.lax.dynamic_update_index_in_dim(s["ring"], spiked.astype(jnp.uint8), slot, 0)
        leaving = jax.lax.dynamic_index_in_dim(ring, (slot + 1) % window, 0, keepdims=False)
        last_spike = jnp.where(spiked, t + dt, s["last_spike"])
        # neuron -> astrocyte condition over the window ending at t + dt
        cond = _rate_condition(network, count, window_s, dtype)
        if network.trigger == "retrigger":
            pulse_end = jnp.where(cond, t + network.pulse_ms, s["pulse_end"])
        else:
            pulse_end = jnp.where(cond & ~s["cond_prev"], t + network.pulse_ms, s["pulse_end"])
        drive = t < pulse_end
        i_neuro = network.i_neuro * drive.astype(dtype)
        dca, dh, dip3 = network.astrocyte.vector_field(s["ca"], s["h"], s["ip3"], i_neuro)
        dt_s = dt / 1000.0
        in_window = (readouts[:, 0] <= t) & (t < readouts[:, 1])
        return dict(
            k=k + 1,
            v=v,
            u=u,
            ca=s["ca"] + dt_s * dca,
            h=s["h"] + dt_s * dh,
            ip3=s["ip3"] + dt_s * dip3,
            ring=ring,
            leaving=leaving,
            count=count,
            last_spike=last_spike,
            pulse_end=pulse_end,
            cond_prev=cond,
            feedback=feedback,
            readout=s["readout"] + (in_window[:, None] & spiked[None]).astype(jnp.int32),
            spikes=s["spikes"] + spiked.astype(jnp.int32),
            snap_v=snap_v,
            snap_ca=snap_ca,
            block_spikes=s["block_spikes"] + jnp.sum(spiked, dtype=jnp.int32),
        )

    return step


def _run(network, stimulus, *, rest, steps_per_record, records, readouts, snap_steps, trace_neurons):
    side, a = network.side, network.astro_side
    p = side * side
    dt = network.dt_ms
    dtype = stimulus.images.dtype
    cover = jnp.asarray(network.coverage())
    images = stimulus.images.reshape(stimulus.images.shape[0], p)
    window = network.window_steps
    window_s = window * dt / 1000.0
    trace_idx = jnp.asarray(trace_neurons, dtype=jnp.int32)
    n_snap = snap_steps.shape[0]

    state = _initial_state(rest, p, a, window, readouts.shape[0], n_snap, dtype)

    step = _step_function(network, stimulus, images, cover, readouts, snap_steps, window, window_s, dtype)

    def record(s, _):
        s = jax.lax.fori_loop(0, steps_per_record, step, {**s, "block_spikes": jnp.asarray(0, jnp.int32)})
        t = s["k"].astype(dtype) * dt
        drive = (t - dt < s["pulse_end"]).astype(dtype)
        out = (t, s["v"][trace_idx], s["ca"], s["ip3"], drive, s["feedback"].astype(dtype), s["block_spikes"])
        return s, out

    if records:
        state, (times, tv, tca, tip3, tdrive, tfb, tsp) = jax.lax.scan(record, state, None, length=records)
    else:
        state = jax.lax.fori_loop(0, steps_per_record, step, state)
        z = jnp.zeros((0, a, a), dtype)
        times, tv, tca, tip3, tdrive, tfb = (
            jnp.zeros((0,), dtype),
            jnp.zeros((0, len(trace_neurons)), dtype),
            z,
            z,
            z,
            z,
        )
        tsp = jnp.zeros((0,), jnp.int32)
    return _finish(state, snap_steps, side, (times, tv, tca, tip3, tdrive, tfb, tsp))


def _finish(state: dict, snap_steps, side: int, traces: tuple) -> "SpikingRun":
    """The run's result from the final carry: snapshots requested at t_end (no step starts there) take the
    final state; status COMPLETED, or NON_FINITE when a state variable stopped being finite."""
    times, tv, tca, tip3, tdrive, tfb, tsp = traces
    final = snap_steps >= state["k"]
    snap_v = jnp.where(final[:, None], state["v"][None], state["snap_v"])
    snap_ca = jnp.where(final[:, None, None], state["ca"][None], state["snap_ca"])
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(state[x])) for x in ("v", "u", "ca", "h", "ip3")]))
    status = jnp.where(finite, Status.COMPLETED, Status.NON_FINITE).astype(jnp.int32)
    return SpikingRun(
        readout_counts=state["readout"].reshape(-1, side, side),
        spike_counts=state["spikes"].reshape(side, side),
        snapshot_v=snap_v.reshape(-1, side, side),
        snapshot_ca=snap_ca,
        times_ms=times,
        trace_v=tv,
        trace_ca=tca,
        trace_ip3=tip3,
        trace_drive=tdrive,
        trace_feedback=tfb,
        trace_spikes=tsp,
        status=status,
    )
