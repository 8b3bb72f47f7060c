#!/usr/bin/env python3
"""Tests of the built-in layout tables and the layout checks (issue 6).

check_layout.py COMMAND --coreheap BIN [options]

  regen (--lib FILE | --debug-of EXE [--debug-root DIR]) --version V --table readers/cpython/layouts/V.layout
      `coreheap layout --dump FILE --version V` must be byte-identical to the
      committed table, and `coreheap layout --builtin V` (the table compiled
      into the binary) too: the committed data is what the command makes.
  same --core CORE --version V
      `info --json` with CH_LAYOUT_SOURCE=builtin says the layout came from
      the exact built-in table V with no warning, and reports exactly what
      the DWARF run reports (GC state, threads, runtime addresses).
  no-table --core CORE --from TEXT --to TEXT --out COPY
      a copy of a 3.8-3.10 core whose Py_GetVersion() text TEXT is rewritten
      to a version no table has: with CH_LAYOUT_SOURCE=builtin, exit 4 and a
      one-line error naming the version and what would make it work.
  wrong-table --core CORE --from TEXT --to TEXT --out COPY --table V
      the same rewrite to another minor version that has a table (V): the
      self-checks must reject that table (exit 4, naming it).
  near-table --core CORE --from TEXT --to TEXT --out COPY --table V
      the rewrite to another micro of the same minor: table V is used with
      a warning, table_exact false, and the run succeeds.
  debug-offsets --core CORE --version V --out COPY
      a copy of a 3.13+ core with _Py_DebugOffsets.thread_state.native_thread_id
      moved by 8: `info --json` (with DWARF and with the built-in table) warns
      naming the field and both values, and takes the runtime's value.

Exit 0 pass, 1 fail (reasons printed), 77 skip (missing input, reason printed).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys


def fail(msg):
    print("check_layout: FAIL: %s" % msg)
    sys.exit(1)


def skip(msg):
    print("check_layout: SKIP: %s" % msg)
    sys.exit(77)


def run(a, argv, builtin=False):
    env = dict(os.environ)
    env.pop("CH_LAYOUT_SOURCE", None)
    # The DWARF side is DWARF, not a layout cached from it by an earlier test.
    env["CH_LAYOUT_CACHE"] = "off"
    if builtin:
        env["CH_LAYOUT_SOURCE"] = "builtin"
    return subprocess.run([a.coreheap] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=600)


def info(a, core, builtin=False, rc=0):
    p = run(a, ["info", "--json", core], builtin)
    if p.returncode != rc:
        fail("info %s%s exited %d (expected %d): %s" % (core, " (builtin)" if builtin else "", p.returncode, rc,
                                                      p.stderr.decode(errors="replace").strip()))
    return json.loads(p.stdout)


def need(path):
    if not os.path.exists(path):
        skip("%s not found" % path)


def debug_file_of(exe, root="/usr/lib/debug"):
    """The build-id debug file of exe under root (/usr/lib/debug), or None."""
    if not os.path.exists(exe):
        return None
    p = subprocess.run(["readelf", "-n", exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    for line in p.stdout.splitlines():
        if "Build ID:" in line:
            h = line.split(":", 1)[1].strip()
            return "%s/.build-id/%s/%s.debug" % (root, h[:2], h[2:])
    return None


def cmd_regen(a):
    if a.debug_of:
        a.lib = debug_file_of(a.debug_of, a.debug_root)
        if not a.lib or not os.path.exists(a.lib):
            skip("no debug file for %s (apt-get install python3.11-dbg)" % a.debug_of)
    need(a.lib)
    with open(a.table, "rb") as f:
        committed = f.read()
    p = run(a, ["layout", "--dump", a.lib, "--version", a.version])
    if p.returncode != 0:
        fail("layout --dump %s exited %d: %s" % (a.lib, p.returncode, p.stderr.decode(errors="replace").strip()))
    if p.stdout != committed:
        fail("%s differs from a fresh `coreheap layout --dump %s --version %s`: regenerate with "
             "scripts/gen_layouts.sh" % (a.table, a.lib, a.version))
    p = run(a, ["layout", "--builtin", a.version])
    if p.returncode != 0 or p.stdout != committed:
        fail("`coreheap layout --builtin %s` is not the committed %s (rebuild?)" % (a.version, a.table))
    nfields = sum(1 for l in committed.decode().splitlines() if l[:1].isupper())
    print("check_layout: PASS: %s == fresh dump == built-in (%d fields)" % (a.table, nfields))


def cmd_same(a):
    need(a.core)
    dwarf = info(a, a.core)
    table = info(a, a.core, builtin=True)
    lay = table["layout"]
    if (lay["kind"], lay["table"], lay["table_exact"]) != ("builtin", a.version, True):
        fail("builtin run used %r, expected the exact table %s" % (lay, a.version))
    if dwarf["layout"]["kind"] != "dwarf":
        fail("default run did not use DWARF: %r" % dwarf["layout"])
    if table["warnings"]:
        fail("builtin run warned: %r" % table["warnings"])
    if lay["self_checks_passed"] < 2:
        fail("builtin run passed only %d self-checks" % lay["self_checks_passed"])
    for doc in (dwarf, table):
        del doc["layout"]
        del doc["runtime"]["layout_source"]
        # How the debug file was found (build-id for a distro's separate
        # file): says where DWARF came from, so it differs by design.
        doc["runtime"].pop("layout_method", None)
    if dwarf != table:
        fail("info differs between DWARF and the built-in table:\n%s\n%s" % (json.dumps(dwarf, sort_keys=True),
                                                                          json.dumps(table, sort_keys=True)))
    print("check_layout: PASS: info from built-in table %s == info from DWARF (%d self-checks)"
          % (a.version, lay["self_checks_passed"]))


def patched_copy(a):
    need(a.core)
    with open(a.core, "rb") as f:
        data = f.read()
    old, new = b"\0" + a.from_text.encode(), b"\0" + a.to_text.encode()
    if len(old) != len(new):
        fail("--from and --to must have the same length")
    n = data.count(old)
    if n == 0:
        fail("%r not found in %s" % (a.from_text, a.core))
    with open(a.out, "wb") as f:
        f.write(data.replace(old, new))
    return n


def cmd_no_table(a):
    patched_copy(a)
    p = run(a, ["info", "--json", a.out], builtin=True)
    err = p.stderr.decode(errors="replace")
    errors = [l for l in err.splitlines() if l.startswith("coreheap: error: ")]
    version = a.to_text.split(" ")[0]
    if p.returncode != 4 or len(errors) != 1 or p.stdout.strip():
        fail("expected exit 4 and one error line, got exit %d:\n%s" % (p.returncode, err))
    for want in (version, "no built-in layout table", "debug symbols", "--debug-dir"):
        if want not in errors[0]:
            fail("the error does not mention %r: %s" % (want, errors[0]))
    print("check_layout: PASS: %s" % errors[0])


def cmd_wrong_table(a):
    patched_copy(a)
    p = run(a, ["info", "--json", a.out], builtin=True)
    err = p.stderr.decode(errors="replace")
    errors = [l for l in err.splitlines() if l.startswith("coreheap: error: ")]
    if p.returncode != 4 or len(errors) != 1:
        fail("expected exit 4 and one error line for a wrong table, got exit %d:\n%s" % (p.returncode, err))
    for want in ("self-check failed", "built-in table %s" % a.table):
        if want not in errors[0]:
            fail("the error does not mention %r: %s" % (want, errors[0]))
    print("check_layout: PASS: %s" % errors[0])


def cmd_near_table(a):
    patched_copy(a)
    doc = info(a, a.out, builtin=True)
    lay = doc["layout"]
    if (lay["table"], lay["table_exact"]) != (a.table, False):
        fail("expected the nearest table %s, not exact: %r" % (a.table, lay))
    if not any("built-in layout table %s of another micro version" % a.table in w for w in doc["warnings"]):
        fail("no warning about the micro version: %r" % doc["warnings"])
    print("check_layout: PASS: %s used for %s with a warning" % (a.table, doc["runtime"]["version"]))


def core_offset(data, addr):
    """File offset of addr in an ELF64 core, or None when the core lacks it."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz, _ = struct.unpack_from("<IIQQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and vaddr <= addr < vaddr + filesz:
            return off + (addr - vaddr)
    return None


def cmd_debug_offsets(a):
    need(a.core)
    base = info(a, a.core)
    runtime = int(base["runtime"]["runtime_address"], 16)
    p = run(a, ["layout", "--builtin", a.version])
    if p.returncode != 0:
        fail("no built-in table %s" % a.version)
    table = dict(l.split(" ", 1) for l in p.stdout.decode().splitlines() if l[:1].isupper())
    member = int(table["RUNTIME_DEBUG_OFFSETS"]) + int(table["DBGOFF_TSTATE_NATIVE_THREAD_ID"])
    want = int(table["TSTATE_NATIVE_THREAD_ID"])
    with open(a.core, "rb") as f:
        data = bytearray(f.read())
    off = core_offset(data, runtime + member)
    if off is None:
        fail("the core does not hold _PyRuntime.debug_offsets (page not dumped)")
    have, = struct.unpack_from("<Q", data, off)
    if have != want:
        fail("the unaltered core's _Py_DebugOffsets says %d, the table %d" % (have, want))
    struct.pack_into("<Q", data, off, want + 8)
    with open(a.out, "wb") as f:
        f.write(data)
    for builtin in (False, True):
        doc = info(a, a.out, builtin=builtin)
        lay = doc["layout"]
        hits = [w for w in doc["warnings"] if "TSTATE_NATIVE_THREAD_ID" in w and str(want) in w and str(want + 8) in w]
        if not hits:
            fail("no warning naming TSTATE_NATIVE_THREAD_ID, %d and %d: %r" % (want, want + 8, doc["warnings"]))
        if lay["from_runtime"] != ["TSTATE_NATIVE_THREAD_ID"] or lay["debug_offsets_disagreements"] != 1:
            fail("expected exactly TSTATE_NATIVE_THREAD_ID from the runtime: %r" % lay)
        if lay["debug_offsets"] != "checked" or lay["debug_offsets_checked"] < 40:
            fail("debug offsets not checked: %r" % lay)
        print("check_layout: PASS (%s): %s" % (lay["kind"], hits[0]))
    clean = info(a, a.core)["layout"]
    if clean["debug_offsets_disagreements"] != 0:
        fail("the unaltered core disagrees with the DWARF layout: %r" % clean)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["regen", "same", "no-table", "wrong-table", "near-table", "debug-offsets"])
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--lib")
    ap.add_argument("--debug-of", help="regen: use the build-id debug file of this executable as --lib")
    ap.add_argument("--debug-root", default="/usr/lib/debug",
                    help="regen --debug-of: where the .build-id/ debug files are (default /usr/lib/debug)")
    ap.add_argument("--version")
    ap.add_argument("--table")
    ap.add_argument("--core")
    ap.add_argument("--out")
    ap.add_argument("--from", dest="from_text")
    ap.add_argument("--to", dest="to_text")
    a = ap.parse_args()
    {"regen": cmd_regen, "same": cmd_same, "no-table": cmd_no_table, "wrong-table": cmd_wrong_table,
     "near-table": cmd_near_table, "debug-offsets": cmd_debug_offsets}[a.command](a)


if __name__ == "__main__":
    main()
