#!/usr/bin/env python3
"""Compare labels in Python terms with the chains fixtures/scenario_labels.py
built and checked in the process.

For every recorded Target:
  * `path --json`: the one path's hop labels are exactly the recorded chain
    spelled as Python spells it: sys.modules['labels_app'], .__dict__,
    ['KEYED'], then [repr(key)] for a dict key of any type (int, huge int,
    None, True, float, bytes, str, tuples), .name for an attribute,
    .f_locals['name'] for a frame's local (and .cell_contents below a cell
    variable); the chain text glues each dict key to its dict; the last
    hop is the Target;
  * a dict-key Target: `referrers --json` labels its one referrer [repr(key)];
`referents --json` of KEYED labels every value [repr(key)]; `show` of KEYED
prints each of the first 10 keys as repr(key) followed by ": ".
--redact: the path to the value under the secret str key shows
[<str len N>] and not the key.

Usage: check_labels.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import run_json, standard_args  # noqa: E402

NAME = "check_labels"


def expected(hops):
    labels = ["sys.modules['labels_app']"]
    glue = [False]
    for i, (kind, what) in enumerate(hops):
        if kind == "attr" and i == 0:
            labels += [".__dict__", "[%r]" % what]  # a module attribute is an item of its __dict__
            glue += [False, True]
        elif kind == "attr":
            labels.append("." + what)
            glue.append(False)
        elif kind == "item":
            labels.append("[%s]" % what)
            glue.append(True)
        else:
            labels.append(".f_locals[%r]" % what)
            glue.append(False)
    chain = "".join(l if i == 0 or glue[i] else " " + l for i, l in enumerate(labels))
    return labels, chain


def main():
    args, truth = standard_args(NAME)
    errors = []
    for c in truth["chains"]:
        doc = run_json(NAME, args, ["path", args.core, hex(c["address"])])
        labels, chain = expected(c["hops"])
        if not doc["paths"]:
            errors.append("no path to 0x%x (%s)" % (c["address"], chain))
            continue
        p = doc["paths"][0]
        got = [h["label"] for h in p["hops"]]
        if got != labels:
            errors.append("path to 0x%x:\n    got  %s\n    want %s" % (c["address"], got, labels))
        if p["chain"] != chain:
            errors.append("chain %r, expected %r" % (p["chain"], chain))
        if int(p["hops"][-1]["address"], 16) != c["address"]:
            errors.append("path ends at %s, not 0x%x" % (p["hops"][-1]["address"], c["address"]))
        if c["key_repr"] is not None:
            r = run_json(NAME, args, ["referrers", args.core, hex(c["address"])])
            rl = [x["label"] for x in r["referrers"]]
            if rl != ["[%s]" % c["key_repr"]]:
                errors.append("referrers of the value of %s: %s" % (c["key_repr"], rl))
    reprs = [c["key_repr"] for c in truth["chains"] if c["key_repr"] is not None]
    doc = run_json(NAME, args, ["referents", args.core, hex(truth["keyed"])])
    got = sorted(r["label"] for r in doc["referents"] if r["kind"] == "dict_value")
    if got != sorted("[%s]" % k for k in reprs):
        errors.append("referents of KEYED: %s" % got)
    out = subprocess.run([args.coreheap, "show", args.core, hex(truth["keyed"]), "-q"], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    for k in reprs[:10]:
        if k + ": " not in out:
            errors.append("show of KEYED lacks the key %s" % k)
    secret = truth["secret_key"]
    plain = run_json(NAME, args, ["path", args.core, hex(truth["secret_value"])])
    red = run_json(NAME, args, ["path", args.core, hex(truth["secret_value"]), "--redact"])
    if "[%r]" % secret not in plain["paths"][0]["chain"]:
        errors.append("without --redact the secret key is not in the path: the redaction check could not fail")
    if secret in red["paths"][0]["chain"] or "[<str len %d>]" % len(secret) not in red["paths"][0]["chain"]:
        errors.append("--redact path: %r" % red["paths"][0]["chain"])
    for e in errors:
        print("%s: %s" % (NAME, e))
    print("%s: %d chains checked: %s" % (NAME, len(truth["chains"]), "FAIL" if errors else "ok"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
