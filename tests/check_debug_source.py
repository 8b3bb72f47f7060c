#!/usr/bin/env python3
"""Where coreheap took a distro interpreter's layouts from, and a refusal.

    check_debug_source.py --coreheap BIN --core CORE --debug-dir DIR --work WORKDIR

1. `coreheap info CORE --json --debug-dir DIR`: runtime.layout_method is
   "build-id" and runtime.layout_source is DIR/.build-id/xx/rest.debug for
   the build-id of the file that defines _PyRuntime (read from that file
   with readelf, independently of coreheap); the text output says
   "found by build-id".
2. A fake debug directory holding another program's ELF file (/bin/sh's
   debug part: a different build-id) at that same build-id path:
   `coreheap info CORE --debug-dir FAKE` must exit 3 (input) with a one-line
   error naming both build-ids, never use the file.
Prints "check_debug_source: N passed, M failed"; exit 0/1.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--debug-dir", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)

    def run(*args):
        return subprocess.run([a.coreheap] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=300)

    p = run("info", a.core, "--json", "--debug-dir", a.debug_dir)
    check(p.returncode == 0, "info --json exits 0 (got %d: %s)" % (p.returncode, p.stderr.strip()))
    if p.returncode != 0:
        print("check_debug_source: %d passed, %d failed" % (passed, failed + 1))
        return 1
    rt = json.loads(p.stdout)["runtime"]
    lib = rt["library"]
    bid = build_id(lib)
    check(bid is not None, "%s has a build-id" % lib)
    want = os.path.join(a.debug_dir, ".build-id", bid[:2], bid[2:] + ".debug") if bid else None
    check(rt.get("layout_method") == "build-id", "layout_method is build-id (got %r)" % rt.get("layout_method"))
    check(rt.get("layout_source") == want, "layout_source is %s (got %r)" % (want, rt.get("layout_source")))
    t = run("info", a.core, "--debug-dir", a.debug_dir)
    check(t.returncode == 0 and "found by build-id" in t.stdout and want in t.stdout,
          "info text names %s, found by build-id" % want)

    # A wrong file at the right path.
    fake = os.path.join(a.work, "fake-debug")
    shutil.rmtree(fake, ignore_errors=True)
    os.makedirs(os.path.join(fake, ".build-id", bid[:2]))
    wrong = os.path.join(fake, ".build-id", bid[:2], bid[2:] + ".debug")
    sh = shutil.which("sh") or "/bin/sh"
    subprocess.run(["objcopy", "--only-keep-debug", os.path.realpath(sh), wrong], check=True)
    wrong_id = build_id(wrong)
    check(wrong_id and wrong_id != bid, "the fake debug file has another build-id (%s)" % wrong_id)
    f = run("info", a.core, "--debug-dir", fake)
    err = f.stderr.strip()
    check(f.returncode == 3, "mismatched debug file: exit 3 (got %d)" % f.returncode)
    check(len(err.splitlines()) == 1, "one-line error (got %r)" % err)
    check(bid in err and (wrong_id or "?") in err and wrong in err,
          "the error names the file and both build-ids (got %r)" % err)
    check(f.stdout == "", "nothing printed on stdout")
    print("check_debug_source: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
