"""The ``tracejit`` command line.

- ``tracejit dump FILE.py:FUNC --arg f32[256,1000] ...`` shows every stage of one
  compilation: the IR as traced and after each pass that changed it, the fusion groups,
  each kernel's loop nest and its generated source (``--out DIR`` writes them as files).
- ``tracejit cache info`` / ``tracejit cache clear``: the kernel cache directory.
- ``tracejit --version``.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import sys
import time
from pathlib import Path

from .ir.types import parse_type


def load_function(target: str):
    path, sep, name = target.rpartition(":")
    if not sep or not path:
        raise SystemExit(f"tracejit dump: expected FILE.py:FUNC, got {target!r}")
    file = Path(path)
    if not file.exists():
        raise SystemExit(f"tracejit dump: no such file {path}")
    spec = importlib.util.spec_from_file_location(f"tracejit_dump_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:   # the user's module: one line, not a traceback
        raise SystemExit(f"tracejit dump: importing {path} raised {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if fn is None:
        raise SystemExit(f"tracejit dump: {path} has no function {name!r}")
    if not callable(fn):
        raise SystemExit(f"tracejit dump: {path}:{name} is not a function (it is of type {type(fn).__name__})")
    return getattr(fn, "fn", fn)  # a @tracejit.compile function dumps its Python function


def parse_argument(text: str):
    """One traced argument: a type (``f32[4,8]``, ``~f64[]`` for a Python float), or a
    Python literal of tuples, lists and dicts whose strings are types
    (``"{'w': 'f32[8,8]', 'b': 'f32[8]'}"``)."""
    try:
        return parse_type(text)
    except (ValueError, TypeError):
        pass
    try:
        tree = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"bad argument {text!r}: expected a type such as f32[4,8], or a tuple/list/dict of "
                         "quoted types") from None

    def convert(item):
        if isinstance(item, str):
            return parse_type(item)
        if isinstance(item, (tuple, list)):
            return type(item)(convert(x) for x in item)
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        raise ValueError(f"bad argument {text!r}: {item!r} is not a quoted type")
    return convert(tree)


def parse_static(items) -> dict:
    result = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"tracejit dump: --static expects NAME=VALUE, got {item!r}")
        try:
            result[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            result[name] = text
    return result


def _dump(args) -> int:
    from .runtime.backends import InterpretBackend, NumbaBackend, TritonBackend
    from .runtime.compilation import compile_function
    from .runtime.dump import format_dump, write_dump
    fn = load_function(args.target)
    try:
        arguments = tuple(parse_argument(text) for text in args.arg)
    except ValueError as exc:
        raise SystemExit(f"tracejit dump: {exc}")
    backend = {"numba": NumbaBackend, "triton": TritonBackend, "interpret": InterpretBackend}[args.backend]()
    try:
        compilation = compile_function(fn, arguments, parse_static(args.static), backend, name=fn.__name__)
    except Exception as exc:   # the user's code or arguments: one line, not a traceback
        raise SystemExit(f"tracejit dump: {fn.__name__} cannot be compiled as given: {type(exc).__name__}: {exc}")
    print(format_dump(compilation))
    try:
        where = write_dump(compilation, args.out, fn.__name__) if args.out else None
    except OSError as exc:
        raise SystemExit(f"tracejit dump: cannot write --out {args.out}: {exc}") from None
    if args.asm:
        _asm(compilation, args.backend, where)
    if where is not None:
        print(f"(written to {where})")
    return 0


def _asm(compilation, backend: str, where) -> None:
    from .runtime.dump import launch_once, vector_reports
    if backend != "numba":
        print("=== vectorization ===\n(--asm reads Numba machine code: use --backend numba)")
        return
    stopped = launch_once(compilation)
    print("=== vectorization (float arithmetic in each kernel's machine code) ===")
    if stopped:
        print(f"(the launch on zeros stopped early: {stopped})")
    for name, report, asm in vector_reports(compilation):
        print(report)
        if where is not None and asm:
            (where / f"asm_{name}.s").write_text(asm)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _cache(args) -> int:
    from .codegen import cache_dir
    from .codegen.files import default_cache_dir
    location = Path(args.dir) if args.dir else default_cache_dir()
    facts = cache_dir.info(location)
    if args.action == "clear":
        try:
            cache_dir.clear(location)
        except OSError as exc:
            raise SystemExit(f"tracejit cache clear: cannot clear {location}: {exc}") from None
        print(f"removed {facts['kernels']} cached kernel(s) and {facts['plans']} stored plan(s) from {location}")
        return 0
    print(f"location: {facts['location']}")
    print(f"entries:  {facts['kernels']} kernel module(s), {facts['plans']} stored plan(s)")
    print(f"size:     {_size(facts['bytes'])} (limit {_size(facts['limit_bytes'])}, TRACEJIT_CACHE_LIMIT_MB)")
    if facts["newest_use"]:
        print(f"last use: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(facts['newest_use']))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="tracejit", description="tracejit: a tracing JIT compiler for NumPy code")
    parser.add_argument("--version", action="version", version=f"tracejit {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help="show the IR after every stage, the loop nests and the generated kernels",
                          description="Compile FUNC for the given argument types and print every stage.")
    dump.add_argument("target", help="the function to compile, as FILE.py:FUNC")
    dump.add_argument("--arg", action="append", default=[], metavar="TYPE",
                      help="a traced positional argument, in order: a type such as f32[256,1000] (~f64[] is a "
                           "Python float), or a tuple/list/dict of quoted types, e.g. \"{'w': 'f32[8,8]'}\"")
    dump.add_argument("--static", action="append", default=[], metavar="NAME=VALUE",
                      help="a static keyword argument, as a Python literal (repeat for several)")
    dump.add_argument("--backend", choices=("numba", "triton", "interpret"), default="numba",
                      help="the code generator to use (default: numba)")
    dump.add_argument("--out", metavar="DIR", help="also write every stage as files into DIR")
    dump.add_argument("--asm", action="store_true",
                      help="compile the kernels (one launch on zeros) and report, per kernel, whether its "
                           "loops vectorized: packed vs scalar float instructions by register width; with "
                           "--out, write the assembly too (Numba backend)")
    cache = sub.add_parser("cache", help="show or clear the kernel cache directory",
                           description="The kernel cache: generated sources, Numba's compiled code, native "
                                       "code and stored plans.")
    cache.add_argument("action", choices=("info", "clear"),
                       help="info: location, size and entries; clear: delete every cached kernel and stored plan")
    cache.add_argument("--dir", metavar="DIR",
                       help="the cache directory (default: $TRACEJIT_CACHE_DIR or ~/.cache/tracejit)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"dump": _dump, "cache": _cache}[args.command](args)
    except BrokenPipeError:               # `tracejit dump ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
