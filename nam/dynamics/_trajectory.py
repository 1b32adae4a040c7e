"""Fixed-step integration of a vector field with every step saved: the models that are trained by
backpropagation through a fixed number of steps (the Appendix E inpainting network) use this, so every
integration of a continuous model goes through diffrax."""

from collections.abc import Callable

import diffrax
import jax.numpy as jnp
from jaxtyping import Array, PyTree

from .._checks import check_callable, check_int, check_number


def euler_trajectory(vector_field: Callable, y0: PyTree[Array], *, steps: int, dt: float | int) -> PyTree[Array]:
    """Forward Euler from `y0`, `steps` steps of `dt`, solved by `diffrax.diffeqsolve` (Euler, `StepTo` the
    saved times): y_{n+1} = y_n + dt f(y_n).

    **Arguments:**

    - `vector_field`: `f(y) -> dy/dt`, a pytree like `y0` (autonomous).
    - `y0`: the initial state, a pytree of arrays.
    - `steps`: the number of Euler steps, >= 1.
    - `dt`: the step, > 0.

    **Returns:** the states at times 0, dt, ..., steps dt: `y0`'s pytree with a leading axis of steps + 1.
    Differentiable (backpropagation through the steps, diffrax's `RecursiveCheckpointAdjoint`).
    """
    check_callable("vector_field", vector_field)
    steps = check_int("steps", steps)
    dt = check_number("dt", dt, minimum=0.0, open_min=True)
    ts = jnp.arange(steps + 1, dtype=jnp.asarray(dt).dtype) * dt
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: vector_field(y)),
        diffrax.Euler(),
        t0=0.0,
        t1=ts[-1],
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.StepTo(ts=ts),
        max_steps=steps,
    )
    return sol.ys
