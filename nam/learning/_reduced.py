"""The reduced non-symmetric neuron-astrocyte model of Kozachkov, Slotine & Krotov, Appendix E (the model the
paper trains by backpropagation through its Euler steps to inpaint images; `nam learn inpainting`).

    tau dx_i/dt = -x_i + sum_j W_ij tanh(s_ij) phi_j + b_i,
    tau ds_ij/dt = -s_ij + phi_j + psi_j,
    tau dp_j/dt = -p_j + sum_l T_jl psi_l + s_j,

with phi = tanh(x), psi = tanh(p), processes shared per presynaptic index (p_ij = p_j, T_ijkl = T_jl). With
s(0) = 0 every row of s obeys the same equation, so s_ij = s_j is stored as an (N,) vector. Output: a linear
layer then a sigmoid, y = sigmoid(V x + c). It has no energy (W and T are not symmetric).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_int, check_key, check_memory, check_number
from ..dynamics._trajectory import euler_trajectory


class ReducedAstrocyteNet(eqx.Module):
    """The reduced model of Appendix E (see the module docstring); its parameters are arrays.

    **Arguments:** `n`: neurons, >= 2; `key`: a JAX PRNG key (`jax.random.key(seed)`) for the random
    initial weights; `weight_scale`: the scale of those weights (default 1).
    """

    w: Float[Array, "n n"]
    t: Float[Array, "n n"]
    b: Float[Array, " n"]
    v: Float[Array, "n n"]
    c: Float[Array, " n"]

    def __init__(self, n: int, *, key, weight_scale: float = 1.0):
        check_int("n", n, 2)
        weight_scale = check_number("weight_scale", weight_scale)
        check_memory("`n`", 8.0 * 6 * n * n, "the network's weights")
        k1, k2 = jr.split(check_key("key", key))
        self.w = weight_scale * jr.normal(k1, (n, n)) / np.sqrt(n)
        self.t = weight_scale * jr.normal(k2, (n, n)) / np.sqrt(n)
        self.b = jnp.zeros((n,))
        self.v = 2.0 * jnp.eye(n)  # starts as y ~ sigmoid(2 x): the masked image itself
        self.c = jnp.zeros((n,))

    def vector_field(self, x, s, p):
        """(dx, ds, dp) / dt with tau = 1 (Appendix E)."""
        phi, psi = jnp.tanh(x), jnp.tanh(p)
        return -x + self.w @ (jnp.tanh(s) * phi) + self.b, -s + phi + psi, -p + self.t @ psi + s

    def output(self, x):
        return jax.nn.sigmoid(self.v @ x + self.c)

    def run(self, x0: Float[Array, " n"], *, steps: int = 20, dt: float | int = 0.1) -> Float[Array, "steps1 n"]:
        """Forward Euler from (x0, 0, 0) (`nam.dynamics.euler_trajectory`, the paper's training scheme);
        returns the outputs at every step, shape (steps + 1, n)."""
        zeros = jnp.zeros_like(x0)
        xs, _, _ = euler_trajectory(lambda y: self.vector_field(*y), (x0, zeros, zeros), steps=steps, dt=dt)
        return jax.vmap(self.output)(xs)
