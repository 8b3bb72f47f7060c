#!/usr/bin/env python3
"""Cores without an NT_FILE note: coreheap finds the mapped files through
the dynamic linker's r_debug link map (readers/process/link_map.c).

    check_no_nt_file.py --qemu  --python PY --coreheap PATH --core CORE --truth TRUTH.json
    check_no_nt_file.py --strip --python PY --coreheap PATH --core CORE --truth TRUTH.json --out DIR

--qemu: CORE was written by qemu-user (tests/make_fixture_core.sh with
CH_CORE_LAUNCHER=qemu-x86_64). It must really lack NT_FILE (else the test
would prove nothing), and `info` must say the mapped files came from the
"r_debug link map", name the interpreter the scenario ran as executable,
find the runtime of the truth's version, give the fatal signal (SIGABRT,
from NT_PRSTATUS: qemu writes no NT_SIGINFO) and not be partial; `cycles`
must be exact (the emulated tp_traverse code reads the stack protector's
canary through fs_base, which qemu writes as 0 and coreheap finds again)
and `memory` must locate glibc's tcache (fs-relative too). The type
histogram and the cycles are compared with the truth by check_truth.py and
check_cycles.py on the same core (tests/CMakeLists.txt).

--strip: CORE is an ordinary kernel core. Copies of it are written to DIR:
  nofile.core    the NT_FILE note's type overwritten: info, types, cycles,
                 stacks --native and memory must give what they give on the
                 original, except what only NT_FILE can know: the mapping
                 source itself, and data files that are not ELF objects
                 (locale archive, gconv cache), which the link map does not
                 list, so their mappings count as anonymous memory (exactly
                 their bytes move between those two memory categories).
                 Paths compare by their real path: the link map names
                 /lib/x86_64-linux-gnu/libc.so.6 where NT_FILE names the
                 file the /lib link leads to.
  loop.core      also the last link_map entry's l_next pointed back at the
                 first: the same results, and info names the loop.
  astray.core    the first entry's l_next, and no_r_debug.core DT_DEBUG,
                 pointed at address 0x10: only the executable is known, so
                 info exits 5 and types 3, both naming what was not there.
With --sysroot /nonexistent, types on nofile.core exits 3 naming libpython
and --lib-search-path; with --exe PYTHON and --lib-search-path for each
directory NT_FILE named, it equals types on the original.
  neither.core   also NT_AUXV's type overwritten: info exits 5 saying that
                 neither NT_FILE nor the link map gave files, and why
                 (no AT_PHDR); types exits 3 saying the same.
"memory" figures "touched" (pages the core file stores as data, not holes)
are left out: the copies are written whole, without the original's holes.
Exit 0 only when every check ran and passed."""
import argparse
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_common import core_mapped_files, skip_skipped_fixture  # noqa: E402

NAME = "check_no_nt_file"
NT_AUXV, NT_FILE = 6, 0x46494C45
AT_PHDR, AT_PHNUM = 3, 5
PT_LOAD, PT_NOTE, PT_DYNAMIC, PT_PHDR = 1, 4, 2, 6
DT_NULL, DT_DEBUG = 0, 21


class Core:
    """The parts of an ELF core this test rewrites: notes and memory."""

    def __init__(self, data):
        self.data = bytearray(data)
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phnum, = struct.unpack_from("<H", data, 0x38)
        self.loads, self.notes = [], []
        for i in range(phnum):
            ptype, _, off, vaddr, _, fsz = struct.unpack_from("<IIQQQQ", data, phoff + i * 56)
            if ptype == PT_LOAD and fsz:
                self.loads.append((vaddr, fsz, off))
            p = off
            while ptype == PT_NOTE and p + 12 <= off + fsz:
                nsz, dsz, ntype = struct.unpack_from("<III", data, p)
                desc = p + 12 + ((nsz + 3) & ~3)
                self.notes.append((p, ntype, desc, dsz))
                p = desc + ((dsz + 3) & ~3)

    def retype(self, ntype):
        """Overwrites the type of every note of type ntype (returns how many)."""
        hits = [n for n in self.notes if n[1] == ntype]
        for p, _, _, _ in hits:
            struct.pack_into("<I", self.data, p + 8, 0x7FFF)
        return len(hits)

    def offset(self, addr, n=8):
        for vaddr, fsz, off in self.loads:
            if vaddr <= addr and addr + n <= vaddr + fsz:
                return off + addr - vaddr
        raise SystemExit("%s: 0x%x is not in the core" % (NAME, addr))

    def u64(self, addr):
        return struct.unpack_from("<Q", self.data, self.offset(addr))[0]

    def link_map(self):
        """Addresses of the link_map entries, walked as gdb does, and of
        the executable's DT_DEBUG entry."""
        aux = {}
        for _, ntype, desc, dsz in self.notes:
            if ntype == NT_AUXV:
                for i in range(0, dsz - 15, 16):
                    k, v = struct.unpack_from("<QQ", self.data, desc + i)
                    aux[k] = v
        phdrs = [struct.unpack_from("<IIQQQQQQ", self.data, self.offset(aux[AT_PHDR] + i * 56, 56))
                 for i in range(aux[AT_PHNUM])]
        bias = aux[AT_PHDR] - [p for p in phdrs if p[0] == PT_PHDR][0][3]
        dyn = bias + [p for p in phdrs if p[0] == PT_DYNAMIC][0][3]
        while self.u64(dyn) not in (DT_NULL, DT_DEBUG):
            dyn += 16
        lm, out = self.u64(self.u64(dyn + 8) + 8), []
        while lm and len(out) < 4096:
            out.append(lm)
            lm = self.u64(lm + 24)
        return out, dyn


class Checks:
    """check(ok, what): counts a check, printing what failed."""

    def __init__(self):
        self.passed, self.failed = 0, []

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
            print("FAIL  " + what)


def run(args, cmd, want_rc):
    p = subprocess.run([args.coreheap] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    doc = json.loads(p.stdout) if "--json" in cmd and p.stdout.strip() else None
    return p.returncode == want_rc, p, doc


def normalize(x, core):
    """Paths by their real path, the core's own name as CORE, no "touched"."""
    if isinstance(x, dict):
        return {k: normalize(v, core) for k, v in x.items() if k != "touched"}
    if isinstance(x, list):
        return [normalize(v, core) for v in x]
    if isinstance(x, str):
        x = x.replace(core, "CORE")
        return os.path.realpath(x) if x.startswith("/") and os.path.exists(x) else x
    return x


def compare_memory(a, b, check):
    """Equal, but for the non-ELF data files' mappings, anonymous without
    NT_FILE: their bytes move from file code to other anonymous memory."""
    moved = 0
    for ra, rb in zip(a["mappings"], b["mappings"]):
        if ra["path"] and rb["path"] is None and rb["kind"] == "anonymous":
            moved += ra["virtual"]
            ra = dict(ra, path=None, kind="anonymous")
        check(ra == rb, "memory mapping %s: %s on the original, %s without NT_FILE" % (ra["start"], ra, rb))
    check(len(a["mappings"]) == len(b["mappings"]), "memory: as many mappings")
    rows_a = {r["category"]: r["bytes"] for r in a["breakdown"]}
    rows_b = {r["category"]: r["bytes"] for r in b["breakdown"]}
    rows_a["files: code and read-only data"] -= moved
    rows_a["other anonymous memory"] += moved
    check(rows_a == rows_b, "memory breakdown: the original's, %d data-file bytes moved to anonymous" % moved)
    for k in ("total", "glibc", "pymalloc", "python", "native", "findings", "partial", "warnings"):
        check(a.get(k) == b.get(k), "memory %s equal" % k)


def strip_checks(args, check):
    with open(args.core, "rb") as f:
        orig = f.read()
    os.makedirs(args.out, exist_ok=True)
    nofile = Core(orig)
    check(nofile.retype(NT_FILE) == 1, "the original has one NT_FILE note")
    lms, dt_debug = nofile.link_map()
    check(len(lms) >= 4, "the link map has the executable, libpython, libc and ld.so (%d entries)" % len(lms))
    loop = Core(nofile.data)
    struct.pack_into("<Q", loop.data, loop.offset(lms[-1] + 24), lms[0])
    neither = Core(nofile.data)
    check(neither.retype(NT_AUXV) == 1, "the original has one NT_AUXV note")
    astray = Core(nofile.data)  # the first entry's l_next leads out of the dump
    struct.pack_into("<Q", astray.data, astray.offset(lms[0] + 24), 0x10)
    no_r_debug = Core(nofile.data)  # DT_DEBUG points where nothing was dumped
    struct.pack_into("<Q", no_r_debug.data, no_r_debug.offset(dt_debug + 8), 0x10)
    paths = {}
    for name, c in (("nofile", nofile), ("loop", loop), ("neither", neither), ("astray", astray),
                    ("no_r_debug", no_r_debug)):
        paths[name] = os.path.join(args.out, name + ".core")
        with open(paths[name], "wb") as f:
            f.write(c.data)

    for cmd in (["info"], ["types"], ["cycles"], ["stacks", "--native"], ["memory", "--limit", "0"]):
        ok, p, a = run(args, cmd + [args.core, "--json", "-q"], 0)
        check(ok, "%s exits 0 on the original core (%d: %s)" % (cmd[0], p.returncode, p.stderr.strip()))
        for variant in ("nofile", "loop"):
            ok, p, b = run(args, cmd + [paths[variant], "--json", "-q"], 0)
            check(ok, "%s exits 0 on %s.core (%d: %s)" % (cmd[0], variant, p.returncode, p.stderr.strip()))
            if a is None or b is None:
                continue
            a_n, b_n = normalize(a, args.core), normalize(b, paths[variant])
            if variant == "loop":
                warned = [w for w in b_n.pop("warnings", []) if "link map" in w and "loops" in w]
                check(len(warned) == 1, "%s on loop.core warns that the link map loops" % cmd[0])
                a_n.pop("warnings", None)
            if cmd[0] == "info":
                src = (a_n["core"].pop("mapping_source"), b_n["core"].pop("mapping_source"))
                check(src == ("NT_FILE", "r_debug link map"), "info core.mapping_source %s / %s" % src)
                files = (a_n["core"].pop("mapped_files"), b_n["core"].pop("mapped_files"))
                check(files[1] >= 4 and files[1] <= files[0], "mapped files: %d from NT_FILE, %d from the link map" % files)
                problem = b_n["core"].pop("mapping_problem")
                check(a_n["core"].pop("mapping_problem") is None, "no mapping problem on the original")
                if variant == "loop":
                    check(problem is not None and "loops" in problem, "info names the link map's loop: %s" % problem)
                else:
                    check(problem is None, "no mapping problem without NT_FILE: %s" % problem)
            if cmd[0] == "memory":
                compare_memory(a_n, b_n, check)
            else:
                check(a_n == b_n, "%s on %s.core equals %s on the original" % (cmd[0], variant, cmd[0]))

    # The files are looked up as NT_FILE's are: under --sysroot (here where
    # nothing is, so the error names the file and the options), else by
    # --exe and --lib-search-path, the build-id checked against the dump.
    ok, p, _ = run(args, ["types", paths["nofile"], "--sysroot", "/nonexistent"], 3)
    check(ok and "not found at /nonexistent/" in p.stderr and "--lib-search-path" in p.stderr,
          "types --sysroot /nonexistent exits 3 naming the file and --lib-search-path (%d: %s)"
          % (p.returncode, p.stderr.strip()))
    search = []
    for f in core_mapped_files(args.core):
        if os.path.dirname(f) not in search:
            search += ["--lib-search-path", os.path.dirname(f)]
    ok, p, a = run(args, ["types", args.core, "--json", "-q"], 0)
    ok2, p2, b = run(args, ["types", paths["nofile"], "--json", "-q", "--sysroot", "/nonexistent", "--exe",
                            args.python] + search, 0)
    check(ok and ok2 and a is not None and normalize(a, args.core) == normalize(b, paths["nofile"]),
          "types with --sysroot /nonexistent --exe --lib-search-path equals types on the original (%d: %s)"
          % (p2.returncode, p2.stderr.strip()))

    ok, p, d = run(args, ["info", paths["neither"], "--json"], 5)
    check(ok, "info on neither.core exits 5 (partial), got %d: %s" % (p.returncode, p.stderr.strip()))
    if d:
        check(d["core"]["mapping_source"] is None and "AT_PHDR" in (d["core"]["mapping_problem"] or ""),
              "info: no mapping source, and why: %s" % d["core"]["mapping_problem"])
        check(any("NT_FILE" in w and "link map" in w for w in d["warnings"]),
              "info warns that neither NT_FILE nor the link map named files: %s" % d["warnings"])
    ok, p, _ = run(args, ["info", paths["neither"]], 5)
    check("mapped files: NONE" in p.stdout, "info text says: mapped files: NONE")
    for name, why in (("astray", "link map entry 1 at 0x10 is not in the core"),
                      ("no_r_debug", "r_debug at 0x10 is not in the core")):
        ok, p, d = run(args, ["info", paths[name], "--json", "-q"], 5)
        check(ok and d and why in (d["core"]["mapping_problem"] or ""),
              "info on %s.core exits 5 saying %r (%d: %s)" % (name, why, p.returncode, d and d["core"]))
        ok, p, _ = run(args, ["types", paths[name]], 3)
        check(ok and why in p.stderr, "types on %s.core exits 3 saying %r (%d: %s)"
              % (name, why, p.returncode, p.stderr.strip()))
    ok, p, _ = run(args, ["types", paths["neither"]], 3)
    check(ok and "NT_FILE" in p.stderr and "link map" in p.stderr,
          "types on neither.core exits 3 naming NT_FILE and the link map (%d: %s)" % (p.returncode, p.stderr.strip()))


def qemu_checks(args, truth, check):
    check(core_mapped_files(args.core) == [], "the qemu core has no NT_FILE note (readelf -n shows none)")
    ok, p, d = run(args, ["info", args.core, "--json", "-q"], 0)
    check(ok, "info exits 0 (%d: %s)" % (p.returncode, p.stderr.strip()))
    if not d:
        return
    check(d["core"]["mapping_source"] == "r_debug link map", "mapping source %s" % d["core"]["mapping_source"])
    check(d["core"]["mapped_files"] >= 4, "mapped files: %d" % d["core"]["mapped_files"])
    exe = d["process"]["executable"] or ""
    check(os.path.realpath(exe) == os.path.realpath(args.python), "executable %s is %s" % (exe, args.python))
    check(d["runtime"]["version"] == truth["version"], "runtime %s, truth %s" % (d["runtime"]["version"], truth["version"]))
    check(d["process"]["pid"] == truth["pid"], "pid %s (qemu's), truth %s" % (d["process"]["pid"], truth["pid"]))
    check(d["process"]["signal"] == 6, "signal %s (SIGABRT, from NT_PRSTATUS)" % d["process"]["signal"])
    check(d["partial"] is False, "info is not partial")
    ok, p, _ = run(args, ["info", args.core], 0)
    check("from the r_debug link map" in p.stdout, "info text names the r_debug link map")
    # qemu writes fs_base as 0; the thread pointer found again in memory
    # (readers/process/thread_pointer.c) lets emulated tp_traverse code read
    # its canary (%fs:0x28) and glibc's tcache be found (%fs-relative).
    ok, p, d = run(args, ["cycles", args.core, "--json", "-q"], 0)
    check(ok and d and d["exact"] is True and d["conservative_types"] == [],
          "cycles is exact (emulated traverses ran): %s" % (d and d.get("conservative_types")))
    ok, p, d = run(args, ["memory", args.core, "--json", "-q"], 0)
    tc = d["glibc"]["tcache"] if ok and d and d["glibc"]["found"] else {}
    check(tc.get("located") is True and tc.get("threads_read") == 1, "glibc's tcache located: %s" % tc)


def main():
    ap = argparse.ArgumentParser(prog=NAME)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--qemu", action="store_true")
    mode.add_argument("--strip", action="store_true")
    for o in ("--python", "--coreheap", "--core", "--truth"):
        ap.add_argument(o, required=True)
    ap.add_argument("--out")
    args = ap.parse_args()
    if not os.path.exists(args.python):
        print("%s: SKIP: interpreter %s not found" % (NAME, args.python))
        sys.exit(77)
    skip_skipped_fixture(NAME, args.truth)
    check = Checks()
    if args.qemu:
        with open(args.truth) as f:
            qemu_checks(args, json.load(f), check)
    else:
        if not args.out:
            ap.error("--strip needs --out")
        strip_checks(args, check)
    print("%s: %d passed, %d failed" % (NAME, check.passed, len(check.failed)))
    sys.exit(1 if check.failed or not check.passed else 0)


if __name__ == "__main__":
    main()
