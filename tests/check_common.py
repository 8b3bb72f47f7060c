"""What the check_*.py scripts share: the standard arguments (the
interpreter that made the core, coreheap, the core, the truth JSON), the
SKIP rule for a missing interpreter (exit 77 with the reason), and running
a coreheap command for its JSON."""
import argparse
import json
import os
import subprocess
import sys


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


def sizes_of(name, args, types):
    """Address -> coreheap's full shallow size, for every object of these
    types (`coreheap find --type T --limit 0` for each)."""
    sizes = {}
    for t in sorted(types):
        doc = run_json(name, args, ["find", args.core, "--type", t, "--limit", "0"])
        for o in doc["objects"]:
            sizes[int(o["address"], 16)] = o["size"]
    return sizes
