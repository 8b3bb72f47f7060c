#!/usr/bin/env python3
"""check_index.py --coreheap BIN --core CORE --other CORE2 [--type NAME] [--owner-required]

The heap index (docs/index.md), on copies of two fixture cores in a scratch
folder:

1. every heap command on CORE with --no-index: the reference outputs
   (stdout and stderr byte for byte, exit status); no index appears;
2. `index` writes CORE.chindex with the dominator tree, the roots and
   shortest paths, the memory figures and anomalies' scan counts; a second
   `index` reuses them all;
3. every command again, now starting from the index (top, suspects and
   summary from its stored tree; `top --format folded` and `report` from its
   flame graph; show, summary and suspects from its memory figures):
   identical outputs. `show` runs on an object that owns native
   memory (the first `coreheap memory --json` lists), when the core has
   one (--owner-required: it must);
4. a different core copied over CORE (same path): the index is reported
   stale, every command's stdout equals that core's own --no-index output,
   and the index is rewritten, the first command that computes the
   dominator tree adding it (the next `index` reuses both);
5. a flipped byte, a truncated index, a header from another index, and a
   file that is not an index: each reported as not used (damaged/stale)
   with the right stdout, then rebuilt (with `index`, as it was); then
   the roots and paths damaged in range under a matching checksum (a root
   past the object table, a parent loop, a frame root naming no frame, a
   retainers-by-type row with a type past the table or retaining less
   than its shallow bytes, a flame graph frame with a parent after it or
   a total that is not its bytes and its children's, a flame graph name
   with a type past the table):
   each said, --no-index's stdout, and the index made whole again; the
   scan counts added by the first `anomalies` on an index without them,
   taken by the next (the file left as it is), and counted again when
   they were kept for other inputs;
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
import struct
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
           ["find", core, "--type", type_name, "--json", "--limit", "0"], ["snapshot", core],
           ["tasks", core, "--json"], ["tasks", core],
           ["top", core, "--format", "folded"], ["report", core, "--json"], ["report", core]]
    out += [["summary", core], ["roots", core]]
    if addr:
        out += [["path", core, addr, "--json"], ["path", core, addr], ["path", core, addr, "--all", "3"],
                ["referrers", core, addr, "--json"], ["referrers", core, addr], ["show", core, addr, "--json"],
                ["show", core, addr]]
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


# The index's layout (graph/heap_index_format.h, format 15), enough to
# find each section, damage one and seal the damage with matching
# checksums (its own and the header's) so that only the checks on the
# contents can catch it. The checksums of the sound file are recomputed
# first: a layout that no longer matches this fails loudly instead of
# testing nothing.
H = dict(OBJECTS=4, EDGES=5, TYPES=6, XOBJECTS=7, XTYPES=8, NAMES=9, MESSAGES=10, STRINGS=11, INTERPS=22, SLOTS=23,
         DOMS=24, DOM_REACH=25, MEM=27, MEM_OWNED=28, WIDE=29, ROOTS=30, NROOTS=31, PATHS=32, SCAN=37,
         SCAN_INPUTS=38, TYPEROWS=39, FLAME=40, FLAME_NAMES=41, FLAME_FRAMES=42, PAYLOAD=45, CHECKSUM=46)
H_WORDS = 47
S_COUNT = 35
HEADER = 16 + 8 * H_WORDS + 8 * S_COUNT
MEMB_BYTES = 8 * 57  # CH_MEMB_WORDS words of 8 bytes (graph/memory_brief.h)
OWNED_CHUNK = 32     # struct ch_mem_owned_chunk
ROOT_REC = 24        # struct ch_heap_index_root
TYPEROW = 40         # struct ch_heap_index_typerow
FLNAME = 16          # struct ch_heap_index_flame_name
FLFRAME = 40         # struct ch_heap_index_flame_frame
BLOCK = 1 << 20      # CH_INDEX_BLOCK
M64 = (1 << 64) - 1


def ix_hash(seed, data):
    m = 0x9E3779B97F4A7C15
    n = len(data)
    h = [seed ^ n, (seed + m) & M64, seed ^ (m >> 1), ~seed & M64]
    full = n // 32 * 32
    words = struct.unpack_from("<%dQ" % (full // 8), data)
    for i in range(0, len(words), 4):
        for k in range(4):
            x = ((h[k] ^ words[i + k]) * m) & M64
            h[k] = x ^ (x >> 29)
    for b in data[full:]:
        h[0] = ((h[0] ^ b) * m) & M64
    r = seed
    for k in range(4):
        r = ((r ^ h[k]) * m) & M64
        r ^= r >> 31
    return r


def ix_block_sum(data):
    a, b = [0, 0, 0, 0], [0, 0, 0, 0]
    full = len(data) // 32 * 32
    words = struct.unpack_from("<%dQ" % (full // 8), data)
    for i in range(0, len(words), 4):
        for k in range(4):
            a[k] = (a[k] + words[i + k]) & M64
            b[k] = (b[k] + a[k]) & M64
    for x in data[full:]:
        a[0] = (a[0] + x) & M64
        b[0] = (b[0] + a[0]) & M64
    return ix_hash(len(data), struct.pack("<8Q", *(a + b)))


def ix_block_sums(data):
    return [ix_block_sum(data[off:off + BLOCK]) for off in range(0, len(data), BLOCK)]


def ix_fold(s, length, blocks):
    acc = ix_hash(0x7365637469 ^ s, struct.pack("<Q", length))
    for b in blocks:
        acc = ix_hash(acc, struct.pack("<Q", b))
    return acc


def ix_section_sum(s, data):
    return ix_fold(s, len(data), ix_block_sums(data))


def pad8(n):
    return (n + 7) & ~7


SECTIONS = ("addr", "size", "refcnt", "type", "gen", "flags", "interp", "offsets", "targets", "labels", "types",
            "xobjects", "xtypes", "names", "messages", "strings", "replay", "slots", "wide", "idom", "order", "retained",
            "retcount", "typerows", "flnames", "flframes", "mem", "owned", "roots", "set", "parent", "via", "rank", "maybe", "blocks")


def ix_sections(data):
    """The header words and every section (name -> (number, offset, bytes))
    of an index."""
    w = list(struct.unpack_from("<%dQ" % H_WORDS, data, 16))
    n, e, nroots = w[H["OBJECTS"]], w[H["EDGES"]], w[H["NROOTS"]]
    sizes = [n * 8, n * 4, n * 4, n * 4, n, n, n, (n + 1) * 4, e * 4, e * 4, w[H["TYPES"]] * 8,
             w[H["XOBJECTS"]] * 4, w[H["XTYPES"]] * 16, w[H["NAMES"]] * 4, w[H["MESSAGES"]] * 4,
             w[H["STRINGS"]], n, w[H["SLOTS"]] * 4, w[H["WIDE"]] * 16, w[H["DOMS"]] * 4,
             w[H["DOM_REACH"]] * 4, w[H["DOMS"]] * 8, w[H["DOMS"]] * 4, w[H["TYPEROWS"]] * TYPEROW,
             w[H["FLAME_NAMES"]] * FLNAME, w[H["FLAME_FRAMES"]] * FLFRAME, w[H["MEM"]] * MEMB_BYTES, w[H["MEM_OWNED"]] * OWNED_CHUNK,
             nroots * ROOT_REC, nroots * 4, w[H["PATHS"]] * 4, w[H["PATHS"]] * 4, w[H["PATHS"]] * 4,
             w[H["SCAN"]] * 4]
    sizes.append(8 * sum((b + BLOCK - 1) // BLOCK for b in sizes))  # the block table
    off, secs = HEADER, {}
    for i, (name, b) in enumerate(zip(SECTIONS, sizes)):
        secs[name] = (i, off, b)
        off += pad8(b)
    return w, secs, n


def ix_seal(data, names):
    """data (a bytearray) with the checksums its sections names (changed)
    and its header now call for."""
    w, secs, _ = ix_sections(data)
    _, toff, tlen = secs["blocks"]
    first = 0
    for name in SECTIONS[:-1]:
        i, off, b = secs[name]
        nb = (b + BLOCK - 1) // BLOCK
        if name in names:
            sums = ix_block_sums(bytes(data[off:off + b]))
            struct.pack_into("<%dQ" % nb, data, toff + 8 * first, *sums)
            struct.pack_into("<Q", data, 16 + 8 * H_WORDS + 8 * i, ix_fold(i, b, sums))
        first += nb
    struct.pack_into("<Q", data, 16 + 8 * H_WORDS + 8 * secs["blocks"][0],
                     ix_section_sum(secs["blocks"][0], bytes(data[toff:toff + tlen])))
    sums = bytes(data[16 + 8 * H_WORDS:HEADER])
    chk = ix_hash(ix_hash(0x68656164, sums), struct.pack("<%dQ" % H["CHECKSUM"], *w[:H["CHECKSUM"]]))
    struct.pack_into("<Q", data, 16 + 8 * H["CHECKSUM"], chk)
    return data


def ix_layout_ok(good):
    """The test's idea of the layout matches the file: its size, its
    header's checksum and the roots' sums."""
    w, secs, _ = ix_sections(good)
    i, off, b = secs["blocks"]
    return (struct.unpack_from("<I", good, 12)[0] == HEADER and off + pad8(b) == len(good)
            and bytes(ix_seal(bytearray(good), ("roots", "set"))) == good)


def ix_flip(good, name):
    """good with a byte flipped in the middle of section name (not
    sealed: the section's checksum no longer matches)."""
    _, secs, _ = ix_sections(good)
    _, off, b = secs[name]
    data = bytearray(good)
    data[off + b // 2] ^= 0x40
    return bytes(data)


def ipath_first(cmds):
    """The index of the first `path` command without --all, as a list."""
    return [i for i, c in enumerate(cmds) if c[0] == "path" and "--all" not in c][:1]


def ix_damage(good, what, target=None):
    """good with its roots, paths, retained sizes or retainers by type
    damaged in range (what: "root" puts a root's object past the object
    table; "retained" gives the first object in the dominator tree no
    retained bytes, less than its own size; "rowtype" gives the last
    retainers-by-type row a type past the type table; "rowbytes" makes
    the first row with shallow bytes retain less than them (its retained
    objects and bytes still within the tree's); "flparent" gives the last
    flame graph frame under another frame a parent after it (the last
    frame); "flname" gives the last flame graph name a type past the type
    table; "fltotal" makes the first flame graph frame's total one more
    than its bytes and its children's; "parent" gives a reached object
    a parent ranked after it; "frame" makes a frame root name a frame that
    is not there; "chain" gives the object at address target a parent
    ranked after it, so the chain `path` walks is not the search's),
    sealed; None when there is nothing to damage."""
    data = bytearray(good)
    w, secs, n = ix_sections(data)
    if not ix_layout_ok(good):
        fail("the test's idea of the index layout no longer matches the file (graph/heap_index_format.h)")
        return None
    _, roff, rbytes = secs["roots"]
    _, poff, pbytes = secs["parent"]
    koff = secs["rank"][1]
    if what == "root" and rbytes:
        struct.pack_into("<I", data, roff, n)  # the first root's object
        changed = ("roots",)
    elif what == "retained" and w[H["DOMS"]]:
        idom = struct.unpack_from("<%dI" % n, data, secs["idom"][1])
        size = struct.unpack_from("<%dI" % n, data, secs["size"][1])
        inside = [o for o in range(n) if idom[o] != 0xFFFFFFFF and size[o]]
        if not inside:
            return None
        struct.pack_into("<Q", data, secs["retained"][1] + 8 * inside[0], 0)
        changed = ("retained",)
    elif what == "rowtype" and w[H["TYPEROWS"]]:
        _, toff, _ = secs["typerows"]
        struct.pack_into("<I", data, toff + TYPEROW * (w[H["TYPEROWS"]] - 1), w[H["TYPES"]])
        changed = ("typerows",)
    elif what == "rowbytes" and w[H["TYPEROWS"]]:
        _, toff, _ = secs["typerows"]
        for i in range(w[H["TYPEROWS"]]):
            shallow = struct.unpack_from("<Q", data, toff + TYPEROW * i + 16)[0]
            if shallow:
                struct.pack_into("<Q", data, toff + TYPEROW * i + 24, shallow - 1)  # retained
                break
        else:
            return None
        changed = ("typerows",)
    elif what in ("flparent", "flname", "fltotal") and w[H["FLAME_FRAMES"]]:
        nf, nn = w[H["FLAME_FRAMES"]], w[H["FLAME_NAMES"]]
        _, foff, _ = secs["flframes"]
        if what == "flparent":
            under = [k for k in range(nf) if struct.unpack_from("<I", data, foff + FLFRAME * k)[0] != 0xFFFFFFFF]
            if not under or under[-1] == nf - 1 and len(under) < 2:
                return None
            k = under[-1] if under[-1] != nf - 1 else under[-2]
            struct.pack_into("<I", data, foff + FLFRAME * k, nf - 1)
            changed = ("flframes",)
        elif what == "flname":
            struct.pack_into("<I", data, secs["flnames"][1] + FLNAME * (nn - 1) + 8, w[H["TYPES"]])
            changed = ("flnames",)
        else:
            total = struct.unpack_from("<Q", data, foff + 24)[0]
            struct.pack_into("<Q", data, foff + 24, total + 1)
            changed = ("flframes",)
    elif what == "frame":
        for i in range(rbytes // ROOT_REC):
            if data[roff + ROOT_REC * i + 12] == 3:  # CH_ROOT_FRAME_LOCAL
                struct.pack_into("<I", data, roff + ROOT_REC * i + 8, 1 << 20)
                break
        else:
            return None
        changed = ("roots",)
    elif what == "parent" and pbytes:
        parent = struct.unpack_from("<%dI" % n, data, poff)
        rank = struct.unpack_from("<%dI" % n, data, koff)
        reached = [o for o in range(n) if parent[o] < n]
        if len(reached) < 2:
            return None
        a, b = min(reached, key=lambda o: rank[o]), max(reached, key=lambda o: rank[o])
        struct.pack_into("<I", data, poff + 4 * a, b)  # ranked last, now a's parent: a loop
        changed = ("parent",)
    elif what == "chain" and pbytes and target:
        _, aoff, _ = secs["addr"]
        addrs = struct.unpack_from("<%dQ" % n, data, aoff)
        parent = struct.unpack_from("<%dI" % n, data, poff)
        rank = struct.unpack_from("<%dI" % n, data, koff)
        t = addrs.index(int(target, 16)) if int(target, 16) in addrs else None
        if t is None or parent[t] >= n:
            return None
        b = max((o for o in range(n) if parent[o] < n), key=lambda o: rank[o])
        if b == t:
            return None
        struct.pack_into("<I", data, poff + 4 * t, b)  # a parent ranked after it
        changed = ("parent",)
    else:
        return None
    return bytes(ix_seal(data, changed))


def index_state(bin_, core, env=None, readonly=None):
    rc, out, err = run(bin_, ["index", core, "--json"], env=env, readonly=readonly)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err


def check_scan_counts(bin_, core, idx, cmds, ref, ianom, good):
    """5c: anomalies adds its scan counts to an index without them and
    takes them from one that holds them for the same inputs."""
    with open(idx, "wb") as f:
        f.write(b"not an index\n")
    run(bin_, ["types", core])  # an index without the tree, the figures and the counts
    bare = open(idx, "rb").read()
    w, _, n = ix_sections(bare)
    if w[H["SCAN"]] != 0 or w[H["SCAN_INPUTS"]] != 0:
        fail("types wrote scan counts: %r" % w[H["SCAN"]:H["SCAN_INPUTS"] + 1])
    compare(bin_, [cmds[ianom]], [ref[ianom]], "anomalies adding its scan counts")
    added = open(idx, "rb").read()
    w, secs, _ = ix_sections(added)
    if w[H["SCAN"]] != n or len(added) != len(bare) + pad8(4 * n) + 8 * ((4 * n + BLOCK - 1) // BLOCK):
        fail("anomalies did not add its scan counts: %d objects in them, %d -> %d bytes" %
             (w[H["SCAN"]], len(bare), len(added)))
    mtime = os.stat(idx).st_mtime_ns
    compare(bin_, [cmds[ianom]], [ref[ianom]], "anomalies from the stored scan counts")
    if os.stat(idx).st_mtime_ns != mtime or open(idx, "rb").read() != added:
        fail("anomalies scanned again instead of taking the stored counts (the index was rewritten)")
    other = bytearray(added)
    struct.pack_into("<Q", other, 16 + 8 * H["SCAN_INPUTS"], w[H["SCAN_INPUTS"]] ^ 1)
    with open(idx, "wb") as f:
        f.write(bytes(ix_seal(other, ())))
    compare(bin_, [cmds[ianom]], [ref[ianom]], "scan counts for other inputs")
    if open(idx, "rb").read() != added:
        fail("anomalies did not scan again and replace counts kept for other inputs")
    index_state(bin_, core)
    if open(idx, "rb").read() != good:
        fail("the scan counts: the index was not made whole again")


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
        if doc.get("dominators") != "added" or doc.get("memory") != "added" or doc.get("paths") != "added" \
                or doc.get("scan") != "added":
            fail("index did not add the dominator tree, the paths, the memory figures and the scan counts: %r" % doc)
        rc, doc, _ = index_state(bin_, core)
        if doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored" \
                or doc.get("paths") != "stored" or doc.get("scan") != "stored":
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
        if doc.get("state") != "reused" or doc.get("dominators") != "stored" or doc.get("memory") != "stored" \
                or doc.get("scan") != "stored":
            fail("after the stale index was rebuilt (commands adding the tree, memory figures and scan counts): %r"
                 % doc)

        # 5. damage
        good = open(idx, "rb").read()
        if not ix_layout_ok(good):
            fail("the test's idea of the index layout no longer matches the file (graph/heap_index_format.h)")
        flipped = ix_flip(good, "type")  # a section types uses
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

        # 5a. a flipped byte in a section (or, for the commands that read
        # the index lazily, path, referrers and show, in a block) a command
        # does not read: its output and warnings are exact and the index
        # stays; the first command that reads it says it is damaged, with
        # the exact output (a lazy one found it mid-command and ran again
        # from the core), and the index is rebuilt. The fixtures' sections
        # are each one block (graph/heap_index_format.h: CH_INDEX_BLOCK).
        itypes = cmds2.index(["types", core, "--json"])
        iref = [i for i, c in enumerate(cmds2) if c[0] == "referrers" and "--json" in c]
        ianom = cmds2.index(["anomalies", core, "--json"])
        itoptype = cmds2.index(["top", core, "--by", "type", "--json"])
        imem = cmds2.index(["memory", core, "--json"])
        ifolded = cmds2.index(["top", core, "--format", "folded"])
        ireport = cmds2.index(["report", core, "--json"])
        # memory reads every address, lazily: the restart from the core
        for name, unused, user in (("addr", [itypes], [imem]),
                                   ("targets", [itypes], iref[:1]),
                                   ("labels", [itypes], iref[:1]),
                                   ("replay", [itypes], ipath_first(cmds2)),
                                   ("idom", [itypes], [cmds2.index(["top", core, "--json"])]),
                                   ("retained", [itypes], [cmds2.index(["top", core, "--json"])]),
                                   ("retcount", [itypes], [cmds2.index(["suspects", core])]),
                                   ("typerows", [itypes], [itoptype]),
                                   ("flframes", [itypes], [ifolded]),
                                   ("flnames", [itypes], [ireport]),
                                   ("maybe", [itypes], [ianom]),
                                   # referrers reads no page of the paths
                                   ("rank", [itypes] + iref[:1], ipath_first(cmds2))):
            if not user:
                continue
            bad = ix_flip(good, name)
            with open(idx, "wb") as f:
                f.write(bad)
            compare(bin_, [cmds2[i] for i in unused], [ref2[i] for i in unused],
                    "a flipped byte in %s, which the command does not use" % name)
            if open(idx, "rb").read() != bad:
                fail("a flipped byte in %s: a command that does not use it rewrote the index" % name)
            compare(bin_, [cmds2[i] for i in user], [ref2[i] for i in user],
                    "a flipped byte in %s, which the command uses" % name, expect_warning="damaged")
            index_state(bin_, core)
            if open(idx, "rb").read() != good:
                fail("a flipped byte in %s: the index was not rebuilt as it was" % name)

        # 5b. roots, paths and retained sizes damaged in range, the
        # checksum sealing it: the load refuses a root past the object
        # table and a retained size below the object's own; a parent loop or
        # a frame that was not read is found where they are used. Either
        # way the output is --no-index's and the index is made whole again.
        ipath = ipath_first(cmds2)
        isnap = cmds2.index(["snapshot", core])
        damaged = 0
        itop = cmds2.index(["top", core, "--json"])
        for what, word in (("root", "damaged; a root is out of range"),
                           ("retained", "damaged; a retained size or count is out of range"),
                           ("rowtype", "damaged; a retainers-by-type row's type is out of range or order"),
                           ("rowbytes", "damaged; a retainers-by-type row's bytes are out of range"),
                           ("flparent", "damaged; a flame graph's frame's parent or name is out of range or order"),
                           ("flname", "damaged; a flame graph's name is out of range"),
                           ("fltotal", "damaged; a flame graph's frame's total is not its bytes and its children's"),
                           ("parent", "shortest paths were not used: damaged"),
                           ("chain", "shortest paths were not used: damaged"),
                           ("frame", "roots were not used: damaged")):
            bad = ix_damage(good, what, addr2)
            if bad is None:
                if what in ("root", "parent", "retained", "rowtype", "rowbytes", "flparent", "flname", "fltotal"):
                    fail("no %s to damage in the index" % what)
                continue
            damaged += 1
            with open(idx, "wb") as f:
                f.write(bad)
            # path, top, suspects and summary check only the chains they
            # walk: a damage off those chains is found by a command that
            # uses the whole search (snapshot).
            pick = ([itop] if what == "retained" else [itoptype] if what == "rowtype" else [isnap] if what == "rowbytes"
                    else [ifolded] if what in ("flparent", "fltotal") else [ireport] if what == "flname"
                    else ipath[:1] if ipath and what != "parent" else [isnap])
            compare(bin_, [cmds2[i] for i in pick], [ref2[i] for i in pick], "a damaged " + what,
                    expect_warning=word)
            index_state(bin_, core)
            if open(idx, "rb").read() != good:
                fail("a damaged %s: the index was not made whole again" % what)

        # 5c. the scan counts: added by the first anomalies on an index
        # without them (the file grows by them, its header says so), taken
        # by the next (which leaves the file as it is: had it scanned again,
        # it would have rewritten it), and scanned again (and replaced)
        # when the inputs they were counted from are not these.
        check_scan_counts(bin_, core, idx, cmds2, ref2, ianom, good)

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
    print("check_index: OK (%d commands compared, %d damaged indexes)" % (len(cmds), 5 + damaged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
