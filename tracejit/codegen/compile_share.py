"""Two processes compiling the kernels of one plan at once, on a cold start.

Why: Numba compiles one kernel at a time (under its global lock, in one thread), 0.1-0.5
s each, and a cold GPT block compiles seven, while the machine's other cores idle. So
when the first run of a plan is about to compile a kernel and at least one more awaits,
this process forks a helper. The helper walks the same plan on the same arguments
without running any kernel (outputs stay uninitialized: a compile needs only argument
types), then compiles the kernels it met from the last one back, storing their native
code in the cache (``native_cache``), while this process compiles from the first on.

Each kernel's compile is claimed by whichever process reaches it first (a file created
exclusively in a directory the two share). When this process reaches a kernel the
helper claimed, it waits for the helper to report it done (a line on a pipe) and loads
the stored code; when the helper has died or takes over ``WAIT_SECONDS``, it compiles
the kernel itself. So results never depend on the helper: at worst a compile is done
twice. The helper writes nothing to the terminal and ends with ``os._exit``; when the
run ends it is killed if still at work (nobody waits for what it compiles then) and
reaped. Memory pages this process writes while the helper lives are copied (fork's
copy-on-write), so plans whose inputs exceed ``MAX_INPUT_BYTES`` (which a first run
may write in place) compile alone.

Not used where ``os.fork`` is missing, with one CPU, inside a helper, off the main
thread or while other threads run (a fork stops OpenBLAS's workers under a call in
progress; a forked copy of a held lock never opens), or with
``TRACEJIT_COMPILE_HELPER=0``.
"""
from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings

WAIT_SECONDS = 60.0
MAX_INPUT_BYTES = 256 << 20
POOL_PREFIX = "tracejit-numba"      # numba_backend's launch pool
PREFETCH_THREAD = "tracejit-llvm-prefetch"      # native_cache.prefetch

_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_local = threading.local()          # .share: the first plan run in progress on this thread
_in_helper = False                  # True in a helper process
_pending: list = []                 # in a helper: (token, compile) per kernel met, in plan order
stats = {"helpers": 0, "last_pid": None}     # helpers this process forked, the last one's pid


def enabled() -> bool:
    return (hasattr(os, "fork") and _CPUS >= 2 and not _in_helper
            and os.environ.get("TRACEJIT_COMPILE_HELPER", "1") != "0")


def in_helper() -> bool:
    """True in a helper process: kernels are noted for compiling, never run."""
    return _in_helper


_helper_starts: list = []            # what a new helper runs first (backends reset their state)


def at_helper_start(hook) -> None:
    _helper_starts.append(hook)


def note(token: str, compile_kernel) -> None:
    """In a helper: `compile_kernel()` compiles (and stores) a kernel the walk met (the
    first launch of each counts: a loop launches its kernels once per trip)."""
    if all(token != seen for seen, _ in _pending):
        _pending.append((token, compile_kernel))


class _Share:
    """One first run of a plan: the helper (once forked) and what it reported done."""

    def __init__(self, walk, expected: int):
        self.walk = walk                  # runs the plan in the helper (kernels only noted)
        self.expected = expected          # kernels the run may compile
        self.directory = None
        self.reports = None               # read end of the helper's pipe
        self.pid = None
        self.done: set = set()
        self._partial = b""               # a report line not yet ended
        self.alive = False

    def claim(self, token: str) -> bool:
        """True when this process is to compile the kernel `token` (it claimed it, or
        there is no helper); False when the helper claimed it first."""
        if self.directory is None and self.expected >= 2:
            self._start()
        if self.directory is None:
            return True
        return _claim(self.directory, token)

    def wait(self, token: str) -> None:
        """Until the helper reports `token` compiled, dies, or WAIT_SECONDS pass."""
        deadline = time.monotonic() + WAIT_SECONDS
        while token not in self.done and self.alive:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.reports], [], [], left)
            if ready:
                self._read_reports()

    def _read_reports(self):
        data = os.read(self.reports, 65536)
        if not data:
            self.alive = False
            return
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        self.done.update(line.decode() for line in lines)

    def _start(self):
        self.expected = 0                 # one try
        if not _alone():
            return
        held = _hold_compiler_lock()
        if held is False:
            return
        directory = tempfile.mkdtemp(prefix="tracejit-share-")
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12 warns of a fork with threads, JAX of its own native threads:
                # the helper runs none of their code
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                pid = os.fork()
                if pid == 0:
                    _helper_main(self.walk, directory, write_end, held)     # never returns
        except OSError:
            os.close(read_end)
            os.close(write_end)
            shutil.rmtree(directory, ignore_errors=True)
            return
        finally:
            if held:
                held.release()
        os.close(write_end)
        self.directory, self.reports, self.pid, self.alive = directory, read_end, pid, True
        stats["helpers"] += 1
        stats["last_pid"] = pid

    def finish(self):
        """The run is over: the helper is stopped (what it compiles now nobody waits
        for), reaped, and its directory removed."""
        if self.directory is None:
            return
        if self.alive and select.select([self.reports], [], [], 0)[0]:
            self._read_reports()          # it may have ended: then its pid is not signalled
        if self.alive:                    # its end of the pipe is open: the process exists
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):   # SIGCHLD ignored or reaped elsewhere
            os.waitpid(self.pid, 0)
        os.close(self.reports)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None


def _alone() -> bool:
    """This is the main thread and no other thread runs Python code but tracejit's launch
    pool (idle while this thread compiles). A fork while another thread is inside
    OpenBLAS breaks that call in this process: OpenBLAS stops its worker threads at a
    fork (a background compile's matmul spun forever while the main thread forked)."""
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread.name == PREFETCH_THREAD:
            thread.join()                 # loading LLVM's library: never fork under a loader lock
    idle = tuple(prefix for prefix, is_idle in _IDLE_POOLS.items() if is_idle())
    return threading.current_thread() is main and all(
        t is main or t.name.startswith(POOL_PREFIX) or (idle and t.name.startswith(idle))
        for t in threading.enumerate())


_IDLE_POOLS: dict = {}              # thread-name prefix -> whether that pool runs nothing now


def allow_idle_pool(prefix: str, is_idle) -> None:
    """Threads named `prefix...` do not stop a helper while `is_idle()` says their pool
    runs nothing (the background compiler's worker waits on its queue between jobs)."""
    _IDLE_POOLS[prefix] = is_idle


def _hold_compiler_lock():
    """Numba's compiler lock taken for the fork (None: Numba is not imported yet);
    False when another thread holds it."""
    if "numba.core.compiler_lock" not in sys.modules:
        return None
    lock = sys.modules["numba.core.compiler_lock"].global_compiler_lock._lock
    return lock if lock.acquire(blocking=False) else False


def _claim(directory: str, token: str) -> bool:
    try:
        os.close(os.open(os.path.join(directory, token), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False
    except OSError:                       # the directory is gone: the run is over
        return False


def _helper_main(walk, directory, reports, held):
    """The helper: walk the plan, then compile what it met from the last kernel back."""
    global _in_helper
    try:
        if held:
            held.release()                # the forking thread's copy of the lock
        _in_helper = True
        _local.share = None               # the forking thread's copy of this process's run
        for hook in _helper_starts:
            hook()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            walk()
        except BaseException:             # noqa: BLE001  (uninitialized values may upset a library step)
            pass
        for token, compile_kernel in reversed(_pending):
            if not _claim(directory, token):
                continue
            try:
                compile_kernel()
            except BaseException:         # noqa: BLE001  (the main process compiles it and reports)
                pass
            os.write(reports, token.encode() + b"\n")
    finally:
        os._exit(0)


@contextlib.contextmanager
def first_run(walk, expected: int, input_bytes: int = 0):
    """While the first run of a plan goes on in this thread: a helper may be forked to
    compile with it. `walk()` runs the plan in the helper; `expected`: the number of
    kernels this run may compile; `input_bytes`: the size of its input arrays."""
    if not enabled() or getattr(_local, "share", None) is not None or expected < 2 \
            or input_bytes > MAX_INPUT_BYTES:
        yield
        return
    share = _local.share = _Share(walk, expected)
    try:
        yield
    finally:
        _local.share = None
        share.finish()


def load_or_claim(token: str, load):
    """Before this process compiles kernel `token`: the helper's stored code when the
    helper claimed it (waiting for it; `load()` reads it), else None after claiming it
    here (compile it)."""
    share = getattr(_local, "share", None)
    if share is None or share.claim(token):
        return None
    share.wait(token)
    return load()
