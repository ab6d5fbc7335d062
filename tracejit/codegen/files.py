"""Generated kernel sources as real, importable files in the cache directory.

Real files (not ``exec``) are what make tracebacks, ``inspect``, Numba's on-disk cache
and Triton's source lookup work. Files are named from a readable stem plus the hash of
their content, written atomically, and imported under their own module name (Numba's
cache re-imports the module by that name).
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from . import cache_dir as cache_maintenance


def default_cache_dir() -> Path:
    configured = os.environ.get("TRACEJIT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tracejit"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def module_name_for(stem: str, source: str) -> str:
    return f"tj_{stem}_{content_hash(source)}"


def write_module(cache_dir, stem: str, source: str) -> Path:
    """Write `source` as ``<cache_dir>/kernels/tj_<stem>_<hash>.py`` (atomically; an
    existing file with other content, e.g. a damaged one, is replaced)."""
    cache_dir = _usable(Path(cache_dir))
    directory = cache_dir / "kernels"
    path = directory / f"{module_name_for(stem, source)}.py"
    cache_maintenance.mark_in_use(path)         # this process imports it later: never evicted before
    try:
        if path.read_text() == source:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(source)
    os.replace(tmp, path)
    cache_maintenance.enforce_limit(cache_dir)
    return path


_SUBSTITUTES: dict = {}       # a cache folder that cannot be written -> this process's temporary one


def _usable(cache_dir: Path) -> Path:
    """`cache_dir`, or, when its kernels folder cannot be made or written (read-only, a
    file in the way), a temporary folder for this process, with one warning: compiling
    goes on, only the cache across processes is lost."""
    if cache_dir in _SUBSTITUTES:
        return _SUBSTITUTES[cache_dir]
    try:
        (cache_dir / "kernels" / "__pycache__").mkdir(parents=True, exist_ok=True)    # Numba's files go there
        if all(os.access(d, os.W_OK | os.X_OK) for d in (cache_dir / "kernels", cache_dir / "kernels" / "__pycache__")):
            return cache_dir
        problem = "it is not writable"
    except OSError as exc:
        problem = str(exc)
    substitute = Path(tempfile.mkdtemp(prefix="tracejit-cache-"))
    (substitute / "kernels" / "__pycache__").mkdir(parents=True)
    atexit.register(shutil.rmtree, substitute, ignore_errors=True)
    _SUBSTITUTES[cache_dir] = substitute
    warnings.warn(f"tracejit: the kernel cache {cache_dir} cannot be used ({problem}); kernels of this process "
                  f"are cached in {substitute} instead (set TRACEJIT_CACHE_DIR to a writable folder)",
                  RuntimeWarning, stacklevel=2)
    return substitute


def import_module(path: Path):
    """Import the generated file under its own name and register it in sys.modules."""
    name = Path(path).stem
    cache_maintenance.touch(path)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None) == str(path):
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
