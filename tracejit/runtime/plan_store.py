"""Plans kept across processes, so that a warm start skips the passes and code generation.

What the passes and code generators make of a traced graph depends only on that graph
and on a few facts about the call (``passes.pipeline.CallFacts``: which outputs are
written into arguments, which inputs are in C order; the trace's mutations). So the
plan built for them is stored in the cache directory under a hash of exactly those,
together with the backend, the cache folder and a fingerprint of tracejit's own source
files, NumPy's and Python's versions. A new process still traces the function, since the
trace is what reads (and guards) the caller's world, then finds the plan by that hash.
This is the idea of torch.compile's FX graph cache; tracejit's kernels are referred to by
the code they run (``NumbaKernel.__reduce__``), so a loaded plan shares this process's
kernels and compiled code like a plan built here.

Layout: ``<cache>/plans/<hash>.tjp``: a magic line, the hash itself (a valid plan file
copied under another plan's name is refused), the SHA-256 of the payload, then the
payload (a pickle of the final graph, the plan and the inputs whose layout the passes
relied on). A file that is damaged, truncated, of another format or unreadable is
ignored and replaced; anything that cannot be pickled is simply not stored.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..codegen import cache_dir as cache_maintenance

MAGIC = b"tracejit-plan 2\n"
_PACKAGE = Path(__file__).resolve().parent.parent
FOLDER = cache_maintenance.PLANS
SUFFIX = ".tjp"
MAX_GRAPH_BYTES = 16 * 2 ** 20    # a graph holding more constant data than this is not stored


def enabled(backend) -> bool:
    """Plans are stored for the Numba backend (GPU plans hold device state), unless
    ``TRACEJIT_PLAN_CACHE=0``."""
    return getattr(backend, "name", None) == "numba" and os.environ.get("TRACEJIT_PLAN_CACHE", "1") != "0"


@functools.lru_cache(maxsize=1)
def fingerprint() -> bytes:
    """tracejit's source files (names, sizes, modification times), NumPy's and Python's
    versions: a change to any of them makes every stored plan a miss."""
    parts = [sys.version, np.__version__]
    pending = [str(_PACKAGE)]
    while pending:
        folder = pending.pop()
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                stat = entry.stat()
                parts.append(f"{entry.path} {stat.st_size} {stat.st_mtime_ns}")
            elif entry.name != "__pycache__" and entry.is_dir():
                pending.append(entry.path)
    return hashlib.sha256("\n".join(parts).encode()).digest()


def plan_key(graph, written_outputs, c_inputs, matmul_rows, mutations, backend, cache_dir) -> str | None:
    """The hash a plan for this traced graph and call is stored under (the call's facts
    as ``passes.pipeline.CallFacts`` has them); None where the graph cannot be pickled
    or holds large constants (it is then never stored)."""
    try:
        described = pickle.dumps((graph, sorted(written_outputs), sorted(c_inputs), bool(matmul_rows),
                                  list(mutations), backend.name, str(cache_dir)), protocol=5)
    except Exception:       # noqa: BLE001  (an attribute that does not pickle: no stored plan)
        return None
    if len(described) > MAX_GRAPH_BYTES:
        return None
    return hashlib.sha256(MAGIC + fingerprint() + described).hexdigest()


class _Pickler(pickle.Pickler):
    """Pickles NumPy's built-in dtypes by name, so that they load as NumPy's own dtype
    objects: a dtype pickled the default way loads as a copy, and arrays allocated with
    a copy fail the native entries' dtype-identity check (every launch then takes the
    slow path, ``NumbaKernel._run_slowly``)."""

    def reducer_override(self, obj):
        if isinstance(obj, np.dtype) and obj.isbuiltin == 1:
            return (np.dtype, (obj.str,))
        return NotImplemented


def _dumps(value) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=5).dump(value)
    return out.getvalue()


def _path(cache_dir, key: str) -> Path:
    return Path(cache_dir) / FOLDER / f"{key}{SUFFIX}"


def load(cache_dir, key: str | None):
    """(final graph, plan, relied-on inputs) stored under `key`, or None: nothing
    stored, or a file that is damaged (it is deleted) or of another format."""
    if key is None:
        return None
    path = _path(cache_dir, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(MAGIC) + 64
    if data[:len(MAGIC)] != MAGIC or len(data) < header or data[len(MAGIC):len(MAGIC) + 32] != bytes.fromhex(key) \
            or hashlib.sha256(data[header:]).digest() != data[len(MAGIC) + 32:header]:
        _discard(path)
        return None
    try:
        final, plan, relied_on = pickle.loads(data[header:])
    except Exception:       # noqa: BLE001  (written by a tracejit whose classes differ: compile anew)
        _discard(path)
        return None
    try:
        os.utime(path)      # its last use, for the cache's size bound (codegen/cache_dir.py)
    except OSError:
        pass
    return final, plan, relied_on


def save(cache_dir, key: str | None, final, plan, relied_on) -> bool:
    """Store the plan under `key` (atomically); False where it cannot be pickled or
    written (a read-only cache: the plan then lives in this process only)."""
    if key is None:
        return False
    try:
        payload = _dumps((final, plan, tuple(sorted(relied_on))))
    except Exception:       # noqa: BLE001  (a step that does not pickle: this plan is not stored)
        return False
    path, tmp = _path(cache_dir, key), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC + bytes.fromhex(key) + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:         # a full disk: leave no partial file behind
            _discard(Path(tmp))
        return False
    cache_maintenance.enforce_limit(cache_dir)
    return True


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
