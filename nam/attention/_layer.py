"""An attention layer made of the neuron-astrocyte network: the closed-form fixed point (fast) or the
integrated dynamics (slow, for checking)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_bool, check_instance, check_int
from ..dynamics import SolverConfig, Status
from ._features import AbstractPositiveFeatures
from ._linear import _check_causal, _check_qkv, _stable_features, astrocyte_attention
from ._network import AttentionNetwork, hebbian_write, read_init, solve_network


class AstrocyteAttention(eqx.Module):
    """Single-head attention computed by the neuron-astrocyte network of Appendix C (Kozachkov, Slotine &
    Krotov; Kozachkov, Kastanenka & Krotov, PNAS 2023): the value and key tokens are written into the
    synapses (Hebbian c), each query reads them with the processes initialised from the query and the keys,
    and the neurons' fixed point is the output. With positive random features it estimates softmax
    attention with scale 1/sqrt(d) (`jax.nn.dot_product_attention`). Multi-head: vmap over heads.

    **Arguments:**

    - `features`: the `PositiveRandomFeatures` (dim = the query/key length d).
    - `causal`: each query reads only the keys at or before its position.
    - `chunk`: chunk length of the causal closed form.

    Calling it: `layer(query (T, d), key (S, d), value (S, dv), dynamics=False, config=None)` -> (T, dv).
    `dynamics=False`: the closed-form fixed point (`astrocyte_attention`, eq. 25), O(T M dv).
    `dynamics=True`: per query, the network (`AttentionNetwork`, N = dv neurons, M synapses each)
    integrated by `solve_network` with `config` from x = s = 0, tau_n = tau_s = 1 and tau_p = N M (so that the
    processes relax at rate 1 rather than N M, which would make the system stiff); the keys' features are
    scaled by a constant
    (which cancels in eq. 25) that makes p* = 1, so the synapses relax at rate 1/tau_s. A query whose
    solve does not reach a steady state raises at run time (`eqx.error_if`).
    """

    features: AbstractPositiveFeatures
    causal: bool = eqx.field(static=True)
    chunk: int = eqx.field(static=True)

    def __init__(self, features: AbstractPositiveFeatures, *, causal: bool = False, chunk: int = 128):
        self.features = check_instance("features", features, AbstractPositiveFeatures)
        self.causal = check_bool("causal", causal)
        self.chunk = check_int("chunk", chunk)

    def __call__(
        self,
        query: Float[Array, "t d"],
        key: Float[Array, "s d"],
        value: Float[Array, "s dv"],
        *,
        dynamics: bool = False,
        config: SolverConfig | None = None,
    ) -> Float[Array, "t dv"]:
        if not check_bool("dynamics", dynamics):
            return astrocyte_attention(query, key, value, self.features, causal=self.causal, chunk=self.chunk)
        q, k, v = _check_qkv(query, key, value)
        _check_causal(self.causal, q, k)
        if self.features.weights().shape[1] != q.shape[1]:
            raise ValueError(
                f"`features` maps vectors of length {self.features.weights().shape[1]}, but `query` has length "
                f"{q.shape[1]}"
            )
        config = SolverConfig() if config is None else check_instance("config", config, SolverConfig)
        return _integrate(self.features, q, k, v, self.causal, config)


def _integrate(features, q, k, v, causal, config):
    qf, kf = _stable_features(features, q, k, 1.0 / math.sqrt(q.shape[1]))
    t, s = q.shape[0], k.shape[0]
    n = v.shape[1]

    def one(i, qf_i):
        mask = (jnp.arange(s) <= i).astype(v.dtype) if causal else jnp.ones((s,), v.dtype)
        c = hebbian_write(v, kf, mask)
        p0 = read_init(qf_i, kf, n, mask)
        a = 1.0 / jax.lax.stop_gradient(jnp.mean(p0))  # p* = 1; cancels in x*
        network = AttentionNetwork(a * c, qf_i, tau_p=float(n * qf.shape[1]))  # processes at rate 1: not stiff
        sol = solve_network(network, network.init_state(a * p0), config)
        return sol.state.x, sol.status

    x, status = jax.vmap(one)(jnp.arange(t), qf)
    return eqx.error_if(
        x,
        jnp.any(status != Status.CONVERGED),
        "AstrocyteAttention(dynamics=True): a query's network did not reach a steady state; "
        "raise config.t1 or config.max_steps",
    )
