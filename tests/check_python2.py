"""A Python 2 core is refused as such: every command exits 4 (unsupported)
with the one-line error "Python 2.X is not supported", never the generic
"not a Python process?".

The core is made at test time: PYTHON2 (pyenv's 2.7.18) aborts in OUTDIR
under an unlimited core size. A missing interpreter is a SKIP (77).

usage: check_python2.py --python PYTHON2 --coreheap COREHEAP --out OUTDIR"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import abort_core, out_args  # noqa: E402

NAME = "check_python2"
COMMANDS = [["info"], ["types"], ["cycles"], ["stacks"], ["summary"]]


def main():
    args = out_args(NAME)
    ver = subprocess.run([args.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    core = abort_core(NAME, args.python, args.out, "import os; x = [1, 2]; os.abort()",
                      flags=("-S",))  # Python 2 has no -I
    failed = 0
    for cmd in COMMANDS:
        p = subprocess.run([args.coreheap] + cmd + [core], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        err = p.stderr.strip()
        want = "Python %s is not supported" % ver
        ok = p.returncode == 4 and want in err and len(err.splitlines()) == 1 and "not a Python process" not in err
        print("%s  %s: exit %d, %r" % ("ok  " if ok else "FAIL", " ".join(cmd), p.returncode, err))
        failed += not ok
    print("%s: %d commands, %d failed" % (NAME, len(COMMANDS), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
