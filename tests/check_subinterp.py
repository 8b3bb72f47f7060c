"""Sub-interpreters (3.12+, _xxsubinterpreters): coreheap reads only the
main interpreter's GC lists and must say so. A core with two
sub-interpreters gets the warning naming them (exit 0: what is reported is
exact for the main interpreter); a core without any gets none.

usage: check_subinterp.py --python PYTHON3.12+ --coreheap COREHEAP --out OUTDIR"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import abort_core, out_args  # noqa: E402

NAME = "check_subinterp"
WITH = ("import _xxsubinterpreters as si, os\n"
        "a = si.create(); b = si.create()\n"
        "si.run_string(a, 'x = [1, 2, 3]')\n"
        "os.abort()\n")
WITHOUT = "import os; os.abort()"


def warnings_of(coreheap, core):
    p = subprocess.run([coreheap, "info", core, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise SystemExit("%s: info %s exited %d: %s" % (NAME, core, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)["warnings"]


def main():
    args = out_args(NAME)
    with_core = abort_core(NAME, args.python, os.path.join(args.out, "with"), WITH)
    without_core = abort_core(NAME, args.python, os.path.join(args.out, "without"), WITHOUT)
    failed = 0
    w = [x for x in warnings_of(args.coreheap, with_core) if "sub-interpreter" in x]
    ok = len(w) == 1 and w[0].startswith("2 sub-interpreters: only the main interpreter's GC lists are read")
    print("%s  two sub-interpreters: %r" % ("ok  " if ok else "FAIL", w))
    failed += not ok
    w = [x for x in warnings_of(args.coreheap, without_core) if "sub-interpreter" in x]
    print("%s  no sub-interpreter: %r" % ("ok  " if not w else "FAIL", w))
    failed += bool(w)
    print("%s: %d failed" % (NAME, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
