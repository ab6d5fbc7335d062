"""The dump CLI and TRACEJIT_DUMP: golden IR text, fusion groups, kernel sources."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join("tests", "data", "dump_model.py")

TRACED_GOLDEN = """\
=== IR as traced ===
func @scaled_softmax(%0: f32[4,10], %1: ~f64[]) -> (f32[4,10]) {
  %2 = mul %0, %1 : f32[4,10]                             # dump_model.py:6
  %3 = reduce_max %2 axes=[1] keepdims : f32[4,1]         # dump_model.py:7
  %4 = sub %2, %3 : f32[4,10]                             # dump_model.py:7
  %5 = exp %4 : f32[4,10]                                 # dump_model.py:7
  %6 = reduce_sum %5 axes=[1] keepdims : f32[4,1]         # dump_model.py:8
  %7 = div %5, %6 : f32[4,10]                             # dump_model.py:8
  return %7
}
"""

FUSED_GOLDEN = """\
=== IR after fuse ===
func @scaled_softmax(%0: f32[4,10], %1: ~f64[]) -> (f32[4,10]) {
  %2 = kernel @scaled_softmax_k0 %0, %1 : f32[4,10]       # dump_model.py:6
    func @scaled_softmax_k0(%0: f32[4,10], %1: ~f64[]) -> (f32[4,10]) {
      %2 = mul %0, %1 : f32[4,10]                             # dump_model.py:6
      %3 = reduce_max %2 axes=[1] keepdims : f32[4,1]         # dump_model.py:7
      %4 = sub %2, %3 : f32[4,10]                             # dump_model.py:7
      %5 = exp %4 : f32[4,10]                                 # dump_model.py:7
      %6 = reduce_sum %5 axes=[1] keepdims : f32[4,1]         # dump_model.py:8
      %7 = div %5, %6 : f32[4,10]                             # dump_model.py:8
      return %7
    }
  return %2
}

=== fusion groups ===
kernel scaled_softmax_k0 [reduction rows] (f32[4,10], ~f64[]) -> (f32[4,10])
    ops: mul@dump_model.py:6 reduce_max@dump_model.py:7 sub@dump_model.py:7 exp@dump_model.py:7 \
reduce_sum@dump_model.py:8 div@dump_model.py:8
"""


def run_cli(*args, env=None):
    result = subprocess.run([sys.executable, "-m", "tracejit", "dump", *args], cwd=ROOT, capture_output=True,
                            text=True, env=env or dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_dump_prints_every_stage(tmp_path):
    out = run_cli(f"{MODEL}:scaled_softmax", "--arg", "f32[4,10]", "--arg", "~f64[]", "--out", str(tmp_path))
    assert out.startswith(TRACED_GOLDEN)
    assert FUSED_GOLDEN in out
    assert "=== kernel scaled_softmax_k0 (numba) written to " in out
    nest = out.split("=== loop nest scaled_softmax_k0 ===\n")[1].split("\n\n")[0]
    assert nest.startswith("loopnest @scaled_softmax_k0 (in0: f32[n0,n1], in1: f64[]) -> (out0: f32[n0,n1])")
    assert "phase 0 over i1:" in nest and "acc5 = reduce_max t4 : f32" in nest and "epilogue over i1:" in nest
    assert out.index("=== fusion groups ===") < out.index("=== physical copies ===") < out.index("=== loop nest") \
        < out.index("=== kernel")
    assert "=== physical copies ===\nnone: every transpose" in out
    assert "def scaled_softmax_k0(" in out and "@numba.njit" in out
    written = sorted(os.listdir(tmp_path / "scaled_softmax"))
    assert written == ["00_traced.ir", "01_fuse.ir", "copies.txt", "dump.txt", "fusion.txt", "kernel_scaled_softmax_k0.numba.py",
                       "loopnest_scaled_softmax_k0.txt"]
    assert (tmp_path / "scaled_softmax" / "dump.txt").read_text() in out


def test_dump_static_arguments_and_passes_that_change_the_graph():
    out = run_cli(f"{MODEL}:heads", "--arg", "f32[2,3,8]", "--static", "n_head=4", "--backend", "interpret")
    assert "func @heads(%0: f32[2,3,8]) -> (f32[2,4,3,2])" in out
    assert "reshape %0 shape=[2,3,4,2]" in out and "transpose" in out
    assert "=== kernel" not in out   # the interpreter generates no kernels


def test_dump_triton_backend_shows_triton_source():
    out = run_cli(f"{MODEL}:scaled_softmax", "--arg", "f32[4,10]", "--arg", "~f64[]", "--backend", "triton")
    assert "=== kernel scaled_softmax_k0 (triton)" in out
    assert "@triton.jit" in out and "tl.load(" in out


def test_tracejit_dump_env_writes_every_compiled_function(tmp_path):
    script = ("import numpy as np, tracejit, sys; sys.path.insert(0, 'tests/data'); import dump_model; "
              "f = tracejit.compile(dump_model.scaled_softmax); f(np.ones((3, 5), np.float32), 2.0); "
              "f(np.ones((6, 5), np.float32), 2.0)")
    env = dict(os.environ, TRACEJIT_DUMP=str(tmp_path))
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, env=env, timeout=300)
    assert sorted(os.listdir(tmp_path)) == ["scaled_softmax_1", "scaled_softmax_2"]
    text = (tmp_path / "scaled_softmax_2" / "dump.txt").read_text()
    assert "f32[6,5]" in text and "def scaled_softmax_k0(" in text


def test_env_var_dump_says_where_it_wrote_and_notes_fallbacks(tmp_path):
    script = ("import numpy as np, tracejit, warnings; warnings.simplefilter('ignore')\n"
              "def branchy(x):\n    return x if x.sum() > 0 else -x\n"
              "tracejit.compile(branchy, backend='interpret')(np.ones(3))\n"
              "tracejit.compile(lambda x: x + 1, backend='interpret')(np.ones(3))\n")
    env = dict(os.environ, TRACEJIT_DUMP=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, env=env, timeout=300,
                            capture_output=True, text=True)
    assert sorted(os.listdir(tmp_path)) == ["_lambda__1", "branchy_fallback_1"]
    assert f"tracejit: dump of branchy written to {tmp_path / 'branchy_fallback_1'}" in result.stderr
    assert f"dump of <lambda> written to {tmp_path / '_lambda__1'}" in result.stderr
    note = (tmp_path / "branchy_fallback_1" / "fallback.txt").read_text()
    assert "branchy runs eagerly" in note and "<string>:3" in note and "bool()" in note


def test_bad_cli_arguments_are_reported():
    result = subprocess.run([sys.executable, "-m", "tracejit", "dump", f"{MODEL}:nope", "--arg", "f32[2]"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "no function 'nope'" in result.stderr
    result = subprocess.run([sys.executable, "-m", "tracejit", "dump", f"{MODEL}:heads", "--arg", "q32[2]"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "q32" in result.stderr
    assert np.dtype(np.float32)  # numpy importable alongside the CLI


def test_version_and_help_for_every_option():
    import tracejit
    result = subprocess.run([sys.executable, "-m", "tracejit", "--version"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == f"tracejit {tracejit.__version__}"
    from tracejit.cli import build_parser
    parser = build_parser()
    subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0]
    for name, sub in [("tracejit", parser)] + list(subparsers.choices.items()):
        for action in sub._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                continue
            assert action.help, f"{name}: option {action.option_strings or action.dest} has no help text"


def test_dump_takes_dict_and_tuple_arguments(tmp_path):
    model = tmp_path / "step.py"
    model.write_text("import numpy as np\n\ndef step(x, params, pair):\n"
                     "    return np.tanh(x @ params['w'] + params['b']) * pair[0] + pair[1]\n")
    out = run_cli(f"{model}:step", "--arg", "f32[4,8]", "--arg", "{'w': 'f32[8,8]', 'b': 'f32[8]'}",
                  "--arg", "('f32[]', '~f64[]')")
    assert "func @step(%0: f32[4,8], %1: f32[8,8], %2: f32[8], %3: f32[], %4: ~f64[]) -> (f32[4,8])" in out
    result = subprocess.run([sys.executable, "-m", "tracejit", "dump", f"{model}:step", "--arg", "{'w': 3}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "not a quoted type" in result.stderr


def _cli_error(*argv) -> str:
    from tracejit import cli
    with pytest.raises(SystemExit) as caught:
        cli.main(list(argv))
    assert caught.value.code not in (0, None)
    return str(caught.value.code)


def test_cli_errors_are_one_line_not_a_traceback(tmp_path):
    (tmp_path / "raises.py").write_text("raise ValueError('bad module')\n")
    (tmp_path / "number.py").write_text("f = 3\n")
    assert "importing" in _cli_error("dump", f"{tmp_path / 'raises.py'}:f") and "bad module" in \
        _cli_error("dump", f"{tmp_path / 'raises.py'}:f")
    assert "not a function" in _cli_error("dump", f"{tmp_path / 'number.py'}:f")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert "cannot write --out" in _cli_error("dump", f"{MODEL}:heads", "--arg", "f32[2,3,8]", "--static",
                                              "n_head=4", "--backend", "interpret", "--out", str(blocker / "sub"))


def test_cache_clear_reports_entries_it_could_not_delete(tmp_path, monkeypatch):
    from tracejit.codegen import cache_dir
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "k_ab.py").write_text("# a kernel\n")
    assert len(cache_dir.entries(tmp_path)) == 1
    monkeypatch.setattr(cache_dir.shutil, "rmtree", lambda *a, **k: None)      # as a read-only folder does
    assert "could not be deleted" in _cli_error("cache", "clear", "--dir", str(tmp_path))


def test_dump_into_a_closed_pipe_stops_quietly():
    command = f"{sys.executable} -m tracejit dump {MODEL}:scaled_softmax --arg f32[4,10] --arg '~f64[]' | head -1"
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.stdout == "=== IR as traced ===\n" and "Traceback" not in result.stderr, result.stderr


def test_an_unwritable_dump_folder_warns_once_and_same_names_keep_both_dumps(tmp_path, monkeypatch):
    import warnings

    import tracejit
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("TRACEJIT_DUMP", str(blocker / "dumps"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in (2.0, 3.0):
            assert tracejit.compile(lambda x, k=k: x * k, backend="interpret")(np.ones(2)).tolist() == [k, k]
    assert [str(w.message) for w in caught if "TRACEJIT_DUMP" in str(w.message)] != []
    assert sum("TRACEJIT_DUMP" in str(w.message) for w in caught) == 1
    monkeypatch.setenv("TRACEJIT_DUMP", str(tmp_path / "dumps"))
    for k in (2.0, 3.0):
        tracejit.compile(lambda x, k=k: x * k, backend="interpret")(np.ones(2))
    assert sorted(os.listdir(tmp_path / "dumps")) == ["_lambda__1", "_lambda__1_2"]
