#!/usr/bin/env python
"""Benchmark: nam's spiking neuron-astrocyte network (Gordleeva et al. 2021) against Brian2.

The same model is simulated by nam (`nam.spiking.simulate` / `simulate_batch`, JAX) and by Brian2
(the simulator a computational neuroscientist would otherwise use), with the same equations, the same
step dt = 0.1 ms, the same initial state (`network.neuron.rest_state()`, `network.astrocyte.rest_state()`)
and the same input, for 1 s of model time:

- input: `make_stimulus(PRNGKey(0), load_digit(0)[None], 0, 0.4, Protocol(delay_ms=500))`: the 10
  noisy training presentations of digit 0 (4 ms every 44 ms, 0-400 ms) and one test presentation
  (40% flipped pixels) at 900-920 ms. With the defaults the astrocyte calcium crosses 0.15 uM at about
  820 ms, so the 1 s run exercises the neuron -> astrocyte drive and, at the test presentation, the
  astrocyte -> neuron feedback. The per-step image index is computed from nam's own formula
  (onset <= k dt < onset + duration, in float64) and sent to Brian2 as a TimedArray of the 0/1 images
  on 4 ms blocks (checked to reproduce the per-step schedule exactly).

Brian2 side (runs in its own virtual environment: Brian2 needs numpy < 2.3). Create it once with

    python -m venv /tmp/brian2env && /tmp/brian2env/bin/pip install brian2 "numpy<2.3" cython

This script, run with the main Python, starts `<venv python> benchmarks/bench_gordleeva.py
--brian2-worker IN.npz OUT.json` as a subprocess (the same file; the worker section imports only numpy
and brian2). If the venv python is missing, the Brian2 rows are skipped with the command above.

Brian2 model (no `network_operation`, no Python in the time loop; everything is generated code):
- neurons: NeuronGroup(1600), dv/dt = (0.04 v^2 + 5 v + 140 - u + I)/ms, du/dt = a (b v - u)/ms,
  method "euler", threshold "v >= v_peak", reset "v = c; u += d" (+ bookkeeping below);
  I = i_app * img(t, i) + i_astro * int(nfb > 0), img a 2D TimedArray.
- astrocytes: NeuronGroup(169), the Li-Rinzel equations with rates per second (Brian2 integrates in SI
  seconds, so its Euler step is dt = 1e-4 s, exactly nam's dt_ms / 1000), method "euler".
- time comparisons use the step counter exactly as nam does in float64: t_ms = t_in_timesteps * 0.1,
  last spike time = t_ms + 0.1, pulse end = t_ms + 60 (the float rounding of these decides whether a
  pulse lasts 600 or 601 steps and whether a spike is "recent" for 101 or 102 steps, so it is copied).
- sliding 400 ms window counts: `count += 1` in the reset, and a one-to-one Synapses(neurons, neurons)
  with delay 400 ms whose on_pre is `count_post -= 1` (the spike queue is Brian2's exact delay line).
- neuron -> astrocyte: Synapses(neurons, astrocytes) over the 4x4 blocks (stride 3) with summed
  variables `recent` (spiked within 10 ms, from the state at t) and `fast` (count / 0.4 s > 17.5 Hz);
  a run_regularly on the astrocytes sets pulse_end = t_ms + 60 when fast > 8 (retrigger), and
  I_neuro = i_neuro * (t_ms < pulse_end).
- astrocyte -> neuron: Synapses(astrocytes, neurons) with summed variable
  nfb = int(Ca > 0.15 and recent > 8); a neuron gets I_astro when nfb > 0 (ANY covering astrocyte).
- schedule (nam's per-step order): before_groups: `recent` (0), `nfb` (1); groups: neuron Euler;
  thresholds; synapses (delayed window decrements); resets; end: `fast` (0), pulse_end (1), astrocyte
  Euler (2). So the feedback uses the state at t, the drive uses the counts after this step's spikes,
  and the astrocytes advance after the neurons, as in `nam/spiking/_network.py::_run`.

Measured in one run:
- (a) one 1 s trial: nam `simulate` (float32, jit warmed up, block_until_ready, median of repeats taken
  before and after the Brian2 runs) vs Brian2 `Network.run(1 s)` (median of repeats after
  `restore()`, so it excludes building the network and compiling; the first run with a cold Cython
  cache, and a full rebuild + run with a warm cache, are reported separately; a 0.1 s run splits
  Brian2's time into a fixed cost per run and a cost per simulated second). Brian2's default target
  ("auto": cython if it compiles, else numpy; the code object class used is reported) and the numpy
  target. nam's time is also split (private API, informational) into the host-side `_prepare` and
  the compiled program.
- (b) throughput: nam `simulate_batch` on 32 stacked stimuli (different noise keys) in trials/s vs
  Brian2 1 / (time per trial). Brian2 runs one trial per process on one core; the bound
  cpu_count / t_trial (one Brian2 process per core) is also reported.
- agreement: nam in float64 (jax_enable_x64, in a subprocess) and in float32 against Brian2 (float64):
  per-neuron total spike counts, total spikes, per-step population spike counts, astrocyte-steps with
  feedback, the first time any astrocyte's Ca exceeds 0.15 uM, and the largest Ca difference (float64
  only, 1 ms samples). Brian2 gets the parameters and rest states computed by the float64 nam process
  (the float32 process would hand it float32-rounded values, e.g. c1 = 0.18500000238).

Usage:
    python benchmarks/bench_gordleeva.py              # full run (a few minutes on 2 cores)
    python benchmarks/bench_gordleeva.py --quick      # fewer repeats, batch 8, no numpy target
    python benchmarks/bench_gordleeva.py --brian2-python /path/to/venv/bin/python --out results.json
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import environment, interleaved, loadavg, medians, result_path, write_result

VENV_CMD = 'python -m venv /tmp/brian2env && /tmp/brian2env/bin/pip install brian2 "numpy<2.3" cython'
T_END_MS = 1000.0
DT_MS = 0.1
DELAY_MS = 500.0  # test presentation at 400 + 500 = 900 ms
BATCH = 32
TARGET_SINGLE = 1.0  # nam faster than Brian2's default codegen for one trial
TARGET_BATCH = 20.0  # nam batched throughput >= 20x Brian2's
LOAD0 = loadavg()


# --------------------------------------------------------------------------------------------------
# Brian2 worker (runs in the Brian2 venv: numpy + brian2 only)
# --------------------------------------------------------------------------------------------------


def brian2_build(d, diagnostics=False):
    """Build the Brian2 network from the parameters/input in the npz dict `d`. Returns (net, handles)."""
    import brian2 as b2
    from brian2 import ms

    side, block, stride = int(d["side"]), int(d["block"]), int(d["stride"])
    a_side = (side - block) // stride + 1
    n_neurons, n_astro = side * side, a_side * a_side
    dt_ms = float(d["dt_ms"])
    b2.defaultclock.dt = dt_ms * ms
    stim = b2.TimedArray(d["input_blocks"], dt=float(d["input_block_ms"]) * ms)
    ns = dict(
        stim=stim,
        dt_ms=dt_ms,
        a=float(d["a"]),
        b=float(d["b"]),
        c_reset=float(d["c"]),
        d_jump=float(d["d"]),
        v_peak=float(d["v_peak"]),
        i_app=float(d["i_app"]),
        i_astro=float(d["i_astro"]),
        i_neuro=float(d["i_neuro"]),
        ca_th=float(d["ca_threshold"]),
        rate_hz=float(d["rate_hz"]),
        pulse_ms=float(d["pulse_ms"]),
        act_ms=float(d["activity_window_ms"]),
        min_active=int(d["min_active"]),
        window_s=float(d["window_s"]),
        c0=float(d["c0"]),
        c1=float(d["c1"]),
        v1=float(d["v1"]),
        v2=float(d["v2"]),
        v3=float(d["v3"]),
        v4=float(d["v4"]),
        k3=float(d["k3"]),
        a2=float(d["a2"]),
        d1=float(d["d1"]),
        d2=float(d["d2"]),
        d3=float(d["d3"]),
        d5=float(d["d5"]),
        alpha=float(d["alpha"]),
        k4=float(d["k4"]),
        tau_r=float(d["tau_r"]),
        ip3_star=float(d["ip3_star"]),
    )

    neurons = b2.NeuronGroup(
        n_neurons,
        """
        dv/dt = (0.04*v*v + 5.0*v + 140.0 - u + I)/ms : 1
        du/dt = (a*(b*v - u))/ms : 1
        I = i_app*stim(t, i) + i_astro*int(nfb > 0) : 1
        nfb : integer
        count : integer
        nspk : integer
        last_ms : 1
        """,
        threshold="v >= v_peak",
        reset="v = c_reset\nu = u + d_jump\ncount += 1\nnspk += 1\nlast_ms = t_in_timesteps*dt_ms + dt_ms",
        method="euler",
        namespace=ns,
        name="neurons",
    )
    astro_eqs = """
        dca/dt = (J_ER - J_pump + J_leak)/second : 1
        dh/dt = ((h_inf - h)*rate_h)/second : 1
        dip3/dt = ((ip3_star - ip3)/tau_r + J_PLC + I_neuro)/second : 1
        gradient = (c0 - ca)/c1 - ca : 1
        J_ER = c1*v1*(ip3/(ip3 + d1))**3*(ca/(ca + d5))**3*h**3*gradient : 1
        J_leak = c1*v2*gradient : 1
        J_pump = v3*ca**2/(ca**2 + k3**2) : 1
        Q2 = d2*(ip3 + d1)/(ip3 + d3) : 1
        h_inf = Q2/(Q2 + ca) : 1
        rate_h = a2*(Q2 + ca) : 1
        J_PLC = v4*(ca + (1.0 - alpha)*k4)/(ca + k4) : 1
        I_neuro = i_neuro*int(t_in_timesteps*dt_ms < pulse_end) : 1
        recent : integer
        fast : integer
        pulse_end : 1
        """
    if diagnostics:
        astro_eqs += "first_cross : integer\nn_fb : integer\n"
    astro = b2.NeuronGroup(n_astro, astro_eqs, method="euler", namespace=ns, name="astro")
    astro.state_updater.when, astro.state_updater.order = "end", 2

    # block membership: astrocyte (ai, aj) covers neurons [3 ai, 3 ai + 4) x [3 aj, 3 aj + 4)
    pre_n, post_a = [], []
    for ai in range(a_side):
        for aj in range(a_side):
            for r in range(stride * ai, stride * ai + block):
                for c in range(stride * aj, stride * aj + block):
                    pre_n.append(r * side + c)
                    post_a.append(ai * a_side + aj)
    pre_n, post_a = np.asarray(pre_n), np.asarray(post_a)

    n2a = b2.Synapses(
        neurons,
        astro,
        """
        recent_post = int(t_in_timesteps*dt_ms - last_ms_pre < act_ms) : integer (summed)
        fast_post = int(count_pre/window_s > rate_hz) : integer (summed)
        """,
        namespace=ns,
        name="n2a",
    )
    n2a.connect(i=pre_n, j=post_a)
    n2a.summed_updaters["recent_post"].when, n2a.summed_updaters["recent_post"].order = "before_groups", 0
    n2a.summed_updaters["fast_post"].when, n2a.summed_updaters["fast_post"].order = "end", 0
    a2n = b2.Synapses(
        astro,
        neurons,
        "nfb_post = int(ca_pre > ca_th and recent_pre > min_active) : integer (summed)",
        namespace=ns,
        name="a2n",
    )
    a2n.connect(i=post_a, j=pre_n)
    a2n.summed_updaters["nfb_post"].when, a2n.summed_updaters["nfb_post"].order = "before_groups", 1
    window = b2.Synapses(
        neurons, neurons, on_pre="count_post -= 1", delay=float(d["window_ms"]) * ms, namespace=ns, name="window"
    )
    window.connect(j="i")
    pulse = astro.run_regularly(
        "pulse_end = int(fast > min_active)*(t_in_timesteps*dt_ms + pulse_ms) + int(fast <= min_active)*pulse_end",
        when="end",
        order=1,
        name="pulse",
    )

    neurons.v, neurons.u = float(d["v0"]), float(d["u0"])
    neurons.last_ms = -1e9
    astro.ca, astro.h, astro.ip3 = float(d["ca0"]), float(d["h0"]), float(d["ip30"])
    astro.pulse_end = -1e9
    objs = [neurons, astro, n2a, a2n, window, pulse]
    handles = {"neurons": neurons, "astro": astro}
    if diagnostics:
        astro.first_cross = -1
        objs.append(
            astro.run_regularly(
                "first_cross = first_cross + int(first_cross < 0 and ca > ca_th)*(t_in_timesteps + 1 - first_cross)",
                when="end",
                order=3,
                name="cross",
            )
        )
        objs.append(
            astro.run_regularly(
                "n_fb += int(ca > ca_th and recent > min_active)", when="before_groups", order=2, name="count_fb"
            )
        )
        handles["spikes"] = b2.SpikeMonitor(neurons, name="spikemon")
        handles["ca_mon"] = b2.StateMonitor(astro, "ca", record=True, dt=1 * ms, name="camon")
        objs += [handles["spikes"], handles["ca_mon"]]
    net = b2.Network(*objs)
    return net, handles


def brian2_codeobj_classes(net):
    names = set()
    for obj in net.objects:
        for co in getattr(obj, "_code_objects", []) or []:
            names.add(co.__class__.__name__)  # weakref proxies: __class__ is the referent's
    return sorted(names)


def brian2_worker(in_path, out_path, target, reps, rebuild_reps):
    import brian2 as b2

    d = dict(np.load(in_path))
    b2.prefs.codegen.target = target
    cache = tempfile.mkdtemp(prefix="brian2_cython_cache_")  # cold cache: the first run compiles
    b2.prefs.codegen.runtime.cython.cache_dir = cache
    b2.prefs.codegen.runtime.cython.multiprocess_safe = False
    b2.BrianLogger.suppress_name("resolution_conflict")
    t_end = float(d["t_end_ms"]) * b2.ms
    out = {"target_requested": target, "brian2": b2.__version__, "numpy": np.__version__}

    # 1) diagnostics run: spike trains, Ca crossing, feedback steps (for the agreement check)
    t0 = time.perf_counter()
    net, h = brian2_build(d, diagnostics=True)
    net.run(t_end)
    out["first_run_with_compile_s"] = time.perf_counter() - t0  # build + codegen + (cold) compile + run
    out["codeobject_classes"] = brian2_codeobj_classes(net)
    steps = int(round(float(d["t_end_ms"]) / float(d["dt_ms"])))
    sp_steps = np.round(np.asarray(h["spikes"].t / b2.ms) / float(d["dt_ms"])).astype(np.int64)
    pop = np.bincount(sp_steps, minlength=steps)[:steps]
    first = np.asarray(h["astro"].first_cross[:])
    out["diag"] = {
        "spike_counts": np.asarray(h["neurons"].nspk[:]).tolist(),
        "pop_per_step": pop.tolist(),
        "first_cross_step": int(first[first >= 0].min()) if np.any(first >= 0) else -1,
        "feedback_astro_steps": int(np.sum(h["astro"].n_fb[:])),
        "ca_1ms": np.asarray(h["ca_mon"].ca).T.tolist(),  # (records, astrocytes): Ca at t = 0, 1, 2, ... ms
    }
    del net, h

    # 2) timing network (no monitors): build once, store, then restore + run per repeat
    t0 = time.perf_counter()
    net, h = brian2_build(d, diagnostics=False)
    net.store("init")
    out["build_s"] = time.perf_counter() - t0
    run_s, counts = [], []
    for r in range(reps + 1):  # the first run of this object creates its code objects (cached compile)
        if r:
            net.restore("init")
        t0 = time.perf_counter()
        net.run(t_end)
        dt_run = time.perf_counter() - t0
        if r == 0:
            out["first_run_of_network_s"] = dt_run
        else:
            run_s.append(dt_run)
        counts.append(int(np.sum(h["neurons"].nspk[:])))
    out["run_s"] = run_s
    out["run_total_spikes"] = counts
    # a 10x shorter run after restore: separates Brian2's fixed per-run cost (before_run, code object
    # preparation) from its cost per simulated second (linear fit through the two run lengths)
    short = []
    for _ in range(reps):
        net.restore("init")
        t0 = time.perf_counter()
        net.run(t_end / 10)
        short.append(time.perf_counter() - t0)
    t_long, t_short = float(np.median(run_s)), float(np.median(short))
    out["run_tenth_s"] = short
    out["per_run_overhead_estimate_s"] = (10 * t_short - t_long) / 9
    out["per_simulated_second_estimate_s"] = (t_long - t_short) / (0.9 * float(d["t_end_ms"]) / 1000.0)
    out["codeobject_classes_timing"] = brian2_codeobj_classes(net)
    del net, h
    # 3) a fresh build + run per trial, as a script simulating one trial per call would (warm cache)
    full = []
    for _ in range(rebuild_reps):
        t0 = time.perf_counter()
        net, h = brian2_build(d, diagnostics=False)
        net.run(t_end)
        full.append(time.perf_counter() - t0)
        del net, h
    out["rebuild_and_run_s"] = full
    Path(out_path).write_text(json.dumps(out))
    shutil.rmtree(cache, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# nam side (main Python)
# --------------------------------------------------------------------------------------------------


def schedule(onsets, durations, n_steps, dtype):
    """nam's per-step image index (-1: none): on while onset <= k dt < onset + duration, in `dtype`."""
    k = np.arange(n_steps).astype(dtype)
    t = k * dtype(DT_MS)
    on = (onsets.astype(dtype)[None] <= t[:, None]) & (t[:, None] < (onsets + durations).astype(dtype)[None])
    return np.where(on.any(1), np.argmax(on, 1), -1)


def input_blocks(images, sched):
    """The per-step input on the coarsest block of steps that reproduces `sched` exactly."""
    changes = np.flatnonzero(np.diff(sched)) + 1
    g = int(np.gcd.reduce(np.concatenate([changes, [len(sched)]])))
    blocks = sched[::g]
    assert np.array_equal(np.repeat(blocks, g), sched)
    flat = images.reshape(images.shape[0], -1)
    vals = np.where(blocks[:, None] >= 0, flat[np.maximum(blocks, 0)], 0.0)
    return vals.astype(np.float64), g * DT_MS


def network_params(net):
    """The network's parameters and rest states as Python floats (float64 when x64 is enabled)."""
    params = {k: float(getattr(net.neuron, k)) for k in ("a", "b", "c", "d", "v_peak")}
    params |= {
        k: float(getattr(net.astrocyte, k))
        for k in (
            "c0",
            "c1",
            "v1",
            "v2",
            "v3",
            "v4",
            "k3",
            "a2",
            "d1",
            "d2",
            "d3",
            "d5",
            "alpha",
            "k4",
            "tau_r",
            "ip3_star",
        )
    }
    params |= {
        k: float(getattr(net, k))
        for k in ("i_app", "i_astro", "i_neuro", "ca_threshold", "rate_hz", "pulse_ms", "activity_window_ms")
    }
    params |= {
        "min_active": int(net.min_active),
        "side": net.side,
        "block": net.block,
        "stride": net.stride,
        "dt_ms": net.dt_ms,
        "window_ms": net.window_ms,
        "window_s": net.window_steps * net.dt_ms / 1000.0,
    }
    v0, u0 = net.neuron.rest_state()
    ca0, h0, ip30 = net.astrocyte.rest_state()
    return params | {"v0": v0, "u0": u0, "ca0": ca0, "h0": h0, "ip30": ip30}


def nam_x64_worker(in_path, out_path):
    """nam in float64 (x64 enabled before any array): the agreement reference. Also writes the network's
    float64 parameters and rest states (in the float32 main process they are float32-rounded, e.g.
    c1 = 0.18500000238), which the Brian2 worker uses."""
    import jax

    jax.config.update("jax_enable_x64", True)
    from nam.spiking import GordleevaNetwork, Stimulus, simulate

    d = dict(np.load(in_path))
    net = GordleevaNetwork()
    assert net.astrocyte.c1.dtype == np.float64
    stim = Stimulus(
        np.asarray(d["images"], np.float64),
        np.asarray(d["onsets_ms"], np.float64),
        np.asarray(d["durations_ms"], np.float64),
    )
    assert stim.images.dtype == np.float64
    run = simulate(net, stim, float(d["t_end_ms"]), record_every_ms=DT_MS)
    np.savez(out_path, **nam_diag(run), **{f"param_{k}": v for k, v in network_params(net).items()})


def nam_diag(run):
    ca_max = np.asarray(run.trace_ca).max(axis=(1, 2))  # after each step
    over = np.flatnonzero(ca_max > 0.15)
    return {
        "spike_counts": np.asarray(run.spike_counts).reshape(-1),
        "pop_per_step": np.asarray(run.trace_spikes),
        "first_cross_step": over[0] + 1 if over.size else -1,
        "feedback_astro_steps": int(np.asarray(run.trace_feedback).sum()),
        "ca_per_step": np.asarray(run.trace_ca, np.float64),
    }


def compare(ref, other, dt_ms):
    a, b = np.asarray(ref["spike_counts"]), np.asarray(other["spike_counts"])
    pa, pb = np.asarray(ref["pop_per_step"]), np.asarray(other["pop_per_step"])
    diff_steps = np.flatnonzero(pa != pb)
    return {
        "total_spikes": [int(a.sum()), int(b.sum())],
        "neurons_with_equal_counts": int(np.sum(a == b)),
        "neurons": int(a.size),
        "max_abs_count_diff": int(np.max(np.abs(a - b))),
        "sum_abs_count_diff": int(np.sum(np.abs(a - b))),
        "steps_with_different_population_spikes": int(diff_steps.size),
        "first_different_step_ms": float(diff_steps[0] * dt_ms) if diff_steps.size else None,
        "first_ca_crossing_ms": [float(ref["first_cross_step"] * dt_ms), float(other["first_cross_step"] * dt_ms)],
        "feedback_astro_steps": [int(ref["feedback_astro_steps"]), int(other["feedback_astro_steps"])],
    }


def within_tolerance(c):
    """The stated tolerance (see TOLERANCE)."""
    total_ok = abs(c["total_spikes"][0] - c["total_spikes"][1]) <= max(1, 0.001 * c["total_spikes"][0])
    neuron_ok = c["max_abs_count_diff"] <= 1 and c["neurons_with_equal_counts"] >= 0.99 * c["neurons"]
    cross_ok = abs(c["first_ca_crossing_ms"][0] - c["first_ca_crossing_ms"][1]) <= 1.0
    return bool(total_ok and neuron_ok and cross_ok)


TOLERANCE = (
    "total spikes within max(1, 0.1%); per-neuron counts differ by at most 1 spike and are equal for "
    ">= 99% of neurons; first Ca > 0.15 uM crossing within 1 ms. Expected: exact equality for nam float64 "
    "vs Brian2 (both float64, same operation order up to Brian2's rewriting of expressions); float32 "
    "nam may shift a spike by a step"
)


def run_brian2(python, in_path, target, reps, rebuild_reps, workdir):
    out_path = Path(workdir) / f"brian2_{target}.json"
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--brian2-worker",
        str(in_path),
        str(out_path),
        "--target",
        target,
        "--reps",
        str(reps),
        "--rebuild-reps",
        str(rebuild_reps),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"  Brian2 worker ({target}) failed:\n{proc.stderr[-3000:]}", flush=True)
        return None
    res = json.loads(out_path.read_text())
    res["worker_wall_s"] = wall
    res["stderr_tail"] = proc.stderr[-1500:]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, batch 8, no numpy target")
    ap.add_argument("--reps", type=int, default=None, help="timed repeats per measurement")
    ap.add_argument("--brian2-python", default="/tmp/brian2env/bin/python")
    ap.add_argument("--no-numpy-target", action="store_true", help="skip Brian2's numpy target")
    ap.add_argument("--out", default=result_path("gordleeva.json"))
    args = ap.parse_args()
    reps = args.reps or (2 if args.quick else 5)
    batch = 8 if args.quick else BATCH
    numpy_target = not (args.quick or args.no_numpy_target)

    import jax
    import jax.random as jr

    from nam.spiking import (
        GordleevaNetwork,
        Protocol,
        load_digit,
        make_stimulus,
        simulate,
        simulate_batch,
        stack_stimuli,
    )

    devices = jax.devices()
    print(f"jax {jax.__version__}, devices: {devices}; os.cpu_count() = {os.cpu_count()}; loadavg {LOAD0}")
    t_start = time.perf_counter()
    net = GordleevaNetwork()
    assert net.dt_ms == DT_MS
    protocol = Protocol(delay_ms=DELAY_MS)
    digit = load_digit(0)[None]
    stim = make_stimulus(jr.PRNGKey(0), digit, 0, 0.4, protocol)
    images = np.asarray(stim.images, np.float64)
    onsets, durations = np.asarray(stim.onsets_ms, np.float64), np.asarray(stim.durations_ms, np.float64)
    n_steps = int(round(T_END_MS / DT_MS))
    sched64 = schedule(onsets, durations, n_steps, np.float64)
    sched32 = schedule(onsets, durations, n_steps, np.float32)
    blocks, block_ms = input_blocks(images, sched64)
    assert net.rate_rule == "per_neuron" and net.trigger == "retrigger"
    workdir = tempfile.mkdtemp(prefix="bench_gordleeva_")
    stim_path, in_path = Path(workdir) / "stimulus.npz", Path(workdir) / "input.npz"
    np.savez(stim_path, images=images, onsets_ms=onsets, durations_ms=durations, t_end_ms=T_END_MS)

    # nam float64 reference (subprocess: x64 must be enabled before any array is made); it also returns
    # the float64 parameters and rest states that Brian2 gets
    x64_out = Path(workdir) / "nam_x64.npz"
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--nam-x64-worker", str(stim_path), str(x64_out)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nam x64 worker failed:\n{proc.stderr[-3000:]}")
    nam64 = dict(np.load(x64_out))
    params = {k[len("param_") :]: nam64.pop(k) for k in list(nam64) if k.startswith("param_")}
    np.savez(
        in_path,
        images=images,
        onsets_ms=onsets,
        durations_ms=durations,
        input_blocks=blocks,
        input_block_ms=block_ms,
        t_end_ms=T_END_MS,
        **params,
    )
    print(
        f"stimulus: {len(onsets)} presentations, onsets {onsets.tolist()} ms; input on {block_ms:g} ms blocks; "
        f"float32 and float64 step schedules equal: {np.array_equal(sched32, sched64)}",
        flush=True,
    )

    # nam float32 diagnostics (the timed configuration's numerics)
    nam32 = nam_diag(simulate(net, stim, T_END_MS, record_every_ms=DT_MS))
    print(
        f"nam float64: {int(nam64['spike_counts'].sum())} spikes, Ca > 0.15 at "
        f"{nam64['first_cross_step'] * DT_MS:.1f} ms; float32: {int(nam32['spike_counts'].sum())} spikes, "
        f"{nam32['first_cross_step'] * DT_MS:.1f} ms",
        flush=True,
    )

    # nam timing: one trial, and a batch of `batch` trials with different noise keys
    keys = jr.split(jr.PRNGKey(1), batch)
    stims = stack_stimuli([make_stimulus(k, digit, 0, 0.4, protocol) for k in keys])

    def one():
        jax.block_until_ready(simulate(net, stim, T_END_MS).spike_counts)

    def many():
        jax.block_until_ready(simulate_batch(net, stims, T_END_MS).spike_counts)

    t0 = time.perf_counter()
    one()
    warm_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    many()
    warm_batch = time.perf_counter() - t0
    nam_reps = {"one": reps, "batch": max(2, reps // 2)}
    t = interleaved({"one": one, "batch": many}, nam_reps, warmup=False)  # warmed up above
    nam_one, nam_batch = t["one"], t["batch"]
    # breakdown (private API, informational): host-side argument preparation (`_prepare`, which computes
    # the rest states on the host every call) vs the compiled program alone
    from nam.spiking import _network

    prep = _network._prepare(net, stim, T_END_MS, None, None, None, None)
    t = interleaved(
        {
            "prepare": lambda: _network._prepare(net, stim, T_END_MS, None, None, None, None),
            "program": lambda: _network._simulate(net, stim, **prep).spike_counts,
        },
        reps,
        warmup=False,
    )
    prep_s, kernel_s = t["prepare"], t["program"]
    print(
        f"nam: one trial {statistics.median(nam_one) * 1e3:.0f} ms (first call incl. compile {warm_one:.1f} s; "
        f"of which host-side _prepare {statistics.median(prep_s) * 1e3:.0f} ms, compiled program alone "
        f"{statistics.median(kernel_s) * 1e3:.0f} ms); batch of {batch}: {statistics.median(nam_batch):.2f} s",
        flush=True,
    )

    # Brian2
    brian = {}
    have_brian = Path(args.brian2_python).exists()
    if not have_brian:
        print(
            f"\nBrian2 venv python not found at {args.brian2_python}; skipping the Brian2 rows. Create it with:\n"
            f"    {VENV_CMD}\n",
            flush=True,
        )
    else:
        targets = ["auto"] + (["numpy"] if numpy_target else [])
        for target in targets:
            r = run_brian2(
                args.brian2_python,
                in_path,
                target,
                reps if target == "auto" else max(1, reps // 2),
                2 if target == "auto" and not args.quick else 1,
                workdir,
            )
            if r is None:
                continue
            brian[target] = r
            print(
                f"Brian2 target={target} ({', '.join(r['codeobject_classes'])}): run(1 s) median "
                f"{statistics.median(r['run_s']):.2f} s; first run incl. compile {r['first_run_with_compile_s']:.1f} s; "
                f"rebuild+run {statistics.median(r['rebuild_and_run_s']):.2f} s; estimated fixed cost per run "
                f"{r['per_run_overhead_estimate_s']:.2f} s + {r['per_simulated_second_estimate_s']:.2f} s per "
                f"simulated second",
                flush=True,
            )
        # nam again after Brian2 (the machine is shared: the medians pool both sides of the Brian2 runs)
        t = interleaved({"one": one, "batch": many}, nam_reps, warmup=False)
        nam_one, nam_batch = nam_one + t["one"], nam_batch + t["batch"]

    med = medians({"one": nam_one, "batch": nam_batch})
    t_one, t_batch = med["one"], med["batch"]
    nam_batch_tps = batch / t_batch
    res = {
        "nam": {
            "single_trial_s": nam_one,
            "single_trial_median_s": t_one,
            "first_call_with_compile_s": warm_one,
            "batch": batch,
            "batch_s": nam_batch,
            "batch_median_s": t_batch,
            "batch_trials_per_s": nam_batch_tps,
            "single_trials_per_s": 1.0 / t_one,
            "batch_first_call_with_compile_s": warm_batch,
            "breakdown_prepare_s": prep_s,
            "breakdown_prepare_median_s": statistics.median(prep_s),
            "breakdown_compiled_program_s": kernel_s,
            "breakdown_compiled_program_median_s": statistics.median(kernel_s),
        }
    }
    agreement = {"tolerance": TOLERANCE}
    for name, r in brian.items():
        t_run = statistics.median(r["run_s"])
        diag = r.pop("diag")
        ca_b = np.asarray(diag.pop("ca_1ms"))  # Ca at t = 0, 1, ... ms; nam's per-step trace is Ca at (k+1) dt
        per_ms = int(round(1.0 / DT_MS))
        ca_n = nam64["ca_per_step"][per_ms - 1 :: per_ms].reshape(-1, ca_b.shape[1])
        m = min(len(ca_n), len(ca_b) - 1)
        c64, c32 = compare(nam64, diag, DT_MS), compare(nam32, diag, DT_MS)
        c64["max_abs_ca_diff_1ms_samples_uM"] = float(np.max(np.abs(ca_n[:m] - ca_b[1 : m + 1])))
        c64["within_tolerance"], c32["within_tolerance"] = within_tolerance(c64), within_tolerance(c32)
        agreement[f"brian2_{name}"] = {"nam_float64_vs_brian2": c64, "nam_float32_vs_brian2": c32}
        res[f"brian2_{name}"] = {
            **r,
            "run_median_s": t_run,
            "trials_per_s": 1.0 / t_run,
            "trials_per_s_all_cores_bound": (os.cpu_count() or 1) / t_run,
            "single_ratio_brian2_over_nam": t_run / t_one,
            "single_ratio_incl_rebuild": statistics.median(r["rebuild_and_run_s"]) / t_one,
            "batch_ratio_nam_over_brian2": nam_batch_tps * t_run,
            "batch_ratio_vs_all_cores_bound": nam_batch_tps * t_run / (os.cpu_count() or 1),
        }
    wall = time.perf_counter() - t_start

    # report
    print("\n| simulator | one 1 s trial (s) | Brian2 / nam | trials/s | nam batched / this |")
    print("|---|---|---|---|---|")
    print(f"| nam (JAX, float32, jit) | {t_one:.3f} | 1 | {1 / t_one:.2f} (batch {batch}: {nam_batch_tps:.1f}) | - |")
    for name in brian:
        b = res[f"brian2_{name}"]
        classes = ",".join(c.replace("CodeObject", "") for c in b["codeobject_classes_timing"])
        print(
            f"| Brian2 {b['brian2']} ({name} -> {classes}) | {b['run_median_s']:.3f} "
            f"(rebuild+run {statistics.median(b['rebuild_and_run_s']):.2f}, first incl. compile "
            f"{b['first_run_with_compile_s']:.1f}) | {b['single_ratio_brian2_over_nam']:.1f}x | "
            f"{b['trials_per_s']:.2f} | {b['batch_ratio_nam_over_brian2']:.1f}x |"
        )
    targets = {}
    if "auto" in brian:
        b = res["brian2_auto"]
        targets = {
            "single_trial_faster_than_brian2_default": b["single_ratio_brian2_over_nam"] > TARGET_SINGLE,
            "batched_throughput_at_least_20x": b["batch_ratio_nam_over_brian2"] >= TARGET_BATCH,
            "batched_throughput_at_least_20x_vs_all_cores_bound": b["batch_ratio_vs_all_cores_bound"] >= TARGET_BATCH,
        }
        print(
            f"\ntargets: nam faster for one trial: {'MET' if targets['single_trial_faster_than_brian2_default'] else 'NOT MET'} "
            f"({b['single_ratio_brian2_over_nam']:.1f}x); batched >= {TARGET_BATCH:.0f}x Brian2's throughput: "
            f"{'MET' if targets['batched_throughput_at_least_20x'] else 'NOT MET'} "
            f"({b['batch_ratio_nam_over_brian2']:.1f}x; {b['batch_ratio_vs_all_cores_bound']:.1f}x against one "
            f"Brian2 process per core)"
        )
    for name in brian:
        for which, c in agreement[f"brian2_{name}"].items():
            print(
                f"agreement {which} [{name}]: total spikes {c['total_spikes']}, equal per-neuron counts "
                f"{c['neurons_with_equal_counts']}/{c['neurons']} (max |diff| {c['max_abs_count_diff']}), "
                f"steps with different population spikes {c['steps_with_different_population_spikes']}, "
                f"Ca crossing {c['first_ca_crossing_ms']} ms, feedback astro-steps {c['feedback_astro_steps']}; "
                f"within tolerance: {c['within_tolerance']}"
            )
    print(f"wall {wall:.0f} s")

    out = {
        "env": environment(
            brian2_python=args.brian2_python,
            brian2_available=have_brian,
            brian2_versions={k: {"brian2": v["brian2"], "numpy": v["numpy"]} for k, v in brian.items()},
            loadavg_start_end=[LOAD0, loadavg()],
        ),
        "method": {
            "model": "GordleevaNetwork() defaults: 40x40 Izhikevich, 13x13 Li-Rinzel, dt 0.1 ms, window 400 ms, "
            "rate_rule per_neuron, trigger retrigger; 1 s from the rest states",
            "stimulus": "make_stimulus(PRNGKey(0), load_digit(0)[None], 0, 0.4, Protocol(delay_ms=500)): 10 training "
            "presentations 0-400 ms, test at 900-920 ms; batch: noise keys split(PRNGKey(1), B)",
            "nam_single": "simulate(net, stim, 1000.0), float32, jit warmed up, block_until_ready on spike_counts; "
            "median of repeats before and after the Brian2 runs",
            "nam_batch": f"simulate_batch on {batch} stacked stimuli, same timing rules",
            "brian2_single": "Network.run(1 s) after Network.restore() (built once, stored at t=0): excludes "
            "building and compiling; also reported: first run with a cold Cython cache "
            "(build+compile+run, diagnostics network with monitors) and fresh build + run with "
            "a warm cache",
            "brian2_throughput": "1 / median run(1 s) time (one process, one core); all-cores bound = cpu_count / t",
            "brian2_target": "prefs.codegen.target 'auto' (Brian2's default runtime target: cython if it compiles, "
            "else numpy) and 'numpy'; the code object classes actually used are listed",
            "agreement": "nam float64 (jax_enable_x64 in a subprocess) and float32 vs Brian2 float64, same input",
            "repeats": reps,
            "quick": args.quick,
        },
        "results": res,
        "agreement": agreement,
        "targets": {"single_trial_ratio": TARGET_SINGLE, "batch_ratio": TARGET_BATCH, **targets},
        "schedules_float32_float64_equal": bool(np.array_equal(sched32, sched64)),
        "total_wall_s": wall,
    }
    write_result(args.out, out)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--brian2-worker":
        wp = argparse.ArgumentParser()
        wp.add_argument("--brian2-worker", nargs=2, metavar=("IN", "OUT"))
        wp.add_argument("--target", default="auto")
        wp.add_argument("--reps", type=int, default=3)
        wp.add_argument("--rebuild-reps", type=int, default=1)
        wa = wp.parse_args()
        brian2_worker(wa.brian2_worker[0], wa.brian2_worker[1], wa.target, wa.reps, wa.rebuild_reps)
    elif len(sys.argv) > 1 and sys.argv[1] == "--nam-x64-worker":
        nam_x64_worker(sys.argv[2], sys.argv[3])
    else:
        main()
