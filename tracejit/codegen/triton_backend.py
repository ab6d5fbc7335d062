"""Triton code generator: LoopNest -> generated ``.py`` file -> launchable kernel.

``compile_kernel(nest, cache_dir, region_text="", options=None) -> TritonKernel``.
The source (``triton_source.generate``) is written with ``files.write_module`` and
imported as a real module; modules are cached in memory by source hash, so every
shape with the same structure reuses one kernel (sizes and strides are arguments).

Launch configuration: in interpreter mode (TRITON_INTERPRET=1) one config with large
blocks (the interpreter costs ~1 ms per program); on a GPU a small table for
pointwise kernels and ``triton.autotune`` over a few configs for row reductions and
matmuls (autotune does not work in the interpreter). ``options`` may pin block sizes
(``{"RBLOCK": 16}``, ``{"BLOCK": 64}``, ``{"BLOCK_M": 16, ...}``; mostly for tests) or
ask for ``{"input_precision": "tf32"}`` matmuls.
"""
from __future__ import annotations

import numpy as np

from ..runtime.triton_arrays import as_kernel_arg, element_strides, interpreter_enabled
from . import files
from .triton_source import generate

_MODULES: dict = {}     # source hash -> imported module
_KERNELS: dict = {}     # (source hash, options key) -> TritonKernel


def next_pow2(n: int) -> int:
    n = max(int(n), 1)
    return 1 << (n - 1).bit_length()


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _extent(expr, sizes) -> int:
    return 1 if expr.kind == "const" else int(sizes[expr.args[0]])


class TritonKernel:
    """One generated kernel: `name`, `source`, `path`, `backend`, `spec`, callable."""

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

    # -- configuration ---------------------------------------------------------------
    def _pinned(self) -> dict:
        return {k: int(v) for k, v in self.options.items() if k in self.spec.constexprs}

    def _gpu_launcher(self):
        """GPU: autotune rows and matmuls over a few configs (unless pinned)."""
        import triton
        kind = self.spec.kind
        if self._pinned() or kind == "pointwise":
            return self.fn
        if kind == "reduction":
            configs = [triton.Config({"RBLOCK": rb}, num_warps=w)
                       for rb, w in ((256, 4), (1024, 4), (1024, 8), (4096, 8))]
            key = ["R"]
        elif self.spec.matmul_dtype in (np.dtype(np.float32), np.dtype(np.float16)):
            configs = [triton.Config({"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k}, num_warps=w, num_stages=s)
                       for m, n, k, w, s in ((64, 64, 32, 4, 3), (128, 64, 32, 4, 3),
                                             (64, 128, 32, 4, 3), (128, 128, 32, 8, 3))]
            key = ["M", "N", "K"]
        else:
            return self.fn
        return triton.autotune(configs=configs, key=key)(self.fn)

    def block_sizes(self, extents: dict) -> dict:
        """Constexpr values for this launch (empty when autotuned)."""
        kind, pinned = self.spec.kind, self._pinned()
        if not self.interpret and self._launcher is not self.fn:
            return {}
        if kind == "pointwise":
            cap = 65536 if self.interpret else 1024
            sizes = {"BLOCK": min(cap, next_pow2(extents["numel"]))}
        elif kind == "reduction":
            cap = 16384 if self.interpret else 1024
            sizes = {"RBLOCK": min(cap, next_pow2(extents["R"]))}
        else:
            dot = self.spec.matmul_dtype in (np.dtype(np.float32), np.dtype(np.float16))
            if self.interpret:
                cap_mn, bk = 64, 32
            else:
                cap_mn, bk = (64, 32) if dot else (32, 8)
            sizes = {"BLOCK_M": max(16, min(cap_mn, next_pow2(extents["M"]))),
                     "BLOCK_N": max(16, min(cap_mn, next_pow2(extents["N"]))),
                     "BLOCK_K": bk}
        sizes.update(pinned)
        return sizes

    # -- launching -------------------------------------------------------------------
    def launch_args(self, inputs, outputs, sizes) -> tuple:
        """(positional args, constexpr kwargs, grid) for one launch."""
        nest, spec = self.nest, self.spec
        inputs, outputs = list(inputs), list(outputs)
        if len(inputs) != len(spec.inputs) or len(outputs) != len(spec.outputs):
            raise ValueError(f"{self.name}: expected {len(spec.inputs)} inputs and "
                             f"{len(spec.outputs)} outputs, got {len(inputs)} and {len(outputs)}")
        domain = [_extent(e, sizes) for e in nest.domain_sizes]
        extents, grid = {}, None
        if spec.kind == "pointwise":
            extents["numel"] = int(np.prod(domain, dtype=np.int64))
        elif spec.kind == "reduction":
            extents["R"] = int(np.prod([domain[d] for d in nest.inner_axes], dtype=np.int64))
            outer = int(np.prod([domain[d] for d in nest.outer_axes], dtype=np.int64))
        else:
            a = inputs[[b.name for b in spec.inputs].index(nest.matmul.a)]
            extents.update(M=domain[-2], N=domain[-1], K=int(a.shape[-1]))
            batch = int(np.prod(domain[:-2], dtype=np.int64))
        blocks = self.block_sizes(extents)
        if spec.kind == "pointwise":
            numel = extents["numel"]
            grid = (_cdiv(numel, blocks["BLOCK"]),) if blocks else \
                (lambda meta: (_cdiv(numel, meta["BLOCK"]),))
        elif spec.kind == "reduction":
            grid = (outer,)
        else:
            M, N = extents["M"], extents["N"]
            grid = ((_cdiv(M, blocks["BLOCK_M"]), _cdiv(N, blocks["BLOCK_N"]), batch) if blocks else
                    (lambda meta: (_cdiv(M, meta["BLOCK_M"]), _cdiv(N, meta["BLOCK_N"]), batch)))
        arrays = inputs + outputs
        args = [as_kernel_arg(x) for x in arrays]
        args += [int(sizes[n]) for n in spec.size_names]
        args += [extents[e] for e in spec.extents]
        for array in arrays:
            args += list(element_strides(array))
        empty = any(d == 0 for d in domain) if spec.kind != "reduction" else outer == 0
        return args, blocks, (None if empty else grid)

    def __call__(self, inputs, outputs, sizes):
        args, blocks, grid = self.launch_args(inputs, outputs, sizes)
        if grid is None:
            return                      # empty domain: nothing to compute
        if self.interpret:
            with np.errstate(all="ignore"):   # masked-off lanes may divide by zero
                self._launcher[grid](*args, **blocks)
        else:
            self._launcher[grid](*args, **blocks)


def _options_key(options) -> tuple:
    return tuple(sorted((options or {}).items()))


def compile_kernel(nest, cache_dir=None, region_text: str = "", options=None) -> TritonKernel:
    """Generate, write and import the Triton kernel for `nest` (cached by source)."""
    source, spec = generate(nest, region_text, options)
    digest = files.content_hash(source)
    key = (digest, _options_key(options))
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
