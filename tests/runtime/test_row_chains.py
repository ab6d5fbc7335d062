"""Row-tiled matmul chains (ir/row_tiles.py, codegen/numba_chain.py, runtime/row_chains.py):
``rows(a @ b) @ v`` computed a tile of rows at a time gives NumPy's results, NaN and Inf
rows included, and is used exactly where the intermediate is not needed whole."""
import numpy as np
import pytest

from tracejit.codegen import numba_chain
from tracejit.ir import TensorType
from tracejit.ir.row_tiles import tile_nest
from tracejit.runtime.backends import choose_backend
from tracejit.runtime.compilation import compile_function
from tracejit.runtime.dump import format_dump
import tracejit
from tests.runtime.eager_check import make_module

PROGRAMS = """
import math
import numpy as np
def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
def causal(q, k, v):
    T = q.shape[-2]
    s = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    return softmax(s) @ v
def full(q, k, v):
    return softmax(q @ k.swapaxes(-1, -2) / 4.0) @ v
def masked(q, k, v, bias):
    return softmax(q @ k.swapaxes(-1, -2) + bias) @ v
def normed(x, w1, w2):
    h = x @ w1
    h = (h - h.mean(axis=-1, keepdims=True)) / np.sqrt(h.var(axis=-1, keepdims=True) + 1e-5)
    return h @ w2
def weights_returned(q, k, v):
    p = softmax(q @ k.swapaxes(-1, -2))
    return p @ v, p
"""


@pytest.fixture(autouse=True)
def small_chains(monkeypatch):
    """Chains at test sizes (the real threshold is 8 MB of intermediate)."""
    monkeypatch.setattr(numba_chain, "MIN_BYTES", 0)


def check(name, calls):
    """Compiled `name` against eager NumPy on each argument tuple of `calls`: dtypes,
    shapes, NaN and Inf positions exactly; values within a matmul's tolerance (the tiles
    block BLAS's sums differently from one whole call: float32 differs by a few ulps
    of the terms, which a cancelling sum shows relative to its small result). Returns
    the compiled function."""
    eager_fn = getattr(make_module(PROGRAMS, "eager"), name)
    compiled = tracejit.compile(getattr(make_module(PROGRAMS, "compiled"), name), backend="numba",
                                fullgraph=True)
    for args in calls:
        want = eager_fn(*[a.copy() for a in args])
        copies = [a.copy() for a in args]
        got = compiled(*copies)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert g.dtype == w.dtype and g.shape == w.shape
            assert np.array_equal(np.isnan(g), np.isnan(w)) and np.array_equal(np.isinf(g), np.isinf(w))
            finite = np.isfinite(w)
            scale = float(np.abs(w[finite]).max()) if finite.any() else 1.0
            tol = 1e-5 if w.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g[finite], w[finite], rtol=tol, atol=tol * scale)
        for a, c in zip(args, copies):
            np.testing.assert_array_equal(a, c)           # the arguments are left as they were
    return compiled


def _chained(compiled) -> bool:
    specs = [s for group in compiled._cache.values() for s in group if getattr(s, "plan", None) is not None]
    assert specs, "nothing compiled"
    return any(hasattr(step, "chain") for s in specs for step in s.plan.steps)


def _qkv(rng, heads, rows, depth, dtype=np.float32):
    return tuple(rng.standard_normal((*heads, rows, depth)).astype(dtype) for _ in range(3))


def test_causal_attention_in_row_tiles_matches_numpy_nan_and_inf_rows_included():
    rng = np.random.default_rng(0)
    plain = _qkv(rng, (2,), 300, 16)                 # 300 rows: tiles of 128, 128 and 44
    nan_q = tuple(a.copy() for a in plain)
    nan_q[0][1, 7, 3] = np.nan                       # one row of scores NaN
    inf_v = tuple(a.copy() for a in plain)
    inf_v[2][0, 250, 1] = np.inf                     # the zero-tail product must see it
    ninf_k = tuple(a.copy() for a in plain)
    ninf_k[1][0, 0, :] = -np.inf                     # row 0 keeps only -inf scores: NaN
    compiled = check("causal", [plain, nan_q, inf_v, ninf_k])
    assert _chained(compiled)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_attention_with_batch_axes_and_dtypes(dtype):
    rng = np.random.default_rng(1)
    args = _qkv(rng, (2, 3), 260, 8, dtype)
    compiled = check("full", [args])
    assert _chained(compiled)


def test_an_additive_mask_argument_is_read_at_the_tiles_global_rows():
    rng = np.random.default_rng(2)
    q, k, v = _qkv(rng, (2,), 290, 8)
    bias = np.where(rng.random((290, 290)) < 0.3, -np.inf, 0.0).astype(np.float32)
    bias[5] = -np.inf                                 # a row with nothing kept: NaN, as NumPy's
    compiled = check("masked", [(q, k, v, bias)])
    assert _chained(compiled)


def test_a_layernorm_of_a_product_then_a_product():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal((300, 24)).astype(np.float32), rng.standard_normal((24, 280)).astype(np.float32),
            rng.standard_normal((280, 12)).astype(np.float32))
    compiled = check("normed", [args])
    assert _chained(compiled)


def test_no_chain_where_the_intermediate_is_returned_too():
    rng = np.random.default_rng(4)
    args = _qkv(rng, (2,), 300, 8)
    compiled = check("weights_returned", [args])
    assert not _chained(compiled)


def test_no_chain_for_small_intermediates_by_default(monkeypatch):
    monkeypatch.setattr(numba_chain, "MIN_BYTES", 8 << 20)
    rng = np.random.default_rng(5)
    args = _qkv(rng, (2,), 300, 8)
    compiled = check("full", [args])
    assert not _chained(compiled)


def test_the_tile_nest_reads_its_tile_and_global_rows_and_the_dump_says_so():
    fn = make_module(PROGRAMS, "tiles").causal
    t = TensorType((2, 300, 16), np.dtype(np.float32))
    compilation = compile_function(fn, (t, t, t), {}, choose_backend("numba", ()))
    first = next(s for s in compilation.plan.steps if hasattr(s, "chain")).first
    tiled = tile_nest(first.nest)
    names = [b.name for b in tiled.inputs]
    assert names == ["pt", "tile_row", "tile_batch0"] and tiled.matmul is None
    from tracejit.ir.nest_text import format_nest
    text = format_nest(tiled)
    assert "load pt[i0, i1]" in text and "index (i0 + tile_row_v)" in text and "store out0[i0, i1]" in text
    dump = format_dump(compilation)
    assert "=== row tiles ===\nkernels causal_k0 and causal_k1 run 128 rows at a time" in dump
    assert "f32[2,300,300] intermediate is never materialized whole" in dump


def test_chained_plans_at_two_sizes_differ_only_in_their_integers():
    """A shape family compares the plans traced at two sizes (runtime/plan_numbers.py):
    chain steps are read field by field and share one chain object, so the plans of
    two batch sizes have one skeleton, and a plan rebuilt from the other's numbers runs."""
    from tracejit.runtime import plan_numbers
    fn = make_module(PROGRAMS, "sizes").full
    plans, skeletons, numbers = [], [], []
    for heads in (3, 4):
        t = TensorType((heads, 260, 8), np.dtype(np.float32))
        plan = compile_function(fn, (t, t, t), {}, choose_backend("numba", ())).plan
        skeleton, found = [], []
        plan_numbers.read(plan, skeleton, found)
        plans.append(plan), skeletons.append(skeleton), numbers.append(found)
    assert any(hasattr(step, "chain") for step in plans[0].steps)
    assert skeletons[0] == skeletons[1]
    varying = [k for k, (a, b) in enumerate(zip(*numbers)) if a != b]
    rebuilt = plan_numbers.rebuilder(plans[0], varying)(numbers[1])
    rng = np.random.default_rng(6)
    q, k, v = _qkv(rng, (4,), 260, 8)
    from tracejit.runtime.arrays import NUMPY
    (got,) = rebuilt.run(NUMPY, [q, k, v])
    want = getattr(make_module(PROGRAMS, "eager"), "full")(q, k, v)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
