#!/usr/bin/env python3
"""Self-test of tests/check_realheap.py's verdicts (ctest realheap.checker):
a made-up truth and a stand-in coreheap that answers from it, altered one
way per case. The checker must pass an exact answer and an honest
"exact": false lower bound explained by allowed conservative types, and
fail everything else: a missing "exact", a wrong reference, a type kept
conservative that the scenario requires exact, garbage over-counted,
summary, top or anomalies disagreeing with cycles, a conservative object
whose real references coreheap does not even report, `path` finding a
root for garbage in an exact result. Exit 0 when every case got the
expected verdict (SELFTEST_VERBOSE=1 prints every case's output)."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

TRUTH = {
    "schema": 1, "scenario": "selftest", "pid": 1, "version": "3.11.2", "self_check_errors": [],
    "samples": [
        {"address": 0x1000, "type": "ext.Node", "referents": [0x2000, 0x2000, 0x3000]},
        {"address": 0x1100, "type": "list", "referents": [0x1000]},
        {"address": 0x1200, "type": "ext.Opaque", "referents": [0x4000]},
    ],
    "types": {"ext.Node": {"kind": "extension", "objects": 1, "sampled": 1},
              "list": {"kind": "builtin", "objects": 1, "sampled": 1},
              "ext.Opaque": {"kind": "extension", "objects": 1, "sampled": 1}},
    "unreachable": {"ext.Node": 2, "list": 3}, "unreachable_total": 5,
    "garbage_samples": {"ext.Node": [0x5000, 0x5100], "list": [0x6000]},
    "allow_conservative": {"ext.Opaque": "a container gc cannot see into"},
    "expect_unreachable_min": {}, "expect_unreachable_max": {},
}

# The stand-in coreheap: answers from the truth, changed by CASE.
FAKE = r'''
import json, os, sys
truth = json.load(open(os.environ["SELFTEST_TRUTH"]))
case = os.environ["SELFTEST_CASE"]
cmd = sys.argv[1]
unreach = dict(truth["unreachable"])
exact, cons = True, []
if case in ("lower_bound", "not_allowed", "overcount", "not_covered"):
    exact = False
    cons = [{"type": "ext.Node" if case == "not_allowed" else "ext.Opaque", "objects": 1, "reason": "emulation failed"}]
    unreach["list"] -= 1
if case == "overcount":
    unreach["ext.Node"] += 1
doc = {"partial": False, "warnings": [], "exact": exact, "conservative_types": cons,
       "unreachable": {"objects": sum(unreach.values()),
                       "types": [{"type": t, "count": n} for t, n in unreach.items()]}}
if case == "no_exact":
    del doc["exact"], doc["conservative_types"]
if cmd == "summary" and case == "summary_differs":
    doc["exact"] = False
if cmd in ("top", "anomalies") and case == "top_differs":
    del doc["exact"]
if cmd == "path":
    # garbage: no root reaches it (a root may when not exact: lower_bound)
    doc["reachable"] = case in ("lower_bound", "path_reaches_garbage")
    doc["paths"] = [{"chain": "sys.modules['app'] .cache"}] if doc["reachable"] else []
if cmd == "referents":
    objs = []
    for s in truth["samples"]:
        addr = int(sys.argv[3 + len(objs)], 16)
        assert addr == s["address"]
        refs = [{"address": hex(a), "kind": "field", "label": "", "traversed": True} for a in s["referents"]]
        if case == "wrong_ref" and s["type"] == "ext.Node":
            refs.pop()
        if s["type"] == "ext.Opaque" and case in ("lower_bound", "not_allowed", "overcount", "not_covered"):
            refs = [] if case == "not_covered" else \
                [{"address": hex(a), "kind": "conservative", "label": "+16", "traversed": False}
                 for a in s["referents"]]
        objs.append({"object": {"address": hex(addr), "type": s["type"], "size": 32}, "referents": refs})
    doc = {"objects": objs}
print(json.dumps(doc))
'''

CASES = {"exact": 0, "lower_bound": 0, "no_exact": 1, "wrong_ref": 1, "not_allowed": 1,
         "overcount": 1, "not_covered": 1, "summary_differs": 1, "top_differs": 1, "path_reaches_garbage": 1}


def main():
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        truth = os.path.join(d, "truth.selftest.json")
        with open(truth, "w") as f:
            json.dump(TRUTH, f)
        fake = os.path.join(d, "coreheap")
        with open(fake, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, FAKE))
        os.chmod(fake, 0o755)
        for case, want in sorted(CASES.items()):
            env = dict(os.environ, SELFTEST_TRUTH=truth, SELFTEST_CASE=case)
            p = subprocess.run([sys.executable, os.path.join(HERE, "check_realheap.py"), "--python", sys.executable,
                                "--coreheap", fake, "--core", os.path.join(d, "core"), "--truth", truth],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env)
            ok = p.returncode == want
            failed += not ok
            print("%s %-16s exit %d (want %d)" % ("ok  " if ok else "FAIL", case, p.returncode, want))
            if not ok or os.environ.get("SELFTEST_VERBOSE"):
                print("    " + p.stdout.replace("\n", "\n    "))
    print("check_realheap_selftest: %d of %d cases wrong" % (failed, len(CASES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
