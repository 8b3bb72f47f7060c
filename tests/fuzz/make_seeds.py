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
  index     edit lists for fuzz_index.c (it makes its own sound index and
            applies them): none, one flipped count, a cut

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
        for i, e in enumerate(gate_expressions(args.source)):
            write(os.path.join(args.out, "gate"), "expr%03d" % i, e.encode())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    counts = {d: len(os.listdir(os.path.join(args.out, d))) for d in sorted(os.listdir(args.out))}
    print("make_seeds: " + ", ".join("%s %d" % kv for kv in counts.items()))
    missing = [t for t in ("core", "elf", "dwarf", "inflate", "snapshot", "gate", "index") if not counts.get(t)]
    if missing:
        print("make_seeds: no seeds for " + ", ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
