"""stacks --native and summary's native frames against a
fixtures/scenario_threads.py core (threads blocked at known places).

For every OS thread of the core, `coreheap stacks --native --json`:
  - lists native frames unwound from the core down to the outermost one
    (a complete core: no "stopped" reason), named ones with a library;
  - interleaves exactly the Python frames `stacks` prints for that thread,
    in the same order (the eval-loop C frames replaced by them) and, since
    the process itself recorded those frames (sys._current_frames()), the
    frames of its truth too; with no disagreement note;
  - shows at the places the threads are known to block the C functions
    that block there: the aborting thread abort() and raise() (glibc) under
    os.abort's C function; the thread blocked on a lock
    PyThread_acquire_lock_timed over a semaphore/futex/condition wait; the
    sleeping thread a sleep system call wrapper.
`summary --json`'s crashed_thread_native is the aborting thread's mixed
stack, cut to its first frames.

usage: check_native.py --python PY --coreheap COREHEAP --core CORE --truth TRUTH.json"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import standard_args  # noqa: E402

passed = failed = 0


def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL  " + msg)


def run(args, cmd):
    r = subprocess.run([args.coreheap] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    check(r.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return json.loads(r.stdout) if r.returncode == 0 else None


def base(name):
    """A symbol without its version or compiler suffix (clock_nanosleep@GLIBC_2.2.5, x.constprop.0)."""
    return (name or "").split("@")[0].split(".")[0]


def has(funcs, wanted):
    return any(any(base(f) == w or base(f).startswith(w) for w in wanted) for f in funcs)


def key(f):
    return (f["function"], f["file"], f["line"])


EXPECTED = {
    # role: (alternatives for the innermost blocking C call (among the first
    # named frames: a libc without symbols leaves its own unnamed), C
    # functions that must be there (a tuple: one of them))
    "main": (["raise", "__pthread_kill", "pthread_kill"], ["abort"]),
    # 3.13+ locks park on a PyMutex: _PyParkingLot_Park -> _PySemaphore_Wait.
    "lock": (["sem_wait", "sem_clockwait", "sem_timedwait", "do_futex_wait", "__new_sem_wait",
              "__futex_abstimed_wait", "futex", "pthread_cond", "_PySemaphore_Wait"],
             [("PyThread_acquire_lock_timed", "_PyParkingLot_Park")]),
    "sleep": (["clock_nanosleep", "nanosleep", "select", "__select", "poll"], []),
}


def main():
    args, truth = standard_args("check_native")
    stacks = run(args, ["stacks", args.core, "--json"])
    doc = run(args, ["stacks", args.core, "--json", "--native"])
    if not stacks or not doc:
        print("check_native: %d passed, %d failed" % (passed, failed))
        return 1
    native = {t["tid"]: t for t in doc.get("native_threads", [])}
    python = {t["tid"]: t for t in stacks["threads"]}
    check(len(native) >= len(truth["threads"]), "native_threads lists %d threads, the process had %d Python threads"
          % (len(native), len(truth["threads"])))
    for tid, t in sorted(native.items()):
        frames = t["frames"]
        cframes = [f for f in frames if f["kind"] == "native"]
        check(len(cframes) >= 3, "thread %s: %d native frames" % (tid, len(cframes)))
        check(all(f["library"] for f in cframes if f["function"]), "thread %s: a named native frame without library" % tid)
        check(t["note"] is None, "thread %s: stacks disagree: %s" % (tid, t["note"]))
        check(t["stopped"] is None, "thread %s: unwinding did not reach the outermost frame: %s" % (tid, t["stopped"]))
        got_py = [key(f) for f in frames if f["kind"] == "python"]
        want_py = [key(f) for f in python[tid]["frames"]] if tid in python else []
        check(got_py == want_py, "thread %s: Python frames in the mixed stack differ from `stacks`:\n  mixed  %s\n  stacks %s"
              % (tid, got_py, want_py))
    lines = 0
    for wt in truth["threads"]:
        tid = wt["tid"]
        t = native.get(tid)
        check(t is not None, "truth thread %s (%s) missing from native_threads" % (tid, wt["role"]))
        if t is None:
            continue
        got_py = [(f["function"], f["file"], f["line"]) for f in t["frames"] if f["kind"] == "python"]
        check(got_py == [key(f) for f in wt["frames"]], "thread %s (%s): Python frames differ from the truth" % (tid, wt["role"]))
        check(t["crashed"] == wt["main"], "thread %s (%s): crashed=%s" % (tid, wt["role"], t["crashed"]))
        funcs = [f["function"] for f in t["frames"] if f["kind"] == "native"]
        lines += sum(1 for f in t["frames"] if f["kind"] == "native" and f["file"])
        role = "main" if wt["main"] else wt["role"]
        if role in EXPECTED:
            inner, musts = EXPECTED[role]
            named = [f for f in funcs if f][:3]
            check(has(named, inner), "thread %s (%s): innermost named native frames %s lack any of %s" % (tid, role, named, inner))
            for m in musts:
                alts = list(m) if isinstance(m, tuple) else [m]
                check(has(funcs, alts), "thread %s (%s): no native frame %s in %s" % (tid, role, " or ".join(alts), funcs))
        if role == "main":
            # os.abort's C function calls abort(); the Python frame that called it is next.
            kinds = [f["kind"] for f in t["frames"]]
            check("python" in kinds and kinds.index("python") > funcs.index("abort") if "abort" in funcs else False,
                  "thread %s: abort() is not inside the Python frames" % tid)
    check(lines > 0, "no native frame has file:line (the interpreter's debug info was not used)")
    summ = run(args, ["summary", args.core, "--json"])
    if summ:
        cn = summ.get("crashed_thread_native")
        mains = [w for w in truth["threads"] if w["main"]]
        check(cn is not None and mains and cn["tid"] == mains[0]["tid"], "summary: crashed_thread_native %s" %
              (cn and cn.get("tid")))
        if cn is not None and mains:
            full = native[mains[0]["tid"]]["frames"]
            check(cn["frames"] == full[:len(cn["frames"])] and len(cn["frames"]) > 0,
                  "summary: crashed_thread_native is not the start of the thread's mixed stack")
    print("check_native: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
