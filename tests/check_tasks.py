#!/usr/bin/env python3
"""Compare `coreheap tasks` with what fixtures/scenario_tasks.py recorded.

`tasks --json` (exit 0, nothing unreadable):
  * the listed tasks are exactly the Task objects gc.get_objects() found
    (address), each with the recorded class ("module.qualname"; builtins and
    _asyncio as coreheap's type table names them), name, state, the
    exception (type name, str(), retrieved) or none, and fut_waiter;
  * a pending task's coroutine chain equals the recorded cr_await chain
    (qualname, file, line; innermost first) and its last entry equals the
    one frame Task.get_stack() returned;
  * awaited_by equals what the recorded fut_waiters imply (a task waiting
    on a task; through the gather() future, on each of its children);
  * the pending tasks some registry lists are exactly asyncio.all_tasks();
  * the findings: done_task_referenced names exactly the done tasks the
    process held references to (the planted KEPT list, plus any
    gc.get_referrers() found held otherwise), each with a path, the KEPT
    ones through KEPT; exception_never_retrieved exactly the tasks whose
    exception was never retrieved; pending_forever exactly the orphan;
    await_cycle exactly the two tasks awaiting each other; on a clean loop
    (scenario --clean) no finding at all;
  * the tasks that hold the 1 MB payload in their traceback retain at least
    that many bytes.
`suspects --json` and `summary --json` (its head of five): a "tasks"
suspect for the done tasks still held, counting exactly the held done
tasks, retaining the sum of their retained_bytes, its path through KEPT
and naming the tasks whose exception was never retrieved; in `suspects`
also one naming the orphan and one naming both tasks of the await cycle. A clean loop: no "tasks" suspect.
3.14+: `asyncio_debug_offsets` says all five offsets coreheap uses were
checked against _asyncio's exported _Py_AsyncioModuleDebugOffsets and
agree; each pending C task names the loop's thread; a copy of the core
with one exported offset changed gives a warning and one mismatch.
`tasks --all --json`: the futures too, each with its recorded state.
`tasks --tree`: exit 0, every pending task named, the cycle's second
visit marked.

Usage: check_tasks.py --python PY --coreheap BIN --core CORE --truth TRUTH
Exit 0 when everything matches, 1 otherwise (each mismatch printed); 77
when the interpreter is missing.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import run_json, standard_args  # noqa: E402

NAME = "check_tasks"


def class_name(cls):
    mod, qual = cls.rsplit(".", 1) if "." in cls else ("builtins", cls)
    return qual if mod == "builtins" else cls


def check_suspects(args, truth, doc, got, errors):
    names = {t["address"]: t["name"] for t in truth["tasks"]}
    for cmd in ("suspects", "summary"):
        sus = [x for x in run_json(NAME, args, [cmd, args.core, "--limit", "0"] if cmd == "suspects"
                                   else [cmd, args.core])["suspects"] if x["kind"] == "tasks"]
        if truth.get("clean"):
            if sus:
                errors.append("%s: a clean loop has tasks suspects: %s" % (cmd, [x["title"] for x in sus]))
            continue
        held = [x for x in sus if "done asyncio task" in x["title"]]
        if len(held) != 1:
            errors.append("%s: %d suspects for the held done tasks, expected 1: %s" % (cmd, len(held), sus))
        else:
            x = held[0]
            want_bytes = sum(got[a]["retained_bytes"] or 0 for a in truth["held_done"])
            if x["count"] != len(truth["held_done"]) or x["bytes"] != want_bytes:
                errors.append("%s: held done tasks suspect counts %d tasks, %d bytes; tasks --json: %d, %d"
                              % (cmd, x["count"], x["bytes"], len(truth["held_done"]), want_bytes))
            if "KEPT" not in (x["path"] or ""):
                errors.append("%s: held done tasks suspect path %r does not go through KEPT" % (cmd, x["path"]))
            for a in truth["unretrieved"]:
                if a in truth["held_done"] and "'%s'" % names[a] not in x["title"]:
                    errors.append("%s: the held task %r whose exception was never retrieved is not named: %r"
                                  % (cmd, names[a], x["title"]))
            if not x["next"].startswith("coreheap tasks "):
                errors.append("%s: next %r" % (cmd, x["next"]))
        if cmd == "summary":
            continue  # its head lists the five biggest: the held tasks' 3 MB is among them, the others weigh 0
        for a in truth["orphans"]:
            if not any("can never complete" in x["title"] and "'%s'" % names[a] in x["title"] for x in sus):
                errors.append("%s: no tasks suspect names the orphan %r: %s" % (cmd, names[a], [x["title"] for x in sus]))
        if truth["cycle"] and not any(all("'%s'" % names[a] in x["title"] for a in truth["cycle"]) for x in sus):
            errors.append("%s: no tasks suspect names the await cycle %s" % (cmd, [names[a] for a in truth["cycle"]]))


def debug_section_at(core):
    """File offsets in the core of the dumped _Py_AsyncioModuleDebugOffsets:
    13 words (TaskObj size, 6 offsets below it; PyInterpreterState size, an
    offset below it; thread state size, 3 offsets below it) in a writable
    PT_LOAD segment."""
    with open(core, "rb") as f:
        data = f.read()
    phoff, phentsize, phnum = struct.unpack_from("<QHH", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    found = []
    for i in range(phnum):
        ptype, flags, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype != 1 or not flags & 2:
            continue
        for pos in range(off, off + filesz - 104, 8):
            w = struct.unpack_from("<13Q", data, pos)
            if (64 <= w[0] <= 4096 and all(0 < x < w[0] for x in w[1:7]) and len(set(w[1:7])) == 6
                    and 4096 <= w[7] <= 1 << 24 and 0 < w[8] < w[7] and 64 <= w[9] <= 1 << 20
                    and all(0 < x < w[9] for x in w[10:13]) and len(set(w[10:13])) == 3):
                found.append(pos)
    return data, found


def debug_offsets_mismatch(args, errors):
    """A copy of the core whose exported task_node offset (word 6) is off by
    8: `tasks` must warn and count one mismatch."""
    data, found = debug_section_at(args.core)
    if len(found) != 1:
        errors.append("found %d candidate .AsyncioDebug copies in the core, expected 1" % len(found))
        return
    bad = bytearray(data)
    struct.pack_into("<Q", bad, found[0] + 48, struct.unpack_from("<Q", data, found[0] + 48)[0] + 8)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "core.patched")
        with open(copy, "wb") as f:
            f.write(bad)
        p = subprocess.run([args.coreheap, "tasks", copy, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    doc = json.loads(p.stdout) if p.stdout.strip() else {}
    if doc.get("asyncio_debug_offsets") != {"checked": 5, "mismatches": 1} or \
            "asyncio_task_object.task_node" not in p.stderr + json.dumps(doc.get("warnings")):
        errors.append("patched .AsyncioDebug: exit %d, asyncio_debug_offsets %r, stderr %r" % (
            p.returncode, doc.get("asyncio_debug_offsets"), p.stderr.strip()[:300]))


def main():
    args, truth = standard_args(NAME)
    errors = []
    doc = run_json(NAME, args, ["tasks", args.core])
    got = {int(t["address"], 16): t for t in doc["tasks"]}
    want = {t["address"]: t for t in truth["tasks"] if t["is_task"]}
    if doc["counts"]["unreadable"]:
        errors.append("unreadable tasks: %d" % doc["counts"]["unreadable"])
    for a in sorted(set(want) - set(got)):
        errors.append("task 0x%x (%s) not listed" % (a, want[a]["name"]))
    for a in sorted(set(got) - set(want)):
        errors.append("listed 0x%x (%s) is no task the process knew" % (a, got[a].get("name")))
    for a in sorted(set(want) & set(got)):
        w, g = want[a], got[a]
        label = "task 0x%x %s" % (a, w["name"])
        if g["kind"] != "task":
            errors.append("%s: kind %s" % (label, g["kind"]))
        if g["type"] != class_name(w["class"]):
            errors.append("%s: type %s, process %s" % (label, g["type"], w["class"]))
        for key in ("name", "state", "coroutine"):
            if g[key] != w[key]:
                errors.append("%s: %s %r, process %r" % (label, key, g[key], w[key]))
        if w["state"] == "pending" and (not g["coroutine"] or [g["coroutine"][-1]] != w["stack"]):
            errors.append("%s: outermost coroutine %r, get_stack() %r" % (label, g["coroutine"][-1:], w["stack"]))
        awaits = int(g["awaits"], 16) if g["awaits"] else None
        if awaits != w["awaits"]:
            errors.append("%s: awaits %r, process _fut_waiter %r" % (label, g["awaits"], w["awaits"]))
        if g["exception"] != w["exception"]:
            errors.append("%s: exception %r, process %r" % (label, g["exception"], w["exception"]))
    # awaited_by from the recorded waiters
    expect_by = {a: set() for a in want}
    gather = truth["gather"]
    for a, w in want.items():
        if w["state"] != "pending" or w["awaits"] is None:
            continue
        if w["awaits"] in want:
            expect_by[w["awaits"]].add(a)
        if w["awaits"] == gather["future"]:
            for c in gather["children"]:
                expect_by[c].add(a)
    for a in sorted(set(want) & set(got)):
        by = {int(x, 16) for x in got[a]["awaited_by"]}
        if by != expect_by[a]:
            errors.append("task 0x%x %s: awaited_by %s, process %s" % (a, want[a]["name"], sorted(by), sorted(expect_by[a])))
    # 3.14+: the thread whose task list holds each pending C task; none elsewhere
    on_list = set(truth.get("thread_list_tasks", []))
    for a in sorted(set(want) & set(got)):
        expect = truth.get("loop_thread") if a in on_list else None
        if got[a].get("thread", "missing") != expect:
            errors.append("task 0x%x %s: thread %r, expected %r" % (a, want[a]["name"], got[a].get("thread", "missing"),
                                                                    expect))
    if tuple(map(int, truth["version"].split(".")[:2])) >= (3, 14) and not on_list:
        errors.append("no pending C task recorded on a thread list: the thread check could not fail")
    # 3.14+: _asyncio exports its offsets (.AsyncioDebug); all five coreheap
    # uses are checked against them and agree (before 3.14: no section)
    dbg = doc.get("asyncio_debug_offsets", "missing")
    if tuple(map(int, truth["version"].split(".")[:2])) >= (3, 14):
        if dbg != {"checked": 5, "mismatches": 0}:
            errors.append("asyncio_debug_offsets %r, expected all 5 checked and equal" % (dbg,))
        else:
            debug_offsets_mismatch(args, errors)
    elif dbg is not None:
        errors.append("asyncio_debug_offsets %r before 3.14" % (dbg,))
    registered = {a for a, t in got.items() if t["registry"] and t["state"] == "pending"}
    if registered != set(truth["all_tasks"]):
        errors.append("registered pending tasks %s, asyncio.all_tasks() %s" % (sorted(registered), truth["all_tasks"]))
    # findings
    by_kind = {}
    for f in doc["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    flagged = {int(f["task"], 16): f for f in by_kind.get("done_task_referenced", [])}
    if set(flagged) != set(truth["held_done"]):
        errors.append("done_task_referenced %s, process held %s" % (sorted(flagged), truth["held_done"]))
    for a in truth["kept_done"]:
        f = flagged.get(a)
        if f and "['KEPT']" not in (f["path"] or ""):
            errors.append("done task 0x%x: path %r does not go through KEPT" % (a, f["path"]))
    for kind, key in (("exception_never_retrieved", "unretrieved"), ("pending_forever", "orphans")):
        names = sorted(int(f["task"], 16) for f in by_kind.get(kind, []))
        if names != sorted(truth[key]):
            errors.append("%s names %s, process %s" % (kind, names, sorted(truth[key])))
    cycles = [sorted(int(x, 16) for x in f["cycle"]) for f in by_kind.get("await_cycle", [])]
    if cycles != ([sorted(truth["cycle"])] if truth["cycle"] else []):
        errors.append("await_cycle %s, process %s" % (cycles, sorted(truth["cycle"])))
    for a in truth["big_holders"]:
        r = got.get(a, {}).get("retained_bytes")
        if r is None or r < truth["big_payload"]:
            errors.append("task 0x%x retains %r bytes, its traceback holds %d" % (a, r, truth["big_payload"]))
    if truth.get("clean") and doc["findings"]:
        errors.append("a clean loop has findings: %s" % [f["message"] for f in doc["findings"]])
    check_suspects(args, truth, doc, got, errors)
    # --all: futures too
    every = run_json(NAME, args, ["tasks", args.core, "--all"])
    got_all = {int(t["address"], 16): t for t in every["tasks"]}
    want_all = {t["address"]: t for t in truth["tasks"]}
    if set(got_all) != set(want_all):
        errors.append("--all lists %d objects, process %d (missing %s, extra %s)"
                      % (len(got_all), len(want_all), sorted(set(want_all) - set(got_all)),
                         sorted(set(got_all) - set(want_all))))
    for a in sorted(set(got_all) & set(want_all)):
        if got_all[a]["state"] != want_all[a]["state"] or got_all[a]["kind"] != ("task" if want_all[a]["is_task"] else "future"):
            errors.append("--all 0x%x: %s %s, process %s" % (a, got_all[a]["kind"], got_all[a]["state"], want_all[a]["state"]))
    # --tree
    p = subprocess.run([args.coreheap, "tasks", args.core, "--tree", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        errors.append("--tree exited %d: %s" % (p.returncode, p.stderr.strip()))
    for a, w in want.items():
        if w["state"] == "pending" and ("0x%x" % a) not in p.stdout:
            errors.append("--tree does not name pending task 0x%x %s" % (a, w["name"]))
    if truth["cycle"] and "shown above" not in p.stdout:
        errors.append("--tree does not mark the await cycle")
    for e in errors:
        print("%s: %s" % (NAME, e))
    print("%s: %d tasks, %d futures, %d findings checked: %s" % (
        NAME, len(want), len(want_all) - len(want), len(doc["findings"]), "FAIL" if errors else "ok"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
