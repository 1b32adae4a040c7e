"""Continuous (diffrax) and binary retrieval dynamics (public names are re-exported from `nam`)."""
