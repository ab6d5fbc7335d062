"""Which helper function implements each vectorizable (op, dtype), by module: names only.

Why a module of its own: the Numba dialect needs these names to write a kernel's
imports, and writing source must not import Numba (a warm start runs stored native code
without it). Each helper module (numba_math, numba_trig, numba_pow, numba_erf) takes its table from
here and defines the functions it names; a test checks that every name exists.
"""
from __future__ import annotations

VECTOR_MATH = {
    "numba_math": {
        ("exp", "float32"): "exp_f32", ("exp", "float64"): "exp_f64",
        ("expm1", "float32"): "expm1_f32", ("expm1", "float64"): "expm1_f64",
        ("log", "float32"): "log_f32", ("log", "float64"): "log_f64",
        ("tanh", "float32"): "tanh_f32", ("tanh", "float64"): "tanh_f64",
        ("exp2", "float32"): "exp2_f32", ("exp2", "float64"): "exp2_f64",
        ("log1p", "float32"): "log1p_f32", ("log1p", "float64"): "log1p_f64",
    },
    "numba_trig": {
        ("sin", "float32"): "sin_f32", ("sin", "float64"): "sin_f64",
        ("cos", "float32"): "cos_f32", ("cos", "float64"): "cos_f64",
        ("tan", "float32"): "tan_f32", ("tan", "float64"): "tan_f64",
        ("arctan", "float32"): "arctan_f32", ("arctan", "float64"): "arctan_f64",
    },
    "numba_pow": {("pow", "float32"): "pow_f32", ("pow", "float64"): "pow_f64"},
    "numba_erf": {("erf", "float32"): "erf_f32", ("erf", "float64"): "erf_f64",
                  ("erfc", "float32"): "erfc_f32", ("erfc", "float64"): "erfc_f64"},
}

# sin/cos valid below a limit only (|x| < 2^24 for float32, 2^20 for float64), cheaper
# than the helpers above: a kernel runs them and reruns far elements with those
# (near_paths.py); the key of x is |x| / limit as a float32 (0 where x is not finite)
NEAR_LIMIT = {"float32": 2.0 ** 24, "float64": 2.0 ** 20}
NEAR_MATH = {
    "numba_trig_near": {("sin", "float32"): "sin_f32_near", ("cos", "float32"): "cos_f32_near",
                        ("sin", "float64"): "sin_f64_near", ("cos", "float64"): "cos_f64_near",
                        ("key", "float32"): "far_key_f32", ("key", "float64"): "far_key_f64"},
}

# float32 sin/cos below 2^16 with the reduction in float32 arithmetic too (~30% cheaper
# than the near ones; FMA machines only, elsewhere they are the near ones): a block of
# a kernel loop whose float32 sin/cos arguments all lie below the limit runs these
# (near_paths.py); the key of x is |x| / limit (0 where x is not finite)
SMALL_LIMIT = {"float32": 2.0 ** 16}
SMALL_MATH = {
    "numba_trig_near": {("sin", "float32"): "sin_f32_small", ("cos", "float32"): "cos_f32_small",
                        ("key", "float32"): "small_key_f32"},
}
