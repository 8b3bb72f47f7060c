#!/usr/bin/env python3
"""Compare `coreheap show` (and --redact) with the truth that
fixtures/scenario_show.py recorded.

For every recorded value V (`coreheap show CORE ADDR --json`):
  * address, type and, for str/bytes/containers/instances, the length agree;
  * repr equals Python's repr() exactly for everything coreheap renders in
    full: str/bytes up to 1024 characters, ints up to 4300 digits, floats,
    bool, None, Ellipsis, NotImplemented, tuple/list/dict/set/frozenset of
    at most 10 items within --depth (list_nested is checked at --depth 5 for
    equality and at the default depth for the elided third level), a list
    that contains itself, functions, code, modules, classes, classmethod,
    staticmethod, property, weakrefs, object();
  * structurally where coreheap's text differs from repr() by design:
      - long str/bytes: text/hex is a prefix of the value, length is len(),
        truncated is set;
      - huge ints: digits, leading and trailing 20 digits, or beyond the
        exact bound bits and trailing 19 digits;
      - containers over 10 items: the first 10 items, length, truncated;
      - instances: the attribute names are exactly vars() plus set
        __slots__ (the 40-attribute one: 32 shown, length 40, truncated),
        and each value matches its recorded summary (str text, int
        decimal, float repr, bool/None, else type and address);
      - cell contents, bound method function and self, function file and
        line: addresses and facts from the truth.
--redact: `show` of the secret str, bytes and dict, `referrers` of the
secret value and `stacks --locals` contain none of the secret texts (and do
without --redact, so the test can fail); a non-object address gives exit 3
and one line on stderr.

Usage: check_show.py --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed).
"""
import argparse
import json
import subprocess
import sys


def run(args, cmd, expect_rc=0, as_json=True):
    full = [args.coreheap] + cmd + (["--json"] if as_json else []) + ["-q"]
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != expect_rc:
        raise SystemExit("check_show: %s exited %d (expected %d): %s"
                         % (" ".join(cmd), p.returncode, expect_rc, p.stderr.strip()))
    return (json.loads(p.stdout) if as_json else p.stdout), p.stderr


FULL = {"str_plain", "str_single", "str_double", "str_both", "str_escapes", "str_unicode", "str_nonprint",
        "str_surrogate", "str_empty", "bytes_plain", "bytes_quote", "bytes_escapes", "bytes_empty",
        "int_zero", "int_small", "int_neg", "int_2_30", "int_2_62", "int_neg_2_100", "int_10_50", "int_3_5000",
        "float_tenth", "float_big", "float_negzero", "float_inf", "float_ninf", "float_nan", "float_third",
        "float_1e16", "float_small", "float_whole", "float_neg", "tuple_empty", "tuple_one", "tuple_mixed",
        "list_empty", "list_recursive", "dict_small", "dict_empty", "set_small", "set_empty",
        "frozenset_one", "frozenset_empty", "bool_true", "bool_false", "none", "ellipsis", "notimplemented",
        "function", "function_nested", "lambda", "code", "module_json", "module_sys", "class_plain", "class_int",
        "classmethod", "staticmethod", "property", "weakref_live", "weakref_dead", "object",
        "secret_str", "secret_bytes", "secret_dict",
        "exc_value", "exc_chained", "exc_noargs", "traceback", "frame", "gen_created", "gen_suspended",
        "coro_awaiting", "bytearray", "partial", "context", "future_done", "future_exc", "memoryview",
        "memoryview_released", "pattern_flags", "pattern_bytes", "pattern_ascii", "pattern_long", "io_text",
        "io_buffered", "io_fileio", "io_fileio_closed", "io_writer", "io_random", "weakproxy", "weakproxy_callable",
        "weakproxy_dead"}


truth_version = "3.13"


def matches(v, s):
    """Does the JSON value v agree with the recorded summary s?"""
    if s["type"] == "str":
        return v["kind"] == "str" and v.get("text") == s["str"] and v["length"] == len(s["str"])
    if s["type"] == "int" and "decimal" in s:
        return v["kind"] == "int" and v.get("decimal") == s["decimal"]
    if s["type"] == "float":
        return v["kind"] == "float" and v["repr"] == s["repr"]
    if s["type"] == "bool":
        return v["kind"] == "bool" and v["value"] == (s["repr"] == "True")
    if s["type"] == "NoneType":
        return v["kind"] == "none"
    return v.get("type") == s["type"] and int(v.get("address", "0x0"), 16) == s["address"]


DOCS = {}  # address -> `show --json` document, from one call with every address


def check_value(args, name, t, extra, errors):
    doc = DOCS[t["address"]]
    where = "%s (%s at 0x%x)" % (name, t["type"], t["address"])
    v = doc["value"]
    if int(doc["address"], 16) != t["address"] or doc["type"] != t["type"]:
        errors.append("%s: object %s %s" % (where, doc["address"], doc["type"]))
    if v.get("type", t["type"]) != t["type"]:
        errors.append("%s: value type %s" % (where, v.get("type")))
    for key in ("refcount", "size", "referents"):
        if not isinstance(doc.get(key), int):
            errors.append("%s: %s missing" % (where, key))
    # classmethod/staticmethod render as 3.10+ repr() does, with the callable
    # (3.8/3.9 wrote <classmethod object at 0x...>): compared structurally there.
    old_cm = name in ("classmethod", "staticmethod") and tuple(map(int, truth_version.split(".")[:2])) < (3, 10)
    if name in FULL and not old_cm:
        if doc["repr"] != t["repr"]:
            errors.append("%s: repr %r, Python %r" % (where, doc["repr"][:300], (t["repr"] or "")[:300]))
    if t["len"] is not None and "length" in v and not name.startswith("inst_") and v["length"] != t["len"]:
        errors.append("%s: length %s, len() %d" % (where, v["length"], t["len"]))
    if name in ("str_long", "bytes_long"):
        full = t["summary"].get("str") if name == "str_long" else None
        if name == "str_long":
            ok = v.get("truncated") and full.startswith(v["text"]) and len(v["text"]) == 1024
        else:
            ok = v.get("truncated") and len(v["hex"]) == 2048 and set(bytes.fromhex(v["hex"])) == {ord("y")}
        if not ok:
            errors.append("%s: truncated rendering wrong: %s" % (where, json.dumps(v)[:200]))
        if not doc["repr"].endswith("... (%d %s)" % (t["len"], "characters" if name == "str_long" else "bytes")):
            errors.append("%s: repr lacks the length marker: ...%s" % (where, doc["repr"][-40:]))
    if name in ("int_7_40000", "int_3_5000", "int_2_400000"):
        e = extra[name]
        if "decimal" in e and e["digits"] <= 4300:
            if v.get("decimal") != e["decimal"]:
                errors.append("%s: decimal differs" % where)
        elif "digits" in e:
            if (v.get("digits"), v.get("leading"), v.get("trailing"), v.get("negative")) != \
                    (e["digits"], e["leading"], e["trailing"], e["negative"]):
                errors.append("%s: %s, want digits %d %s...%s" % (where, json.dumps(v), e["digits"], e["leading"],
                                                                   e["trailing"]))
        elif (v.get("bits"), v.get("trailing"), v.get("negative")) != (e["bits"], e["trailing19"].zfill(19),
                                                                       e["negative"]):
            errors.append("%s: %s, want bits %d trailing %s" % (where, json.dumps(v), e["bits"], e["trailing19"]))
    if name == "list_long":
        got = [i.get("decimal") for i in v["items"]]
        if got != [s["decimal"] for s in t["items"]] or not v.get("truncated") or "... 15 more" not in doc["repr"]:
            errors.append("%s: %s" % (where, doc["repr"]))
    if "items" in t and "items" in v and name not in ("list_recursive",):
        for i, (a, b) in enumerate(zip(v["items"], t["items"])):
            pairs = zip(a, b) if t["type"] == "dict" else [(a, b)]
            for x, y in pairs:
                if not matches(x, y):
                    errors.append("%s: item %d %s, recorded %s" % (where, i, json.dumps(x)[:150], y))
    if name.startswith("inst_"):
        want = t["attributes"]
        got = v.get("attributes", {})
        if name == "inst_many":
            if len(got) != 32 or v["length"] != 40 or not v.get("truncated") or not set(got) <= set(want):
                errors.append("%s: %d attributes shown of %s" % (where, len(got), v.get("length")))
        elif set(got) != set(want) or v["length"] != len(want):
            errors.append("%s: attributes %s, recorded %s" % (where, sorted(got), sorted(want)))
        for a in set(got) & set(want):
            if not matches(got[a], want[a]):
                errors.append("%s: attribute %s = %s, recorded %s" % (where, a, json.dumps(got[a])[:150], want[a]))
    if name == "list_nested":
        if v["items"][1]["items"][1].get("elided") is not True or v["items"][1]["items"][1]["length"] != 2:
            errors.append("%s: third level not elided at the default depth: %s" % (where, doc["repr"]))
        deep, _ = run(args, ["show", args.core, hex(t["address"]), "--depth", "5"])
        if deep["repr"] != t["repr"]:
            errors.append("%s: --depth 5 repr %s" % (where, deep["repr"]))
    if name == "function":
        e = extra["function"]
        if (v["qualname"], v["file"], v["line"]) != (e["qualname"], e["file"], e["line"]):
            errors.append("%s: %s, want %s" % (where, json.dumps(v), e))
    if name == "method":
        e = extra["method"]
        if int(v["function"]["address"], 16) != e["function"] or int(v["self"]["address"], 16) != e["self"]:
            errors.append("%s: %s" % (where, json.dumps(v)[:300]))
    if name == "cell" and int(v["contents"]["address"], 16) != extra["cell"]["contents"]:
        errors.append("%s: contents %s" % (where, v["contents"]))
    if name in ("classmethod", "staticmethod") and int(v["callable"]["address"], 16) != extra[name]["callable"]:
        errors.append("%s: callable %s" % (where, v["callable"]))
    if name == "property" and int(v["fget"]["address"], 16) != extra["property"]["fget"]:
        errors.append("%s: fget %s" % (where, v["fget"]))
    if name == "weakref_live" and int(v["target"], 16) != extra["weakref_live"]["target"]:
        errors.append("%s: target %s" % (where, v["target"]))
    if name == "weakref_dead" and v["target"] is not None:
        errors.append("%s: a dead weakref has target %s" % (where, v["target"]))
    if name == "class_plain" and [b["name"] for b in v["bases"]] != extra["class_plain"]["bases"]:
        errors.append("%s: bases %s" % (where, v["bases"]))


def addr(v):
    return int(v["address"], 16) if v else None


def check_runtime(truth, errors):
    """Exceptions, traceback, frame, generators, coroutine, futures, task,
    Context: the facts the process recorded (runtime_facts)."""
    vals, facts = truth["values"], truth["extra"]["runtime"]
    for k in ("exc_value", "exc_chained", "exc_noargs"):
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        if len(v["args"]) != len(f["args"]) or not all(matches(a, b) for a, b in zip(v["args"], f["args"])):
            errors.append("%s: args %s, recorded %s" % (k, v["args"], f["args"]))
        if (v["traceback_depth"], addr(v["cause"]), addr(v["context"])) != (f["traceback_depth"], f["cause"], f["context"]):
            errors.append("%s: traceback depth %s cause %s context %s, recorded %s" % (
                k, v["traceback_depth"], v["cause"], v["context"], f))
    v = DOCS[vals["traceback"]["address"]]["value"]
    if {"depth": v["depth"], "entries": v["entries"]} != facts["traceback"]:
        errors.append("traceback: %s, recorded %s" % (v, facts["traceback"]))
    v, f = DOCS[vals["frame"]["address"]]["value"], facts["frame"]
    got = {"name": v["name"], "file": v["file"], "line": v["line"],
           "locals": {n: addr(x) for n, x in v["locals"].items()}}
    if got != f:
        errors.append("frame: %s, recorded %s" % (got, f))
    for k in ("gen_created", "gen_suspended", "coro_awaiting"):
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        got = {"qualname": v["qualname"], "state": v["state"], "line": v["line"], "awaiting": addr(v["awaiting"])}
        if got != f:
            errors.append("%s: %s, recorded %s" % (k, got, f))
    for k in ("future_done", "future_exc", "task_pending"):
        if k not in facts:  # 3.6/3.7: not built (scenario_show.py)
            continue
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        got = {"state": v["state"], "callbacks": v["callbacks"], "result": addr(v["result"]),
               "exception": addr(v["exception"]), "name": v["name"], "coro": addr(v["coro"])}
        if got != f:
            errors.append("%s: %s, recorded %s" % (k, got, f))
    v = DOCS[vals["memoryview"]["address"]]["value"]
    got = {k: v.get(k) for k in facts["memoryview"]}
    if got != facts["memoryview"]:
        errors.append("memoryview: %s, recorded %s" % (got, facts["memoryview"]))
    if DOCS[vals["memoryview_released"]["address"]]["value"].get("released") is not True:
        errors.append("memoryview_released: not shown released")
    if "context" in facts and DOCS[vals["context"]["address"]]["value"]["length"] != facts["context"]["length"]:
        errors.append("context: length %s, recorded %s" % (DOCS[vals["context"]["address"]]["value"], facts["context"]))


def check_library(args, truth, errors):
    """lru_cache wrappers (cache_info(), the wrapped function), re.Pattern
    (flags, the pattern object), io objects (name, mode, closed), weak
    proxies (referent) and numpy arrays (shape, dtype, nbytes, OWNDATA,
    base, numpy.__version__); each also through `stacks --locals`' renderer
    (the same one-line text as show's repr)."""
    vals, facts = truth["values"], truth["extra"]["library"]
    for k in ("lru_cache", "lru_cache_unbounded"):
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        got = {"qualname": v.get("qualname"), "currsize": v.get("currsize"), "maxsize": v.get("maxsize"),
               "hits": v.get("hits"), "misses": v.get("misses"), "function": addr(v.get("function"))}
        if got != f:
            errors.append("%s: %s, recorded %s" % (k, got, f))
    for k in ("pattern_flags", "pattern_bytes", "pattern_ascii", "pattern_long"):
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        if (v.get("flags"), addr(v.get("pattern"))) != (f["flags"], f["pattern"]):
            errors.append("%s: flags %s pattern %s, recorded %s" % (k, v.get("flags"), v.get("pattern"), f))
    for k in ("io_text", "io_buffered", "io_fileio", "io_fileio_closed", "io_writer", "io_random"):
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        name_ok = (v.get("name") is None) if f["name"] is None else (v.get("name") is not None and
                                                                    matches(v["name"], f["name"]))
        if v.get("closed") != f["closed"] or (f["mode"] is not None and v.get("mode") != f["mode"]) or not name_ok:
            errors.append("%s: closed %s mode %s name %s, recorded %s" % (k, v.get("closed"), v.get("mode"),
                                                                        v.get("name"), f))
    for k in ("weakproxy", "weakproxy_callable"):
        v = DOCS[vals[k]["address"]]["value"]
        if v.get("proxy") is not True or int(v.get("target") or "0", 16) != facts[k]["target"]:
            errors.append("%s: %s, recorded target 0x%x" % (k, v, facts[k]["target"]))
    v = DOCS[vals["weakproxy_dead"]["address"]]["value"]
    if v.get("proxy") is not True or v.get("target") is not None:
        errors.append("weakproxy_dead: %s" % v)
    arrays = sorted(k for k in facts if k.startswith("ndarray_"))
    if args.expect_numpy and not arrays:
        errors.append("numpy did not import in the scenario (--expect-numpy): the ndarray checks could not run")
    for k in arrays:
        v, f = DOCS[vals[k]["address"]]["value"], facts[k]
        got = {"shape": v.get("shape"), "dtype": v.get("dtype"), "nbytes": v.get("nbytes"), "ndim": v.get("ndim"),
               "owndata": v.get("owndata"), "base": int(v["base"], 16) if v.get("base") else None}
        if got != f or v.get("numpy_version") != facts["numpy_version"]:
            errors.append("%s: %s numpy %s, recorded %s numpy %s" % (k, got, v.get("numpy_version"), f,
                                                                     facts["numpy_version"]))
    # --redact: a file's name (a path) is withheld, its mode and encoding are not
    doc, _ = run(args, ["show", args.core, hex(vals["io_text"]["address"]), "--redact"])
    path = facts["io_text"]["name"].get("str", "")
    if not path or path in doc["repr"] or "name=<str len %d>" % len(path) not in doc["repr"] or \
            "mode='%s'" % facts["io_text"]["mode"] not in doc["repr"]:
        errors.append("io_text --redact: %r" % doc["repr"])
    # stacks --locals renders these kinds with show's one-line text: every
    # local of main() that is one of them prints exactly show's repr.
    out, _ = run(args, ["stacks", args.core, "--locals"])
    shown = {}
    for th in out["threads"]:
        for fr in th["frames"]:
            for name, text in (fr.get("locals") or {}).items():
                shown.setdefault(name, text)
    for local, k in (("lib_pattern", "pattern_flags"), ("lib_file", "io_text"), ("lib_cache", "lru_cache")) + \
            ((("lib_array", "ndarray_view"),) if arrays else ()):
        want = DOCS[vals[k]["address"]]["repr"]
        if shown.get(local) != want:
            errors.append("stacks --locals %s: %r, show %r" % (local, shown.get(local), want))
    print("check_show: library renderings checked (%d arrays%s)" % (
        len(arrays), ", numpy " + facts["numpy_version"] if arrays else ""))


def check_redact(args, truth, errors):
    secrets = truth["secrets"]
    vals = truth["values"]
    outputs = {}
    # The three secrets in one `show` (one analysis; main() checks that an
    # object's entry there equals its one-address document), text and JSON.
    secret_addrs = [hex(vals[name]["address"]) for name in ("secret_str", "secret_bytes", "secret_dict")]
    redacted_doc = None
    for redact in (False, True):
        flag = ["--redact"] if redact else []
        texts = []
        out, _ = run(args, ["show", args.core] + secret_addrs + flag, as_json=False)
        texts.append(out)
        out, _ = run(args, ["show", args.core] + secret_addrs + ["--json"] + flag, as_json=False)
        texts.append(out)
        if redact:
            redacted_doc = json.loads(out)
        out, _ = run(args, ["referrers", args.core, hex(truth["secret_value"]), "--limit", "0"] + flag, as_json=False)
        texts.append(out)
        out, _ = run(args, ["referents", args.core, hex(vals["secret_dict"]["address"])] + flag, as_json=False)
        texts.append(out)
        out, _ = run(args, ["stacks", args.core, "--locals"] + flag, as_json=False)
        texts.append(out)
        outputs[redact] = "\n".join(texts)
    for s in secrets:
        if s not in outputs[False]:
            errors.append("without --redact the secret %r appears nowhere: the redaction test could not fail" % s)
        if s in outputs[True]:
            errors.append("--redact output contains the secret %r" % s)
    for marker in ("<str len %d>" % len(secrets[1]), "<bytes len %d>" % len(secrets[2]),
                   "[<str len %d>]" % len(secrets[0])):
        if marker not in outputs[True]:
            errors.append("--redact output lacks %s" % marker)
    docs = [d for d in redacted_doc.get("objects", []) if int(d["address"], 16) == vals["secret_str"]["address"]]
    if len(docs) != 1:
        errors.append("show --redact of the three secrets: %d entries for secret_str" % len(docs))
    elif docs[0]["value"] != {"kind": "str", "address": docs[0]["address"], "type": "str", "redacted": True,
                              "length": len(secrets[1])}:
        errors.append("redacted str value: %s" % docs[0]["value"])


def check_not_object(args, errors):
    p = subprocess.run([args.coreheap, "show", args.core, "0x1000", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    lines = p.stderr.strip().splitlines()
    if p.returncode != 3 or len(lines) != 1 or "is not the address of a Python object" not in lines[0] or p.stdout:
        errors.append("show 0x1000: exit %d, stderr %r, stdout %r" % (p.returncode, p.stderr, p.stdout[:100]))
    # Among several addresses: an entry with its error, the others shown, exit 3.
    good = hex(next(iter(DOCS)))
    p = subprocess.run([args.coreheap, "show", args.core, good, "0x1000", "--json", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    try:
        objs = json.loads(p.stdout)["objects"]
    except (ValueError, KeyError):
        objs = None
    if (p.returncode != 3 or not objs or len(objs) != 2 or objs[0].get("address") != good or
            "is not the address of a Python object" not in objs[1].get("error", "")):
        errors.append("show %s 0x1000: exit %d, stdout %r" % (good, p.returncode, p.stdout[:200]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--expect-numpy", action="store_true",
                    help="fail unless numpy imported in the scenario (Debian's python3-numpy)")
    args = ap.parse_args()
    with open(args.truth) as f:
        truth = json.load(f)
    errors = []
    global truth_version
    truth_version = truth["version"]
    # One `show` with every address (one analysis), then the one-address
    # form of the first, which must be the same document plus "runtime".
    values = sorted(truth["values"].items())
    multi, _ = run(args, ["show", args.core] + [hex(t["address"]) for _, t in values])
    if len(multi["objects"]) != len(values):
        errors.append("show with %d addresses gave %d objects" % (len(values), len(multi["objects"])))
    DOCS.update({int(d["address"], 16): d for d in multi["objects"]})
    single, _ = run(args, ["show", args.core, hex(values[0][1]["address"])])
    # (document-level keys: the exactness verdict belongs to the heap, not the object)
    for key in ("runtime", "partial", "warnings", "exact", "conservative_types"):
        single.pop(key, None)
    if single != DOCS.get(values[0][1]["address"]):
        errors.append("show %s alone differs from its entry in the several-address form" % values[0][0])
    for name, t in values:
        check_value(args, name, t, truth["extra"], errors)
    if "runtime" in truth["extra"]:
        check_runtime(truth, errors)
    if "library" in truth["extra"]:
        check_library(args, truth, errors)
    elif args.expect_numpy:
        errors.append("the truth has no library facts (--expect-numpy)")
    check_redact(args, truth, errors)
    check_not_object(args, errors)
    for e in errors:
        print("check_show: " + e)
    print("check_show: %d values of CPython %s: %s" % (len(truth["values"]), truth["version"],
                                                       "%d mismatches" % len(errors) if errors else "all match"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
