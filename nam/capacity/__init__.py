"""Storage capacity of the binary associative memories: theory and per-trial retrieval criteria.

`_theory.py` holds the closed-form predictions (signal-to-noise ratio of one bit's local field, bit
error probability, the no-error capacity of McEliece et al. 1987 and Krotov & Hopfield 2016, the
Amit-Gutfreund-Sompolinsky 0.138 N) and the statistics a capacity sweep needs (a power-law fit with
a t-distribution interval, a percentile bootstrap). `_criteria.py` holds the single-sample retrieval
criteria (one-step bit stability, exact fixed points, retrieval from a corrupted cue), which jit and
vmap. The public names are re-exported from `nam` when the capacity sweep lands.
"""
