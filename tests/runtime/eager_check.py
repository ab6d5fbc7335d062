"""Compiled against eager, world included: results, printed text, state, warnings.

``check_like_eager(source, name, calls)`` executes `source` twice, as two fresh
modules: one for eager NumPy, one for tracejit. The same calls run on both, each
side on its own arguments, and after every call the two worlds must agree: the
results (values, dtypes, types, which results are the argument itself or share its
memory), the text printed, the arguments (mutated or not) and every global of the
module, down to object attributes and container entries. A fallback must give
exactly NumPy's result and state too; the number of FallbackWarnings is checked,
and that the warning names the line marked ``# <-`` in `source`.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import sys
import types
import warnings

import numpy as np

import tracejit
from tracejit.tracer import TracedArray

_COUNTER = itertools.count()


def make_module(source: str, tag: str):
    name = f"tjprog_{next(_COUNTER)}_{tag}"
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module       # classes and functions find their module, as in real code
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def _resolve(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def marked_line(source: str) -> int:
    for number, line in enumerate(source.splitlines(), 1):
        if "# <-" in line:
            return number
    raise AssertionError("no line marked `# <-`")


def _call(fn, args, kwargs):
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        try:
            return fn(*args, **kwargs), None, text.getvalue()
        except Exception as exc:    # noqa: BLE001
            return None, exc, text.getvalue()


def assert_same(eager, compiled, path="result", seen=None):
    """Equal worlds: same types, dtypes, shapes, values (NaN equal), writeability."""
    seen = set() if seen is None else seen
    assert not isinstance(compiled, TracedArray) and type(compiled).__name__ != "TracedArray", \
        f"{path}: a TracedArray leaked"
    if isinstance(eager, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType,
                          types.MethodType)) or callable(eager) and not isinstance(eager, np.ndarray) \
            and not hasattr(eager, "__dict__"):
        return
    same_type = type(compiled) is type(eager) or (          # classes of the two modules
        type(compiled).__qualname__ == type(eager).__qualname__ and type(eager).__module__.startswith("tjprog_"))
    assert same_type, f"{path}: {type(compiled).__name__}, NumPy gives {type(eager).__name__}"
    if isinstance(eager, np.ndarray):
        assert compiled.dtype == eager.dtype and compiled.shape == eager.shape, \
            f"{path}: {compiled.dtype}{compiled.shape}, NumPy gives {eager.dtype}{eager.shape}"
        np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-12, equal_nan=True, err_msg=path) \
            if eager.dtype.kind == "f" else np.testing.assert_array_equal(compiled, eager, err_msg=path)
        assert compiled.flags.writeable == eager.flags.writeable, f"{path}: writeable differs"
        return
    if isinstance(eager, (float, np.floating)):
        np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-12, equal_nan=True, err_msg=path)
        return
    if isinstance(eager, (int, bool, str, bytes, type(None), np.generic, complex)):
        assert compiled == eager, f"{path}: {compiled!r}, NumPy gives {eager!r}"
        return
    if id(eager) in seen:
        return
    seen.add(id(eager))
    if isinstance(eager, (list, tuple)):
        assert len(compiled) == len(eager), f"{path}: length {len(compiled)}, NumPy gives {len(eager)}"
        for i, (c, e) in enumerate(zip(compiled, eager)):
            assert_same(e, c, f"{path}[{i}]", seen)
        return
    if isinstance(eager, dict):
        assert list(compiled) == list(eager), f"{path}: keys {list(compiled)}, NumPy gives {list(eager)}"
        for key in eager:
            assert_same(eager[key], compiled[key], f"{path}[{key!r}]", seen)
        return
    if isinstance(eager, (set, frozenset)):
        assert compiled == eager, path
        return
    if hasattr(eager, "__dict__") or hasattr(type(eager), "__slots__"):
        names = set(getattr(eager, "__dict__", {})) | set(getattr(type(eager), "__slots__", ()))
        for name in sorted(names):
            assert hasattr(compiled, name) == hasattr(eager, name), f"{path}.{name}: presence differs"
            if hasattr(eager, name):
                assert_same(getattr(eager, name), getattr(compiled, name), f"{path}.{name}", seen)


def _arrays(obj):
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [a for item in obj for a in _arrays(item)]
    if isinstance(obj, dict):
        return [a for item in obj.values() for a in _arrays(item)]
    return []


def _memory_relations(results, args):
    """Per (result array, argument array): (is, shares memory)."""
    return [[(r is a, bool(np.shares_memory(r, a))) for a in _arrays(args)] for r in _arrays(results)]


def _containers(obj, found, depth=4):
    """The dicts and lists inside `obj` (containers, object attributes), in a fixed order."""
    if depth == 0 or isinstance(obj, (np.ndarray, str, bytes, type, types.ModuleType, types.FunctionType)):
        return found
    if isinstance(obj, (dict, list)):
        if any(obj is seen for seen in found):
            return found
        found.append(obj)
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else \
        vars(obj).values() if isinstance(getattr(obj, "__dict__", None), dict) else ()
    for item in items:
        _containers(item, found, depth - 1)
    return found


def _container_identities(results, args, module):
    """Per dict or list in the results: which of the caller's it is (by position among
    the containers of the arguments and globals), or -1 for a new one."""
    callers = _containers(args, [])
    for value in _globals(module).values():
        _containers(value, callers)
    return [next((i for i, c in enumerate(callers) if c is r), -1) for r in _containers(results, [])]


def _globals(module):
    return {k: v for k, v in vars(module).items() if not k.startswith("__")
            and not isinstance(v, (types.ModuleType, types.FunctionType, type))
            and type(v).__name__ != "CompiledFunction"}


def check_like_eager(source, name, calls, *, backend="interpret", warns=0, names_line=True, **options):
    """Run `name` (a dotted path in `source`'s module) eagerly and compiled on `calls`
    (each a function module -> args tuple, or a ``Call``); compare the worlds after
    every call. `warns`: the FallbackWarnings expected in all (0 or 1). Returns the
    compiled function and the compiled side's module."""
    eager_module, compiled_module = make_module(source, "eager"), make_module(source, "compiled")
    eager_fn = _resolve(eager_module, name)
    compiled_fn = tracejit.compile(_resolve(compiled_module, name), backend=backend, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, make in enumerate(calls):
            made_e, made_c = make(eager_module), make(compiled_module)
            args_e, kwargs_e = (made_e.args, made_e.kwargs) if isinstance(made_e, Call) else (made_e, {})
            args_c, kwargs_c = (made_c.args, made_c.kwargs) if isinstance(made_c, Call) else (made_c, {})
            out_e, exc_e, text_e = _call(eager_fn, args_e, kwargs_e)
            out_c, exc_c, text_c = _call(compiled_fn, args_c, kwargs_c)
            where = f"call {number}"
            if exc_e is not None:
                assert type(exc_c) is type(exc_e), f"{where}: raised {exc_c!r}, NumPy raises {exc_e!r}"
            else:
                assert exc_c is None, f"{where}: raised {exc_c!r}; NumPy does not"
                assert_same(out_e, out_c, f"{where} result")
                assert _memory_relations(out_c, args_c) == _memory_relations(out_e, args_e), \
                    f"{where}: results share memory with the arguments differently from NumPy"
                assert _container_identities(out_c, args_c, compiled_module) == \
                    _container_identities(out_e, args_e, eager_module), \
                    f"{where}: the dicts and lists returned are the caller's differently from NumPy"
            assert text_c == text_e, f"{where}: printed {text_c!r}, NumPy prints {text_e!r}"
            assert_same(args_e, args_c, f"{where} arguments")
            assert_same(_globals(eager_module), _globals(compiled_module), f"{where} globals")
    fallbacks = [w for w in caught if issubclass(w.category, tracejit.FallbackWarning)]
    assert len(fallbacks) == warns, f"{len(fallbacks)} FallbackWarnings, expected {warns}: " + \
        "; ".join(str(w.message)[:300] for w in fallbacks)
    if warns and names_line:
        line = f"{compiled_module.__file__}:{marked_line(source)}"
        assert line in str(fallbacks[0].message), f"the warning does not name {line}: {fallbacks[0].message}"
    return compiled_fn, compiled_module


class Call:
    """A call with keyword arguments (a call function may return this instead of a tuple)."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
