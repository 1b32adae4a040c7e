"""`nam.Status` prints by name, compares as its code, and `Status.names` names arrays of codes."""

import jax.numpy as jnp
import numpy as np
import pytest

import nam


def test_status_prints_by_name_and_compares_as_its_code():
    s = nam.Status.MAX_STEPS
    assert str(s) == "MAX_STEPS" and repr(s) == "Status.MAX_STEPS" and f"{s}" == "MAX_STEPS"
    assert f"{s:>10}" == " MAX_STEPS" and f"{s:d}" == "2"  # numeric format specs format the code
    assert s == 2 and nam.Status(2) is s and int(s) == 2


def test_status_names_of_results():
    assert nam.Status.names(jnp.asarray(0, jnp.int32)) == "CONVERGED"
    assert nam.Status.names(nam.Status.CYCLE) == "CYCLE" and nam.Status.names(7) == "COMPLETED"
    codes = jnp.asarray([[0, 1], [3, 6]], jnp.int32)
    np.testing.assert_array_equal(nam.Status.names(codes), [["CONVERGED", "TIME_LIMIT"], ["NON_FINITE", "CYCLE"]])
    assert nam.Status.names(np.zeros((0,), np.int32)).shape == (0,)


def test_status_names_rejects_what_is_not_a_code():
    with pytest.raises(ValueError, match="not nam.Status codes: \\[42\\]"):
        nam.Status.names(np.asarray([0, 42]))
    with pytest.raises(TypeError, match="integer"):
        nam.Status.names(np.asarray([0.0]))
