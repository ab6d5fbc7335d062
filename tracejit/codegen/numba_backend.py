"""Numba CPU code generator: one LoopNest -> one generated ``.py`` file -> a kernel.

``compile_kernel(nest, cache_dir, region_text="")`` renders the nest's source
(``numba_dialect``), writes it into the cache directory and imports it. Kernels are kept
in memory by the hash of their kernel text, so a second LoopNest that renders to the
same code (e.g. the same function at a new batch size: sizes are runtime arguments)
returns the same ``NumbaKernel`` object and compiles nothing new.

Numba compiles lazily, on the first call for each argument-type signature;
``NumbaKernel.compile_seconds`` records how long the first call's compile took.

Parallelism without ``prange`` (which costs 2-3x compile time): the kernel takes a
``[start, stop)`` range of its first outer axis and is ``nogil``, so large launches are
split into chunks that run on a shared thread pool (and the calling thread), truly in
parallel. Whether a launch is large is measured, not guessed: the first launch of each
shape runs on one thread and is timed; later ones are split only when it took longer
than ``PARALLEL_MIN_SECONDS`` (handing chunks to other threads costs tens of
microseconds, more than a small kernel's whole run).

Starting without Numba: the kernel module is imported (and Numba with it) only when
Numba is needed. A launch first tries the kernel's native code for its argument types,
stored in the cache directory by an earlier compile (``native_cache``); it goes through
Numba's dispatcher only when none is stored, when the arguments fit no stored entry, or
to raise the exception a native run reported.
"""
from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import blas_threads, cache_dir, compile_log, compile_share, files, native_cache
from .identity import kernel_identity, kernel_name
from ..ir.flatten import FLAT_SIZE, flat_nest, flattened_buffers
from ..ir.masked_product import needed_columns
from ..ir.nest import Load, Store
from ..ir.row_tiles import tile_nest

# launches that ran longer than this on one thread (and have >= 2 outer rows) go parallel
PARALLEL_MIN_SECONDS = 3e-4
CHUNKS_PER_THREAD = 4        # a parallel launch's row ranges per thread (taken dynamically)
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

_KERNELS: dict = {}
_KERNELS_LOCK = threading.Lock()
_POOL = None
_POOL_LOCK = threading.Lock()


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's pool threads: it starts a pool of its own."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                       thread_name_prefix=compile_share.POOL_PREFIX)
        return _POOL


def _extent(expr, sizes) -> int:
    """Value of a domain-size IndexExpr ('size' or 'const') for this launch."""
    if expr.kind == "const":
        return int(expr.args[0])
    return int(sizes[expr.args[0]])


class NumbaKernel:
    """A compiled (lazily, by Numba) kernel for every LoopNest with the same source.

    Call it as ``kernel(inputs, outputs, sizes)``: `inputs` in region-input order
    (without the matmul result), `outputs` preallocated in region-output order,
    `sizes` = ``nest.sizes`` of the current trace.
    """

    backend = "numba"

    def __init__(self, nest, source: str, path, size_names, cache_root, region_text="", in_place=()):
        self.name = nest.name
        self.source = source
        self.path = path
        self.function_name = kernel_name(nest)
        self.size_names = tuple(size_names)          # the size parameters the kernel takes
        self.input_names = tuple(b.name for b in nest.inputs if b.name != "mm")
        self.outer_axis = nest.outer_axes[0] if nest.outer_axes else None
        self.domain_sizes = tuple(nest.domain_sizes)
        self.matmul = nest.matmul
        self.plain_matmul = is_plain_matmul(nest)
        # the product is computed only where column <= row + offset (None: everywhere)
        self.causal_offset = None if self.plain_matmul else needed_columns(nest)
        self.compile_seconds = None
        self._cache_root = cache_root
        self._launch_shapes: dict = {}    # size values -> (rows, serial seconds or None, size arguments)
        self._half = None                 # whether it reads or writes float16 (as bits), known at first launch
        self._products: dict = {}         # (shape, dtype) -> a matmul product buffer reused across calls
        self._matmul_operands = None      # (a's and b's positions among the inputs, the product's dtype)
        self._first_lock = threading.RLock()
        self._dispatcher = None           # Numba's, once needed
        self._entries: dict = {}          # argument types -> native entry (None: none for those types)
        self._numba_only = not native_cache.enabled()
        self._fast = None                 # what a launch calls first: returns None when it ran
        self._plain = None                # whether `_run_plain` serves its launches (known once compiled)
        # (output, input) positions a plan may write in place (same shape and dtype, pointwise)
        # and the kernels that then store through the input (``numba_dialect.kernel_text``)
        self._in_place_candidates = () if in_place else _in_place_candidates(nest, self.input_names)
        self.in_place_variants: dict = {}
        self._variant_of = (nest, region_text)
        # a pointwise nest also runs as one flat loop on C-contiguous arrays (ir/flatten.py):
        # the positions of the arguments it then reshapes to 1-D, and that kernel once made
        self._flat_positions = _flat_positions(nest, self.input_names, in_place)
        self._in_place = in_place
        self.flat_variant = None
        self._tile = None                 # the row-tile kernel (False: none), once asked for
        self.tiled_nest = None            # a row-tile kernel's own nest (ir/row_tiles.py)
        self.registry_key = None          # its key among the kernels of this process (compile_kernel)

    def __repr__(self) -> str:
        return f"<NumbaKernel {self.name} at {self.path}>"

    def __reduce__(self):
        """A stored plan (``runtime/plan_store.py``) refers to a kernel by what it was made
        of: loading the plan gives this process's kernel of that code (made now where
        there is none), never a copy of another process's launch state."""
        nest, region_text = self._variant_of
        made_of = (self.registry_key, nest, self.source, self.path, self.size_names, self._cache_root,
                   region_text, self._in_place)
        return (_kernel_made_of, made_of, None if self.tiled_nest is None else {"tiled_nest": self.tiled_nest})

    # -- launching ------------------------------------------------------------
    def _matmul(self, inputs, outputs):
        mm = self.matmul
        known = self._matmul_operands
        if known is None:
            known = self._matmul_operands = (self.input_names.index(mm.a), self.input_names.index(mm.b),
                                             np.dtype(mm.dtype))
        a, b, dtype = inputs[known[0]], inputs[known[1]], known[2]
        if a.ndim == 2 and b.ndim == 2:
            shape = (a.shape[0], b.shape[1])
        else:
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
        if compile_share.in_helper():           # only the product's type matters there
            return None if self.plain_matmul else self._product_buffer(shape, dtype)
        if self.plain_matmul and outputs[0].dtype == dtype and outputs[0].shape == shape:
            self._product(a, b, outputs[0])
            return None
        # The epilogue could read each element of the product and overwrite it in place,
        # but LLVM's run-time alias check then picks the scalar loop (8x slower for a GELU
        # epilogue): the product gets a buffer of its own, kept for the next call.
        result = self._product_buffer(shape, dtype)
        if not (a.dtype == dtype and b.dtype == dtype) and np.result_type(a, b) != dtype:
            result[...] = np.matmul(a, b)
        elif self.causal_offset is not None and a.ndim >= 2 and b.ndim >= 2:
            blas_threads.causal_matmul(a, b, result, self.causal_offset, _pool().submit, _CPUS)
        else:
            self._product(a, b, result)
        if self.plain_matmul:
            outputs[0][...] = result
            return None
        return result

    def _product(self, a, b, out) -> None:
        """out = a @ b; only the columns of a its rows can have nonzero where a's rows
        are zero past the diagonal (``Matmul.a_zero_above``) and b is finite (a NaN or
        inf in b makes 0 * b count: then the whole product, as NumPy)."""
        offset = self.matmul.a_zero_above
        if offset is None and out.size * a.shape[-1] < blas_threads.SPLIT_MIN_MACS:
            np.matmul(a, b, out=out)         # small: on this thread, with no pool to ask for
            return
        if offset is not None and a.ndim >= 2 and b.ndim >= 2 and out.shape[-2] >= 2 * blas_threads.CAUSAL_ROWS \
                and math.isfinite(float(np.add.reduce(b, axis=None))):
            blas_threads.zero_tail_matmul(a, b, out, offset, _pool().submit, _CPUS)
        else:
            blas_threads.matmul(a, b, out, _pool().submit, _CPUS)

    def _product_buffer(self, shape, dtype):
        """A buffer for the matmul product: last call's when nobody holds it any more
        (references: the dict, `cached`, getrefcount's argument), else a new one."""
        key = (shape, dtype.str)
        cached = self._products.get(key)
        if cached is not None and sys.getrefcount(cached) <= 3:
            return cached
        if len(self._products) > 8:
            self._products.clear()
        # zeros where only part of it is computed: what the loop reads and never uses is
        # then never a subnormal (slow to multiply) or a signalling NaN
        self._products[key] = fresh = np.empty(shape, dtype) if self.causal_offset is None else np.zeros(shape, dtype)
        return fresh

    def _compiled_for(self, args) -> bool:
        """Compile (or load) the kernel for `args` (arrays, then size values) on its
        first run; False in a compile helper's walk, which only notes the compile."""
        if compile_share.in_helper():       # a compile helper's walk: note the compile, run nothing
            full = (0, 0, *args)
            compile_share.note(self._token(native_cache.argument_key(full)), lambda: self._ready(args))
            return False
        with self._first_lock:
            if self.compile_seconds is None:
                began = time.perf_counter()
                self._ready(args)
                self.compile_seconds = time.perf_counter() - began
                compile_log.record(self.compile_seconds)
        return True

    def run_rows(self, start, stop, args) -> bool:
        """Run rows ``[start, stop)`` of the split axis on this thread; `args`: the
        kernel's arrays in parameter order, then its size values. False where nothing
        ran (a compile helper's walk)."""
        if self.compile_seconds is None and not self._compiled_for(args):
            return False
        self._run(start, stop, *args)
        return True

    def tile_kernel(self):
        """The kernel over one tile of this matmul kernel's rows (``ir/row_tiles.py``),
        made on first need; None where the nest has none."""
        if self._tile is None:
            nest, region_text = self._variant_of
            tiled = tile_nest(nest)
            self._tile = False if tiled is None else compile_kernel(tiled, self._cache_root, region_text)
            if tiled is not None:
                self._tile.tiled_nest = tiled
        return self._tile or None

    def _launch_shape(self, sizes):
        """[rows of the split axis, serial seconds (None: not measured yet), size
        arguments, points of the domain] for these sizes."""
        size_args = tuple(int(sizes[name]) for name in self.size_names)
        rows = 1 if self.outer_axis is None else _extent(self.domain_sizes[self.outer_axis], sizes)
        points = math.prod(_extent(e, sizes) for e in self.domain_sizes)
        return [rows, None, size_args, points]

    def _launch_flat(self, inputs, outputs, launch) -> bool:
        """Run the flat form of the nest when every array it reshapes is C-contiguous
        (a view then, so the outputs are written in place); False: it does not apply."""
        arrays = [*inputs, *outputs]
        for k in self._flat_positions:
            if not arrays[k].flags.c_contiguous:
                return False
        flat = self.flat_variant
        if flat is None:
            nest, region_text = self._variant_of
            flat = self.flat_variant = compile_kernel(flat_nest(nest), self._cache_root, region_text, self._in_place)
        for k in self._flat_positions:
            arrays[k] = arrays[k].reshape(-1)
        n = len(inputs)
        flat.launch(arrays[:n], arrays[n:], flat.prepare({FLAT_SIZE: launch[3]}))
        return True

    def variants(self) -> list:
        """The kernels this one launches in its place (in place, flat), compiled so far."""
        found = [*self.in_place_variants.values(), *([self.flat_variant] if self.flat_variant else [])]
        return found + [v for k in found for v in k.variants()]

    def _launch_in_place(self, inputs, outputs, launch) -> None:
        pairs = tuple((k, j) for k, j in self._in_place_candidates if outputs[k] is inputs[j])
        written = {k for k, _ in pairs}
        self._in_place_variant(pairs).launch(inputs, [o for k, o in enumerate(outputs) if k not in written],
                                             launch)

    def _in_place_variant(self, pairs) -> "NumbaKernel":
        variant = self.in_place_variants.get(pairs)
        if variant is None:
            nest, region_text = self._variant_of
            in_place = tuple((nest.outputs[k].name, self.input_names[j]) for k, j in pairs)
            variant = compile_kernel(nest, self._cache_root, region_text, in_place)
            if variant.size_names != self.size_names:    # (never seen: the same code, renamed)
                raise RuntimeError(f"{self.name}: the in-place kernel takes other sizes")
            self.in_place_variants[pairs] = variant
        return variant

    @property
    def dispatcher(self):
        """Numba's dispatcher of the kernel; importing it imports Numba (once) and the
        kernel module (written again if the cache lost it)."""
        if self._dispatcher is None:
            with self._first_lock:
                if self._dispatcher is None:
                    from . import numba_startup  # noqa: F401  (Numba without its SciPy import)
                    if not os.path.exists(self.path):
                        files.write_module(self._cache_root, self.function_name, self.source)
                    module = files.import_module(self.path)
                    self._dispatcher = getattr(module, self.function_name)
        return self._dispatcher

    function = dispatcher     # the name the asm report and tests use

    def numba_signatures(self) -> list:
        """The Numba signatures the kernel ran with in this process, natively or not."""
        found = list(self._dispatcher.signatures) if self._dispatcher is not None else []
        for key, entry in self._entries.items():
            if entry is not None:
                signature = native_cache.numba_types(key)
                if signature not in found:
                    found.append(signature)
        return found

    def _compile(self, args):
        """Compile (or load from Numba's disk cache) by a call over an empty range; a
        damaged cache file is deleted and the kernel compiled again."""
        for _ in range(8):
            try:
                return self.dispatcher(0, 0, *args)
            except Exception as exc:
                if not cache_dir.repair(exc):
                    raise
        return self.dispatcher(0, 0, *args)

    def _ready(self, args):
        """Make the kernel runnable for these arguments (without the range): load its
        stored native code, else compile it with Numba and store the native code."""
        if self._numba_only:
            self._compile(args)
            self._fast = self.dispatcher
            return
        full = (0, 0, *args)
        if self._entry_for(native_cache.argument_key(full), full) is None and not self._numba_only:
            self._compile(args)

    def _entry_for(self, key, args):
        """The native entry for arguments of type `key` (loaded or stored on first
        need; None where there is none: the kernel then runs through Numba)."""
        if key is None:
            return None
        if key in self._entries:
            return self._entries[key]
        with self._first_lock:
            if key not in self._entries:
                entry = native_cache.load(self.path, self.function_name, key)
                if entry is None:
                    entry = compile_share.load_or_claim(
                        self._token(key), lambda: native_cache.load(self.path, self.function_name, key))
                if entry is None:
                    entry = native_cache.compile_and_store(self.path, self.function_name, self.dispatcher,
                                                           args, key)
                if entry is None:
                    self._compile(args[2:])
                    entry = native_cache.store(self.path, self.function_name, self.dispatcher, args, key)
                    if entry is None:       # code that needs Numba's runtime: Numba runs it from now on
                        self._numba_only = True
                        self._fast = self.dispatcher
                else:
                    cache_dir.touch(self.path)
                    cache_dir.mark_in_use(self.path)
                self._entries[key] = entry
                if entry is not None:
                    self._fast = entry.function
        return self._entries[key]

    def _token(self, key) -> str:
        """The name this kernel's compile for argument types `key` is claimed by."""
        return native_cache.native_path(self.path, self.function_name, key).stem

    def _run(self, *args):
        """Run the kernel over ``[args[0], args[1])`` of its split axis."""
        fast = self._fast
        if fast is not None:
            result = fast(*args)
            if result is None:
                return
            if result is not False:             # a native run raised
                raise native_cache.kernel_exception(result, self.name)
        self._run_slowly(args)

    def _run_slowly(self, args):
        """The arguments fit no entry tried first: the entry for their types (loaded or
        stored now), else Numba."""
        if not self._numba_only:
            key = native_cache.argument_key(args)
            began = time.perf_counter()
            known = key in self._entries
            entry = self._entry_for(key, args)
            if not known:                       # compiled or loaded now, for new argument types
                compile_log.record(time.perf_counter() - began)
            if entry is not None:
                result = entry.function(*args)
                if result is False:             # equal dtypes, other dtype objects: NumPy's own
                    result = entry.function(*_canonical_dtypes(args))
                if result is None:
                    return
                if result is not False:
                    raise native_cache.kernel_exception(result, self.name)
        self.dispatcher(*args)

    def _plain_product(self) -> bool:
        """Whether `_run_plain` may compute this kernel's product itself: all of it, into
        a buffer of its own, with nothing `_matmul` decides per call but the split."""
        return not self.plain_matmul and self.causal_offset is None and self.matmul.a_zero_above is None \
            and self._matmul_operands is not None

    def _run_plain(self, inputs, outputs, launch) -> bool:
        """The common launch, with few of ``launch``'s checks: a kernel that has no flat
        form and no float16 buffers, on NumPy arrays, no output written in place, measured
        small enough for one thread; its product, if any, a 2-D one too small to split.
        False where nothing ran (the arguments fit no stored entry: ``launch`` takes over)."""
        fast = self._fast
        if fast is None:
            return False
        for x in inputs:
            if type(x) is not np.ndarray:
                return False
        for k, j in self._in_place_candidates:
            if outputs[k] is inputs[j]:
                return False
        if self.matmul is not None:
            ia, ib, dtype = self._matmul_operands
            a, b = inputs[ia], inputs[ib]
            if a.ndim != 2 or b.ndim != 2 or a.dtype != dtype or b.dtype != dtype \
                    or a.shape[0] * b.shape[1] * a.shape[1] >= blas_threads.SPLIT_MIN_MACS:
                return False
            product = self._product_buffer((a.shape[0], b.shape[1]), dtype)
            np.matmul(a, b, out=product)
            result = fast(0, launch[0], *inputs, product, *outputs, *launch[2])
        else:
            result = fast(0, launch[0], *inputs, *outputs, *launch[2])
        if result is None:
            return True
        if result is not False:             # a native run raised
            raise native_cache.kernel_exception(result, self.name)
        return False

    def measured(self, launch) -> bool:
        """Whether this launch (its flat form's, where it has one) ran once and was timed:
        until then `express` cannot tell whether it serves it."""
        if launch[1] is not None:        # (a flat kernel on arguments its flat form does not take)
            return True
        flat = self.flat_variant if self._flat_positions is not None else None
        return flat is not None and flat.measured(flat.prepare({FLAT_SIZE: launch[3]}))

    def express(self, launch):
        """What a generated plan runner (``runtime/plan_source.py``) may call in place of
        ``launch(inputs, outputs, launch)``: ``(entry, rows, size arguments, product,
        flat)`` where `_run_plain` serves this launch (or the flat form's), else None.
        `product` is None, or the matmul operands' positions, the product's dtype, the
        most multiply-adds it may take on this thread, and ``buffer(shape, dtype)``, the
        buffer to compute it into (this kernel's, reused across calls). `flat` is None, or the
        positions among ``[*inputs, *outputs]`` of the arrays the flat form takes as 1-D
        views: it applies where they are all C-contiguous. The runner makes
        `_run_plain`'s per-call checks; the entry returns something other than None where
        it did not run (arguments it was not compiled for, or an exception), and the
        runner then takes ``launch``."""
        if self._flat_positions is not None:
            flat = self.flat_variant
            found = None if flat is None else flat.express(flat.prepare({FLAT_SIZE: launch[3]}))
            return None if found is None else found[:4] + (self._flat_positions,)
        if not self._plain or self._fast is None or self._numba_only or compile_share.in_helper() \
                or launch[1] is None or launch[1] >= PARALLEL_MIN_SECONDS:
            return None       # (Numba's dispatcher would compile for new arguments where an entry refuses)
        product = None
        if self.matmul is not None:
            ia, ib, dtype = self._matmul_operands
            product = (ia, ib, dtype, blas_threads.SPLIT_MIN_MACS, self._product_buffer)
        return self._fast, launch[0], tuple(launch[2]), product, None

    def __call__(self, inputs, outputs, sizes):
        self.launch(inputs, outputs, self.prepare(sizes))

    def prepare(self, sizes) -> list:
        """The launch for these sizes (rows, serial time, size arguments): a plan step
        keeps it, so a call does not look it up again."""
        values = tuple(sizes.values())          # every extent: the split axis may be one the code never names
        launch = self._launch_shapes.get(values)
        if launch is None:
            launch = self._launch_shapes[values] = self._launch_shape(sizes)
        return launch

    def launch(self, inputs, outputs, launch):
        """Run on `inputs` into the preallocated `outputs` with a prepared launch."""
        if self._plain and launch[1] is not None and launch[1] < PARALLEL_MIN_SECONDS \
                and self._run_plain(inputs, outputs, launch):
            return
        inputs = [x if type(x) is np.ndarray else np.asarray(x) for x in inputs]
        for k, j in self._in_place_candidates:
            if outputs[k] is inputs[j]:
                self._launch_in_place(inputs, outputs, launch)
                return
        if self._flat_positions is not None and self._launch_flat(inputs, outputs, launch):
            return
        if self.matmul is not None:
            mm = self._matmul(inputs, outputs)
            if mm is None:
                return
            inputs.append(mm)
        args = [*inputs, *outputs]
        if self._half is None:
            self._half = any(a.dtype == np.float16 for a in args)
        if self._half:   # Numba has no float16 arrays: the kernel reads and writes their bits (numba_half)
            args = [a.view(np.uint16) if a.dtype == np.float16 else a for a in args]
        rows, serial, size_args = launch[:3]
        args.extend(size_args)
        if self.compile_seconds is None and not self._compiled_for(args):
            return
        if self._plain is None:
            self._plain = not (self._flat_positions is not None or self._half) and (
                self.matmul is None or self._plain_product())
        threads = min(_CPUS, rows)
        if serial is None:                       # the first launch of this shape: measure it
            began = time.perf_counter()
            self._run(0, rows, *args)
            launch[1] = time.perf_counter() - began
            return
        if serial < PARALLEL_MIN_SECONDS or threads < 2:
            self._run(0, rows, *args)
            return
        # more chunks than threads, taken in turn: on a shared machine a thread that
        # loses its core for a while leaves its next chunks to the others (a static
        # split in halves waited for the slower half)
        chunks = min(rows, threads * CHUNKS_PER_THREAD)
        bounds = [rows * k // chunks for k in range(chunks + 1)]
        tickets = itertools.count()      # next() on it is atomic under the GIL

        def work():
            for k in iter(tickets.__next__, None):
                if k >= chunks:
                    return
                self._run(bounds[k], bounds[k + 1], *args)
        futures = [_pool().submit(work) for _ in range(threads - 1)]
        try:
            work()                                       # this thread takes chunks too
        finally:
            errors = [f.exception() for f in futures]    # every chunk finishes before we return
        for error in errors:
            if error is not None:
                raise error


def is_plain_matmul(nest) -> bool:
    """The region is only its matmul: the epilogue copies `mm` to out0 unchanged."""
    if nest.matmul is None or len(nest.outputs) != 1 or nest.phases or nest.epilogue:
        return False
    stmts = nest.preamble + [s for seg in nest.segments for s in seg]
    if len(stmts) != 2 or not isinstance(stmts[0], Load) or not isinstance(stmts[1], Store):
        return False
    load, store = stmts
    return (load.buffer == "mm" and store.src == load.dst and repr(load.index) == repr(store.index)
            and np.dtype(nest.outputs[0].dtype) == np.dtype(nest.matmul.dtype))


def _canonical_dtypes(args) -> list:
    """The arguments with each array viewed with NumPy's own object for its dtype (an
    unpickled array, or np.longlong for int64, has an equal dtype in another object)."""
    return [np.ndarray.view(a, np.dtype(a.dtype.str)) if type(a) is np.ndarray else a for a in args]


def _flat_positions(nest, input_names, in_place) -> tuple | None:
    """Positions among the kernel's array arguments (inputs, then the outputs not
    written in place) of the buffers its flat form reads as 1-D; None: no flat form."""
    flat = flattened_buffers(nest)
    if flat is None:
        return None
    written = {o for o, _ in in_place}
    names = [*input_names, *(b.name for b in nest.outputs if b.name not in written)]
    return tuple(k for k, name in enumerate(names) if name in flat)


def _in_place_candidates(nest, input_names) -> tuple:
    """(output, input) positions of a pointwise kernel whose output a plan may write into
    that input (``runtime/inplace.py`` decides; this only rules out the rest)."""
    if nest.inner_axes or nest.matmul is not None:
        return ()
    inputs = {b.name: b for b in nest.inputs}
    return tuple((k, j) for k, out in enumerate(nest.outputs) for j, name in enumerate(input_names)
                 if tuple(inputs[name].shape) == tuple(out.shape) and inputs[name].dtype == out.dtype)


def _run_nothing_in_the_helper() -> None:
    """In a compile helper, every kernel counts as not compiled yet, so that its launches
    are noted and nothing runs (the helper's values are uninitialized)."""
    with _KERNELS_LOCK:
        for kernel in _KERNELS.values():
            kernel.compile_seconds = None
            kernel._plain = None


compile_share.at_helper_start(_run_nothing_in_the_helper)


def compile_kernel(nest, cache_dir, region_text: str = "", in_place=()) -> NumbaKernel:
    """Generate and write the Numba kernel for `nest` (or reuse the kernel of an
    identical earlier nest); it is loaded at its first launch. `region_text`
    (``str(region)``) goes into the header; `in_place`: (output, input) buffer names
    whose output the caller writes into the input (``numba_dialect.kernel_text``)."""
    from .numba_dialect import generate_source      # not imported where plans are loaded (plan_store)
    source, body, size_names = generate_source(nest, region_text, in_place)
    # the flat form (ir/flatten.py) is valid only for nests whose buffers all span the domain
    key = (str(cache_dir), kernel_identity(body, kernel_name(nest), nest), in_place, flattened_buffers(nest))
    return _registered(key, lambda: NumbaKernel(nest, source, files.write_module(cache_dir, kernel_name(nest), source),
                                                size_names, cache_dir, region_text, in_place))


def _kernel_made_of(key, nest, source, path, size_names, cache_root, region_text, in_place) -> NumbaKernel:
    """The kernel `compile_kernel` made (or would make) under `key`, without generating
    its source again (``NumbaKernel.__reduce__``). Its module file is written again at
    its first import if the cache lost it (``NumbaKernel.dispatcher``)."""
    return _registered(key, lambda: NumbaKernel(nest, source, path, size_names, cache_root, region_text, in_place))


def _registered(key, make) -> NumbaKernel:
    """This process's kernel under `key`, made by `make()` (once) where there is none."""
    with _KERNELS_LOCK:
        kernel = _KERNELS.get(key)
        if kernel is None:
            kernel = _KERNELS[key] = make()
            kernel.registry_key = key
    return kernel
