#!/usr/bin/env python3
"""check_index.py --coreheap BIN --core CORE --other CORE2 [--type NAME] [--owner-required]

The heap index (docs/index.md), on copies of two fixture cores in a scratch
folder:

1. every heap command on CORE with --no-index: the reference outputs
   (stdout and stderr byte for byte, exit status); no index appears;
2. `index` writes CORE.chindex with the dominator tree and the memory
   figures; a second `index` reuses all three;
3. every command again, now starting from the index (top, suspects and
   summary from its stored tree; show, summary and suspects from its memory
   figures): identical outputs. `show` runs on an object that owns native
   memory (the first `coreheap memory --json` lists), when the core has
   one (--owner-required: it must);
4. a different core copied over CORE (same path): the index is reported
   stale, every command's stdout equals that core's own --no-index output,
   and the index is rewritten, the first command that computes the
   dominator tree adding it (the next `index` reuses both);
5. a flipped byte, a truncated index, a header from another index, and a
   file that is not an index: each reported as not used (damaged/stale)
   with the right stdout, then rebuilt (with `index`, as it was);
6. --no-index never writes one; `index --no-index` is a usage error;
8. `diff A B` of the two cores (copies in a folder of their own), text and
   JSON: the same stdout, stderr and exit status from their indexes as with
   --no-index (which writes none); a sound index is not rewritten; a
   damaged one on A and a stale one on B (A's index copied over it) are
   each said with their side and rebuilt; an index without the dominator
   tree and the memory figures gets both from diff (it loaded that index
   and tied its analysis to it), and the next diff is the same again;
9. a core whose folder is not writable (a private read-only bind mount,
   where unshare allows one; otherwise said and not run) gets its index in
   $XDG_CACHE_HOME/coreheap/.
Exit 0 pass, 1 fail, 77 skip (a precondition missing, said why)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg)


def run(bin_, args, env=None, readonly=None):
    """readonly: a folder made read-only (a private read-only bind mount,
    which binds root too) for this one run."""
    cmd = [bin_] + args
    if readonly is not None:
        cmd = ["unshare", "-m", "sh", "-c",
               'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"', readonly] + cmd
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


def without_index_warnings(out):
    """A JSON document with the warnings about the index left out (a text
    report is compared as it is): they are the one thing a bad index adds."""
    try:
        doc = json.loads(out)
    except ValueError:
        return out
    if isinstance(doc, dict) and isinstance(doc.get("warnings"), list):
        doc["warnings"] = [w for w in doc["warnings"] if "heap index" not in str(w)]
    return json.dumps(doc, sort_keys=True)


def commands(core, addr, type_name, owner=None):
    out = [["types", core, "--json"], ["types", core], ["cycles", core, "--json"], ["summary", core, "--json"],
           ["top", core, "--json"], ["top", core, "--by", "type", "--json"], ["top", core],
           ["top", core, "--native", "--json"], ["roots", core, "--json"], ["anomalies", core, "--json"],
           ["suspects", core, "--json"], ["suspects", core], ["memory", core, "--json"],
           ["find", core, "--type", type_name, "--json", "--limit", "0"], ["snapshot", core]]
    if addr:
        out += [["path", core, addr, "--json"], ["referrers", core, addr, "--json"], ["show", core, addr, "--json"]]
    if owner:
        out += [["show", core, owner], ["show", core, owner, "--json"]]
    return out


def first_owner(bin_, core):
    """The first object `coreheap memory --json` says owns native memory."""
    rc, out, _ = run(bin_, ["memory", core, "--json", "--no-index"])
    try:
        doc = json.loads(out)
    except ValueError:
        return None
    todo = [doc]
    while todo:
        x = todo.pop()
        if isinstance(x, dict):
            lst = x.get("list")
            if isinstance(lst, list) and lst and isinstance(lst[0], dict) and "object" in lst[0]:
                return lst[0]["object"]
            todo.extend(x.values())
        elif isinstance(x, list):
            todo.extend(x)
    return None


def first_addr(bin_, core, type_name):
    rc, out, _ = run(bin_, ["find", core, "--type", type_name, "--json", "--limit", "1", "--no-index"])
    try:
        return json.loads(out)["objects"][0]["address"]
    except (ValueError, KeyError, IndexError):
        return None


def reference(bin_, cmds):
    return [run(bin_, c + ["--no-index"]) for c in cmds]


def compare(bin_, cmds, ref, what, stderr_too=True, expect_warning=None):
    for c, (rc0, out0, err0) in zip(cmds, ref):
        rc, out, err = run(bin_, c)
        name = " ".join(c[:1] + c[2:])
        if expect_warning:
            out, out0 = without_index_warnings(out), without_index_warnings(out0)
        if out != out0 or rc != rc0:
            fail("%s: `%s` differs from --no-index (exit %d vs %d)" % (what, name, rc, rc0))
        elif expect_warning and expect_warning not in err.decode(errors="replace"):
            fail("%s: `%s` did not warn %r: %r" % (what, name, expect_warning, err[-300:]))
        elif stderr_too and not expect_warning and err != err0:
            fail("%s: `%s` stderr differs: %r vs %r" % (what, name, err[-300:], err0[-300:]))
        expect_warning = None  # only the first command meets the bad index; it is rebuilt then


def index_state(bin_, core, env=None, readonly=None):
    rc, out, err = run(bin_, ["index", core, "--json"], env=env, readonly=readonly)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err


def check_diff(bin_, core_a, core_b, folder):
    """8: diff of two cores from their indexes, as from the cores."""
    os.makedirs(folder)
    ca, cb = os.path.join(folder, "a"), os.path.join(folder, "b")
    shutil.copy(core_a, ca)
    shutil.copy(core_b, cb)
    ia, ib = ca + ".chindex", cb + ".chindex"
    cmds = [["diff", ca, cb], ["diff", ca, cb, "--json"]]
    ref = reference(bin_, cmds)
    if any(rc not in (0, 5) or not out for rc, out, _ in ref):
        fail("diff --no-index: %r" % [(rc, err[-300:]) for rc, _, err in ref])
    if os.path.exists(ia) or os.path.exists(ib):
        fail("diff --no-index wrote an index")
    for c in (ca, cb):
        rc, doc, err = index_state(bin_, c)
        if doc.get("state") != "written":
            fail("diff: index %s: exit %d, %r, %r" % (c, rc, doc, err[-300:]))
    mtimes = (os.stat(ia).st_mtime_ns, os.stat(ib).st_mtime_ns)
    compare(bin_, cmds, ref, "diff from the indexes")
    if (os.stat(ia).st_mtime_ns, os.stat(ib).st_mtime_ns) != mtimes:
        fail("diff rewrote a sound index")
    good_a, good_b = open(ia, "rb").read(), open(ib, "rb").read()
    # A damaged (a flipped byte), B stale (A's index): each said, by side.
    flipped = bytearray(good_a)
    flipped[len(good_a) // 2] ^= 0x40
    with open(ia, "wb") as f:
        f.write(bytes(flipped))
    with open(ib, "wb") as f:
        f.write(good_a)
    rc, out, err = run(bin_, cmds[0])
    text = err.decode(errors="replace")
    if out != ref[0][1] or rc != ref[0][0]:
        fail("diff with a damaged and a stale index: stdout or exit differs (%d vs %d)" % (rc, ref[0][0]))
    for side, path, word in (("A", ia, "damaged"), ("B", ib, "stale")):
        if "%s: the heap index %s was not used: %s" % (side, path, word) not in text:
            fail("diff did not warn that %s's index is %s: %r" % (side, word, text[-400:]))
    for c, path, good in ((ca, ia, good_a), (cb, ib, good_b)):
        rc, doc, _ = index_state(bin_, c)  # diff rebuilt it with the tree and the memory figures
        if (doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored"
                or open(path, "rb").read() != good):
            fail("diff did not rebuild %s as it was: %r" % (path, doc))
    # An index without the tree and the memory figures (rebuilt by types
    # after damage): diff loads it, and adds both (its containers' dominator
    # tree, its memory figures), which the next diff reads.
    with open(ib, "wb") as f:
        f.write(b"not an index\n")
    run(bin_, ["types", cb])
    compare(bin_, cmds[1:], ref[1:], "diff from an index without the tree")
    rc, doc, _ = index_state(bin_, cb)
    if doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored":
        fail("diff did not add the dominator tree and the memory figures to the index it loaded: %r" % doc)
    mtimes = (os.stat(ia).st_mtime_ns, os.stat(ib).st_mtime_ns)
    compare(bin_, cmds, ref, "diff from indexes with the tree and the memory figures")
    if (os.stat(ia).st_mtime_ns, os.stat(ib).st_mtime_ns) != mtimes:
        fail("diff rewrote a sound index")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--other", required=True)
    ap.add_argument("--type", default="mymod.Node")
    ap.add_argument("--owner-required", action="store_true")
    a = ap.parse_args()
    for c in (a.core, a.other):
        if not os.path.exists(c):
            print("check_index: SKIP: fixture core %s missing" % c)
            return 77
    bin_ = os.path.abspath(a.coreheap)
    work = tempfile.mkdtemp(prefix="check_index.")
    try:
        core = os.path.join(work, "core")
        idx = core + ".chindex"
        shutil.copy(a.core, core)
        addr = first_addr(bin_, core, a.type)
        if not addr:
            fail("no %s object in %s" % (a.type, a.core))
        owner = first_owner(bin_, core)
        if a.owner_required and not owner:
            fail("no object owns native memory in %s" % a.core)
        cmds = commands(core, addr, a.type, owner)
        ref = reference(bin_, cmds)
        if owner and b"native:" not in ref[-2][1]:
            fail("show %s (an owner of native memory) has no native line: %r" % (owner, ref[-2][1][-300:]))
        if os.path.exists(idx):
            fail("--no-index wrote %s" % idx)

        rc, doc, err = index_state(bin_, core)
        if rc != 0 or doc.get("state") != "written" or doc.get("index") != idx or not os.path.exists(idx):
            fail("index: exit %d, %r, %r" % (rc, doc, err[-300:]))
        if doc.get("objects", 0) <= 0 or doc.get("bytes") != os.path.getsize(idx):
            fail("index figures: %r" % doc)
        if doc.get("dominators") != "added" or doc.get("memory") != "added":
            fail("index did not add the dominator tree and the memory figures: %r" % doc)
        rc, doc, _ = index_state(bin_, core)
        if doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored":
            fail("second index: %r" % doc)
        mtime = os.stat(idx).st_mtime_ns
        compare(bin_, cmds, ref, "from the index")
        if os.stat(idx).st_mtime_ns != mtime:
            fail("commands rewrote a sound index")

        # 4. another core at the same path
        shutil.copy(a.other, core)
        addr2 = first_addr(bin_, core, a.type)
        cmds2 = commands(core, addr2, a.type, first_owner(bin_, core))
        ref2 = reference(bin_, cmds2)
        compare(bin_, cmds2, ref2, "stale index", expect_warning="stale")
        rc, doc, _ = index_state(bin_, core)
        if doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored":
            fail("after the stale index was rebuilt (commands adding the tree and memory figures): %r" % doc)

        # 5. damage
        good = open(idx, "rb").read()
        flipped = bytearray(good)
        flipped[len(good) // 2] ^= 0x40
        other_header = bytearray(good)
        other_header[16] ^= 1  # the key's first word: the core's size
        for name, data, word in (("a flipped byte", bytes(flipped), "damaged"),
                                 ("a truncated index", good[:len(good) // 3], "damaged"),
                                 ("another core's header", bytes(other_header), "stale"),
                                 ("not an index", b"hello\n" * 100, "damaged"),
                                 ("an empty file", b"", "damaged")):
            with open(idx, "wb") as f:
                f.write(data)
            compare(bin_, cmds2[:1], ref2[:1], name, expect_warning=word)
            index_state(bin_, core)  # types rebuilt it without the tree and figures; index adds them
            if open(idx, "rb").read() != good:
                fail("%s: the index was not rebuilt as it was" % name)

        # 6. --no-index
        os.unlink(idx)
        run(bin_, ["types", core, "--no-index"])
        if os.path.exists(idx):
            fail("--no-index wrote an index")
        rc, _, err = run(bin_, ["index", core, "--no-index"])
        if rc != 2:
            fail("index --no-index: exit %d, expected 2" % rc)

        check_diff(bin_, a.core, a.other, os.path.join(work, "diff"))

        # 9. the cache folder, for a core in a read-only folder
        ro = os.path.join(work, "ro")
        cache = os.path.join(work, "cache")
        os.makedirs(ro)
        shutil.copy(a.core, os.path.join(ro, "core"))
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        rc, _, err = run("/bin/true", [], readonly=ro)
        if rc != 0:
            print("check_index: note: no private read-only mount here (%s): the cache-folder case was not run"
                  % err.decode(errors="replace").strip()[-200:])
        else:
            rc, doc, err = index_state(bin_, os.path.join(ro, "core"), env=env, readonly=ro)
            where = doc.get("index") or ""
            if rc != 0 or doc.get("state") != "written" or not where.startswith(cache + "/coreheap/"):
                fail("read-only folder: exit %d, %r, %r" % (rc, doc, err[-300:]))
            rc, doc, _ = index_state(bin_, os.path.join(ro, "core"), env=env, readonly=ro)
            if doc.get("state") != "reused" or doc.get("index") != where:
                fail("read-only folder, second run: %r" % doc)
            if os.path.exists(os.path.join(ro, "core.chindex")):
                fail("an index appeared in the read-only folder")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILS:
        print("check_index: %d failure(s)" % len(FAILS))
        return 1
    print("check_index: OK (%d commands compared, 5 damaged indexes)" % len(cmds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
