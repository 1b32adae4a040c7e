"""Numerical settings of a continuous retrieval, as a pytree: tolerances and times are arrays, so
changing them never recompiles; the solver family, step control and step budget are static."""

import diffrax
import equinox as eqx
import lineax as lx
from jaxtyping import Array, Float

from .._checks import ArgumentTypeError, check_bool, check_choice, check_instance, check_int, check_number, check_scalar

SOLVERS = {
    "euler": diffrax.Euler,
    "heun": diffrax.Heun,
    "midpoint": diffrax.Midpoint,
    "ralston": diffrax.Ralston,
    "bosh3": diffrax.Bosh3,
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "dopri8": diffrax.Dopri8,
}
_NO_ERROR_ESTIMATE = ("euler",)


class SolverConfig(eqx.Module):
    """How to integrate a model from its initial state.

    **Arguments:**

    - `solver`: one of "euler", "heun", "midpoint", "ralston", "bosh3", "tsit5", "dopri5", "dopri8", or a
      diffrax solver object (e.g. `diffrax.Tsit5()`).
    - `stepsize_controller`: a diffrax step-size controller object used instead of the one `adaptive`,
      `rtol` and `atol` describe (None: PID with `rtol`/`atol` when adaptive, constant steps otherwise).
    - `adaptive`: PID step control with `rtol`/`atol` (True) or constant steps of `dt0` (False).
    - `t1`: time limit (in units of the models' time constants).
    - `steady_state`: stop once every state block b satisfies
      rms(tau_b dy_b/dt) <= steady_atol + steady_rtol * rms(y_b), the fixed-point residual in state units
      (independent of the time constants, like the fixed points themselves). The criterion is per block
      (neurons, synapses, processes, hidden neurons), so the N^2 blocks do not drown the N neurons.
    - `max_steps`: step budget (bounds memory of reverse-mode differentiation too).
    - `adjoint`: how reverse-mode gradients go through the solve. "recursive" (default): backpropagation
      through the solver's steps with diffrax's RecursiveCheckpointAdjoint (memory grows with the number
      of checkpoints, by default about sqrt(2 max_steps): 62 at max_steps = 2000, see
      benchmarks/bench_learning.py). "implicit": the implicit function theorem at
      the steady state y* (f(y*, theta) = 0, so dy*/dtheta = -J^-1 df/dtheta): the forward solve is not
      differentiated, and the backward pass solves J^T lambda = -g for the incoming cotangent g with
      matrix-free GMRES (lineax; J^T v is one vector-Jacobian product, the Jacobian of the
      (N + 2 N^2)-dimensional state is never formed), then returns lambda^T df/dtheta. (diffrax's own
      ImplicitAdjoint is not used: with a matrix-free solver it rejects the (1, N)-shaped saved state.)
      Only valid when the solve ends at a steady state, so it needs `steady_state=True`; gradients
      of samples that stopped at t1 or on max_steps are then not the true ones (check the status).
    - `adjoint_rtol`, `adjoint_atol`, `adjoint_max_steps`: tolerances and iteration budget of that GMRES solve.
    - `divergence_factor`: a solve that stops early (step budget or solver failure) on a state whose
      max-norm exceeds `divergence_factor` * max(1, max-norm of the initial state) and that still moves
      outwards (y . dy/dt > 0) gets status DIVERGED instead of MAX_STEPS / SOLVER_FAILED: a finite-time
      blow-up, which an adaptive solver chases with ever smaller steps until the budget runs out.
    """

    solver: str | diffrax.AbstractSolver = eqx.field(static=True)
    adaptive: bool = eqx.field(static=True)
    stepsize_controller: diffrax.AbstractStepSizeController | None = eqx.field(static=True)
    steady_state: bool = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    adjoint: str = eqx.field(static=True)
    adjoint_max_steps: int = eqx.field(static=True)
    adjoint_rtol: float = eqx.field(static=True)
    adjoint_atol: float = eqx.field(static=True)
    dt0: Float[Array, ""]
    t1: Float[Array, ""]
    rtol: Float[Array, ""]
    atol: Float[Array, ""]
    steady_rtol: Float[Array, ""]
    steady_atol: Float[Array, ""]
    divergence_factor: Float[Array, ""]

    def __init__(
        self,
        solver: str | diffrax.AbstractSolver = "tsit5",
        *,
        adaptive: bool = True,
        dt0=0.05,
        t1=200.0,
        rtol=1e-5,
        atol=1e-7,
        steady_state: bool = True,
        steady_rtol=1e-4,
        steady_atol=1e-6,
        max_steps: int = 20_000,
        adjoint: str = "recursive",
        adjoint_rtol: float = 1e-8,
        adjoint_atol: float = 1e-10,
        adjoint_max_steps: int = 500,
        divergence_factor=100.0,
        stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    ):
        if isinstance(solver, diffrax.AbstractSolver):
            self.solver = solver
            has_estimate = isinstance(solver, diffrax.AbstractAdaptiveSolver)
        elif isinstance(solver, str):
            self.solver = check_choice("solver", solver, tuple(SOLVERS))
            has_estimate = solver not in _NO_ERROR_ESTIMATE
        else:
            raise ArgumentTypeError(
                f"`solver` must be a solver name ({', '.join(SOLVERS)}) or a "
                f"diffrax.AbstractSolver, got {type(solver).__name__}"
            )
        if stepsize_controller is not None:
            check_instance(
                "stepsize_controller",
                stepsize_controller,
                diffrax.AbstractStepSizeController,
                "a diffrax.AbstractStepSizeController or None",
            )
        self.stepsize_controller = stepsize_controller
        check_bool("adaptive", adaptive)
        check_bool("steady_state", steady_state)
        adaptive_control = (
            adaptive if stepsize_controller is None else not isinstance(stepsize_controller, diffrax.ConstantStepSize)
        )
        if adaptive_control and not has_estimate:
            raise ValueError(
                f"`adaptive=True` needs an error estimate, which solver {solver!r} lacks; "
                "use adaptive=False or a solver such as 'heun' or 'tsit5'"
            )
        self.adaptive = check_bool("adaptive", adaptive)
        self.steady_state = check_bool("steady_state", steady_state)
        self.max_steps = check_int("max_steps", max_steps)
        self.adjoint = check_choice("adjoint", adjoint, ("recursive", "implicit"))
        if adjoint == "implicit" and not steady_state:
            raise ValueError("`adjoint='implicit'` differentiates the steady state, so it needs `steady_state=True`")
        self.adjoint_max_steps = check_int("adjoint_max_steps", adjoint_max_steps)
        self.adjoint_rtol = check_number("adjoint_rtol", adjoint_rtol, minimum=0.0, open_min=True)
        self.adjoint_atol = check_number("adjoint_atol", adjoint_atol, minimum=0.0, open_min=True)
        self.dt0 = check_scalar("dt0", dt0, positive=True)
        self.t1 = check_scalar("t1", t1, positive=True)
        self.rtol = check_scalar("rtol", rtol, nonnegative=True)
        self.atol = check_scalar("atol", atol, nonnegative=True)
        self.steady_rtol = check_scalar("steady_rtol", steady_rtol, nonnegative=True)
        self.steady_atol = check_scalar("steady_atol", steady_atol, nonnegative=True)
        self.divergence_factor = check_scalar("divergence_factor", divergence_factor, positive=True)

    @classmethod
    def fixed_euler(cls, dt=0.05, steps: int = 1000, *, steady_state: bool = False) -> "SolverConfig":
        """Forward Euler with `steps` constant steps of `dt` (the authors' tutorial: dt 0.05, 1000 steps).

        **Arguments:** `dt`: the step, > 0; `steps`: the number of steps; `steady_state`: also stop at a
        steady state (default False: a fixed horizon, so a run that reaches t1 = dt * steps is COMPLETED and
        counts as ok).

        **Returns:** a `nam.SolverConfig`.
        """
        steps = check_int("steps", steps)
        dt = check_number("dt", dt, minimum=0.0, open_min=True)
        return cls(
            "euler", adaptive=False, dt0=dt, t1=float(dt) * steps, steady_state=steady_state, max_steps=steps + 1
        )

    def make_solver(self) -> diffrax.AbstractSolver:
        """The diffrax solver: the object given, or a new one of the named family."""
        return self.solver if isinstance(self.solver, diffrax.AbstractSolver) else SOLVERS[self.solver]()

    def make_linear_solver(self) -> lx.AbstractLinearSolver:
        """The matrix-free solver of the adjoint system J^T lambda = g at the steady state (implicit)."""
        return lx.GMRES(
            rtol=self.adjoint_rtol,
            atol=self.adjoint_atol,
            max_steps=self.adjoint_max_steps,
            restart=min(50, self.adjoint_max_steps),
        )

    def make_controller(self) -> diffrax.AbstractStepSizeController:
        """The step-size controller: the object given, else PID with `rtol`/`atol` (adaptive) or constant."""
        if self.stepsize_controller is not None:
            return self.stepsize_controller
        if self.adaptive:
            return diffrax.PIDController(rtol=self.rtol, atol=self.atol)
        return diffrax.ConstantStepSize()
