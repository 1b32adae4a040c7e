"""Capacity-scaling sweeps (`nam sweep`). A namespace of `nam` (`nam.sweep.<name>`); its names are also flat
in `nam`.

The pipeline, one job per module, data flowing one way: `_spec` (what to measure) -> `_registry` (everything
model-specific) -> `_plan` (capacity ladder, memory) -> `_programs` (the compiled-program cache) ->
`_kernels` (the binary and continuous integrators) -> `_measure` (one row) -> `_store` (rows.csv, resume,
shards) -> `_scheduler` (threads, processes) -> `_engine` (the search loop, fits; `_record`: run records;
`_merge`: job-array shards) ->
`_report` (tables) -> `_figures` (figures)."""

from ._distributed import initialize_distributed as initialize_distributed
from ._engine import SweepInterrupted as SweepInterrupted
from ._engine import SweepResult as SweepResult
from ._engine import load_sweep as load_sweep
from ._engine import run_sweep as run_sweep
from ._figures import plot_bit_errors as plot_bit_errors
from ._figures import plot_capacity as plot_capacity
from ._figures import plot_collapse as plot_collapse
from ._figures import plot_per_unit as plot_per_unit
from ._figures import write_sweep_figures as write_sweep_figures
from ._merge import merge_sweeps as merge_sweeps
from ._plan import format_plan as format_plan
from ._plan import plan_sweep as plan_sweep
from ._registry import REGISTRY as REGISTRY
from ._registry import SweepModel as SweepModel
from ._registry import register_sweep_model as register_sweep_model
from ._report import format_summary as format_summary
from ._scheduler import shard_pairs as shard_pairs
from ._spec import SweepSpec as SweepSpec
from ._spec import preset as preset
from ._store import SpecMismatch as SpecMismatch
