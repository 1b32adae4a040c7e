"""The one helper for moved and renamed public names (like optax's `deprecation_getattr`): the old name fails
with an AttributeError that names the new one (CHANGELOG.md lists them all)."""

from collections.abc import Callable


def moved_getattr(module: str, moved: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `module` whose `moved` names ({old name: new full name}) raise an
    AttributeError naming the new one; any other unknown name raises the usual AttributeError."""

    def __getattr__(name: str) -> object:
        if name in moved:
            raise AttributeError(f"`{module}.{name}` moved: it is `{moved[name]}` now (see CHANGELOG.md)")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
