#!/usr/bin/env python3
"""Compare `coreheap suspects` with the truth fixtures/scenario_suspects.py
recorded.

For the leaking heap, each of the five planted leaks must be among the
first five suspects (`suspects --json`), with:
  * cache:     kind accumulation, `next` naming the CACHE dict's address,
               path sys.modules['app'].CACHE, count == its length, type
               __main__.Request;
  * bus:       kind accumulation on the BUS list, path sys.modules['app'].BUS,
               count == its length, type __main__.Event (what the closures
               keep), the merged path [*].__closure__[0].cell_contents in
               the title;
  * errors:    kind traceback, path sys.modules['app'].ERRORS, count == the
               exceptions stored, type ValueError, the local 'blob' named;
  * cycle:     kind cycle, `next` naming one of the cycle's own members;
  * generator: kind retainer, path under sys.modules['app'].GEN, the local
               'buf' named;
and for every one bytes == the sum of coreheap's own full shallow sizes
(`find --type T`) of exactly the objects the process recorded as kept
alive by that leak alone. Suspects carry exactly the documented keys, and
those with a place in the heap come first, by bytes, descending.

For the clean heap (--clean: the same containers, 20 elements each; no
asyncio task and no memory suspect either),
there is no accumulation suspect at all.

`top --format folded`: every line "stack WEIGHT", the weights adding up to
the reachable bytes of `top --json`, and (leaking heap) the lines under the
CACHE dict's frame adding up to the cache's recorded objects.

Also checks `cycles --json`: every group's total_bytes == bytes +
held_bytes, groups sorted by total, and the groups' held objects plus
their members plus the acyclic count add up to the unreachable objects
plus those freed with them.

`find --type request` offers __main__.Request; `coreheap suspect` offers
`suspects`; `--limit` without its value says so. The frame_globals roots
are labelled as their module's __dict__ (sys.modules['__main__'].__dict__ ...).

Usage: check_suspects.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise, 77 when the interpreter is missing.
"""
import subprocess
import sys

from check_common import run_json, sizes_of, standard_args

KEYS = ["kind", "title", "bytes", "share", "count", "type", "path", "next"]


def run(args, cmd):
    return run_json("check_suspects", args, cmd)


def next_address(s):
    word = s["next"].split()[-1]
    return int(word, 16) if word.startswith("0x") else None


def expect(leak, s, name, errors):
    """The rules of one planted leak against suspect s; returns True when s is it."""
    addr = next_address(s)
    app = "sys.modules['app']"
    if name == "cache":
        return s["kind"] == "accumulation" and addr == leak["container"]
    if name == "bus":
        return s["kind"] == "accumulation" and addr == leak["container"]
    if name == "errors":
        return s["kind"] == "traceback" and s["path"] == app + ".ERRORS"
    if name == "cycle":
        return s["kind"] == "cycle" and addr in leak["members"]
    if name == "generator":
        return s["kind"] == "retainer" and (s["path"] or "").startswith(app + ".GEN")
    return False


def details(leak, s, name, errors):
    app = "sys.modules['app']"
    want = {
        "cache": {"path": app + ".CACHE", "count": leak["count"], "type": "__main__.Request"},
        "bus": {"path": app + ".BUS", "count": leak["count"], "type": "__main__.Event"},
        "errors": {"count": leak["count"], "type": "ValueError"},
        "cycle": {"path": None, "count": 1, "type": "__main__.Pair"},
        "generator": {"count": 1, "type": "bytes"},
    }[name]
    for k, v in want.items():
        if s[k] != v:
            errors.append("%s: %s is %r, expected %r (%s)" % (name, k, s[k], v, s["title"]))
    words = {"bus": "via [*].__closure__[0].cell_contents", "errors": "local 'blob'", "generator": "local 'buf'"}
    if name in words and words[name] not in s["title"]:
        errors.append("%s: title %r does not say %r" % (name, s["title"], words[name]))


def check_leaks(args, truth, errors):
    doc = run(args, ["suspects", args.core, "--limit", "0"])
    sus = doc["suspects"]
    for s in sus:
        if list(s.keys()) != KEYS:
            errors.append("suspect keys %s, expected %s" % (list(s.keys()), KEYS))
            break
    placed = [s["bytes"] for s in sus if s["kind"] != "gc"]
    if placed != sorted(placed, reverse=True) or any(s["kind"] != "gc" for s in sus[len(placed):]):
        errors.append("suspects out of order: %s" % [(s["kind"], s["bytes"]) for s in sus])
    types = {o["type"] for leak in truth["leaks"].values() for o in leak["objects"]}
    sizes = sizes_of("check_suspects", args, types)
    found = {}
    for name, leak in sorted(truth["leaks"].items()):
        match = [i for i, s in enumerate(sus) if expect(leak, s, name, errors)]
        if not match:
            errors.append("%s: no suspect (got %s)" % (name, [s["title"] for s in sus[:8]]))
            continue
        i = match[0]
        s = sus[i]
        if i >= 5:
            errors.append("%s: suspect #%d, not among the first five: %s" % (name, i + 1, s["title"]))
        details(leak, s, name, errors)
        missing = [o for o in leak["objects"] if o["address"] not in sizes]
        if missing:
            errors.append("%s: %d recorded objects not found by coreheap find (first %s)"
                          % (name, len(missing), missing[0]))
            continue
        total = sum(sizes[o["address"]] for o in leak["objects"])
        if s["bytes"] != total:
            errors.append("%s: %d bytes, the %d objects only it keeps add up to %d"
                          % (name, s["bytes"], len(leak["objects"]), total))
        found[name] = (i + 1, s["bytes"])
    found["folded"] = check_folded(args, errors, found.get("cache", (0, None))[1])
    return found


def check_clean(args, truth, errors):
    doc = run(args, ["suspects", args.core, "--limit", "0"])
    acc = [s["title"] for s in doc["suspects"] if s["kind"] == "accumulation"]
    if acc:
        errors.append("clean heap has accumulation suspects: %s" % acc)
    # nor an asyncio task leak nor unexplained memory (kinds tasks, memory)
    other = [s["title"] for s in doc["suspects"] if s["kind"] in ("tasks", "memory")]
    if other:
        errors.append("clean heap has tasks/memory suspects: %s" % other)
    return {"suspects": len(doc["suspects"]), "folded": check_folded(args, errors)}


def check_folded(args, errors, cache_total=None):
    """`top --format folded`: well-formed lines whose weights add up to the
    reachable bytes of `top --json`; with cache_total, the lines under the
    CACHE dict's frame add up to what the process recorded for it."""
    p = subprocess.run([args.coreheap, "top", args.core, "--format", "folded", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        errors.append("top --format folded exited %d: %s" % (p.returncode, p.stderr.strip()))
        return None
    total, cache = 0, 0
    prefix = "sys.modules['app'] (module);.__dict__ (dict);['CACHE'] (dict)"
    for line in p.stdout.splitlines():
        stack, _, weight = line.rpartition(" ")
        if not stack or not weight.isdigit() or int(weight) <= 0:
            errors.append("folded: malformed line %r" % line[:200])
            return None
        total += int(weight)
        if stack == prefix or stack.startswith(prefix + ";"):
            cache += int(weight)
    reach = run(args, ["top", args.core, "--limit", "1"])["totals"]["reachable"]["bytes"]
    if total != reach:
        errors.append("folded: weights add up to %d, reachable bytes %d" % (total, reach))
    if cache_total is not None and cache != cache_total:
        errors.append("folded: the CACHE frames weigh %d, the cache's objects %d" % (cache, cache_total))
    return total


def check_did_you_mean(args, errors):
    """`find --type request` (no such type) offers __main__.Request; an
    unknown command close to one names it."""
    doc = run(args, ["find", args.core, "--type", "request"])
    if doc["total"] != 0 or doc["did_you_mean"] != ["__main__.Request"]:
        errors.append("find --type request: total %d, did_you_mean %s" % (doc["total"], doc["did_you_mean"]))
    p = subprocess.run([args.coreheap, "suspect", args.core], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 2 or "did you mean 'suspects'" not in p.stderr:
        errors.append("coreheap suspect: exit %d, %r" % (p.returncode, p.stderr.strip()))
    p = subprocess.run([args.coreheap, "suspects", args.core, "--limit"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 2 or "option '--limit' needs a value" not in p.stderr:
        errors.append("suspects --limit (no value): exit %d, %r" % (p.returncode, p.stderr.strip()))


def check_main_globals(args, errors):
    """Every frame here runs in a module's namespace (__main__ or
    scenario_dump): each frame_globals root is labelled as that module's
    __dict__, and one is __main__'s."""
    doc = run(args, ["roots", args.core, "--limit", "0"])
    labels = [r["label"] for r in doc["roots"] if r["kind"] == "frame_globals"]
    if (not any(l.startswith("sys.modules['__main__'].__dict__ (globals of thread ") for l in labels) or
            any(not (l.startswith("sys.modules['") and "'].__dict__ (globals of thread " in l) for l in labels)):
        errors.append("frame_globals roots: %s" % labels)


def check_cycles(args, errors):
    doc = run(args, ["cycles", args.core, "--limit", "0"])
    totals = [g["total_bytes"] for g in doc["groups"]]
    if totals != sorted(totals, reverse=True):
        errors.append("cycles: groups not sorted by total_bytes")
    for g in doc["groups"]:
        if g["total_bytes"] != g["bytes"] + g["held_bytes"]:
            errors.append("cycles: group total %d != %d + %d" % (g["total_bytes"], g["bytes"], g["held_bytes"]))
    held = sum(g["held_objects"] + g["objects"] for g in doc["groups"])
    garbage = doc["unreachable"]["objects"] + doc["freed_with"]["objects"]
    if held != garbage:
        errors.append("cycles: members + held objects %d, garbage (unreachable + freed with) %d" % (held, garbage))


def main():
    args, truth = standard_args("check_suspects")
    errors = list(truth.get("self_check_errors", []))
    if truth["clean"]:
        found = check_clean(args, truth, errors)
    else:
        found = check_leaks(args, truth, errors)
    check_cycles(args, errors)
    check_did_you_mean(args, errors)
    check_main_globals(args, errors)
    for e in errors:
        print("check_suspects: MISMATCH: %s" % e)
    if errors:
        return 1
    print("check_suspects: OK: %s (CPython %s)" % (found, truth["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
