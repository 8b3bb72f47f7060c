#!/usr/bin/env python3
"""What differs on an aarch64 core, against a fixtures/scenario_heap.py core
made by Debian's arm64 python3.11 under qemu-user (tests/cmake/arm64.cmake).

  - info --json: core.machine is "aarch64"; one thread, the dumped pid,
    python; the runtime read from the arm64 interpreter's own DWARF;
  - stacks --json: that thread's Python frames are the scenario's own,
    innermost first: main() then <module> of scenario_heap.py (the frames
    that called os.abort());
  - stacks --native --json: unwound from the aarch64 registers through
    libc's abort() and raise() (glibc) under os.abort's C function, to
    Py_BytesMain of python3.11, with the Python frames interleaved and no
    "stopped" reason;
  - memory --json: glibc malloc's arenas read (libc6-dbg:arm64's DWARF);
    "thread stacks" is exactly the mapping that holds the thread's stack
    pointer, as the process's own /proc/self/maps recorded it (MAPS: the
    [stack] line);
  - cycles --json: not exact, since the tp_traverse sandbox runs x86_64 code
    only: "exact" false and every conservative type's reason says
    "emulation not supported on aarch64";
  - --exe naming an x86_64 file (the harness's own interpreter): exit 3,
    naming both machines.

usage: check_arm64.py --python PY --coreheap COREHEAP --core CORE --truth TRUTH.json --maps MAPS"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import run_json, standard_args  # noqa: E402

NAME = "check_arm64"
passed = failed = 0


def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1
        print("ok    " + msg)
    else:
        failed += 1
        print("FAIL  " + msg)
    return ok


def stack_mapping(maps_path):
    """(start, end) of the [stack] mapping the process recorded."""
    with open(maps_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == "[stack]":
                start, end = (int(x, 16) for x in parts[0].split("-"))
                return start, end
    return None


def main():
    args, truth = standard_args(NAME, lambda ap: ap.add_argument("--maps", required=True))
    pid = truth["pid"]

    info = run_json(NAME, args, ["info", args.core])
    check(info["core"].get("machine") == "aarch64", "info: core.machine == aarch64 (got %r)" % info["core"].get("machine"))
    threads = info.get("threads") or []
    check(len(threads) == 1 and threads[0]["tid"] == pid and threads[0]["python"] is True,
          "info: one thread, tid %d, running Python (got %r)" % (pid, threads))
    check(info["runtime"]["version"] == truth["version"], "info: runtime.version == %s" % truth["version"])
    check(info["layout"]["kind"] == "dwarf", "info: layouts from the arm64 interpreter's DWARF (got %r)"
          % info["layout"]["kind"])

    st = run_json(NAME, args, ["stacks", args.core])
    frames = [(f["function"], os.path.basename(f["file"])) for t in st["threads"] for f in t["frames"]]
    check(frames == [("main", "scenario_heap.py"), ("<module>", "scenario_heap.py")],
          "stacks: main then <module> of scenario_heap.py (got %r)" % frames)

    nat = run_json(NAME, args, ["stacks", "--native", args.core])
    nt = nat.get("native_threads") or []
    if check(len(nt) == 1 and nt[0]["tid"] == pid, "stacks --native: one thread, tid %d" % pid):
        fr = nt[0]["frames"]
        names = [f.get("function") for f in fr if f["kind"] == "native"]
        libs = dict((f.get("function"), os.path.basename(f.get("library") or "")) for f in fr if f["kind"] == "native")
        check(not nt[0].get("stopped"), "stacks --native: unwound to the end (stopped: %r)" % nt[0].get("stopped"))
        check("abort" in names and libs.get("abort", "").startswith("libc.so")
              and "raise" in names, "stacks --native: abort() and raise() in libc (got %r)" % names[:6])
        check(any(n and n.startswith("os_abort") for n in names),
              "stacks --native: os.abort's C function os_abort (got %r)" % names[:8])
        check(names and "Py_BytesMain" in names and libs.get("Py_BytesMain") == "python3.11",
              "stacks --native: down to Py_BytesMain of python3.11 (got %r)" % names[-4:])
        py = [(f["function"], os.path.basename(f["file"])) for f in fr if f["kind"] == "python"]
        check(py == frames, "stacks --native: the Python frames interleaved, in order (got %r)" % py)
        i_abort = names.index("abort") if "abort" in names else -1
        i_main = names.index("Py_BytesMain") if "Py_BytesMain" in names else -1
        check(0 <= i_abort < i_main, "stacks --native: abort() above Py_BytesMain")

    mem = run_json(NAME, args, ["memory", args.core])
    g = mem.get("glibc") or {}
    check(g.get("found") is True and g.get("layout_source") == "dwarf" and len(g.get("arenas") or []) >= 1,
          "memory: glibc's main arena read with libc6-dbg:arm64's DWARF (got found=%r, %r)"
          % (g.get("found"), g.get("layout_source")))
    stacks = [c["bytes"] for c in mem["breakdown"] if c["category"] == "thread stacks"]
    sm = stack_mapping(args.maps)
    if check(sm is not None, "maps: the process recorded a [stack] mapping"):
        check(stacks == [sm[1] - sm[0]], "memory: thread stacks == the [stack] mapping's %d bytes (got %r)"
              % (sm[1] - sm[0], stacks))

    cy = run_json(NAME, args, ["cycles", args.core])
    cons = cy.get("conservative_types") or []
    check(cy.get("exact") is False, "cycles: exact is false on aarch64 (got %r)" % cy.get("exact"))
    check(len(cons) > 0 and all("emulation not supported on aarch64" in c["reason"] for c in cons),
          "cycles: %d conservative types, each 'emulation not supported on aarch64'" % len(cons))

    # An x86_64 interpreter given for the aarch64 executable: refused by
    # machine (the core dumped no header page, so no build-id to compare).
    host = os.path.realpath(sys.executable)
    p = subprocess.run([args.coreheap, "info", args.core, "--exe", host], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 3 and "is an x86_64 file, but the core is from an aarch64 process" in p.stderr,
          "--exe with an x86_64 file: exit 3 naming both machines (got %d: %s)" % (p.returncode, p.stderr.strip()))

    print("%s: %d passed, %d failed" % (NAME, passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
