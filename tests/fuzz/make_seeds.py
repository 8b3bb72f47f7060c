#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets (tests/fuzz/fuzz_<name>.c), made
at test time so that nothing binary is committed. Each seed is a small cut
of a real input:

  core      the fixture core cut down: ELF header, program headers and notes
            with every segment shortened to at most a page (and a variant
            that stops after the notes, i.e. a truncated core)
  elf       the fixture interpreter's executable (small: the code is in
            libpython), a stripped copy, and the compiled seed object
  dwarf     tests/fuzz/seed_types.c compiled with -g into a shared object,
            as DWARF 2, 4 and 5 and with zlib-compressed debug sections, and
            the interpreter's executable (its own small DWARF, when built -g)
  inflate   the cut core compressed by zstd, lz4, xz and gzip, each with
            the format selector byte the target reads first
  snapshot  coreheap's own snapshot of the fixture core, with its lists cut
            to a few rows, and a minimal hand-written one
  gate      the --fail-if expressions of docs/gating.md and a few more
  glibc     synthetic glibc malloc memory (fuzz_glibc.c's input format): a
            main arena with a tcache, a fastbin, a small bin, in-use chunks
            and top, a thread arena in its own heap, an mmapped chunk; one
            per built-in table (readers/allocators/glibc_tables), laid out
            from that table's offsets
  pymalloc  synthetic pymalloc state (fuzz_pymalloc.c's input format) for
            3.12 and 3.13 from their layout tables: an arena table with
            used, full, empty and damaged pools
  emu       the hand-assembled functions of tests/unit/test_emulator.c as
            the code page, with an object whose fields point at others
  index     edit lists for fuzz_index.c (it makes its own sound index and
            applies them): none, one flipped count, a cut
  cache     the layout cache's bodies (fuzz_cache.c's input format): the
            built-in glibc tables and the CPython 3.12.1 table, each after
            its selector byte

Exit 0 when every corpus has at least one seed; 77 when the fixture core or
interpreter is missing (the test is SKIPPED, reason printed); 1 otherwise."""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

PT_LOAD, PT_NOTE = 1, 4
EHDR, PHDR = 64, 56


def cut_core(data, keep=4096, memory=True):
    """A copy of the core with each PT_LOAD's file bytes cut to `keep` (0:
    none, the file ends after the notes when memory is False)."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phnum, = struct.unpack_from("<H", data, 0x38)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + PHDR * i)) for i in range(phnum)]
    out = bytearray(data[:EHDR])
    struct.pack_into("<Q", out, 0x20, EHDR)
    out += bytes(PHDR * phnum)
    blobs = []
    for ph in phdrs:
        p_type, _, off, _, _, filesz, _, _ = ph
        if p_type == PT_NOTE:
            blobs.append((ph, data[off:off + filesz]))
    for ph in phdrs:
        p_type, _, off, _, _, filesz, _, _ = ph
        if p_type == PT_LOAD:
            n = min(filesz, keep)
            blobs.append((ph, data[off:off + n]))
    for ph, blob in blobs:
        ph[2] = len(out)
        if ph[0] == PT_LOAD:
            ph[5] = len(blob)
        if ph[0] == PT_NOTE or memory:
            out += blob
    for i, ph in enumerate(p for p, _ in blobs):
        struct.pack_into("<IIQQQQQQ", out, EHDR + PHDR * i, *ph)
    struct.pack_into("<H", out, 0x38, len(blobs))
    return bytes(out)


def write(corpus, name, data):
    os.makedirs(corpus, exist_ok=True)
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(data)


def compile_seed(cc, source, out, flags):
    cmd = [cc, "-shared", "-nostdlib", "-fPIC", "-O0", "-o", out, source] + flags
    subprocess.run(cmd, check=True, capture_output=True)
    with open(out, "rb") as f:
        return f.read()


def cut_snapshot(text):
    """The snapshot with every list cut to two rows (a valid snapshot)."""
    doc = json.loads(text)
    for key in ("types", "groups", "retainers"):
        if isinstance(doc.get(key), list):
            doc[key] = doc[key][:2]
    unreach = doc.get("unreachable")
    if isinstance(unreach, dict) and isinstance(unreach.get("types"), list):
        unreach["types"] = unreach["types"][:2]
    return json.dumps(doc).encode()


def gate_expressions(source):
    exprs = set()
    with open(os.path.join(source, "docs", "gating.md"), encoding="utf-8") as f:
        doc = f.read()
    for m in re.finditer(r"--fail-if\s+(['\"])(.+?)\1", doc):
        exprs.add(m.group(2))
    for m in re.finditer(r"`([^`\n]+)`", doc):
        s = m.group(1)
        if re.search(r"[<>=!]=?|\band\b|\bor\b", s) and not s.startswith(("coreheap", "--")):
            exprs.add(s)
    exprs.update([
        "unreachable.bytes > 1MiB or (gc.enabled == false and not partial)",
        "growth('app.Session').count >= 100 && b.totals.count - 1 < a.totals.count",
        "type(\"dict\").bytes <= 1.5KB", "runtime.version != '3.12.1'", "!(-1 < 0)",
        "types.new > 3", "a.gc.threshold0 == b.gc.threshold0",
    ])
    return sorted(exprs)


def zstd_claims_gigabytes(so):
    """The seed object with its .debug_info marked zstd-compressed and a
    compression header claiming 3.5 GB (a regression input: the inflater
    allocated what the header claimed before reading the stream)."""
    data = bytearray(so)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    stroff, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)
    for i in range(shnum):
        h = shoff + i * shentsize
        name, _, flags, _, off, size = struct.unpack_from("<IIQQQQ", data, h)
        if data[stroff + name:stroff + name + 12] == b".debug_info\0" and size >= 24:
            struct.pack_into("<Q", data, h + 8, flags | 0x800)  # SHF_COMPRESSED
            struct.pack_into("<IIQQ", data, off, 2, 0, 3500000000, 1)  # ELFCOMPRESS_ZSTD
            return bytes(data)
    raise SystemExit("make_seeds: the seed object has no .debug_info")


def read_table(path):
    """A text table of `name value` lines (glibc tables, CPython layouts)."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                out[parts[0]] = int(parts[1]) if parts[1].isdigit() else parts[1]
    return out


def align16(n):
    return (n + 15) & ~15


def glibc_seed(t, index):
    """fuzz_glibc.c's input for table t (a dict of its fields): addresses as
    the harness places the parts (LIBC_BASE, HEAP, THEAP, MMAP)."""
    libc_base, heap_at, theap_at = 0x7f0000000000, 0x555500000000, 0x7e0000000000
    mp = libc_base + t["sym_mp"]
    main = libc_base + t["sym_main_arena"]
    data = bytearray(main + t["ms_sizeof"] - mp)
    mangle = t["version"] not in ("2.26", "2.27", "2.28", "2.29", "2.30", "2.31")

    def put(buf, off, v, n=8):
        buf[off:off + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")

    def arena(buf, base, addr, top, nxt, system_mem, bins=None):
        """malloc_state at buf[base:]: bins empty (each bin pointing at
        itself) except those given, top and the ring link."""
        bins = bins or {}
        for i in range(1, t["nbins"] // 2 + 1):
            b = addr + t["ms_bins"] + (i - 1) * 16 - t["mc_fd"]
            fd = bk = bins.get(i, b)
            put(buf, base + t["ms_bins"] + (i - 1) * 16, fd)
            put(buf, base + t["ms_bins"] + (i - 1) * 16 + 8, bk)
        put(buf, base + t["ms_top"], top)
        put(buf, base + t["ms_next"], nxt)
        put(buf, base + t["ms_system_mem"], system_mem)

    # The brk heap: the tcache struct, a tcache chunk, a fastbin chunk, an
    # in-use chunk, a free chunk in small bin 9 (0x90 bytes), an in-use
    # chunk whose PREV_INUSE says so, top.
    tc_size = align16(t["tc_entries"] + 8 * t["tc_nbins"] + 16)
    chunks = [(tc_size, "in_use"), (0x20, "tcache"), (0x20, "fast"), (0x30, "in_use"), (0x90, "small"),
              (0x40, "after_free")]
    heap = bytearray(sum(size for size, _ in chunks) + 0x40)
    off, where = 0, {}
    for size, kind in chunks:
        put(heap, off + t["mc_size"], size | (0 if kind == "after_free" else 1))
        if kind == "after_free":
            put(heap, off, 0x90)  # prev_size
        where[kind] = off
        off += size
    top = off
    put(heap, top + t["mc_size"], (len(heap) - top) | 1)
    tcache = heap_at + 16
    e = heap_at + where["tcache"] + t["mc_user"]
    put(heap, t["tc_entries"] + 16, e)  # entries[0] (user data at +16)
    put(heap, e - heap_at + t["te_next"], (e + t["te_next"]) >> 12 if mangle else 0)
    put(heap, t["tc_counts"] + 16, 0 if t["tc_counts_are_room"] else 1, t["tc_count_size"])
    fast = heap_at + where["fast"]
    put(heap, where["fast"] + t["mc_fd"], (fast + t["mc_fd"]) >> 12 if mangle else 0)
    small = heap_at + where["small"]
    bin9 = main + t["ms_bins"] + 8 * 16 - t["mc_fd"]
    put(heap, where["small"] + t["mc_fd"], bin9)
    put(heap, where["small"] + t["mc_bk"], bin9)

    # A thread arena: heap_info, malloc_state, one in-use chunk, top.
    theap = bytearray(align16(t["hi_sizeof"] + t["ms_sizeof"]) + 0x200)
    tarena = theap_at + align16(t["hi_sizeof"])
    put(theap, t["hi_ar_ptr"], tarena)
    put(theap, t["hi_prev"], 0)
    put(theap, t["hi_size"], len(theap))
    first = align16(tarena + t["ms_sizeof"]) - theap_at
    put(theap, first + t["mc_size"], 0x50 | 5)
    ttop = first + 0x50
    put(theap, ttop + t["mc_size"], (len(theap) - ttop) | 1)
    arena(theap, tarena - theap_at, tarena, theap_at + ttop, main, len(theap))

    arena(data, main - mp, main, heap_at + top, tarena, len(heap), {9: small})
    put(data, main - mp + t["ms_fastbins"], fast)
    put(data, t["mp_sbrk_base"], heap_at)
    put(data, t["mp_n_mmaps"], 1, t["mp_n_mmaps_size"])
    put(data, t["mp_mmapped_mem"], 0x2000)

    mmapped = bytearray(0x2000)
    put(mmapped, 8, 0x2000 | 2)
    out = bytearray([index | 0x80]) + tcache.to_bytes(8, "little") + data
    out += len(heap).to_bytes(2, "little") + heap + len(theap).to_bytes(2, "little") + theap + mmapped
    return bytes(out)


def pymalloc_seed(lay, version_bit, pools):
    """fuzz_pymalloc.c's input: one arena at ARENA whose first pools are
    `pools` (a list of (count, size class) or None for an empty pool)."""
    arena_at, pool_size = 0x7f4000000000, 16384
    obj = lay["SIZEOF_ARENA_OBJECT"]
    table = bytearray(2 * obj)  # the arena, then an unused slot (address 0)

    def put(buf, off, v, n=8):
        buf[off:off + n] = v.to_bytes(n, "little")

    put(table, lay["ARENAOBJ_ADDRESS"], arena_at)
    put(table, lay["ARENAOBJ_POOL_ADDRESS"], arena_at + len(pools) * pool_size)
    put(table, lay["ARENAOBJ_NFREEPOOLS"], 64 - len([p for p in pools if p]), 4)
    mem = bytearray(len(pools) * pool_size)
    for i, pool in enumerate(pools):
        if pool is None:
            continue
        count, szidx = pool
        base = i * pool_size
        put(mem, base + lay["POOL_COUNT"], count, 4)
        put(mem, base + lay["POOL_SZIDX"], szidx, 4)
        put(mem, base + lay["POOL_MAXNEXTOFFSET"], pool_size - (szidx + 1) * 16, 4)
    hdr = (2).to_bytes(4, "little") + (3).to_bytes(8, "little") + (2).to_bytes(8, "little")
    hdr += (1).to_bytes(4, "little") + (1).to_bytes(4, "little")
    return bytes([version_bit]) + hdr + len(table).to_bytes(2, "little") + table + bytes(mem)


def pymalloc_undumped_seed(lay, version_bit, n):
    """n arenas whose memory the core does not hold (a regression input: each
    cost 64 failed reads and warnings, which made a damaged table of many
    arenas run for minutes)."""
    obj = lay["SIZEOF_ARENA_OBJECT"]
    table = bytearray(n * obj)
    for i in range(n):
        base = 0x7f5000000000 + i * (1 << 20)
        a, p = i * obj + lay["ARENAOBJ_ADDRESS"], i * obj + lay["ARENAOBJ_POOL_ADDRESS"]
        table[a:a + 8] = base.to_bytes(8, "little")
        table[p:p + 8] = (base + (1 << 20)).to_bytes(8, "little")
    hdr = n.to_bytes(4, "little") + bytes(16) + bytes(8)
    return bytes([version_bit]) + hdr + len(table).to_bytes(2, "little") + bytes(table)


def emu_seeds(source):
    """(name, input) pairs: the unit test's functions, each as the code page."""
    with open(os.path.join(source, "tests", "unit", "test_emulator.c")) as f:
        text = f.read()
    body = text[text.index("code_bytes[] = {"):]
    body = body[:body.index("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    code = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})\b", body))
    offsets = dict((m.group(1).lower(), int(m.group(2), 16))
                   for m in re.finditer(r"F_([A-Z0-9_]+) = (0x[0-9a-fA-F]+)", text))
    obj = bytearray(256)
    obj[0x10:0x18] = (0x600000 + 0x180).to_bytes(8, "little")
    obj[0x18:0x20] = (0x600000 + 0x1c0).to_bytes(8, "little")
    out = [("all", bytes([0x2d]) + bytes(obj) + code)]
    for name, off in sorted(offsets.items()):
        out.append((name, bytes([0]) + bytes(obj) + code[off:]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    for what in (args.core, args.python):
        if not os.path.exists(what):
            print("make_seeds: SKIP: %s not found (its fixture or interpreter is missing)" % what)
            return 77
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    with open(args.core, "rb") as f:
        core = f.read()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="seeds.", dir=os.path.dirname(os.path.abspath(args.out)))
    try:
        small = cut_core(core, 4096)
        write(os.path.join(args.out, "core"), "pages", small)
        write(os.path.join(args.out, "core"), "words", cut_core(core, 64))
        write(os.path.join(args.out, "core"), "notes-only", cut_core(core, 4096, memory=False))

        exe = os.path.realpath(args.python)
        with open(exe, "rb") as f:
            exe_bytes = f.read()
        write(os.path.join(args.out, "elf"), "python", exe_bytes)
        if len(exe_bytes) < (1 << 20):
            # A real debug file, small: the executable holds one compile unit (main).
            write(os.path.join(args.out, "dwarf"), "python", exe_bytes)
        stripped = os.path.join(tmp, "python.stripped")
        subprocess.run(["strip", "-o", stripped, exe], check=True, capture_output=True)
        with open(stripped, "rb") as f:
            write(os.path.join(args.out, "elf"), "python-stripped", f.read())

        seed_c = os.path.join(args.source, "tests", "fuzz", "seed_types.c")
        variants = {"dwarf5": ["-gdwarf-5"], "dwarf4": ["-gdwarf-4"], "dwarf2": ["-gdwarf-2", "-gstrict-dwarf"],
                    "zlib": ["-gdwarf-4", "-gz=zlib"]}
        for name, flags in variants.items():
            so = compile_seed(args.cc, seed_c, os.path.join(tmp, name + ".so"), flags)
            write(os.path.join(args.out, "dwarf"), name, so)
            if name == "dwarf4":
                write(os.path.join(args.out, "elf"), "seed-object", so)
                write(os.path.join(args.out, "elf"), "zstd-claims-gigabytes", zstd_claims_gigabytes(so))

        tiny = cut_core(core, 256)
        plain = os.path.join(tmp, "core")
        with open(plain, "wb") as f:
            f.write(tiny)
        for sel, (name, cmd) in enumerate((("zstd", ["zstd", "-q", "-c"]), ("lz4", ["lz4", "-q", "-c"]),
                                           ("xz", ["xz", "-c", "-T1"]), ("gzip", ["gzip", "-c"]))):
            if not shutil.which(cmd[0]):
                print("make_seeds: %s not installed: no %s seed" % (cmd[0], name))
                continue
            r = subprocess.run(cmd + [plain], check=True, capture_output=True)
            write(os.path.join(args.out, "inflate"), name, bytes([sel]) + r.stdout)
        write(os.path.join(args.out, "inflate"), "plain", bytes([4]) + tiny[:4096])

        snap = os.path.join(tmp, "snapshot.json")
        r = subprocess.run([args.coreheap, "snapshot", args.core, "-o", snap], capture_output=True, text=True,
                           timeout=600)
        if r.returncode not in (0, 5):
            print("make_seeds: coreheap snapshot failed (exit %d): %s" % (r.returncode, r.stderr.strip()))
            return 1
        with open(snap, encoding="utf-8") as f:
            write(os.path.join(args.out, "snapshot"), "fixture-cut", cut_snapshot(f.read()))
        minimal = {"schema": 1, "kind": "coreheap-snapshot", "coreheap": "0.1.0",
                   "runtime": {"version": "3.12.1", "executable": "/usr/bin/python3", "pid": 1, "signal": 6},
                   "totals": {"count": 1, "bytes": 16, "gen": [0, 0, 1, 0, 0], "types": 1},
                   "types": [{"type": "dict", "count": 1, "bytes": 16, "gen": [0, 0, 1, 0, 0]}],
                   "partial": False, "warnings": []}
        write(os.path.join(args.out, "snapshot"), "minimal", json.dumps(minimal).encode())

        write(os.path.join(args.out, "index"), "no-edit", b"")
        write(os.path.join(args.out, "index"), "flip-count", bytes([0x38, 0, 0x01]))
        write(os.path.join(args.out, "index"), "cut-half", bytes([0, 0, 0, 128]))
        tables = os.path.join(args.source, "readers", "allocators", "glibc_tables")
        for index, name in enumerate(sorted(os.listdir(tables))):
            t = read_table(os.path.join(tables, name))
            write(os.path.join(args.out, "glibc"), "glibc-%s" % t["version"], glibc_seed(t, index))
        # fuzz_cache.c's input: a selector byte (bit 0: glibc), then a cache
        # file's body: the built-in tables of the builds the harness names.
        for name in sorted(os.listdir(tables)):
            with open(os.path.join(tables, name), "rb") as f:
                write(os.path.join(args.out, "cache"), "glibc-" + name[:12], bytes([1]) + f.read())
        with open(os.path.join(args.source, "readers", "cpython", "layouts", "3.12.1.layout"), "rb") as f:
            write(os.path.join(args.out, "cache"), "layout-3.12.1", bytes([0]) + f.read())
        layouts = os.path.join(args.source, "readers", "cpython", "layouts")
        for bit, version in ((0, "3.12.1"), (1, "3.13.0")):
            lay = read_table(os.path.join(layouts, version + ".layout"))
            write(os.path.join(args.out, "pymalloc"), "pymalloc-%s" % version,
                  pymalloc_seed(lay, bit, [(3, 0), (1, 31), None, (30, 1), (2, 6)]))
            write(os.path.join(args.out, "pymalloc"), "pymalloc-%s-damaged" % version,
                  pymalloc_seed(lay, bit, [(3, 0), (1000, 1), (2, 40)]))
            write(os.path.join(args.out, "pymalloc"), "pymalloc-%s-undumped" % version,
                  pymalloc_undumped_seed(lay, bit, 1300))
        for name, data in emu_seeds(args.source):
            write(os.path.join(args.out, "emu"), name, data)

        for i, e in enumerate(gate_expressions(args.source)):
            write(os.path.join(args.out, "gate"), "expr%03d" % i, e.encode())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    counts = {d: len(os.listdir(os.path.join(args.out, d))) for d in sorted(os.listdir(args.out))}
    print("make_seeds: " + ", ".join("%s %d" % kv for kv in counts.items()))
    missing = [t for t in ("core", "elf", "dwarf", "inflate", "snapshot", "gate", "glibc", "pymalloc", "emu",
                           "index") if not counts.get(t)]
    if missing:
        print("make_seeds: no seeds for " + ", ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
