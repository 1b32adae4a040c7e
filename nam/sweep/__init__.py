"""Capacity-scaling sweeps (public names re-exported from `nam`)."""
