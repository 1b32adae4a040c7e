"""Griffe extension for the API reference: `from ._x import Foo as Foo` (the convention nam follows for its
public names, as diffrax and equinox do) marks `Foo` as public, so mkdocstrings documents it where it is
re-exported (`nam.Foo`, `nam.capacity.Foo`, ...)."""

import ast

import griffe


class PublicRedundantAliases(griffe.Extension):
    def on_module_members(self, *, node, mod, **kwargs) -> None:
        if not isinstance(node, ast.Module):
            return
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                for name in stmt.names:
                    if name.asname == name.name and name.name in mod.members:
                        mod.members[name.name].public = True
