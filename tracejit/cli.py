"""``tracejit dump FILE.py:FUNC --arg f32[256,1000] ...``: show every stage.

Prints the IR as traced, the IR after each pass that changed it, the fusion groups and
every generated kernel's source; ``--out DIR`` writes the same as files.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
from pathlib import Path

from .ir.types import parse_type
from .runtime.backends import InterpretBackend, NumbaBackend, TritonBackend
from .runtime.compilation import compile_function
from .runtime.dump import format_dump, write_dump


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
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if fn is None:
        raise SystemExit(f"tracejit dump: {path} has no function {name!r}")
    return getattr(fn, "fn", fn)  # a @tracejit.compile function dumps its Python function


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tracejit", description="tracejit command line")
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help="show the IR after every stage and the generated kernels")
    dump.add_argument("target", help="FILE.py:FUNC")
    dump.add_argument("--arg", action="append", default=[], metavar="TYPE",
                      help="a traced positional argument, e.g. f32[256,1000] (repeat in order; ~f64[] is a Python float)")
    dump.add_argument("--static", action="append", default=[], metavar="NAME=VALUE",
                      help="a static keyword argument (Python literal)")
    dump.add_argument("--backend", choices=("numba", "triton", "interpret"), default="numba")
    dump.add_argument("--out", metavar="DIR", help="also write every stage as files into DIR")
    args = parser.parse_args(argv)

    fn = load_function(args.target)
    try:
        types = tuple(parse_type(text) for text in args.arg)
    except ValueError as exc:
        raise SystemExit(f"tracejit dump: {exc}")
    backend = {"numba": NumbaBackend, "triton": TritonBackend, "interpret": InterpretBackend}[args.backend]()
    try:
        compilation = compile_function(fn, types, parse_static(args.static), backend, name=fn.__name__)
    except Exception as exc:   # the user's code or arguments: one line, not a traceback
        raise SystemExit(f"tracejit dump: {fn.__name__} cannot be compiled as given: {type(exc).__name__}: {exc}")
    print(format_dump(compilation))
    if args.out:
        where = write_dump(compilation, args.out, fn.__name__)
        print(f"(written to {where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
