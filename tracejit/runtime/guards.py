"""Where lifted closure arrays came from, so rebinding them triggers a retrace.

A function that reads an array from a global, a closure cell or an attribute of its
bound object gets that array as an implicit input. The plan always reads the live
object (in-place updates are seen); if the name is rebound to another array, the
guard fails and the function is traced again.
"""
from __future__ import annotations


class Locator:
    def __init__(self, description, current):
        self.description = description
        self.current = current


def find_locators(fn, lifted, bound=None) -> list:
    """One Locator (or None when the source can't be found) per lifted array."""
    return [_locate(fn, array) for array in lifted]


def _locate(fn, array):
    target = getattr(fn, "__func__", fn)
    globals_ = getattr(target, "__globals__", {})
    for name, value in globals_.items():
        if value is array:
            return Locator(f"global {name!r}", lambda g=globals_, n=name: g.get(n))
    code = getattr(target, "__code__", None)
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(target, "__closure__", None) or ()):
        try:
            if cell.cell_contents is array:
                return Locator(f"closure variable {name!r}", lambda c=cell: _cell(c))
        except ValueError:
            continue
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        for name, value in getattr(owner, "__dict__", {}).items():
            if value is array:
                return Locator(f"attribute self.{name}", lambda o=owner, n=name: getattr(o, n, None))
    return None


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return None
