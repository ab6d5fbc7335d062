"""Does a function draw NumPy random numbers? Then it must run eagerly.

Traced once, a draw would be frozen into a constant. The check looks at what the
function can reach (``discover.py``): random generators, their bound methods and
``np.random`` (when the code names ``random`` on the NumPy module), and at the
generators passed as static arguments.
"""
from __future__ import annotations

import numpy as np

from .effects import owner_of

_RANDOM_TYPES = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


def is_random(value) -> bool:
    return isinstance(value, _RANDOM_TYPES) or value is np.random or isinstance(owner_of(value), _RANDOM_TYPES)


def random_source(discovery, statics=()) -> str | None:
    """Where the function draws random numbers (a description), or None."""
    for value in statics:
        if is_random(value):
            return "a random generator argument"
    names_random = "random" in discovery.info.attrs
    for node in discovery.nodes:
        for key, (_, value) in node.entries.items():
            if is_random(value) or (value is np and names_random):
                return node.child_desc(key)
    return None
