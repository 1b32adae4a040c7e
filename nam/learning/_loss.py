"""Associative-memory losses computed by running the dynamics (Kozachkov, Slotine & Krotov, sec.
"Learning": the energy model can be trained by backpropagation through time or by implicit
(recurrent-backprop / equilibrium) gradients; `nam.SolverConfig(adjoint=...)` picks which)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_instance,
    check_patterns,
    check_scalar,
    is_concrete,
)
from ..dynamics._config import SolverConfig
from ..dynamics._retrieve import retrieve
from ..models._astrocyte_tensor import AbstractAstrocyteTensor
from ..models._neuron_astrocyte import NeuronAstrocyte, NeuronAstrocyteEffective


class LossAux(eqx.Module):
    """Per-batch diagnostics of `retrieval_loss`: mean overlap of the read-out with the target, the
    fraction retrieved exactly, and the per-sample solver status codes. A sample whose status is not ok
    (`nam.Retrieval.ok`: not CONVERGED with `steady_state=True`, not COMPLETED with a fixed horizon)
    counts as overlap 0 and not retrieved.

    **Fields:** `overlap` (0-d), `exact` (0-d), `status` (B,) int32 `nam.Status` codes.
    """

    overlap: Float[Array, ""]
    exact: Float[Array, ""]
    status: Int[Array, " b"]


def build_energy_model(tensor, *, model: str = "effective", lagrangian=None, model_kwargs=None):
    """The network a tensor defines: the effective neuron model (eqs. 7-11) or the full
    neuron-synapse-process network (eq. 6); `model_kwargs` go to its constructor (e.g. the synapse
    and process Lagrangians of the full model: with the default tanh(5 z) they saturate at the steady
    state, which then hardly depends on T).

    **Arguments:** `tensor`: a `nam.AbstractAstrocyteTensor`; `model`: "effective" or "full";
    `lagrangian`: the neurons' Lagrangian (None: the model's default); `model_kwargs`: a dict of further
    constructor arguments, or None.

    **Returns:** a `nam.NeuronAstrocyteEffective` or a `nam.NeuronAstrocyte`.
    """
    check_instance("tensor", tensor, AbstractAstrocyteTensor, "a nam astrocyte tensor (a nam.AbstractAstrocyteTensor)")
    check_choice("model", model, ("effective", "full"))
    if model_kwargs is not None:
        check_instance("model_kwargs", model_kwargs, dict, "a dict of constructor arguments")
    cls = NeuronAstrocyteEffective if model == "effective" else NeuronAstrocyte
    return cls(tensor, lagrangian, **(model_kwargs or {}))


def _check_targets(targets, shape: tuple) -> jax.Array:
    """+-1 targets of the cues' shape: checked now when concrete, at run time (`eqx.error_if`) when traced."""
    targets = as_float_array("targets", targets)
    if targets.shape != shape:
        raise ValueError(f"`targets` must have the shape of `cues` {shape}, got {targets.shape}")
    check_finite("targets", targets)
    if is_concrete(targets):
        if not bool(np.all(np.abs(np.asarray(targets)) == 1)):
            bad = np.asarray(targets)[np.abs(np.asarray(targets)) != 1].ravel()[:3]
            raise ValueError(
                f"`targets` must contain only +1 and -1 entries (the loss lies in [0, 1] for +-1 "
                f"targets), found e.g. {bad.tolist()}"
            )
    else:  # traced (a jitted training step): checked at run time
        targets = eqx.error_if(targets, jnp.any(jnp.abs(targets) != 1), "`targets` must contain only +1 and -1 entries")
    return targets


def retrieval_loss(
    tensor,
    cues,
    targets,
    *,
    config: SolverConfig | None = None,
    model: str = "effective",
    lagrangian=None,
    model_kwargs=None,
    kind: str = "mse",
    state_margin: float = 0.5,
    patterns=None,
    stability_weight: float = 0.0,
    margin: float = 0.0,
):
    """Run the network from each cue to its steady state (or t1) and score the read-out.

    kind="mse":   mean_b mean_i (phi_i(x*_b) - target_b,i)^2 / 4   (0: exact, 1: every bit inverted)
    kind="hinge": mean_b mean_i relu(state_margin - target_b,i x*_b,i), on the neurons' internal state:
                  its gradient does not vanish where tanh saturates, which it does at the spurious
                  mixture states correlated memories fall into;
    plus, for either, stability_weight * mean_mu,i relu(margin - xi_mu,i h_mu,i / rms(h_mu))

    with h_mu = sum_jkl T_ijkl xi_j xi_k xi_l the one-step field at stored memory mu (`patterns`,
    (K, N)): a hinge that asks every bit of every memory to be stable with a margin.

    Differentiable in `tensor` (and the Lagrangian), by BPTT or implicitly, as `config.adjoint` says.

    **Arguments:**

    - `tensor`: the astrocyte tensor (a `nam.AbstractAstrocyteTensor`, e.g. a learnable one).
    - `cues`: (B, N) initial neuron states; `targets`: (B, N) of +-1.
    - `config`: a `nam.SolverConfig`; `model`, `lagrangian`, `model_kwargs`: as for `build_energy_model`.
    - `kind`: "mse" or "hinge"; the margins and `stability_weight` (with `patterns`) as above.

    **Returns:** `(loss, LossAux)`: a 0-d loss and the batch's diagnostics.
    """
    config = SolverConfig() if config is None else check_instance("config", config, SolverConfig)
    net = build_energy_model(tensor, model=model, lagrangian=lagrangian, model_kwargs=model_kwargs)
    check_choice("kind", kind, ("mse", "hinge"))
    cues = as_float_array("cues", cues, ndim=2)
    if cues.shape[0] < 1 or cues.shape[1] != tensor.n:
        raise ValueError(f"`cues` must have shape (B, {tensor.n}) with B >= 1, got {cues.shape}")
    check_finite("cues", cues)
    targets = _check_targets(targets, cues.shape)
    if patterns is not None:
        patterns = check_patterns("patterns", patterns, binary=True)
        if patterns.shape[1] != tensor.n:
            raise ValueError(f"`patterns` must have shape (K, {tensor.n}), got {patterns.shape}")
    for name, value in (("state_margin", state_margin), ("margin", margin)):
        check_scalar(name, value)
    check_scalar("stability_weight", stability_weight, nonnegative=True)
    if is_concrete(jnp.asarray(stability_weight)) and float(stability_weight) and patterns is None:
        raise ValueError("`stability_weight` needs the stored `patterns`")
    out = jax.vmap(lambda c: retrieve(net, c, config=config))(cues)
    phi = jax.vmap(net.neuron_activation)(out.state)
    if kind == "mse":
        loss = jnp.mean((phi - targets) ** 2) / 4.0
    else:
        x = out.state.x if hasattr(out.state, "x") else out.state
        loss = jnp.mean(jax.nn.relu(state_margin - targets * x))
    if stability_weight:
        if patterns is None:
            raise ValueError("`stability_weight` needs the stored `patterns`")
        h = jax.vmap(tensor.cubic_field)(patterns)
        h = h / jnp.sqrt(jnp.mean(h * h, axis=1, keepdims=True) + 1e-30)
        loss = loss + stability_weight * jnp.mean(jax.nn.relu(margin - patterns * h))
    # only samples whose solve finished cleanly count (a diverged or cut-short sample is not retrieved)
    ok = out.ok()
    sign = jnp.where(ok[:, None], jnp.sign(phi), 0.0)
    aux = LossAux(
        overlap=jnp.mean(jnp.sum(sign * targets, axis=1) / targets.shape[1]),
        exact=jnp.mean(jnp.all(sign == targets, axis=1).astype(phi.dtype)),
        status=out.status,
    )
    return loss, aux
