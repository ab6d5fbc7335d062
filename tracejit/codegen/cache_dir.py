"""Keeping the kernel cache directory healthy: a size bound, repair, info and clear.

Layout (``files.py`` writes it): ``<cache>/kernels/tj_<stem>_<hash>.py`` per generated
kernel module, and Numba's compiled code for it in ``<cache>/kernels/__pycache__/``
(``tj_<stem>_<hash>.<function>-<line>.py311.nbi`` index, ``...nbc`` data) and the kernel's
native code per argument types beside them (``tj_<stem>_<hash>.<function>-native-<key>.tjn``,
``native_cache.py``); and ``<cache>/plans/<hash>.tjp`` per stored plan
(``runtime/plan_store.py``). An *entry* is one module with its compiled files, or one plan.

- **Size**: after a new module is written the directory is kept under a limit
  (``TRACEJIT_CACHE_LIMIT_MB``, default 256) by deleting the least recently used entries
  (a module's mtime is refreshed when a process first uses it), never one this process
  has loaded (imported, or running as native code).
- **Repair**: a truncated, empty or garbage Numba index or data file makes Numba's
  loader raise (``EOFError``, ``UnpicklingError``, ``ValueError`` ...). ``damaged_files``
  finds the file in the exception's traceback; the caller deletes it, warns once and
  compiles again.
"""
from __future__ import annotations

import os
import shutil
import sys
import traceback
import warnings
from pathlib import Path

DEFAULT_LIMIT_MB = 256
PLANS = "plans"               # the stored plans' folder (runtime/plan_store.py reads and writes it)
_TOUCHED: set = set()
_IN_USE: set = set()          # module stems running as native code in this process


class CacheRepairWarning(RuntimeWarning):
    """A damaged compiled-kernel cache file was deleted and the kernel recompiled."""


def limit_bytes() -> int:
    try:
        return int(float(os.environ.get("TRACEJIT_CACHE_LIMIT_MB", DEFAULT_LIMIT_MB)) * 2 ** 20)
    except ValueError:
        return DEFAULT_LIMIT_MB * 2 ** 20


def entries(cache_dir) -> list:
    """[(module stem, [paths], bytes, last use time)], oldest use first."""
    kernels = Path(cache_dir) / "kernels"
    compiled: dict = {}
    pycache = kernels / "__pycache__"
    if pycache.is_dir():
        for item in os.scandir(pycache):
            compiled.setdefault(item.name.split(".", 1)[0], []).append(Path(item.path))
    result = []
    for item in (os.scandir(kernels) if kernels.is_dir() else ()):
        if not item.name.endswith(".py"):
            continue
        stem = item.name[:-3]
        paths = [Path(item.path)] + compiled.pop(stem, [])
        size = sum(_size(p) for p in paths)
        result.append((stem, paths, size, _mtime(Path(item.path))))
    for stem, paths in compiled.items():     # compiled files whose module is gone
        result.append((stem, paths, sum(_size(p) for p in paths), 0.0))
    plans = Path(cache_dir) / PLANS
    if plans.is_dir():
        for item in os.scandir(plans):
            path = Path(item.path)
            result.append((path.stem, [path], _size(path), _mtime(path)))
    return sorted(result, key=lambda e: e[3])


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def mark_in_use(path) -> None:
    """Keep a module whose code this process runs without importing it (native code)
    from being evicted, as imported modules are."""
    _IN_USE.add(Path(path).stem)


def touch(path) -> None:
    """Mark a module as used now (once per process)."""
    if path in _TOUCHED:
        return
    _TOUCHED.add(path)
    try:
        os.utime(path)
    except OSError:
        pass


def enforce_limit(cache_dir, limit: int | None = None) -> int:
    """Delete least recently used entries until the directory holds at most 80% of
    `limit` bytes (only when it is over `limit`). Returns the bytes removed."""
    limit = limit_bytes() if limit is None else limit
    found = entries(cache_dir)
    total = sum(e[2] for e in found)
    if total <= limit:
        return 0
    loaded = {name for name in sys.modules if name.startswith("tj_")} | _IN_USE
    removed = 0
    for stem, paths, size, _ in found:
        if total - removed <= 0.8 * limit:
            break
        if stem in loaded:
            continue
        for path in paths:
            try:
                path.unlink()
            except OSError:
                pass
        removed += size
    return removed


def info(cache_dir) -> dict:
    found = entries(cache_dir)
    plans = sum(1 for e in found if e[1] and e[1][0].parent.name == PLANS)
    return {"location": str(cache_dir), "entries": len(found), "bytes": sum(e[2] for e in found),
            "kernels": len(found) - plans, "plans": plans,
            "limit_bytes": limit_bytes(),
            "oldest_use": min((e[3] for e in found if e[3]), default=None),
            "newest_use": max((e[3] for e in found), default=None)}


def clear(cache_dir) -> int:
    """Delete every entry; returns how many there were. OSError when some could not be
    deleted (a read-only folder), saying how many are left."""
    count = len(entries(cache_dir))
    for folder in (Path(cache_dir) / "kernels", Path(cache_dir) / PLANS):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    left = len(entries(cache_dir))
    if left:
        raise OSError(f"{left} of {count} cached kernel(s) could not be deleted (is the folder read-only?)")
    return count


def damaged_files(exc) -> list:
    """The Numba cache file an exception was raised while reading, as a list (empty
    when the exception did not come from Numba's cache loader): the innermost loader
    frame's data file, else its index."""
    found = []
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if not frame.f_code.co_filename.replace("\\", "/").endswith("numba/core/caching.py"):
            continue
        local = frame.f_locals
        for candidate in (local.get("path"), getattr(local.get("self"), "_index_path", None)):
            if candidate and str(candidate).endswith((".nbi", ".nbc")):
                found = [candidate]
                break
    return found


def repair(exc) -> bool:
    """Delete the damaged cache files behind `exc` (one warning each); False if there
    were none (the exception is not about the cache)."""
    paths = damaged_files(exc)
    for path in paths:
        for victim in {str(path)} | _index_and_data(str(path)):     # the function's index and data
            try:
                os.unlink(victim)
            except OSError:
                pass
        warnings.warn(f"tracejit: the compiled-kernel cache file {path} was damaged "
                      f"({type(exc).__name__}: {exc}); it was deleted and the kernel is compiled again",
                      CacheRepairWarning, stacklevel=3)
    return bool(paths)


def _index_and_data(path: str) -> set:
    """A cache file's index (.nbi) and every data file (.nbc) of the same function."""
    directory, name = os.path.split(path)
    base = name[:-4] if name.endswith(".nbi") else name.rsplit(".", 2)[0]
    result = set()
    try:
        for other in os.listdir(directory):
            if other == f"{base}.nbi" or (other.startswith(base + ".") and other.endswith(".nbc")):
                result.add(os.path.join(directory, other))
    except OSError:
        pass
    return result
