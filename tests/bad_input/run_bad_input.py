#!/usr/bin/env python3
"""Bad-input tests of the coreheap CLI: every malformed, truncated, foreign,
mismatched or damaged input ends with the documented exit code and one clear
message (or, for damage coreheap can bound, a partial result), and never with
a crash, a sanitizer report or a hang.

Usage:
    run_bad_input.py COREHEAP WORKDIR setup
    run_bad_input.py COREHEAP WORKDIR case NAME
    run_bad_input.py COREHEAP WORKDIR all
    run_bad_input.py COREHEAP WORKDIR list
    run_bad_input.py COREHEAP WORKDIR check-registered NAME...
Options (before the command):
    --python PATH           CPython 3.12 interpreter that makes the cores
                            (default /root/.pyenv/versions/3.12.1/bin/python3.12)
    --other-libpython PATH  a libpython of another build, for the build-id
                            mismatch (default: the 3.11.7 one next to --python's
                            pyenv, else a copy of /bin/true)

`setup` (a ctest FIXTURES_SETUP) makes the cores in WORKDIR/cores: a Python
core (os.abort()), a Python core of a scenario that records the addresses of
a few GC-tracked objects, and a core of a non-Python process (bash). Each
`case` works in its own WORKDIR/cases/NAME, so cases run in parallel. Cores
are made at test time, never committed.

Exit status: 0 pass, 1 fail (reasons printed), 77 skipped (the interpreter is
missing; reason printed), 2 bad arguments.

Every coreheap run is checked for: the expected exit code; no death by a
signal; no "AddressSanitizer", "LeakSanitizer" or "runtime error" on stderr;
no hang (60 s timeout); and either exactly one "coreheap: error:" line on
stderr (failures), or, for partial results, exit 5, "coreheap: warning:"
lines and valid JSON with "partial": true.
"""

import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time

TIMEOUT = 60
SKIP = 77
DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12"

EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_UNSUPPORTED, EXIT_PARTIAL = 0, 2, 3, 4, 5

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")


CORE_AGAIN = object()  # positional_extras: the input under test, once more


class Failure(Exception):
    pass


class Skip(Exception):
    pass


# ---------------------------------------------------------------------------
# ELF core parsing (stdlib only)

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_AUXV, NT_FILE, NT_GNU_BUILD_ID = 1, 6, 0x46494C45, 3


class Core:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise Failure("%s: not an ELF64 little-endian file" % path)
        (self.e_type,) = struct.unpack_from("<H", d, 16)
        (self.phoff,) = struct.unpack_from("<Q", d, 32)
        self.phentsize, self.phnum = struct.unpack_from("<HH", d, 54)
        self.phdrs = []
        for i in range(self.phnum):
            p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = struct.unpack_from(
                "<IIQQQQQQ", d, self.phoff + i * self.phentsize)
            self.phdrs.append({"type": p_type, "flags": p_flags, "offset": p_offset, "vaddr": p_vaddr,
                               "filesz": p_filesz, "memsz": p_memsz})
        self.loads = [p for p in self.phdrs if p["type"] == PT_LOAD]
        self.notes = [p for p in self.phdrs if p["type"] == PT_NOTE]
        self.mappings = []  # (start, end, file offset, path)
        self.threads = []   # {"tid":..., "rsp":...}
        for p in self.notes:
            self._parse_notes(d[p["offset"]:p["offset"] + p["filesz"]])

    def _parse_notes(self, n):
        off = 0
        while off + 12 <= len(n):
            namesz, descsz, ntype = struct.unpack_from("<III", n, off)
            name = n[off + 12:off + 12 + namesz]
            desc_off = off + 12 + ((namesz + 3) & ~3)
            desc = n[desc_off:desc_off + descsz]
            off = desc_off + ((descsz + 3) & ~3)
            if name != b"CORE\0":
                continue
            if ntype == NT_PRSTATUS and len(desc) >= 336:
                (tid,) = struct.unpack_from("<I", desc, 32)
                (rsp,) = struct.unpack_from("<Q", desc, 112 + 19 * 8)
                self.threads.append({"tid": tid, "rsp": rsp})
            elif ntype == NT_FILE and len(desc) >= 16:
                count, page = struct.unpack_from("<QQ", desc, 0)
                names = desc[16 + 24 * count:].split(b"\0")
                for i in range(count):
                    start, end, pgoff = struct.unpack_from("<QQQ", desc, 16 + 24 * i)
                    self.mappings.append((start, end, pgoff * page, names[i].decode("utf-8", "replace")))

    def load_for(self, addr):
        """The PT_LOAD whose memory range holds addr, or None."""
        for p in self.loads:
            if p["vaddr"] <= addr < p["vaddr"] + p["memsz"]:
                return p
        return None

    def file_offset(self, addr, size=8):
        """File offset of the dumped bytes at addr, or None if not in the file."""
        for p in self.loads:
            if p["vaddr"] <= addr and addr + size <= p["vaddr"] + p["filesz"]:
                off = p["offset"] + (addr - p["vaddr"])
                if off + size <= len(self.data):
                    return off
        return None

    def data_start(self):
        return min(p["offset"] for p in self.loads if p["filesz"])


def elf_build_id(path):
    """Hex GNU build-id of an ELF file, from its section headers (or '')."""
    with open(path, "rb") as f:
        d = f.read()
    (shoff,) = struct.unpack_from("<Q", d, 40)
    shentsize, shnum = struct.unpack_from("<HH", d, 58)
    for i in range(shnum):
        sh_name, sh_type, _flags, _addr, sh_offset, sh_size = struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
        if sh_type != 7:  # SHT_NOTE
            continue
        n = d[sh_offset:sh_offset + sh_size]
        off = 0
        while off + 12 <= len(n):
            namesz, descsz, ntype = struct.unpack_from("<III", n, off)
            desc_off = off + 12 + ((namesz + 3) & ~3)
            if ntype == NT_GNU_BUILD_ID and n[off + 12:off + 12 + namesz] == b"GNU\0":
                return n[desc_off:desc_off + descsz].hex()
            off = desc_off + ((descsz + 3) & ~3)
    return ""


# ---------------------------------------------------------------------------
# Running coreheap

class Result:
    def __init__(self, argv, rc, out, err, seconds):
        self.argv, self.rc, self.out, self.err, self.seconds = argv, rc, out, err, seconds
        self.err_lines = [l for l in err.splitlines() if l.strip()]

    def describe(self):
        return "coreheap %s -> exit %s after %.1fs\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), self.rc, self.seconds, self.out[:400].replace("\n", "\n          "),
            self.err[:2000].replace("\n", "\n          "))

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise Failure("stdout is not valid JSON (%s)\n%s" % (e, self.describe()))


class Runner:
    def __init__(self, coreheap, workdir, python, other_libpython):
        self.coreheap = os.path.abspath(coreheap)
        self.workdir = os.path.abspath(workdir)
        self.python = python
        self.other_libpython = other_libpython
        self.cores = os.path.join(self.workdir, "cores")

    def run(self, *args, cwd=None):
        argv = [str(a) for a in args]
        start = time.monotonic()
        try:
            p = subprocess.run([self.coreheap] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=cwd)
        except subprocess.TimeoutExpired as e:
            raise Failure("coreheap %s hung (no exit after %d s)\n  stderr: %s" % (
                " ".join(argv), TIMEOUT, (e.stderr or b"").decode("utf-8", "replace")[:2000]))
        r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"),
                   time.monotonic() - start)
        if r.rc < 0:
            raise Failure("coreheap was killed by signal %d (%s)\n%s" % (
                -r.rc, signal.Signals(-r.rc).name, r.describe()))
        for mark in SANITIZER_MARKS:
            if mark in r.err:
                raise Failure("sanitizer report (%s) on stderr\n%s" % (mark, r.describe()))
        return r

    # -- expectations ------------------------------------------------------

    def expect_error(self, args, code, patterns=(), cwd=None):
        """Exit `code`, exactly one 'coreheap: error:' line that matches every
        regex in patterns, nothing else on stderr but warnings, no stdout."""
        return self.check_error(self.run(*args, cwd=cwd), code, patterns)

    def check_error(self, r, code, patterns=()):
        """expect_error's checks on the result of a run already made."""
        if r.rc != code:
            raise Failure("expected exit %d, got %d\n%s" % (code, r.rc, r.describe()))
        errors = [l for l in r.err_lines if l.startswith("coreheap: error: ")]
        others = [l for l in r.err_lines if not l.startswith("coreheap: error: ")
                  and not l.startswith("coreheap: warning: ")]
        if len(errors) != 1 or others:
            raise Failure("expected exactly one 'coreheap: error:' line on stderr (and only warnings besides)\n%s"
                          % r.describe())
        for pat in patterns:
            if not re.search(pat, errors[0]):
                raise Failure("error message does not match /%s/\n%s" % (pat, r.describe()))
        if r.out.strip():
            raise Failure("expected nothing on stdout\n%s" % r.describe())
        return r

    def expect_partial(self, args, warning_patterns=(), cwd=None):
        """Exit 5, JSON with "partial": true and warnings on stderr and in the
        JSON, each regex in warning_patterns matching some warning."""
        return self.check_partial(self.run(*args, cwd=cwd), warning_patterns)

    def check_partial(self, r, warning_patterns=()):
        """expect_partial's checks on the result of a run already made."""
        if r.rc != EXIT_PARTIAL:
            raise Failure("expected exit 5 (partial result), got %d\n%s" % (r.rc, r.describe()))
        if any(l.startswith("coreheap: error:") for l in r.err_lines):
            raise Failure("a partial result must not print an error line\n%s" % r.describe())
        warnings = [l for l in r.err_lines if l.startswith("coreheap: warning: ")]
        if not warnings:
            raise Failure("expected 'coreheap: warning:' lines on stderr\n%s" % r.describe())
        doc = r.json()
        if doc.get("partial") is not True:
            raise Failure('expected "partial": true in the JSON\n%s' % r.describe())
        jw = doc.get("warnings") or []
        if not jw:
            raise Failure('expected a non-empty "warnings" list in the JSON\n%s' % r.describe())
        for pat in warning_patterns:
            if not any(re.search(pat, w) for w in jw) or not any(re.search(pat, w) for w in warnings):
                raise Failure("no warning matches /%s/ (on stderr and in the JSON)\n%s" % (pat, r.describe()))
        return r, doc

    def expect_ok(self, args, cwd=None, stdout_required=True):
        r = self.run(*args, cwd=cwd)
        if r.rc != EXIT_OK:
            raise Failure("expected exit 0, got %d\n%s" % (r.rc, r.describe()))
        if any(l.startswith("coreheap: error:") for l in r.err_lines):
            raise Failure("exit 0 with an error line\n%s" % r.describe())
        if stdout_required and not r.out.strip():
            raise Failure("expected output on stdout\n%s" % r.describe())
        return r

    def expect_usage(self, args, patterns=()):
        """Exit 2, a message on stderr (matching patterns), nothing on stdout."""
        r = self.run(*args)
        if r.rc != EXIT_USAGE:
            raise Failure("expected exit 2 (usage), got %d\n%s" % (r.rc, r.describe()))
        if not r.err_lines:
            raise Failure("a usage error must say what is wrong on stderr\n%s" % r.describe())
        if r.out.strip():
            raise Failure("a usage error must print nothing on stdout\n%s" % r.describe())
        for pat in patterns:
            if not re.search(pat, r.err):
                raise Failure("usage message does not match /%s/\n%s" % (pat, r.describe()))
        return r

    def probed_path(self):
        return os.path.join(self.cores, "commands.json")

    def load_probed(self):
        """The commands and their extra arguments, as setup read them from
        this coreheap's --help texts (save_probed): each case would
        otherwise run `--help` once per command again. Ignored when
        coreheap changed since."""
        try:
            with open(self.probed_path()) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return
        st = os.stat(self.coreheap)
        if doc.get("coreheap") != [self.coreheap, st.st_mtime_ns, st.st_size]:
            return
        self._commands = doc["commands"]
        self._extras = {c: [CORE_AGAIN if a == "@CORE@" else a for a in ex] for c, ex in doc["extras"].items()}

    def save_probed(self):
        st = os.stat(self.coreheap)
        doc = {"coreheap": [self.coreheap, st.st_mtime_ns, st.st_size], "commands": self.commands(),
               "extras": {c: ["@CORE@" if a is CORE_AGAIN else a for a in self.positional_extras(c)]
                          for c in self.commands()}}
        with open(self.probed_path() + ".tmp", "w") as f:
            json.dump(doc, f)
        os.replace(self.probed_path() + ".tmp", self.probed_path())

    def commands(self):
        """The subcommands `coreheap --help` lists."""
        if not hasattr(self, "_commands"):
            self.load_probed()
        if not hasattr(self, "_commands"):
            r = self.expect_ok(["--help"])
            block = r.out.split("Commands:", 1)[-1].split("\n\n", 1)[0]
            self._commands = [l.split()[0] for l in block.splitlines() if l.strip()]
        return self._commands

    def positional_extras(self, cmd):
        """Arguments a command needs after CORE, from its usage line: an
        ADDR gets an address that is never an object (the page at 0x1000),
        so the command must end in a clean one-line error; a required
        --type NAME gets "dict" with --subclasses (every type's MRO is read);
        a second input ("diff [options] A B") gets the same input again
        (CORE_AGAIN, replaced by expect_sane)."""
        if not hasattr(self, "_extras"):
            self.load_probed()
        if not hasattr(self, "_extras"):
            self._extras = {}
        if cmd not in self._extras:
            r = self.expect_ok([cmd, "--help"])
            usage = r.out.splitlines()[0] if r.out else ""
            self._extras[cmd] = ["0x1000"] if "ADDR" in usage else []
            if re.search(r" A B$", usage):
                self._extras[cmd].append(CORE_AGAIN)
            if "--type NAME" in usage:
                self._extras[cmd] += ["--type", "dict", "--subclasses"]
        return self._extras[cmd]

    def expect_sane(self, core, extra=(), skip=()):
        """Every command on this input ends in a documented way: 0, a
        one-line error with 3 or 4, or a partial result (5); never a crash,
        a sanitizer report, a hang or a malformed error. Each command runs
        once: its exit code picks the checks its output must then pass."""
        for cmd in self.commands():
            if cmd in skip:
                continue
            args = [cmd, "--json"] + list(extra) + [core] + [core if a is CORE_AGAIN else a
                                                             for a in self.positional_extras(cmd)]
            r = self.run(*args)
            if r.rc in (EXIT_INPUT, EXIT_UNSUPPORTED):
                self.check_error(r, r.rc)
            elif r.rc == EXIT_PARTIAL:
                self.check_partial(r)
            elif r.rc == EXIT_OK:
                r.json()
            else:
                raise Failure("`%s` ended with exit %d\n%s" % (cmd, r.rc, r.describe()))

    # -- fixtures ------------------------------------------------------------

    def core_path(self, name):
        return os.path.join(self.cores, name, "core")

    def need_core(self, name):
        path = self.core_path(name)
        if not os.path.isfile(path):
            reason = os.path.join(self.cores, "SKIPPED")
            if os.path.isfile(reason):
                with open(reason) as f:
                    raise Skip(f.read().strip())
            raise Failure("fixture core %s is missing: run the 'setup' command (ctest fixture badinput.setup)"
                          % path)
        return path

    def case_dir(self, name):
        d = os.path.join(self.workdir, "cases", name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d


# ---------------------------------------------------------------------------
# Making cores

GC_SCENARIO = r'''
import ctypes, gc, json, os, sys
# A readable anonymous mapping that is never touched: no page of it is ever
# faulted in, so the kernel lists it in the core (a PT_LOAD) but dumps no
# bytes of it: mapped, but absent from the file.
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
hole = libc.mmap(None, 1 << 16, 1, 0x22, -1, 0)  # PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS
gc.disable()
gc.collect()        # generation 0 is now empty
objs = [[i] for i in range(12)]    # tracked lists, appended to generation 0 in order
young = gc.get_objects(0)          # in list order, as coreheap walks it
pos = {id(o): i for i, o in enumerate(young)}
info = {"hole": hole, "objs": [id(o) for o in objs], "index": [pos[id(o)] for o in objs]}
del young, pos
with open(sys.argv[1], "w") as f:
    json.dump(info, f)
os.abort()
'''


def core_file_name(pid):
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern or not pattern:
        raise Failure("kernel.core_pattern is %r: cores do not land in the working directory; "
                      "run: sysctl -w kernel.core_pattern=core" % pattern)
    if "%" in pattern.replace("%p", ""):
        raise Failure("kernel.core_pattern %r uses specifiers other than %%p; run: sysctl -w kernel.core_pattern=core"
                      % pattern)
    name = pattern.replace("%p", str(pid))
    try:
        with open("/proc/sys/kernel/core_uses_pid") as f:
            uses_pid = f.read().strip() == "1"
    except OSError:
        uses_pid = False
    if uses_pid and "%p" not in pattern:
        name += ".%d" % pid
    return name


def unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def make_core(directory, argv, expect_signal, env=None):
    """Run argv in directory (with env, default ours) so that it dumps core;
    move the core to directory/core. Returns the path."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard != resource.RLIM_INFINITY:
        raise Failure("cannot raise the core size limit (hard limit %d); run with ulimit -c unlimited" % hard)
    p = subprocess.Popen(argv, cwd=directory, preexec_fn=unlimited_core, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Failure("%s did not dump core within %d s" % (argv, TIMEOUT))
    if p.returncode != -expect_signal:
        raise Failure("%s exited with %s, expected death by signal %d\n  stderr: %s" % (
            argv, p.returncode, expect_signal, err.decode("utf-8", "replace")[:2000]))
    src = os.path.join(directory, core_file_name(p.pid))
    for _ in range(50):  # the kernel has written it by the time wait() returns, but be lenient
        if os.path.isfile(src):
            break
        time.sleep(0.1)
    if not os.path.isfile(src):
        raise Failure("no core file appeared at %s (core_pattern, RLIMIT_CORE, a read-only directory?)" % src)
    dst = os.path.join(directory, "core")
    if src != dst:
        os.replace(src, dst)
    return dst


def setup(rn):
    os.makedirs(rn.cores, exist_ok=True)
    skip_marker = os.path.join(rn.cores, "SKIPPED")
    for stale in (skip_marker, rn.probed_path()):
        if os.path.exists(stale):
            os.unlink(stale)
    if not os.path.isfile(rn.coreheap):
        raise Failure("coreheap binary %s not found" % rn.coreheap)
    # A non-Python process: bash killing itself with SIGABRT.
    make_core(os.path.join(rn.cores, "nonpython"), ["bash", "-c", "kill -ABRT $$"], signal.SIGABRT)
    if not os.access(rn.python, os.X_OK):
        reason = "SKIP: interpreter %s not found (install it, e.g. pyenv install 3.12.1)" % rn.python
        with open(skip_marker, "w") as f:
            f.write(reason + "\n")
        raise Skip(reason)
    make_core(os.path.join(rn.cores, "abort"), [rn.python, "-I", "-S", "-c", "import os; os.abort()"],
              signal.SIGABRT)
    d = os.path.join(rn.cores, "gc")
    make_core(d, [rn.python, "-I", "-S", "-c", GC_SCENARIO, os.path.join(d, "ids.json.tmp")], signal.SIGABRT)
    os.replace(os.path.join(d, "ids.json.tmp"), os.path.join(d, "ids.json"))
    # Sanity: the undamaged cores analyse cleanly.
    for name in ("abort", "gc"):
        rn.expect_ok(["types", "--json", rn.core_path(name)])
    rn.save_probed()
    print("setup: cores in %s" % rn.cores)


# ---------------------------------------------------------------------------
# Cases

CASES = {}


def case(fn):
    CASES[fn.__name__[len("case_"):]] = fn
    return fn


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


# a. files that are not cores at all ------------------------------------------

@case
def case_not_elf_text(rn, d):
    p = write(os.path.join(d, "notes.txt"), b"This is a text file, not a core dump.\n" * 10)
    rn.expect_error(["types", p], EXIT_INPUT, [r"not an ELF file"])
    rn.expect_error(["info", p], EXIT_INPUT, [r"not an ELF file"])


@case
def case_empty_file(rn, d):
    p = write(os.path.join(d, "empty"), b"")
    rn.expect_error(["types", p], EXIT_INPUT, [r"empty"])


@case
def case_directory(rn, d):
    rn.expect_error(["types", d], EXIT_INPUT, [r"not a regular file|directory"])


@case
def case_nonexistent(rn, d):
    rn.expect_error(["types", os.path.join(d, "no-such-core")], EXIT_INPUT, [r"No such file or directory"])


# b. an ELF file that is not a core -------------------------------------------

@case
def case_not_core_elf(rn, d):
    true = shutil.which("true") or "/bin/true"
    rn.expect_error(["types", true], EXIT_INPUT, [r"not a core dump"])


# c. a real Python core, truncated --------------------------------------------

def full_types(rn, core):
    return rn.expect_ok(["types", "--json", core]).json()


def cut(rn, d, core, at, name):
    with open(core, "rb") as f:
        data = f.read(at)
    if len(data) != at:
        raise Failure("cannot cut %s at %d" % (core, at))
    return write(os.path.join(d, name), data)


def runtime_address(rn, core):
    doc = rn.expect_ok(["info", "--json", core]).json()
    return int(doc["runtime"]["runtime_address"], 16)


@case
def case_truncated_in_elf_header(rn, d):
    core = rn.need_core("abort")
    p = cut(rn, d, core, 40, "cut.core")
    rn.expect_error(["types", p], EXIT_INPUT, [r"truncated ELF header"])
    rn.expect_sane(p)


@case
def case_truncated_in_program_headers(rn, d):
    core = rn.need_core("abort")
    c = Core(core)
    p = cut(rn, d, core, c.phoff + c.phnum * c.phentsize // 2, "cut.core")
    rn.expect_error(["types", p], EXIT_INPUT, [r"program headers"])
    rn.expect_sane(p)


@case
def case_truncated_in_notes(rn, d):
    # The notes (threads, mapped files) come before all memory in a kernel
    # core: a core cut inside them holds nothing to analyse (exit 3, naming
    # the truncation); info reports what the notes before the cut say.
    core = rn.need_core("abort")
    c = Core(core)
    for i, frac in enumerate((0.01, 0.5, 0.99)):
        note = c.notes[0]
        at = note["offset"] + int(note["filesz"] * frac)
        p = cut(rn, d, core, at, "cut%d.core" % i)
        rn.expect_error(["types", p], EXIT_INPUT, [r"truncated"])
        rn.expect_sane(p)


@case
def case_truncated_before_memory(rn, d):
    core = rn.need_core("abort")
    c = Core(core)
    p = cut(rn, d, core, c.data_start(), "cut.core")
    rn.expect_error(["types", p], EXIT_INPUT, [r"truncated"])
    rn.expect_sane(p)


@case
def case_truncated_in_runtime_segment(rn, d):
    # Cut in the middle of the PT_LOAD data that holds _PyRuntime, before
    # it: the runtime state is gone, nothing can be analysed -> error 3.
    # (coreheap must not fall back to the libpython file's initial .data
    # bytes, which would describe a process that never started.)
    core = rn.need_core("abort")
    c = Core(core)
    rt = runtime_address(rn, core)
    seg = c.load_for(rt)
    if seg is None or not seg["filesz"]:
        raise Failure("_PyRuntime 0x%x is not in a dumped PT_LOAD of %s" % (rt, core))
    at = seg["offset"] + (rt - seg["vaddr"]) // 2
    p = cut(rn, d, core, at, "cut.core")
    rn.expect_error(["types", p], EXIT_INPUT, [r"_PyRuntime|runtime", r"truncated"])
    # info still describes the process, from the notes: the same pid,
    # executable, signal and threads as the whole core, "runtime": null,
    # the truncation as a warning, exit 5.
    whole = rn.expect_ok(["info", "--json", core]).json()
    _, doc = rn.expect_partial(["info", "--json", p], [r"truncated", r"runtime could not be read"])
    if doc["runtime"] is not None or doc["gc"] is not None or doc["python_threads"] is not None:
        raise Failure("info on a core cut before _PyRuntime reports a runtime: %r" % doc["runtime"])
    if doc["process"] != whole["process"] or [t["tid"] for t in doc["threads"]] != [t["tid"] for t in whole["threads"]]:
        raise Failure("info's process facts differ from the whole core's: %r vs %r" % (doc["process"], whole["process"]))
    if doc["core"]["size"] != at or doc["core"]["expected_size"] != len(c.data):
        raise Failure("info says %d of %d bytes, the cut file has %d of %d"
                      % (doc["core"]["size"], doc["core"]["expected_size"], at, len(c.data)))
    rn.expect_sane(p)


@case
def case_truncated_in_object_memory(rn, d):
    # Cut in the middle of the PT_LOAD data holding GC-tracked objects. The
    # kernel writes segments in address order; with a shared libpython its
    # .data/.bss (where _PyRuntime and the GC state live) lies above the
    # object arenas, so the cut also loses the runtime -> error 3. Were the
    # runtime below the cut (a static interpreter), the GC walk would hit the
    # cut and the right answer would be a partial result (5).
    core = rn.need_core("gc")
    with open(os.path.join(os.path.dirname(core), "ids.json")) as f:
        ids = json.load(f)
    c = Core(core)
    obj = ids["objs"][6]
    seg = c.load_for(obj)
    if seg is None or not seg["filesz"]:
        raise Failure("object 0x%x is not in a dumped PT_LOAD of %s" % (obj, core))
    at = seg["offset"] + (obj - seg["vaddr"]) // 2
    rt = runtime_address(rn, core)
    rt_off = c.file_offset(rt)
    p = cut(rn, d, core, at, "cut.core")
    if rt_off is None or rt_off >= at:
        rn.expect_error(["types", p], EXIT_INPUT, [r"truncated"])
    else:
        rn.expect_partial(["types", "--json", p], [r"GC generation"])
    rn.expect_sane(p)


def same_report_but_truncation_warning(got, want, what):
    """A cut in memory coreheap never reads leaves the report as it was,
    except that the truncation itself must be named in the warnings."""
    warns = got.get("warnings", [])
    if not any("truncated" in w for w in warns):
        raise Failure("%s: no warning says the core is truncated: %r" % (what, warns))
    g = dict(got, warnings=[w for w in warns if "truncated" not in w])
    if g != want:
        raise Failure("%s changed the types report" % what)


@case
def case_truncated_in_stack(rn, d):
    # Cut in the middle of the crashing thread's stack. `types` and `info`
    # read no C stack (and the vsyscall page, the only thing after it, is
    # never read): the result is complete, so exit 0 with the output of the
    # whole core is right, plus a warning that the core is truncated.
    core = rn.need_core("abort")
    c = Core(core)
    rsp = c.threads[0]["rsp"]
    seg = c.load_for(rsp)
    if seg is None or not seg["filesz"]:
        raise Failure("stack pointer 0x%x is not in a dumped PT_LOAD of %s" % (rsp, core))
    later = [p for p in c.loads if p["offset"] > seg["offset"] and p["filesz"]]
    for p in later:  # only [vsyscall] may follow, see above
        if p["vaddr"] < 0xffffffffff000000:
            raise Skip("the stack is not the last dumped memory in this core (segment at 0x%x follows)" % p["vaddr"])
    at = seg["offset"] + seg["filesz"] // 2
    p = cut(rn, d, core, at, "cut.core")
    want = full_types(rn, core)
    got = rn.expect_ok(["types", "--json", p]).json()
    same_report_but_truncation_warning(got, want, "a cut in the stack")
    rn.expect_sane(p)


@case
def case_truncated_one_byte_short(rn, d):
    # The last dumped byte belongs to the last PT_LOAD in file order: the
    # [vsyscall] page (or, without one, the top of the stack), which
    # coreheap never reads: exit 0 with the whole core's output.
    core = rn.need_core("abort")
    c = Core(core)
    last = max((p for p in c.loads if p["filesz"]), key=lambda p: p["offset"])
    is_stack = any(last["vaddr"] <= t["rsp"] < last["vaddr"] + last["memsz"] for t in c.threads)
    if last["vaddr"] < 0xffffffffff000000 and not is_stack:
        raise Failure("last dumped segment 0x%x is neither [vsyscall] nor the stack; "
                      "decide what a cut there should give" % last["vaddr"])
    p = cut(rn, d, core, len(c.data) - 1, "cut.core")
    want = full_types(rn, core)
    got = rn.expect_ok(["types", "--json", p]).json()
    same_report_but_truncation_warning(got, want, "losing the last byte")
    rn.expect_ok(["info", p])
    rn.expect_sane(p)


# d. not a Python process -----------------------------------------------------

@case
def case_not_python(rn, d):
    core = rn.need_core("nonpython")
    rn.expect_error(["types", core], EXIT_UNSUPPORTED, [r"no CPython runtime"])
    rn.expect_error(["info", "--json", core], EXIT_UNSUPPORTED, [r"no CPython runtime"])
    rn.expect_sane(core)


# e. the interpreter's files are missing --------------------------------------

@case
def case_missing_libpython(rn, d):
    core = rn.need_core("abort")
    empty = os.path.join(d, "empty-sysroot")
    os.makedirs(empty)
    rn.expect_error(["types", "--sysroot", empty, core], EXIT_INPUT,
                    [r"libpython3\.12\.so\.1\.0", r"--lib-search-path", r"--sysroot"])
    rn.expect_error(["info", "--sysroot", empty, core], EXIT_INPUT, [r"libpython3\.12"])
    rn.expect_sane(core, ["--sysroot", empty])


# f. a different build of libpython -------------------------------------------

@case
def case_buildid_mismatch(rn, d):
    core = rn.need_core("abort")
    c = Core(core)
    root = os.path.join(d, "sysroot")
    paths = sorted({m[3] for m in c.mappings if m[3].startswith("/")})
    lib = [p for p in paths if os.path.basename(p).startswith("libpython3.12")]
    if not lib:
        raise Failure("the core maps no libpython3.12 (mappings: %s)" % paths)
    other = rn.other_libpython
    for p in paths:
        dst = root + p
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if p in lib:
            shutil.copyfile(other, dst)
        elif os.path.exists(p):
            os.symlink(p, dst)
    want = elf_build_id(lib[0])
    got = elf_build_id(other)
    if not want or not got or want == got:
        raise Failure("need two different build-ids, have %r and %r" % (want, got))
    rn.expect_error(["types", "--sysroot", root, core], EXIT_INPUT,
                    [re.escape(want), re.escape(got), r"libpython3\.12\.so\.1\.0"])
    rn.expect_sane(core, ["--sysroot", root])


# g. damaged GC lists and type pointers ---------------------------------------

def gc_fixture(rn):
    core = rn.need_core("gc")
    with open(os.path.join(os.path.dirname(core), "ids.json")) as f:
        ids = json.load(f)
    return core, ids, Core(core)


def patch_u64(src, dst, offset, value):
    with open(src, "rb") as f:
        data = bytearray(f.read())
    struct.pack_into("<Q", data, offset, value)
    return write(dst, bytes(data))


def gen_totals(doc):
    return doc["totals"]["generations"]


def damage_gc_next(rn, d, new_next, what):
    """Point _gc_next of one tracked list at new_next; the walk of
    generation 0 must stop there (partial, naming the generation) having
    counted exactly the objects before it and the object itself, and the
    other lists must be untouched."""
    core, ids, c = gc_fixture(rn)
    k = 6
    obj, index = ids["objs"][k], ids["index"][k]
    head = obj - 16  # PyGC_Head (_gc_next, _gc_prev) precedes the object on 3.12
    off = c.file_offset(head, 16)
    if off is None:
        raise Failure("PyGC_Head 0x%x of the target is not in the core file" % head)
    (old_next,) = struct.unpack_from("<Q", c.data, off)
    if old_next & ~3 != ids["objs"][k + 1] - 16:
        raise Failure("unexpected list order: _gc_next of object %d is 0x%x, not the next list's head" % (k, old_next))
    value = new_next(ids, head)
    p = patch_u64(core, os.path.join(d, "damaged.core"), off, value)
    want = full_types(rn, core)
    _, doc = rn.expect_partial(["types", "--json", p], [r"GC generation 0\b"])
    got_g, want_g = gen_totals(doc), gen_totals(want)
    if got_g["0"] != index + 1:
        raise Failure("%s: generation 0 should count the %d objects up to the damaged one, counted %d"
                      % (what, index + 1, got_g["0"]))
    for g in ("1", "2", "permanent"):
        if got_g.get(g) != want_g.get(g):
            raise Failure("%s: generation %s changed (%s -> %s) though only generation 0 was damaged"
                          % (what, g, want_g.get(g), got_g.get(g)))
    # The text report says the same and exits the same way.
    r = rn.run("types", p)
    if r.rc != EXIT_PARTIAL or "GC generation 0" not in r.err:
        raise Failure("%s: text report should also be partial\n%s" % (what, r.describe()))
    rn.expect_sane(p)
    return doc


@case
def case_gc_self_loop(rn, d):
    damage_gc_next(rn, d, lambda ids, head: head, "self loop")


@case
def case_gc_loop_to_earlier(rn, d):
    damage_gc_next(rn, d, lambda ids, head: ids["objs"][2] - 16, "loop to an earlier object")


@case
def case_gc_unmapped_pointer(rn, d):
    core, ids, c = gc_fixture(rn)
    if c.load_for(0xdead000) is not None:
        raise Failure("0xdead000 is mapped in this core; pick another address")
    damage_gc_next(rn, d, lambda ids, head: 0xdead000, "pointer to unmapped memory")


def undumped_hole(ids, c):
    """The scenario's untouched anonymous mapping: memory the process had
    and the core holds no bytes of (a PT_LOAD with p_filesz 0)."""
    hole = ids["hole"]
    seg = c.load_for(hole)
    # Whether the kernel leaves it out is up to the kernel (it may merge the
    # mapping with a neighbour it does dump): without such a region there is
    # nothing to test here, which is a skip, not a failure.
    if seg is None or seg["filesz"] != 0:
        raise Skip("the scenario's untouched mapping 0x%x was not left out of the core (PT_LOAD %s)"
                   % (hole, seg))
    if any(m[0] <= hole < m[1] for m in c.mappings):
        raise Skip("the scenario's anonymous mapping 0x%x is file-backed in this core" % hole)
    return hole


@case
def case_gc_pointer_not_dumped(rn, d):
    core, ids, c = gc_fixture(rn)
    hole = undumped_hole(ids, c)
    damage_gc_next(rn, d, lambda ids, head: hole + 0x100, "pointer to mapped but undumped memory")


@case
def case_gc_bad_type_pointer(rn, d):
    core, ids, c = gc_fixture(rn)
    obj = ids["objs"][9]
    off = c.file_offset(obj + 8)  # ob_type
    bad = 0xbad0000
    p = patch_u64(core, os.path.join(d, "damaged.core"), off, bad)
    want = full_types(rn, core)
    _, doc = rn.expect_partial(["types", "--json", p], [r"0x%x" % bad])
    rows = [t for t in doc["types"] if t["type"] == "<unreadable type 0x%x>" % bad]
    if len(rows) != 1 or rows[0]["count"] != 1 or rows[0]["generations"]["0"] != 1:
        raise Failure('expected one "<unreadable type 0x%x>" row with one generation-0 object, rows: %s'
                      % (bad, [t for t in doc["types"] if "unreadable" in t["type"]]))
    if doc["totals"]["count"] != want["totals"]["count"]:
        raise Failure("a bad type pointer must not change the object count (%d -> %d)"
                      % (want["totals"]["count"], doc["totals"]["count"]))
    lists = {t["type"]: t["count"] for t in want["types"]}
    got = {t["type"]: t["count"] for t in doc["types"]}
    if got.get("list") != lists.get("list") - 1:
        raise Failure("the damaged list should have moved from 'list' to the unreadable row (%s -> %s)"
                      % (lists.get("list"), got.get("list")))
    rn.expect_sane(p)


@case
def case_dangling_list_item(rn, d):
    # A list item that points at unmapped memory: the reference is counted
    # as dangling and reported, never followed; the analysis completes. The
    # test knows PyListObject.ob_item is the word at +24 (3.8-3.13 alike, the
    # same in every header); it only needs it to aim the damage.
    core, ids, c = gc_fixture(rn)
    obj = ids["objs"][4]
    with open(core, "rb") as f:
        data = f.read()
    (items,) = struct.unpack_from("<Q", data, c.file_offset(obj + 24))
    off = c.file_offset(items)
    if off is None:
        raise Failure("list item array 0x%x is not in the core" % items)
    bad = 0xdead0000
    p = patch_u64(core, os.path.join(d, "damaged.core"), off, bad)
    r = rn.run("cycles", "--json", p)
    if r.rc != EXIT_OK:
        raise Failure("cycles on a dangling list item should finish with 0\n%s" % r.describe())
    doc = r.json()
    if doc["graph"]["dangling"] < 1:
        raise Failure("the dangling reference was not counted: graph %r" % doc["graph"])
    if not any("not readable objects" in w for w in doc["warnings"]):
        raise Failure("no warning about references to unreadable objects: %r" % doc["warnings"])
    rn.expect_sane(p)


@case
def case_undumped_list_item(rn, d):
    # A list item that points into memory the process had but the core does
    # not hold (the scenario's untouched mapping: a PT_LOAD without file
    # bytes). Whatever object lived there is missing, so the result is
    # partial, with a warning that counts such references, and `graph`
    # counts it as undumped, not as a dangling pointer to garbage (issue 17:
    # it was counted with those, exit 0, "partial": false).
    core, ids, c = gc_fixture(rn)
    hole = undumped_hole(ids, c)
    obj = ids["objs"][4]
    (items,) = struct.unpack_from("<Q", c.data, c.file_offset(obj + 24))  # PyListObject.ob_item
    off = c.file_offset(items)
    if off is None:
        raise Failure("list item array 0x%x is not in the core" % items)
    p = patch_u64(core, os.path.join(d, "damaged.core"), off, hole + 0x100)
    _, doc = rn.expect_partial(["cycles", "--json", p], [r"\b1 references point into memory .*not dumped"])
    g = doc["graph"]
    if g.get("undumped") != 1:
        raise Failure("the reference into undumped memory was not counted as such: graph %r" % g)
    want = rn.run("cycles", "--json", core)
    if want.rc != EXIT_OK or g["dangling"] != want.json()["graph"]["dangling"]:
        raise Failure("the reference into undumped memory was counted as dangling: graph %r, undamaged %r"
                      % (g, want.json().get("graph")))
    rn.expect_partial(["types", "--json", p], [r"not dumped"])
    rn.expect_sane(p)


def nt_file_entries(c):
    """File offsets of the NT_FILE entries' {start, end, page offset}
    triples, in order, and the note's page size."""
    for p in c.notes:
        off, end = p["offset"], p["offset"] + p["filesz"]
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", c.data, off)
            desc = off + 12 + ((namesz + 3) & ~3)
            if c.data[off + 12:off + 12 + namesz] == b"CORE\0" and ntype == NT_FILE:
                count, page = struct.unpack_from("<QQ", c.data, desc)
                return [desc + 16 + 24 * i for i in range(count)], page
            off = desc + ((descsz + 3) & ~3)
    raise Failure("the fixture core has no NT_FILE note")


@case
def case_moved_segment(rn, d):
    # Segments whose p_vaddr, p_offset or p_filesz was changed, and an
    # NT_FILE entry whose file offset was: addresses then hold the wrong
    # bytes or none. Each damage below is one a kernel core cannot have
    # (misaligned, overlapping, out of order, a gap or an overlap in the
    # file, a file mapping left without its segment or mapping other file
    # offsets than the file's program headers say), so the result must be
    # partial with a warning naming the damaged segment table (issue 17:
    # exit 0, the lost references counted as dangling pointers). The
    # undamaged core must give no such warning.
    core, ids, c = gc_fixture(rn)
    r = rn.expect_ok(["types", "--json", core])
    if any("segment table" in w for w in r.json().get("warnings", [])):
        raise Failure("the undamaged core is reported as damaged\n%s" % r.describe())
    loads = [p for p in c.phdrs if p["type"] == PT_LOAD]
    heap = c.load_for(ids["objs"][4])
    if heap is None or not heap["filesz"]:
        raise Failure("the list 0x%x is not in a dumped segment" % ids["objs"][4])
    i = loads.index(heap)
    dumped_after = [p for p in loads[i + 1:] if p["filesz"]]
    starts = {m[0] for m in c.mappings}
    exe_text = next((p for p in loads if p["vaddr"] in starts and p["filesz"]), None)
    if not dumped_after or exe_text is None:
        raise Failure("the fixture core lacks a dumped segment after the heap or a dumped file mapping")
    phdr = lambda p: c.phoff + c.phdrs.index(p) * c.phentsize
    damages = [
        ("p_vaddr_plus_1", phdr(heap) + 16, heap["vaddr"] + 1),
        ("p_vaddr_onto_next", phdr(heap) + 16, loads[i + 1]["vaddr"]),
        ("p_vaddr_file_mapping_moved", phdr(exe_text) + 16, exe_text["vaddr"] + 0x1000),
        ("p_offset_plus_page", phdr(heap) + 8, heap["offset"] + 0x1000),
        ("p_offset_minus_page", phdr(heap) + 8, heap["offset"] - 0x1000),
        ("p_filesz_minus_page", phdr(heap) + 32, heap["filesz"] - 0x1000),
        ("p_filesz_beyond_memsz", phdr(heap) + 32, heap["memsz"] + 0x1000),
    ]
    # An NT_FILE entry of the executable that does not map offset 0: one
    # page further into the file than its program headers put there.
    entries, page = nt_file_entries(c)
    exe = next(m[3] for m in c.mappings if m[0] == exe_text["vaddr"])
    k = next((k for k, m in enumerate(c.mappings) if m[3] == exe and m[2]), None)
    if k is None:
        raise Failure("no mapping of %s at a file offset other than 0" % exe)
    (pgoff,) = struct.unpack_from("<Q", c.data, entries[k] + 16)
    damages.append(("nt_file_offset_plus_page", entries[k] + 16, pgoff + (4096 // page if page > 1 else 4096)))
    for name, at, value in damages:
        p = patch_u64(core, os.path.join(d, name + ".core"), at, value)
        rn.expect_partial(["types", "--json", p], [r"segment table is damaged"])
        r = rn.run("cycles", p)
        if r.rc != EXIT_PARTIAL or "segment table is damaged" not in r.err:
            raise Failure("%s: `cycles` should also be partial, naming the damage\n%s" % (name, r.describe()))
    rn.expect_sane(os.path.join(d, "p_vaddr_onto_next.core"))


@case
def case_implausible_list_size(rn, d):
    # A list whose `allocated` word reads 2^62 (flipped bits): its size is
    # implausible, so it is counted at its type's basic size and the result
    # is partial; the totals stay what they were less the list's item array,
    # and `diff` accepts coreheap's own snapshot of the core (issue 17: an
    # object size near 2^63 made the snapshot's totals negative). The test
    # knows PyListObject.allocated is the word at +32 (3.8-3.13), to aim it.
    core, ids, c = gc_fixture(rn)
    obj = ids["objs"][7]
    off = c.file_offset(obj + 32)
    if off is None:
        raise Failure("list 0x%x is not in the core file" % obj)
    (allocated,) = struct.unpack_from("<Q", c.data, off)
    if not 0 < allocated < 64:
        raise Failure("unexpected allocated %d of list 0x%x (the layout moved?)" % (allocated, obj))
    p = patch_u64(core, os.path.join(d, "damaged.core"), off, 1 << 62)
    want = full_types(rn, core)
    _, doc = rn.expect_partial(["types", "--json", p], [r"0x%x \(list\) has an implausible length" % obj])
    got_b, want_b = doc["totals"]["bytes"], want["totals"]["bytes"]
    if got_b != want_b - allocated * 8:
        raise Failure("totals.bytes %d, want %d (the undamaged total less the list's %d item slots)"
                      % (got_b, want_b - allocated * 8, allocated))
    snap = os.path.join(d, "snap.json")
    r = rn.run("snapshot", p, "-o", snap)
    if r.rc != EXIT_PARTIAL:
        raise Failure("snapshot of the damaged core should be partial (5)\n%s" % r.describe())
    with open(snap) as f:
        totals = json.load(f)["totals"]
    if totals["bytes"] < 0 or totals["bytes"] != got_b:
        raise Failure("snapshot totals %r, want bytes %d" % (totals, got_b))
    r = rn.run("diff", "--json", snap, snap)
    if r.rc not in (EXIT_OK, EXIT_PARTIAL):
        raise Failure("diff refused coreheap's own snapshot\n%s" % r.describe())
    rn.expect_sane(p)


@case
def case_corrupt_refcount(rn, d):
    # ob_refcnt of two tracked lists (each held by the `objs` list, so the
    # gc.collect() replay subtracts one internal reference from each) set to
    # INT64_MIN and INT64_MAX: the replay's arithmetic must stay defined (the
    # ASan+UBSan build turns an overflow into a failure here), and as both
    # lists are reached from the live `objs`, nothing becomes garbage.
    core, ids, c = gc_fixture(rn)
    p = core
    for k, value in ((3, 1 << 63), (5, (1 << 63) - 1)):
        off = c.file_offset(ids["objs"][k])  # ob_refcnt, the first word
        if off is None:
            raise Failure("object 0x%x is not in the core file" % ids["objs"][k])
        p = patch_u64(p, os.path.join(d, "damaged%d.core" % k), off, value)
    want = rn.run("cycles", "--json", core)
    got = rn.run("cycles", "--json", p)
    for r in (want, got):
        if r.rc != EXIT_OK:
            raise Failure("cycles should finish with 0\n%s" % r.describe())
    u_want, u_got = want.json()["unreachable"], got.json()["unreachable"]
    if u_got != u_want:
        raise Failure("corrupted refcounts of reachable lists changed the garbage: %r -> %r" % (u_want, u_got))
    rn.expect_sane(p)


# h. usage --------------------------------------------------------------------

@case
def case_usage_no_arguments(rn, d):
    rn.expect_usage([], [r"usage"])


@case
def case_usage_unknown_command(rn, d):
    rn.expect_usage(["frobnicate", "core"], [r"frobnicate"])


@case
def case_usage_unknown_option(rn, d):
    rn.expect_usage(["types", "--bogus", "core"], [r"--bogus"])


@case
def case_usage_top_not_a_number(rn, d):
    rn.expect_usage(["types", "--top", "abc", "core"], [r"--top", r"abc"])


@case
def case_usage_bad_sort(rn, d):
    rn.expect_usage(["types", "--sort", "nope", "core"], [r"--sort", r"nope"])


@case
def case_usage_bad_generation(rn, d):
    rn.expect_usage(["types", "--generation", "7", "core"], [r"--generation", r"7"])


@case
def case_usage_missing_core(rn, d):
    rn.expect_usage(["types"], [r"CORE"])
    rn.expect_usage(["info", "--json"], [r"CORE"])


COMPRESSORS = (("zstd", ["zstd", "-q", "-c"]), ("lz4", ["lz4", "-q", "-c"]), ("xz", ["xz", "-c", "-T1"]),
               ("gzip", ["gzip", "-c"]))


def compressed_copies(rn, d, core):
    """The core compressed by each tool: [(format, path)]; a missing tool
    fails the case (scripts/install_deps.sh installs them)."""
    out = []
    for fmt, argv in COMPRESSORS:
        if not shutil.which(argv[0]):
            raise Failure("%s is not installed (scripts/install_deps.sh installs it)" % argv[0])
        path = os.path.join(d, "core." + fmt)
        with open(core, "rb") as src, open(path, "wb") as dst:
            subprocess.run(argv, stdin=src, stdout=dst, check=True)
        out.append((fmt, path))
    return out


@case
def case_compressed_cores(rn, d):
    """zstd, lz4, xz and gzip cores, a core on standard input (plain and
    compressed) and /dev/stdin read exactly as the plain core."""
    core = rn.need_core("gc")
    want = rn.expect_ok(["types", "--json", core]).json()
    for fmt, path in compressed_copies(rn, d, core):
        got = rn.expect_ok(["types", "--json", path]).json()
        if got != want:
            raise Failure("types of the %s-compressed core differ from the plain core's" % fmt)
    for label, path, arg in (("plain", core, "-"), ("zstd", os.path.join(d, "core.zstd"), "-"),
                             ("gzip", os.path.join(d, "core.gzip"), "/dev/stdin")):
        with open(path, "rb") as f:
            p = subprocess.run([rn.coreheap, "types", "--json", arg], stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        if p.returncode != 0 or json.loads(p.stdout) != want:
            raise Failure("types of the %s core on standard input (%s) differ or failed (exit %d): %s"
                          % (label, arg, p.returncode, p.stderr.decode("utf-8", "replace")[:500]))


@case
def case_compressed_damaged(rn, d):
    """A compressed core cut short or corrupted is one clear error (exit 3)
    naming the format; an empty stream on standard input likewise."""
    core = rn.need_core("abort")
    for fmt, path in compressed_copies(rn, d, core):
        with open(path, "rb") as f:
            data = f.read()
        cut = write(path + ".cut", data[:len(data) // 2])
        rn.expect_error(["info", cut], EXIT_INPUT, [r"the %s stream ends early" % fmt])
        bad = bytearray(data)
        for i in range(64, min(len(bad), 4096), 7):
            bad[i] ^= 0x5a
        bad_path = write(path + ".bad", bytes(bad))
        r = rn.run("info", bad_path)
        if r.rc == EXIT_OK:
            continue  # the flips landed where the format does not check: the core may still read
        errors = [l for l in r.err_lines if l.startswith("coreheap: error: ")]
        if r.rc != EXIT_INPUT or len(errors) != 1:
            raise Failure("a corrupted %s core: expected exit 3 and one error line\n%s" % (fmt, r.describe()))
    p = subprocess.run([rn.coreheap, "info", "-"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    if p.returncode != EXIT_INPUT or b"standard input: empty file" not in p.stderr:
        raise Failure("an empty standard input: expected exit 3 'standard input: empty file', got %d %s"
                      % (p.returncode, p.stderr[:300]))


@case
def case_output_is_input(rn, d):
    """-o naming the core itself, a symlink to it or a hard link of it is
    refused (exit 2, one line) and leaves the core byte for byte intact."""
    core = os.path.join(d, "core")
    shutil.copyfile(rn.need_core("abort"), core)
    with open(core, "rb") as f:
        before = f.read()
    os.symlink("core", os.path.join(d, "link"))
    os.link(core, os.path.join(d, "hard"))
    for target, inp in (("core", "core"), ("link", "core"), ("hard", "link")):
        rn.expect_error(["info", inp, "-o", target], EXIT_USAGE, [r"-o %s is the input" % target], cwd=d)
        with open(core, "rb") as f:
            if f.read() != before:
                raise Failure("-o %s (input %s) changed the core" % (target, inp))
    # diff's second input is an input too
    rn.expect_error(["diff", core, "core", "-o", "hard"], EXIT_USAGE, [r"is the input"], cwd=d)
    lib = os.path.join(d, "lib.so")
    shutil.copyfile(rn.other_libpython, lib)
    with open(lib, "rb") as f:
        lib_before = f.read()
    rn.expect_error(["layout", "--dump", lib, "-o", lib], EXIT_USAGE, [r"is the input"])
    with open(lib, "rb") as f:
        if f.read() != lib_before:
            raise Failure("layout -o over its input changed the file")


@case
def case_output_replaced_only_on_success(rn, d):
    """A failed run leaves an earlier report at the -o path untouched and no
    temporary file behind; a successful one replaces it, keeping its mode."""
    core = rn.need_core("abort")
    out = os.path.join(d, "report.txt")
    write(out, b"earlier report\n")
    os.chmod(out, 0o640)
    rn.expect_error(["info", os.path.join(d, "no-such-core"), "-o", out], EXIT_INPUT)
    with open(out, "rb") as f:
        if f.read() != b"earlier report\n":
            raise Failure("a failed run changed the earlier report at -o")
    r = rn.expect_ok(["info", core, "-o", out], stdout_required=False)
    if r.out.strip():
        raise Failure("-o: the report went to stdout\n%s" % r.describe())
    with open(out) as f:
        if "pid" not in f.read():
            raise Failure("-o: the report was not written to the file")
    if os.stat(out).st_mode & 0o777 != 0o640:
        raise Failure("-o: the replaced report lost its mode (%o)" % (os.stat(out).st_mode & 0o777))
    left = [n for n in os.listdir(d) if n != "report.txt"]
    if left:
        raise Failure("-o left files behind: %s" % left)
    rn.expect_ok(["info", core, "-o", os.devnull], stdout_required=False)


@case
def case_help_and_version(rn, d):
    r = rn.expect_ok(["--help"])
    if "types" not in r.out or "info" not in r.out:
        raise Failure("--help should list the commands\n%s" % r.describe())
    r = rn.expect_ok(["types", "--help"])
    if "--top" not in r.out:
        raise Failure("types --help should describe --top\n%s" % r.describe())
    r = rn.expect_ok(["info", "--help"])
    r = rn.expect_ok(["--version"])
    if not re.match(r"coreheap \d+\.\d+", r.out):
        raise Failure("--version should print 'coreheap X.Y.Z'\n%s" % r.describe())


# cases of cores a user actually has (cut by ulimit -c, moved files, ...)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases_cores  # noqa: E402

cases_cores.add_cases(sys.modules[__name__])


# ---------------------------------------------------------------------------

def run_case(rn, name):
    fn = CASES.get(name)
    if fn is None:
        print("run_bad_input: no case %r (see 'list')" % name, file=sys.stderr)
        return 2
    d = rn.case_dir(name)
    try:
        fn(rn, d)
    except Skip as e:
        print("run_bad_input: %s: %s" % (name, e))
        return SKIP
    except Failure as e:
        print("run_bad_input: %s: FAIL: %s" % (name, e))
        return 1
    shutil.rmtree(d, ignore_errors=True)
    print("run_bad_input: %s: ok" % name)
    return 0


def main(argv):
    python = DEFAULT_PYTHON
    other = None
    args = list(argv)
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt in ("--python", "--other-libpython") and args:
            val = args.pop(0)
            if opt == "--python":
                python = val
            else:
                other = val
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    coreheap, workdir, command = args[0], args[1], args[2]
    rest = args[3:]
    if other is None:
        cand = os.path.normpath(os.path.join(os.path.dirname(python), "..", "..", "3.11.7", "lib",
                                             "libpython3.11.so.1.0"))
        other = cand if os.path.isfile(cand) else (shutil.which("true") or "/bin/true")
    rn = Runner(coreheap, workdir, python, other)

    if command == "list":
        print("\n".join(CASES))
        return 0
    if command == "check-registered":
        missing = sorted(set(CASES) - set(rest))
        extra = sorted(set(rest) - set(CASES))
        if missing or extra:
            print("run_bad_input: cases not registered in tests/CMakeLists.txt: %s; registered but unknown: %s"
                  % (missing or "none", extra or "none"))
            return 1
        print("run_bad_input: all %d cases are registered" % len(CASES))
        return 0
    if command == "setup":
        try:
            setup(rn)
        except Skip as e:
            print("run_bad_input: setup: %s" % e)
            return SKIP
        except Failure as e:
            print("run_bad_input: setup: FAIL: %s" % e)
            return 1
        return 0
    if command == "case" and len(rest) == 1:
        return run_case(rn, rest[0])
    if command == "all":
        try:
            setup(rn)
        except Skip as e:
            print("run_bad_input: setup: %s" % e)
        except Failure as e:
            print("run_bad_input: setup: FAIL: %s" % e)
            return 1
        results = {name: run_case(rn, name) for name in (rest or CASES)}
        passed = sum(1 for r in results.values() if r == 0)
        failed = sum(1 for r in results.values() if r not in (0, SKIP))
        skipped = sum(1 for r in results.values() if r == SKIP)
        print("run_bad_input: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
