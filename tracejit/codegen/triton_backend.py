"""Triton code generator: LoopNest -> generated ``.py`` file -> launchable kernel.

``compile_kernel(nest, cache_dir, region_text="", options=None) -> TritonKernel``.
The source (``triton_dialect.generate``) is written with ``files.write_module`` and
imported as a real module; modules are cached in memory by source hash, so every
shape with the same structure reuses one kernel (sizes and strides are arguments).

Launch configuration: in interpreter mode (TRITON_INTERPRET=1) one config with large
blocks (the interpreter costs ~1 ms per program); on a GPU a table by size:
pointwise 1024-2048-wide blocks with int32 index math unless an offset may reach 2**31
(``IDX64``) and flat offsets for C-contiguous buffers (``CONTIG``); row kernels keep the
whole row in registers up to 16384 elements (``SINGLE_PASS``, 1-16 warps by row size)
and loop over longer rows; float matmuls use ``triton.autotune`` (which does not work in
the interpreter). ``options`` may pin any constexpr (``{"RBLOCK": 16}``,
``{"BLOCK": 64}``, ``{"SINGLE_PASS": 0}``, ``{"CONTIG": 0}``, ...), ``num_warps`` and ``num_stages``
(mostly for tests and benchmarks) or ask for ``{"input_precision": "tf32"}`` matmuls.
"""
from __future__ import annotations

import builtins

import numpy as np

from .triton_arrays import as_kernel_arg, element_strides, error_flag_like, flag_raised, interpreter_enabled
from . import files
from .identity import kernel_identity
from .triton_dialect import generate

_MODULES: dict = {}     # source hash -> imported module
_KERNELS: dict = {}     # (source hash, options key) -> TritonKernel


def next_pow2(n: int) -> int:
    n = max(int(n), 1)
    return 1 << (n - 1).bit_length()


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _extent(expr, sizes) -> int:
    return 1 if expr.kind == "const" else int(sizes[expr.args[0]])


_INT32_LIMIT = 2 ** 31 - 1


def _c_contiguous(shape, strides) -> bool:
    """Element strides equal the C-contiguous strides of `shape` (size-1 dims ignored)."""
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def _max_offset(shape, strides) -> int:
    """Largest |element offset| any index of an array of `shape` can reach."""
    return sum((n - 1) * abs(s) for n, s in zip(shape, strides) if n > 0)


def pointwise_config(numel: int, interpret: bool) -> tuple:
    """(BLOCK, num_warps): large vectorised blocks on a GPU, one huge block in the
    interpreter (it pays ~1 ms per program)."""
    if interpret:
        return min(65536, next_pow2(numel)), 4
    if numel >= 1 << 20:
        return 2048, 8
    if numel >= 1 << 16:
        return 1024, 4
    return max(128, min(1024, next_pow2(numel))), 4


def row_config(R: int, interpret: bool) -> tuple:
    """(RBLOCK, num_warps) for rows of R elements: the whole row in one block (one pass
    over memory) up to 16384 elements, else a 2048-wide loop."""
    if interpret:
        return min(16384, next_pow2(R)), 4
    if R > 16384:
        return 2048, 8
    rblock = next_pow2(R)
    warps = 1 if rblock <= 128 else 2 if rblock <= 512 else 4 if rblock <= 1024 else \
        8 if rblock <= 4096 else 16
    return rblock, warps


def _buffer_strides(array, rank: int) -> tuple:
    """Element strides of `array` for a kernel buffer of `rank` dims. An array library
    may hand a 0-d value over as shape (1,) (``np.ascontiguousarray`` makes 0-d arrays
    1-d): extra leading size-1 dims are dropped, missing leading dims broadcast."""
    strides = element_strides(array)
    extra = len(strides) - rank
    if extra > 0:
        shape = tuple(int(n) for n in array.shape)
        if any(n != 1 for n in shape[:extra]):
            raise ValueError(f"array of shape {shape} passed for a rank-{rank} kernel buffer")
        return strides[extra:]
    return (0,) * (-extra) + strides


def _buffer_shape(array, rank: int) -> tuple:
    """`array`'s shape seen as a rank-`rank` buffer (same rule as _buffer_strides)."""
    shape = tuple(int(n) for n in array.shape)
    return (1,) * max(0, rank - len(shape)) + (shape[len(shape) - rank:] if rank else ())


def _raw_strides(array):
    """Strides as the array reports them (a cheap cache key: bytes or elements)."""
    stride = getattr(array, "stride", None)
    return stride() if callable(stride) else array.strides


class TritonKernel:
    """One generated kernel: `name`, `source`, `path`, `backend`, `spec`, callable.

    Launch layouts (block sizes, grid, size/extent/stride arguments) are computed once
    per (sizes, strides) and cached, so a repeated call only wraps the array pointers
    and launches."""

    backend = "triton"

    def __init__(self, nest, source, path, module, spec, options):
        self.name = nest.name
        self.source = source
        self.path = path
        self.module = module
        self.spec = spec
        self.options = dict(options or {})
        self.nest = nest
        self.fn = getattr(module, spec.fn_name)     # the @triton.jit function
        self.interpret = interpreter_enabled()
        self._launcher = self.fn if self.interpret else self._gpu_launcher()
        self._layouts: dict = {}                      # (sizes, strides) -> launch layout
        names = [b.name for b in spec.inputs + spec.outputs]
        self._flat_slots = [names.index(n) for n in spec.notes.get("flat", ())]

    # -- configuration ---------------------------------------------------------------
    def _pinned(self) -> dict:
        return {k: int(v) for k, v in self.options.items() if k in self.spec.constexprs}

    def _gpu_launcher(self):
        """GPU: autotune float matmuls over a few configs (unless pinned); row and
        pointwise kernels choose their config per launch (``block_sizes``)."""
        import triton
        if self._pinned() or self.spec.kind != "matmul":
            return self.fn
        if self.spec.matmul_dtype in (np.dtype(np.float32), np.dtype(np.float16)):
            configs = [triton.Config({"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k}, num_warps=w, num_stages=s)
                       for m, n, k, w, s in ((64, 64, 32, 4, 3), (128, 64, 32, 4, 3),
                                             (64, 128, 32, 4, 3), (128, 128, 32, 8, 3))]
            return triton.autotune(configs=configs, key=["M", "N", "K"])(self.fn)
        return self.fn

    def block_sizes(self, extents: dict) -> dict:
        """Constexpr values and num_warps for this launch (empty when autotuned)."""
        kind, pinned = self.spec.kind, self._pinned()
        if not self.interpret and self._launcher is not self.fn:
            return {}
        if kind == "pointwise":
            block, warps = pointwise_config(extents["numel"], self.interpret)
            sizes = {"BLOCK": block}
        elif kind == "reduction":
            rblock, warps = row_config(extents["R"], self.interpret)
            sizes = {"RBLOCK": rblock}
        else:
            dot = self.spec.matmul_dtype in (np.dtype(np.float32), np.dtype(np.float16))
            if self.interpret:
                cap_mn, bk = 64, 32
            else:
                cap_mn, bk = (64, 32) if dot else (32, 8)
            sizes = {"BLOCK_M": max(16, min(cap_mn, next_pow2(extents["M"]))),
                     "BLOCK_N": max(16, min(cap_mn, next_pow2(extents["N"]))),
                     "BLOCK_K": bk}
            warps = 4
        sizes.update(pinned)
        if kind == "reduction" and "SINGLE_PASS" not in pinned:
            sizes["SINGLE_PASS"] = int(extents["R"] <= sizes["RBLOCK"])
        sizes["num_warps"] = int(self.options.get("num_warps", warps))
        if "num_stages" in self.options:
            sizes["num_stages"] = int(self.options["num_stages"])
        return sizes

    # -- launching -------------------------------------------------------------------
    def _layout(self, arrays, sizes) -> tuple:
        """(int arguments after the pointers, constexpr/launch kwargs, grid or None)."""
        nest, spec = self.nest, self.spec
        domain = [_extent(e, sizes) for e in nest.domain_sizes]
        extents, grid = {}, None
        if spec.kind == "pointwise":
            extents["numel"] = int(np.prod(domain, dtype=np.int64))
        elif spec.kind == "reduction":
            extents["R"] = int(np.prod([domain[d] for d in nest.inner_axes], dtype=np.int64))
            outer = int(np.prod([domain[d] for d in nest.outer_axes], dtype=np.int64))
        else:
            a = arrays[[b.name for b in spec.inputs].index(nest.matmul.a)]
            extents.update(M=domain[-2], N=domain[-1], K=int(a.shape[-1]))
            batch = int(np.prod(domain[:-2], dtype=np.int64))
        blocks = self.block_sizes(extents)
        bufs = spec.inputs + spec.outputs
        strides = [_buffer_strides(x, len(b.shape)) for x, b in zip(arrays, bufs)]
        shapes = [_buffer_shape(x, len(b.shape)) for x, b in zip(arrays, bufs)]
        if spec.kind == "pointwise":
            numel = extents["numel"]
            reach = max([_max_offset(sh, st) for sh, st in zip(shapes, strides)] + [0])
            if "IDX64" not in self.options:
                blocks["IDX64"] = int(numel + blocks["BLOCK"] > _INT32_LIMIT or reach > _INT32_LIMIT)
            if "CONTIG" not in self.options:
                blocks["CONTIG"] = int(bool(self._flat_slots) and all(
                    shapes[i] == tuple(domain) and _c_contiguous(shapes[i], strides[i])
                    for i in self._flat_slots))
            grid = (_cdiv(numel, blocks["BLOCK"]),)
        elif spec.kind == "reduction":
            grid = (outer,)
        else:
            M, N = extents["M"], extents["N"]
            grid = ((_cdiv(M, blocks["BLOCK_M"]), _cdiv(N, blocks["BLOCK_N"]), batch) if "BLOCK_M" in blocks else
                    (lambda meta: (_cdiv(M, meta["BLOCK_M"]), _cdiv(N, meta["BLOCK_N"]), batch)))
        ints = {name: int(value) for name, value in sizes.items()}
        ints.update(extents)
        for buf, st in zip(bufs, strides):
            ints.update((f"{buf.name}_s{k}", int(v)) for k, v in enumerate(st))
        args = [ints[name] for name in (*spec.size_names, *spec.extents, *spec.strides)]
        empty = any(d == 0 for d in domain) if spec.kind != "reduction" else outer == 0
        return args, blocks, (None if empty else grid)

    def launch_args(self, inputs, outputs, sizes) -> tuple:
        """(positional args, constexpr kwargs, grid) for one launch."""
        arrays = [*inputs, *outputs]
        if len(inputs) != len(self.spec.inputs) or len(outputs) != len(self.spec.outputs):
            raise ValueError(f"{self.name}: expected {len(self.spec.inputs)} inputs and "
                             f"{len(self.spec.outputs)} outputs, got {len(inputs)} and {len(outputs)}")
        key = (tuple(sizes.values()), tuple(_raw_strides(x) for x in arrays))
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = self._layout(arrays, sizes)
        tail, blocks, grid = layout
        return [as_kernel_arg(x) for x in arrays] + tail, blocks, grid

    def __call__(self, inputs, outputs, sizes):
        args, blocks, grid = self.launch_args(inputs, outputs, sizes)
        if grid is None:
            return                      # empty domain: nothing to compute
        flag = None
        if self.spec.checks_indices:    # the error flag goes right after the buffer pointers
            flag = error_flag_like(outputs[0] if outputs else inputs[0])
            n = len(inputs) + len(outputs)
            args = args[:n] + [as_kernel_arg(flag)] + args[n:]
        if self.interpret:
            with np.errstate(all="ignore"):   # masked-off lanes may divide by zero
                self._launcher[grid](*args, **blocks)
        else:
            self._launcher[grid](*args, **blocks)
        code = flag_raised(flag) if flag is not None else 0
        if code:
            error, message = self.spec.errors[code - 1]
            raise getattr(builtins, error, ValueError)(
                f"{message} (kernel {self.name}; NumPy raises {error} here)")


def _options_key(options) -> tuple:
    return tuple(sorted((options or {}).items()))


def compile_kernel(nest, cache_dir=None, region_text: str = "", options=None) -> TritonKernel:
    """Generate, write and import the Triton kernel for `nest` (cached by source)."""
    source, spec = generate(nest, region_text, options)
    digest = files.content_hash(source)
    code = source.split("import triton.language as tl", 1)[-1]     # without the IR header
    key = (kernel_identity(code, spec.fn_name, nest), _options_key(options))
    kernel = _KERNELS.get(key)
    if kernel is not None and kernel.nest.sizes.keys() == nest.sizes.keys():
        return kernel
    cache_dir = files.default_cache_dir() if cache_dir is None else cache_dir
    path = files.write_module(cache_dir, f"triton_{spec.fn_name}", source)
    module = _MODULES.get(digest)
    if module is None:
        module = files.import_module(path)
        _MODULES[digest] = module
    kernel = TritonKernel(nest, source, path, module, spec, options)
    _KERNELS[key] = kernel
    return kernel
