"""Flatten nested tuples/lists/dicts of leaves into a list plus a hashable treedef.

Containers are exact ``tuple``, ``list``, ``dict`` (insertion order kept, keys
recorded) and namedtuples; everything else (arrays, scalars, ``None``, strings,
objects) is a leaf. A ``TreeDef`` is hashable and comparable, so it can be part of a
cache key, and ``leaf_paths`` names every leaf for error messages (``params['w1']``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TreeDef:
    """kind: "leaf" | "tuple" | "list" | "dict" | "namedtuple"; meta: dict keys or the
    namedtuple class; children: the sub-trees."""

    kind: str
    meta: object = None
    children: tuple = ()

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(child.num_leaves for child in self.children)

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind == "tuple":
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        if self.kind == "list":
            return f"[{inner}]"
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children)) + "}"
        return f"{self.meta.__name__}({inner})"


LEAF = TreeDef("leaf")


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and type(obj) is not tuple and hasattr(type(obj), "_fields")


def flatten(obj, is_leaf=None) -> tuple[list, TreeDef]:
    """``(leaves, treedef)``: leaves in depth-first order (dicts in insertion order).
    `is_leaf(container)`: true for a container to be kept whole, as one leaf."""
    leaves: list = []
    return leaves, _flatten(obj, leaves, is_leaf)


def _flatten(obj, leaves, is_leaf=None) -> TreeDef:
    kind = type(obj)
    if is_leaf is not None and kind in (tuple, list, dict) and is_leaf(obj):
        leaves.append(obj)
        return LEAF
    if kind is tuple:
        return TreeDef("tuple", None, tuple(_flatten(x, leaves, is_leaf) for x in obj))
    if kind is list:
        return TreeDef("list", None, tuple(_flatten(x, leaves, is_leaf) for x in obj))
    if kind is dict:
        return TreeDef("dict", tuple(obj.keys()), tuple(_flatten(x, leaves, is_leaf) for x in obj.values()))
    if _is_namedtuple(obj):
        return TreeDef("namedtuple", kind, tuple(_flatten(x, leaves, is_leaf) for x in obj))
    leaves.append(obj)
    return LEAF


def unflatten(treedef: TreeDef, leaves) -> object:
    """Inverse of ``flatten``: rebuild the structure with new leaves."""
    iterator = iter(leaves)
    result = _unflatten(treedef, iterator)
    if next(iterator, _END) is not _END:
        raise ValueError(f"too many leaves for tree {treedef!r}")
    return result


_END = object()


def _unflatten(treedef: TreeDef, iterator):
    if treedef.kind == "leaf":
        leaf = next(iterator, _END)
        if leaf is _END:
            raise ValueError("too few leaves for the tree")
        return leaf
    children = [_unflatten(c, iterator) for c in treedef.children]
    if treedef.kind == "tuple":
        return tuple(children)
    if treedef.kind == "list":
        return children
    if treedef.kind == "dict":
        return dict(zip(treedef.meta, children))
    return treedef.meta(*children)


def leaf_paths(treedef: TreeDef, root: str = "") -> list[str]:
    """A readable path per leaf, e.g. ``root[0]['w1']`` (``root.field`` for namedtuples)."""
    paths: list[str] = []
    _paths(treedef, root, paths)
    return paths


def _paths(treedef: TreeDef, prefix: str, out: list) -> None:
    if treedef.kind == "leaf":
        out.append(prefix)
    elif treedef.kind == "dict":
        for key, child in zip(treedef.meta, treedef.children):
            _paths(child, f"{prefix}[{key!r}]", out)
    elif treedef.kind == "namedtuple":
        for name, child in zip(treedef.meta._fields, treedef.children):
            _paths(child, f"{prefix}.{name}", out)
    else:
        for index, child in enumerate(treedef.children):
            _paths(child, f"{prefix}[{index}]", out)
