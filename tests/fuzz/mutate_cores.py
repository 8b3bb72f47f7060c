#!/usr/bin/env python3
"""Whole-pipeline mutation test: real fixture cores, corrupted, through every
command of the sanitizer build (tests/fuzz/README.md).

Each mutant is a copy of one of the --core files with one kind of damage:

  headers    ELF header, program headers (type, offsets, addresses, sizes of
             segments) and notes (sizes, types, NT_FILE tables and paths,
             NT_PRSTATUS, NT_AUXV)
  truncate   the file cut short: in the headers, the notes, at a segment
             boundary, one byte short, or anywhere
  objects    targeted corruption of objects the unmutated core shows (from
             `top`, `find` and `cycles`): ob_type, ob_refcnt, ob_size, the
             GC links before the object, words inside it, and the bytes of
             its type's name (invalid UTF-8, control characters, no NUL)
  flips      random bit flips, anywhere or near known objects

and runs some of the commands (`--commands N` per mutant, in rotation so
each command gets its share; `--commands 0`: all of them) with a timeout,
in an empty working directory. A run FAILS on:

  crash        killed by a signal
  sanitizer    an AddressSanitizer / UndefinedBehaviorSanitizer / leak report
  hang         still running after --timeout seconds
  exit         an exit status coreheap does not document (0, 1, 3, 4, 5) or
               6 (internal error)
  json         --json output (or the snapshot file) that is not JSON, or a
               type row without its "type"
  utf8         output, error or snapshot that is not valid UTF-8
  message      stderr lines not of the form "coreheap: ...", or a failure
               without exactly one "coreheap: error: ..." line, last
  partial      exit 0 without "partial": true although the mutant removed
               memory holding an object the unmutated core listed and the
               command reads every object (or the object it was asked about),
               or changed a GC list link of an object surely on a GC list
               (garbage, lists, functions) and the command walks the lists
  files        a file written anywhere but the -o target
  snapshot     `diff` cannot read the snapshot coreheap wrote of the mutant

and is NOTED (reported, does not fail) when a mutant that changed where a
segment lives (p_offset, p_vaddr, p_filesz, p_memsz of a PT_LOAD) exits 0
as complete with a `types` answer different from the unmutated core's: the
case issue 17 asks to report, and what the core reader cannot yet detect.

The first mutants are fixed regression cases (--no-regressions skips them)
that must come out exact: a type whose name is not UTF-8 is reported
escaped, counted in a warning and marked partial (exit 5) in every command
that names types; an executable path (NT_FILE) with an invalid byte and a
newline leaves every output and message one line of UTF-8.

Every failing run leaves a reproducer in OUT/repro/<n>/ (the mutant core,
the command, its output; at most --max-repro of them). OUT/summary.json has
the figures. Exit 0 when no run failed, 1 otherwise, 77 when a core is
missing (SKIPPED)."""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bad_input"))
import run_bad_input as bad_input  # noqa: E402  (its Core reads program headers and notes)

PT_LOAD = 1
NT_PRSTATUS, NT_AUXV, NT_FILE, NT_SIGINFO = 1, 6, 0x46494C45, 0x53494749
EHDR, PHDR = 64, 56
INTERESTING64 = [0, 1, 0x7F, 0x1000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
                 0xFFFFFFFFFFFFF000, 0xDEAD0000, 0x100000000]
INTERESTING32 = [0, 1, 3, 4, 0x7F, 0xFF, 0x1000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
BAD_NAMES = [b"\xff\xfe", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80",
             b"\x1b[31m", b"a\nb", b'"\\', b"\x00"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")
FAIL_KINDS = ("crash", "sanitizer", "hang", "exit", "json", "utf8", "message", "partial", "files", "snapshot")
WHOLE_HEAP = {"types", "types-text", "cycles", "summary", "summary-text", "top", "roots", "anomalies",
              "snapshot", "diff"}


class Core(bad_input.Core):
    """A fixture core as tests/bad_input reads it, plus what the mutators
    need: each program header's file offset, the notes one by one, and
    reads of the dumped memory."""

    def __init__(self, path):
        super().__init__(path)
        d = self.data
        for i, p in enumerate(self.phdrs):
            p["at"] = self.phoff + self.phentsize * i
        self.note_entries = []  # (header offset, namesz, descsz, type, desc offset)
        for p in self.notes:
            at, end = p["offset"], p["offset"] + p["filesz"]
            while at + 12 <= end:
                namesz, descsz, ntype = struct.unpack_from("<III", d, at)
                desc = at + 12 + ((namesz + 3) & ~3)
                self.note_entries.append((at, namesz, descsz, ntype, desc))
                at = desc + ((descsz + 3) & ~3)
        self.notes_end = max((p["offset"] + p["filesz"] for p in self.notes), default=EHDR)

    def offset_of(self, addr, n=8):
        return self.file_offset(addr, n)

    def u64(self, addr):
        off = self.offset_of(addr)
        return None if off is None else struct.unpack_from("<Q", self.data, off)[0]

    def cstr_at(self, addr, limit=200):
        off = self.offset_of(addr, 1)
        if off is None:
            return None, None
        end = self.data.find(b"\0", off, off + limit)
        return (off, self.data[off:end]) if end > off else (None, None)


class Mutant:
    def __init__(self, core, data, cls, what, addr=None, removed=(), segment=False, expect=None):
        self.core, self.data, self.cls, self.what = core, data, cls, what
        self.addr = addr            # the object the mutant is about (address commands use it)
        self.removed = list(removed)  # [start, end) vaddr ranges no longer backed
        self.segment = segment      # a PT_LOAD's placement changed
        self.expect = expect        # regression: what every run must show
        self.only = None            # regression: the commands to run (None: all)
        self.gc_damage = False      # a GC list link of an object on a GC list was changed


def put64(buf, off, v):
    struct.pack_into("<Q", buf, off, v & 0xFFFFFFFFFFFFFFFF)


def put32(buf, off, v):
    struct.pack_into("<I", buf, off, v & 0xFFFFFFFF)


def mutate_headers(rng, c):
    buf = bytearray(c.data)
    kind = rng.choice(["ehdr", "phdr", "phdr", "phdr", "note", "note", "ntfile", "ntfile", "prstatus"])
    if kind == "ehdr":
        field, size = rng.choice([(0x20, 8), (0x38, 2), (0x36, 2), (0x12, 2), (0x10, 2), (0x04, 1), (0x05, 1),
                                  (0x00, 4)])
        v = rng.choice(INTERESTING32 + [rng.getrandbits(16)])
        buf[field:field + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        return Mutant(c, buf, "headers", "ELF header byte 0x%x = 0x%x" % (field, v))
    if kind == "phdr":
        p = rng.choice(c.phdrs)
        name, rel, size = rng.choice([("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8),
                                      ("p_filesz", 32, 8), ("p_memsz", 40, 8)])
        key = {"p_offset": "offset", "p_vaddr": "vaddr", "p_filesz": "filesz", "p_memsz": "memsz"}.get(name)
        orig = p[key] if key else 0
        other = rng.choice(c.phdrs)
        choices = INTERESTING64 + [orig + 0x1000, orig - 0x1000, orig * 2, len(c.data), orig + 1,
                                   other.get(key, 0) if key else 0]
        v = rng.choice(choices) & 0xFFFFFFFFFFFFFFFF
        if size == 4:
            put32(buf, p["at"] + rel, v)
        else:
            put64(buf, p["at"] + rel, v)
        removed = []
        if p["type"] == PT_LOAD and name == "p_filesz" and v < p["filesz"]:
            removed.append((p["vaddr"] + v, p["vaddr"] + p["filesz"]))
        segment = p["type"] == PT_LOAD and key is not None and v != orig
        return Mutant(c, buf, "headers", "phdr %d %s 0x%x -> 0x%x" % (c.phdrs.index(p), name, orig, v),
                      removed=removed, segment=segment)
    if kind == "note" or (kind in ("ntfile", "prstatus") and not c.note_entries):
        at, namesz, descsz, ntype, desc = rng.choice(c.note_entries)
        rel = rng.choice([0, 4, 8])
        v = rng.choice(INTERESTING32 + [descsz + 4, descsz - 4, namesz + 1])
        put32(buf, at + rel, v)
        return Mutant(c, buf, "headers", "note at 0x%x field %d = 0x%x" % (at, rel // 4, v))
    if kind == "ntfile":
        files = [n for n in c.note_entries if n[3] == NT_FILE]
        if not files:
            return mutate_headers(rng, c)
        at, namesz, descsz, ntype, desc = files[0]
        count, = struct.unpack_from("<Q", c.data, desc)
        where = rng.choice(["count", "page_size", "entry", "entry", "path"])
        if where == "count":
            put64(buf, desc, rng.choice(INTERESTING64 + [count + 1, count - 1]))
        elif where == "page_size":
            put64(buf, desc + 8, rng.choice(INTERESTING64))
        elif where == "entry" and count:
            i = rng.randrange(min(count, 4096))
            put64(buf, desc + 16 + 24 * i + 8 * rng.randrange(3), rng.choice(INTERESTING64))
        else:
            names = desc + 16 + 24 * count
            end = desc + descsz
            if names < end:
                off = rng.randrange(names, end)
                buf[off] = rng.choice([0, 0xFF, 0x2F, ord("\n"), 0xC3])
        return Mutant(c, buf, "headers", "NT_FILE %s" % where)
    notes = [n for n in c.note_entries if n[3] in (NT_PRSTATUS, NT_AUXV, NT_SIGINFO)]
    at, namesz, descsz, ntype, desc = rng.choice(notes)
    off = desc + 8 * rng.randrange(max(1, descsz // 8))
    put64(buf, off, rng.choice(INTERESTING64))
    return Mutant(c, buf, "headers", "note type 0x%x word at +%d" % (ntype, off - desc))


def removed_by_cut(c, cut):
    out = []
    for p in c.loads:
        if p["filesz"] and p["offset"] + p["filesz"] > cut:
            keep = max(0, cut - p["offset"])
            out.append((p["vaddr"] + keep, p["vaddr"] + p["filesz"]))
    return out


def mutate_truncate(rng, c):
    points = [rng.randrange(0, EHDR), rng.randrange(EHDR, max(EHDR + 1, c.phoff + PHDR * c.phnum)),
              rng.randrange(c.phoff, max(c.phoff + 1, c.notes_end)), len(c.data) - 1,
              rng.choice(c.loads)["offset"], rng.randrange(c.notes_end, len(c.data)),
              rng.randrange(c.notes_end, len(c.data))]
    cut = rng.choice(points)
    return Mutant(c, c.data[:cut], "truncate", "cut at %d of %d" % (cut, len(c.data)),
                  removed=removed_by_cut(c, cut))


def mutate_objects(rng, c, objs, names):
    buf = bytearray(c.data)
    a = rng.choice(objs)
    other = rng.choice(objs)
    kind = rng.choice(["ob_type", "ob_refcnt", "ob_size", "gc_next", "gc_prev", "word", "name"])
    if kind == "name" and names:
        t, (off, name) = rng.choice(sorted(names.items()))
        bad = rng.choice(BAD_NAMES)
        pos = rng.randrange(max(1, len(name)))
        piece = bad[:max(1, len(name) - pos)]
        if rng.random() < 0.2:
            piece = b"\xff" * len(name) + b"\xff"  # overwrite the NUL too
        buf[off + pos:off + pos + len(piece)] = piece
        if rng.random() < 0.5:
            clear_heaptype(c, buf, t)
        return Mutant(c, buf, "objects", "type 0x%x name %r -> %r" % (t, name, bytes(buf[off:off + len(name) + 1])),
                      addr=a)
    field = {"ob_refcnt": 0, "ob_type": 8, "ob_size": 16, "gc_next": -16, "gc_prev": -8,
             "word": 8 * rng.randrange(1, 8)}.get(kind, 8)
    off = c.offset_of(a + field)
    if off is None:
        return mutate_flips(rng, c, objs)
    values = INTERESTING64 + [a, other, a - 16, other - 16, rng.getrandbits(64), (c.u64(other + 8) or 0)]
    v = rng.choice(values) & 0xFFFFFFFFFFFFFFFF
    old = c.u64(a + field)
    put64(buf, off, v)
    m = Mutant(c, buf, "objects", "object 0x%x %s 0x%x -> 0x%x" % (a, kind, old or 0, v), addr=a)
    m.gc_damage = kind in ("gc_next", "gc_prev") and a in c.gc_objects and v != old
    return m


TP_FLAGS, HEAPTYPE = 168, 1 << 9  # offset of tp_flags in PyTypeObject (3.8-3.15, x86_64)


def clear_heaptype(c, buf, t):
    """Make a heap type look static, so its name is read from tp_name (a C
    string) instead of the ht_qualname str: how a garbage type pointer that
    passes the plausibility checks is named."""
    off = c.offset_of(t + TP_FLAGS)
    if off is not None:
        flags, = struct.unpack_from("<Q", buf, off)
        put64(buf, off, flags & ~HEAPTYPE)


def mutate_flips(rng, c, objs):
    buf = bytearray(c.data)
    n = rng.choice([1, 4, 16, 64, 256])
    near = rng.random() < 0.5 and objs
    for _ in range(n):
        if near:
            off = c.offset_of(rng.choice(objs), 1)
            off = None if off is None else min(len(buf) - 1, max(0, off + rng.randrange(-4096, 4096)))
        else:
            off = None
        if off is None:
            off = rng.randrange(len(buf))
        buf[off] ^= 1 << rng.randrange(8)
    return Mutant(c, buf, "flips", "%d bit flips %s" % (n, "near objects" if near else "anywhere"))


def commands(core, addr, out_json):
    """name -> argv (after the coreheap binary), json?"""
    a = "0x%x" % addr if addr else None
    cmds = [
        ("info", ["info", core, "--json"], True),
        ("types", ["types", core, "--json"], True),
        ("types-text", ["types", core], False),
        ("cycles", ["cycles", core, "--json"], True),
        ("summary", ["summary", core, "--json"], True),
        ("summary-text", ["summary", core], False),
        ("top", ["top", core, "--json", "--limit", "5"], True),
        ("roots", ["roots", core, "--json", "--limit", "5"], True),
        ("anomalies", ["anomalies", core, "--json", "--limit", "5"], True),
        ("stacks", ["stacks", core, "--json", "--locals"], True),
        ("stacks-text", ["stacks", core, "--locals"], False),
        ("snapshot", ["snapshot", core, "-o", out_json], False),
    ]
    if a:
        cmds += [
            ("path", ["path", core, a, "--json"], True),
            ("show", ["show", core, a, "--json"], True),
            ("show-text", ["show", core, a], False),
            ("referents", ["referents", core, a, "--json"], True),
        ]
    return cmds


def walk_type_rows(doc, bad):
    """Rows of a "types" list that lack their "type" key (jansson dropped it)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "types" and isinstance(v, list):
                for row in v:
                    if isinstance(row, dict) and "type" not in row:
                        bad.append(row)
            walk_type_rows(v, bad)
    elif isinstance(doc, list):
        for v in doc:
            walk_type_rows(v, bad)


def check_message(rc, err):
    lines = [l for l in err.split("\n") if l.strip()]
    stray = [l for l in lines if not l.startswith("coreheap: ")]
    if stray:
        return "stderr line not from coreheap: %r" % stray[0][:200]
    errors = [l for l in lines if l.startswith("coreheap: error: ")]
    if rc in (2, 3, 4, 6):
        if len(errors) != 1 or lines[-1] != errors[0]:
            return "exit %d with %d error line(s) (want exactly one, last)" % (rc, len(errors))
        if len(errors[0]) <= len("coreheap: error: ") + 3:
            return "empty error message"
    elif errors:
        return "exit %d but an error line: %r" % (rc, errors[0][:200])
    return None


def judge(m, name, argv, is_json, rc, out, err, hung, scratch, out_json):
    """List of (kind, detail) failures and of notes for one run."""
    fails, notes = [], []
    if hung:
        return [("hang", "still running after the timeout")], notes
    try:
        out_s = out.decode("utf-8")
    except UnicodeDecodeError as e:
        fails.append(("utf8", "stdout: %s" % e))
        out_s = out.decode("utf-8", "replace")
    try:
        err_s = err.decode("utf-8")
    except UnicodeDecodeError as e:
        fails.append(("utf8", "stderr: %s" % e))
        err_s = err.decode("utf-8", "replace")
    if any(mark in err_s for mark in SANITIZER_MARKS):
        line = next(l for l in err_s.split("\n") if any(mark in l for mark in SANITIZER_MARKS))
        fails.append(("sanitizer", line.strip()[:300]))
    elif rc < 0:
        fails.append(("crash", "signal %d" % -rc))
    if rc >= 0 and rc not in (0, 1, 3, 4, 5):
        fails.append(("exit", "exit %d" % rc))
    if name == "diff" and rc in (3, 4):
        fails.append(("snapshot", "coreheap cannot read back its own snapshot: %s" % err_s.strip()[:300]))
    sanitized = any(kind in ("sanitizer", "crash") for kind, _ in fails)
    msg = check_message(rc, err_s) if rc >= 0 and not sanitized else None
    if msg:
        fails.append(("message", msg))
    doc = None
    if rc in (0, 1, 5) and is_json:
        try:
            doc = json.loads(out_s)
        except ValueError as e:
            fails.append(("json", "stdout: %s" % e))
    if name == "snapshot" and rc in (0, 1, 5):
        try:
            with open(out_json, "rb") as f:
                raw = f.read()
            doc = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            fails.append(("utf8", "snapshot file: %s" % e))
        except (OSError, ValueError) as e:
            fails.append(("json", "snapshot file: %s" % e))
    if doc is not None:
        bad = []
        walk_type_rows(doc, bad)
        if bad:
            fails.append(("json", "type row without \"type\": %s" % json.dumps(bad[0])[:200]))
    stray = sorted(set(os.listdir(scratch)) - {os.path.basename(out_json)})
    if stray:
        fails.append(("files", "wrote %s" % ", ".join(stray)))
    partial = rc == 5 or (isinstance(doc, dict) and doc.get("partial") is True)
    if rc == 0 and not partial and m.removed:
        hit = None
        if name in WHOLE_HEAP:
            hit = next((o for o in m.known if any(s <= o < e for s, e in m.removed)), None)
        elif m.addr and any(s <= m.addr < e for s, e in m.removed):
            hit = m.addr
        if hit:
            fails.append(("partial", "exit 0, complete, but object 0x%x lies in memory the mutant removed" % hit))
    if rc == 0 and not partial and m.gc_damage and name in WHOLE_HEAP:
        fails.append(("partial", "exit 0, complete, though a GC list link of 0x%x was damaged" % m.addr))
    if m.segment and name == "types" and rc == 0 and isinstance(doc, dict) and not partial:
        if doc.get("types") != m.baseline_types:
            notes.append(("segment", "segment moved or resized, exit 0 complete, types differ from the original"))
    if m.expect:
        fails += m.expect(name, rc, doc, out_s, err_s)
    return fails, notes


def run(binary, argv, timeout, cwd):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0" + (":" + env["ASAN_OPTIONS"] if env.get("ASAN_OPTIONS") else "")
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    try:
        p = subprocess.run([binary] + argv, capture_output=True, timeout=timeout, cwd=cwd, env=env)
        return p.returncode, p.stdout, p.stderr, False
    except subprocess.TimeoutExpired as e:
        return -9, e.stdout or b"", e.stderr or b"", True


def baseline(binary, core, timeout, work):
    """Objects and type names of the unmutated core, and its `types` answer."""
    c = Core(core)
    objs = set()

    def jrun(*argv):
        rc, out, err, _ = run(binary, list(argv), timeout, work)
        if rc not in (0, 5):
            raise SystemExit("mutate_cores: the unmutated core fails: coreheap %s: exit %d: %s"
                             % (" ".join(argv), rc, err.decode("utf-8", "replace").strip()))
        return json.loads(out)

    for o in jrun("top", core, "--json", "--limit", "40")["objects"]:
        objs.add(int(o["address"], 16))
    gc = set()  # objects surely on a GC list: garbage samples, lists, functions
    for g in jrun("cycles", core, "--json").get("groups", []):
        gc.update(int(s, 16) for s in g.get("samples", []))
    for t in ("dict", "list", "function"):
        for o in jrun("find", core, "--type", t, "--limit", "25", "--json").get("objects", []):
            objs.add(int(o["address"], 16))
            if t in ("list", "function"):
                gc.add(int(o["address"], 16))
    objs |= gc
    c.gc_objects = gc
    types = jrun("types", core, "--json")["types"]
    names = {}
    for a in sorted(objs):
        t = c.u64(a + 8)
        if not t or t in names:
            continue
        ptr = c.u64(t + 24)
        off, name = c.cstr_at(ptr) if ptr else (None, None)
        if off is not None and len(name) >= 3:
            names[t] = (off, name)
    return c, sorted(objs), names, types


def regression_name_not_utf8(c, objs, names):
    """A type whose name bytes are not UTF-8 (a heap type made to look
    static, its tp_name damaged): every command that names the types must
    escape it, warn and say partial (exit 5)."""
    heap = sorted(names.items(), key=lambda kv: (kv[1][1] != b"Cycle", kv[1][1]))
    if not heap:
        return None
    t, (off, name) = heap[0]
    buf = bytearray(c.data)
    buf[off + 1:off + 3] = b"\xff\xc3"
    clear_heaptype(c, buf, t)
    obj = next((a for a in objs if c.u64(a + 8) == t), None)

    def expect(cmd, rc, doc, out, err):
        f = []
        if cmd in ("info", "stacks", "stacks-text", "diff"):
            return f
        if rc != 5:
            f.append(("regression", "type name not UTF-8: %s exit %d, want 5 (partial)" % (cmd, rc)))
        if "not valid UTF-8" not in err:
            f.append(("regression", "type name not UTF-8: %s printed no warning about it" % cmd))
        return f

    return Mutant(c, buf, "regression", "type 0x%x name %r made invalid UTF-8" % (t, name), addr=obj,
                  expect=expect)


def regression_path_not_utf8(c):
    """The executable's path in NT_FILE made invalid UTF-8 (a legal Linux
    file name): text, JSON and warnings must still be UTF-8 (the generic
    checks), the path shown escaped."""
    mains = [m for m in c.mappings if "/bin/python" in m[3]]
    if not mains:
        return None
    name = mains[0][3].encode()
    buf = bytearray(c.data)
    start = 0
    while True:
        at = buf.find(name + b"\0", start, c.notes_end)
        if at < 0:
            break
        cut = name.rfind(b"/") + 1
        buf[at + cut:at + cut + 2] = b"\xff\n"
        start = at + len(name)
    return Mutant(c, buf, "regression", "executable path %r made invalid UTF-8 with a newline" % name,
                  expect=lambda *a: [])


def regression_segment_dropped(c, k):
    """PT_LOAD k no longer a PT_LOAD (p_type 0xdead0000): the 5,000-mutant run
    of 2026-12-03 found that a type whose layout could not be read, in a
    batch with nothing to emulate, freed its error twice (ASan double-free in
    ch_py_refs_prefetch). The generic checks: no sanitizer report, valid
    JSON."""
    loads = [p for p in c.phdrs if p["type"] == PT_LOAD]
    if k >= len(loads):
        return None
    p = loads[k]
    buf = bytearray(c.data)
    put32(buf, p["at"], 0xdead0000)
    return Mutant(c, buf, "regression", "PT_LOAD %d (phdr %d) p_type -> 0xdead0000" % (k, c.phdrs.index(p)),
                  expect=lambda *a: [])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--coreheap", required=True, help="the coreheap binary of the sanitizer build")
    ap.add_argument("--core", action="append", required=True, help="a fixture core (repeatable)")
    ap.add_argument("--mutants", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=170, help="stop making mutants after this long")
    ap.add_argument("--commands", type=int, default=1, help="commands per mutant (0: all)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds one command may run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    ap.add_argument("--max-repro", type=int, default=20)
    ap.add_argument("--no-regressions", action="store_true")
    ap.add_argument("--classes", default="headers,truncate,objects,flips",
                    help="mutation classes to make, comma-separated")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    args.coreheap = os.path.abspath(args.coreheap)
    args.core = [os.path.abspath(c) for c in args.core]
    for core in args.core:
        if not os.path.exists(core):
            print("mutate_cores: SKIP: %s not found (its fixture was not made)" % core)
            return 77
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    os.makedirs(args.out, exist_ok=True)
    repro_dir = os.path.join(args.out, "repro")
    shutil.rmtree(repro_dir, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="work.", dir=args.out)
    start = time.time()
    print("mutate_cores: seed %d; building baselines" % seed, flush=True)
    bases = [baseline(args.coreheap, core, args.timeout * 3, work) for core in args.core]

    lock = threading.Lock()
    stats = {"mutants": {}, "runs": 0, "exits": {}, "fail": {k: 0 for k in FAIL_KINDS}, "notes": {},
             "regression": 0, "segment_mutants": 0, "seed": seed, "cores": args.core}
    failures, noted = [], []

    def job(m, n):
        d = os.path.join(work, "m%d" % n)
        os.makedirs(d)
        core_path = os.path.join(d, "core")
        with open(core_path, "wb") as f:
            f.write(m.data)
        out_json = os.path.join(d, "out", "snapshot.json")
        cmds = commands(core_path, m.addr, out_json)
        if m.only:
            chosen = [c for c in cmds if c[0] in m.only]
        elif m.expect or args.commands == 0:
            chosen = cmds
        else:
            k = min(args.commands, len(cmds))
            chosen = [cmds[(n * k + i) % len(cmds)] for i in range(k)]
            if m.segment and not any(c[0] == "types" for c in chosen):
                chosen.append(next(c for c in cmds if c[0] == "types"))

        def one(name, argv, is_json, fresh=True):
            scratch = os.path.join(d, "out")
            if fresh:
                shutil.rmtree(scratch, ignore_errors=True)
                os.makedirs(scratch)
            rc, out, err, hung = run(args.coreheap, argv, args.timeout, scratch)
            fails, notes = judge(m, name, argv, is_json, rc, out, err, hung, scratch, out_json)
            with lock:
                stats["runs"] += 1
                stats["exits"][str(rc)] = stats["exits"].get(str(rc), 0) + 1
                for kind, _ in notes:
                    stats["notes"][kind] = stats["notes"].get(kind, 0) + 1
                    noted.append("%s: %s [%s]" % (name, m.what, m.core.path))
                for kind, detail in fails:
                    stats["fail"][kind] = stats["fail"].get(kind, 0) + 1
                    failures.append((m, name, argv, kind, detail))
                    if len(failures) <= args.max_repro:
                        r = os.path.join(repro_dir, str(len(failures)))
                        os.makedirs(r, exist_ok=True)
                        shutil.copy(core_path, os.path.join(r, "core"))
                        with open(os.path.join(r, "README"), "w") as f:
                            f.write("%s: %s\nmutant: %s (%s) of %s\nrun: coreheap %s\nexit %d\n"
                                    % (kind, detail, m.what, m.cls, m.core.path,
                                       " ".join(argv).replace(core_path, "core"), rc))
                        with open(os.path.join(r, "stdout"), "wb") as f:
                            f.write(out)
                        with open(os.path.join(r, "stderr"), "wb") as f:
                            f.write(err)
            return rc

        for name, argv, is_json in chosen:
            rc = one(name, argv, is_json)
            if name == "snapshot" and rc in (0, 5):
                # coreheap must read back its own snapshot of the damaged heap.
                one("diff", ["diff", out_json, core_path, "--json"], True, fresh=False)
        shutil.rmtree(d, ignore_errors=True)

    def make(i):
        c, objs, names, types = bases[i % len(bases)]
        cls = classes[(i // len(bases)) % len(classes)]
        if cls == "headers":
            m = mutate_headers(rng, c)
        elif cls == "truncate":
            m = mutate_truncate(rng, c)
        elif cls == "objects":
            m = mutate_objects(rng, c, objs, names)
        else:
            m = mutate_flips(rng, c, objs)
        if m.addr is None and objs:
            m.addr = rng.choice(objs)
        return m

    classes = [c for c in args.classes.split(",") if c]
    unknown = set(classes) - {"headers", "truncate", "objects", "flips"}
    if unknown or not classes:
        ap.error("--classes: unknown class(es) %s" % ", ".join(sorted(unknown)) if unknown else "--classes: none")
    mutants = []
    if not args.no_regressions:
        # The type name: every command on the first core, the telling ones on
        # the others. The path (NT_FILE, the same in every version): the first.
        for k, (c, objs, names, types) in enumerate(bases):
            m = regression_name_not_utf8(c, objs, names)
            if m and k:
                m.only = {"info", "types", "types-text", "snapshot", "show", "stacks-text"}
            p = None if k else regression_path_not_utf8(c)
            if p:
                p.only = {"info", "types-text", "summary", "stacks-text"}
            # a dropped segment, for each of the first PT_LOADs (the
            # interpreter's and libraries' data among them), on every core
            drops = [regression_segment_dropped(c, j) for j in range(3, 9)]
            for d in drops:
                if d:
                    d.only = {"types"}
            for x in [m, p] + drops:
                if x:
                    if x.addr is None and objs:
                        x.addr = objs[0]
                    mutants.append(x)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending = []
        for i in range(len(mutants) + args.mutants):
            if i >= len(mutants) and time.time() - start > args.seconds:
                break
            m = mutants[i] if i < len(mutants) else make(i)
            base = next(b for b in bases if b[0] is m.core)
            m.known, m.baseline_types = base[1], base[3]
            stats["mutants"][m.cls] = stats["mutants"].get(m.cls, 0) + 1
            if m.expect:
                stats["regression"] += 1
            if m.segment:
                stats["segment_mutants"] += 1
            pending.append(pool.submit(job, m, i))
            while len([p for p in pending if not p.done()]) >= args.jobs * 2:
                time.sleep(0.02)
        for p in pending:
            p.result()
    shutil.rmtree(work, ignore_errors=True)

    stats["seconds"] = round(time.time() - start, 1)
    stats["failures"] = [{"kind": k, "detail": d, "command": n, "mutant": m.what, "class": m.cls,
                          "core": m.core.path} for m, n, _, k, d in failures]
    stats["noted"] = noted
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(stats, f, indent=1)
    print("mutate_cores: %d mutants (%s), %d runs in %.0fs; exits %s" % (
        sum(stats["mutants"].values()), ", ".join("%s %d" % kv for kv in sorted(stats["mutants"].items())),
        stats["runs"], stats["seconds"], ", ".join("%s: %d" % kv for kv in sorted(stats["exits"].items()))))
    for line in noted[:10]:
        print("mutate_cores: NOTE (does not fail): " + line)
    print("mutate_cores: %d mutant(s) moved or resized a segment; %d run(s) of them gave a different complete "
          "answer (noted, not failed)" % (stats["segment_mutants"], len(noted)))
    seen = set()
    for m, name, argv, kind, detail in failures:
        key = (kind, name, detail[:80])
        if key in seen:
            continue
        seen.add(key)
        print("mutate_cores: FAIL %s: %s: %s [%s: %s]" % (kind, name, detail, m.cls, m.what))
    if failures:
        print("mutate_cores: %d failing run(s) (%s); reproducers in %s" % (
            len(failures), ", ".join("%s %d" % (k, v) for k, v in stats["fail"].items() if v), repro_dir))
        return 1
    print("mutate_cores: no crash, hang, sanitizer report, bad exit, invalid JSON or UTF-8, unclear message, "
          "silent partial result or stray file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
