"""What the check_*.py scripts share: the standard arguments (the
interpreter that made the core, coreheap, the core, the truth JSON), the
SKIP rule for a missing interpreter (exit 77 with the reason), and running
a coreheap command for its JSON."""
import argparse
import json
import os
import subprocess
import sys


def skip_skipped_fixture(name, truth):
    """A scenario that could not run here (a package missing: exit 77) left
    no truth but OUTDIR/skip.NAME with its reason (make_fixture_core.sh):
    exit 77 with that reason. A missing truth without it is left to fail."""
    d, base = os.path.split(truth)
    skip = os.path.join(d, "skip." + base[len("truth."):-len(".json")])
    if not os.path.exists(truth) and base.startswith("truth.") and os.path.exists(skip):
        with open(skip) as f:
            print("%s: SKIP: the scenario did not run: %s" % (name, f.read().strip()))
        sys.exit(77)


def standard_args(name, extra=None):
    """Parses --python --coreheap --core --truth (plus what extra(ap) adds);
    exits 77 when the interpreter is missing. Returns (args, truth)."""
    ap = argparse.ArgumentParser(prog=name)
    ap.add_argument("--python", required=True)
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    if extra:
        extra(ap)
    args = ap.parse_args()
    if not os.path.exists(args.python):
        print("%s: SKIP: interpreter %s not found" % (name, args.python))
        sys.exit(77)
    skip_skipped_fixture(name, args.truth)
    with open(args.truth) as f:
        truth = json.load(f)
    return args, truth


def run_json(name, args, cmd, expect_rc=0):
    """`coreheap CMD --json -q`: its document (None when it printed nothing);
    any other exit code than expect_rc ends the check with the reason."""
    p = subprocess.run([args.coreheap] + cmd + ["--json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != expect_rc:
        raise SystemExit("%s: %s exited %d (expected %d): %s"
                         % (name, " ".join(cmd), p.returncode, expect_rc, p.stderr.strip()))
    return json.loads(p.stdout) if p.stdout.strip() else None
