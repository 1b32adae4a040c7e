"""One export convention: every subpackage is a namespace of its public names; the core ones are also flat
in `nam`; no public name means two different things; renamed names fail naming the new one."""

import importlib

import pytest

import nam

NAMESPACES = ("models", "dynamics", "sweep", "capacity", "learning", "spiking", "astrosnn", "attention", "experiments")
FLAT = ("models", "dynamics", "sweep")


def _public(module):
    return {
        n: getattr(module, n)
        for n in dir(module)
        if not n.startswith("_") and type(getattr(module, n)).__name__ != "module"
    }


def test_every_subpackage_is_a_namespace_of_nam():
    for name in NAMESPACES:
        sub = importlib.import_module(f"nam.{name}")
        assert getattr(nam, name) is sub
        assert _public(sub), f"nam.{name} exports nothing"


def test_the_core_is_flat_and_identical_to_its_namespace():
    for name in FLAT:
        for attr, obj in _public(getattr(nam, name)).items():
            assert getattr(nam, attr) is obj, f"nam.{attr} is not nam.{name}.{attr}"


def test_no_public_name_means_two_things():
    seen = {}
    for name in ("",) + NAMESPACES:
        module = nam if not name else getattr(nam, name)
        for attr, obj in _public(module).items():
            if attr in seen and seen[attr][1] is not obj and not isinstance(obj, (str, tuple, dict, int, float)):
                pytest.fail(f"{attr} is nam{seen[attr][0]}.{attr} and nam.{name}.{attr}, two different objects")
            seen.setdefault(attr, ("." + name if name else "", obj))


def test_returned_types_are_exported():
    assert nam.capacity.RetrievalOutcome and nam.capacity.PowerLawFit and nam.capacity.BootstrapCI
    assert nam.capacity.CrossingResult and nam.SweepInterrupted and nam.SweepResult and nam.Retrieval


@pytest.mark.parametrize(
    "module, old, new",
    [
        (nam, "write_figures", "write_sweep_figures"),
        (nam.learning, "build_model", "build_energy_model"),
        (nam.learning, "parameter_count", "tensor_parameter_count"),
    ],
)
def test_renamed_names_fail_naming_the_new_one(module, old, new):
    with pytest.raises(AttributeError, match=f"it is `{module.__name__}.{new}` now"):
        getattr(module, old)
    assert callable(getattr(module, new))
