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


def _parse(name, options, extra=None):
    """Parses --python --coreheap and the given required options (plus what
    extra(ap) adds); exits 77 when the interpreter is missing."""
    ap = argparse.ArgumentParser(prog=name)
    for o in ("--python", "--coreheap") + options:
        ap.add_argument(o, required=True)
    if extra:
        extra(ap)
    args = ap.parse_args()
    if not os.path.exists(args.python):
        print("%s: SKIP: interpreter %s not found" % (name, args.python))
        sys.exit(77)
    return args


def out_args(name):
    """--python --coreheap --out, for checks that make their own cores."""
    return _parse(name, ("--out",))


def standard_args(name, extra=None):
    """Parses --python --coreheap --core --truth (plus what extra(ap) adds);
    exits 77 when the interpreter is missing. Returns (args, truth)."""
    args = _parse(name, ("--core", "--truth"), extra)
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


def abort_core(name, python, out, code, flags=("-I", "-S")):
    """Runs `python FLAGS -c code` (which ends in os.abort()) in a fresh
    directory out under an unlimited core size; returns the core's path."""
    import resource
    import shutil
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.run([python] + list(flags) + ["-c", code], cwd=out, preexec_fn=unlimited,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != -6:
        raise SystemExit("%s: %s exited %d, expected SIGABRT: %s" % (name, python, p.returncode, p.stderr))
    cores = [f for f in os.listdir(out) if f.startswith("core")]
    if len(cores) != 1:
        raise SystemExit("%s: expected one core in %s (kernel.core_pattern is %r), found %s"
                         % (name, out, open("/proc/sys/kernel/core_pattern").read().strip(), cores))
    return os.path.join(out, cores[0])


def compare_unreachable(d, truth, check):
    """A cycles document's unreachable objects, by type and in total, equal
    the truth's gc.collect() garbage ("unreachable", "unreachable_total")."""
    got = {t["type"]: t["count"] for t in d["unreachable"]["types"]}
    want = truth["unreachable"]
    for name in sorted(set(got) | set(want)):
        check(got.get(name, 0) == want.get(name, 0),
              "unreachable %s: gc.collect() found %d, coreheap %d" % (name, want.get(name, 0), got.get(name, 0)))
    check(d["unreachable"]["objects"] == truth["unreachable_total"],
          "unreachable total: gc.collect() found %d, coreheap %d" % (truth["unreachable_total"],
                                                                      d["unreachable"]["objects"]))


def core_mapped_files(core):
    """Paths of the core's NT_FILE note (the files the process had mapped)."""
    import struct
    with open(core, "rb") as f:
        d = f.read()
    phoff = struct.unpack_from("<Q", d, 0x20)[0]
    phnum = struct.unpack_from("<H", d, 0x38)[0]
    paths = set()
    for i in range(phnum):
        ptype, _, off, _, _, fsz = struct.unpack_from("<IIQQQQ", d, phoff + i * 56)
        p = off
        while ptype == 4 and p + 12 <= off + fsz:
            nsz, dsz, ntype = struct.unpack_from("<III", d, p)
            p += 12 + ((nsz + 3) & ~3)
            desc = d[p:p + dsz]
            p += (dsz + 3) & ~3
            if ntype == 0x46494c45:  # NT_FILE: count, page size, count * (start, end, offset), names
                count = struct.unpack_from("<Q", desc, 0)[0]
                paths.update(x.decode() for x in desc[16 + count * 24:].split(b"\0") if x)
    return sorted(paths)


def sizes_of(name, args, types):
    """Address -> coreheap's full shallow size, for every object of these
    types (`coreheap find --type T --limit 0` for each)."""
    sizes = {}
    for t in sorted(types):
        doc = run_json(name, args, ["find", args.core, "--type", t, "--limit", "0"])
        for o in doc["objects"]:
            sizes[int(o["address"], 16)] = o["size"]
    return sizes
