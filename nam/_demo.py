"""Moved: the retrieval demo is `nam.experiments.demo`."""

from .experiments.demo import DemoRow as DemoRow, format_table as format_table, run_demo as run_demo
from .experiments.demo import write_outputs as write_outputs
