"""Strict JAX for the test run: rank promotion raises, float64 is on for reference checks, and
jaxtyping + beartype check every annotated function in `nam` (via --jaxtyping-packages in pyproject)."""

import itertools

import jax
import jax.random as jr
import pytest
from hypothesis import Phase, settings

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def getkey():
    """A fresh PRNG key on every call, deterministic per test."""
    counter = itertools.count()
    base = jr.PRNGKey(1234)
    return lambda: jr.fold_in(base, next(counter))


# Examples here compile JAX programs, so shrinking a failure could take many minutes: report the
# first failing example instead of shrinking it.
settings.register_profile("nam", deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile("nam")


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_programs():
    """Drop every compiled program after each test module. A full run compiles thousands of XLA programs;
    kept alive in one process they exhaust its memory mappings, and the compiler then aborts."""
    yield
    jax.clear_caches()
    from nam.sweep import _programs

    _programs.COMPILED.clear()
