"""Bad-input cases for the cores a user actually has (issue 16): cores cut by
the core size limit. Registered into run_bad_input.py's case table by
add_cases(); `h` is that module (Runner, Core, Failure, Skip, make_core, ...).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

# The process records what it knows about itself (pid, thread ids, its
# executable, where _PyRuntime is and how many objects the collector
# tracks), builds ~60 MB of objects, lowers its own core size limit
# (RLIMIT_CORE, what `ulimit -c` sets) and aborts: the kernel cuts the core
# at the limit, as it does for a user whose limit is too small.
LIMITED_SCENARIO = r'''
import ctypes, gc, json, os, resource, sys, threading
limit = int(sys.argv[2])
ready, stop = threading.Barrier(3), threading.Event()
tids = []
def worker():
    tids.append(threading.get_native_id())
    ready.wait()
    stop.wait()
workers = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
for t in workers:
    t.start()
ready.wait()
data = [[i, str(i)] for i in range(700000)]
rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
truth = {"pid": os.getpid(), "main_tid": threading.get_native_id(), "tids": sorted(tids + [threading.get_native_id()]),
         "executable": os.path.realpath(sys.executable), "runtime": rt, "gc_objects": len(gc.get_objects()),
         "limit": limit}
with open(sys.argv[1], "w") as f:
    json.dump(truth, f)
resource.setrlimit(resource.RLIMIT_CORE, (limit, resource.getrlimit(resource.RLIMIT_CORE)[1]))
os.abort()
'''

LIMIT = 16 << 20


def mib_pair(size, expected):
    """How coreheap's messages state a cut ("3.7 MiB of 5.3 MiB")."""
    return "%.1f MiB of %.1f MiB" % (size / 1048576.0, expected / 1048576.0)


def limited_core(h, rn, d, python, name):
    work = os.path.join(d, name)
    truth_path = os.path.join(work, "truth.json")
    core = h.make_core(work, [python, "-I", "-S", "-c", LIMITED_SCENARIO, truth_path, str(LIMIT)], signal.SIGABRT)
    with open(truth_path) as f:
        truth = json.load(f)
    return core, truth


def check_process_facts(h, doc, truth, core, c, what):
    """info's process-level figures against what the process recorded and
    what the core's own headers declare."""
    proc, cf = doc.get("process") or {}, doc.get("core") or {}
    size = os.path.getsize(core)
    expected = max(p["offset"] + p["filesz"] for p in c.phdrs if p["filesz"])
    want = {"pid": truth["pid"], "executable": truth["executable"], "signal": signal.SIGABRT,
            "os_threads": len(truth["tids"])}
    got = {k: proc.get(k) for k in want}
    if got != want:
        raise h.Failure("%s: info's process facts %r, the process recorded %r" % (what, got, want))
    tids = sorted(t["tid"] for t in doc.get("threads", []))
    if tids != truth["tids"]:
        raise h.Failure("%s: info lists threads %r, the process had %r" % (what, tids, truth["tids"]))
    crashed = [t["tid"] for t in doc["threads"] if t.get("crashed")]
    if crashed != [truth["main_tid"]]:
        raise h.Failure("%s: the aborting thread is %d, info marks %r" % (what, truth["main_tid"], crashed))
    fig = {"size": cf.get("size"), "expected_size": cf.get("expected_size"), "missing_bytes": cf.get("missing_bytes"),
           "truncated": cf.get("truncated")}
    want_fig = {"size": size, "expected_size": expected, "missing_bytes": expected - size, "truncated": True}
    if fig != want_fig:
        raise h.Failure("%s: info's core figures %r, the file and its headers say %r" % (what, fig, want_fig))
    if not any(mib_pair(size, expected) in w for w in doc.get("warnings", [])):
        raise h.Failure("%s: no warning states the cut as %r: %r" % (what, mib_pair(size, expected), doc.get("warnings")))


def case_truncated_by_core_limit(h, rn, d):
    """A real core cut by RLIMIT_CORE (ulimit -c) of a pyenv 3.12 process
    with a shared libpython: the kernel writes memory in address order, so
    the cut loses libpython's data (_PyRuntime). info reports the process
    (pid, executable, signal, threads, how much is missing) with "runtime":
    null, exit 5; the analyses fail with one line naming the truncation and
    its size, exit 3. Where the runtime survived the cut, the analyses run
    on what is there and say they are partial."""
    core, truth = limited_core(h, rn, d, rn.python, "pyenv")
    c = h.Core(core)
    size = os.path.getsize(core)
    # (The file may be longer than the limit: pages the kernel skips are
    # holes that count toward the file size but not toward the limit.)
    off = c.file_offset(truth["runtime"], 64)
    expected = max(p["offset"] + p["filesz"] for p in c.phdrs if p["filesz"])
    if size >= expected:
        raise h.Failure("the core is whole (%d bytes): the limit did not cut it" % size)
    _, doc = rn.expect_partial(["info", "--json", core], [r"truncated", re.escape(mib_pair(size, expected))])
    check_process_facts(h, doc, truth, core, c, "pyenv 3.12")
    r = rn.run("info", core)
    if r.rc != h.EXIT_PARTIAL or str(truth["pid"]) not in r.out or "TRUNCATED" not in r.out:
        raise h.Failure("text info should report the pid and the truncation, exit 5\n%s" % r.describe())
    if off is None:
        if doc["runtime"] is not None or doc["gc"] is not None:
            raise h.Failure("_PyRuntime 0x%x is past the cut, yet info reports a runtime" % truth["runtime"])
        for cmd in ("types", "summary", "stacks"):
            rn.expect_error([cmd, core], h.EXIT_INPUT, [r"truncated", re.escape(mib_pair(size, expected))])
        rn.expect_error(["diff", core, core], h.EXIT_INPUT, [r"truncated", re.escape(mib_pair(size, expected))])
    else:
        if doc["runtime"] is None:
            raise h.Failure("_PyRuntime 0x%x is in the core, yet info reports no runtime" % truth["runtime"])
        _, types = rn.expect_partial(["types", "--json", core])
        if not types["totals"]["count"] < truth["gc_objects"]:
            raise h.Failure("a cut core yields %d objects, the whole heap had %d tracked"
                            % (types["totals"]["count"], truth["gc_objects"]))
    rn.expect_sane(core)


def case_truncated_static_interpreter(h, rn, d):
    """The same cut of Debian's python3.11, whose runtime is in the
    executable's data at the bottom of the address space: _PyRuntime
    survives the cut, the objects above it do not. types runs on what is
    there: a partial result (exit 5) counting fewer objects than the
    process tracked, never an error and never exit 0."""
    python = "/usr/bin/python3.11"
    if not os.access(python, os.X_OK):
        raise h.Skip("%s is not installed (Debian's python3.11)" % python)
    core, truth = limited_core(h, rn, d, python, "debian")
    c = h.Core(core)
    if c.file_offset(truth["runtime"], 64) is None:
        raise h.Failure("_PyRuntime 0x%x of the static interpreter did not survive the cut" % truth["runtime"])
    r = rn.run("info", "--json", core)
    if r.rc not in (h.EXIT_OK, h.EXIT_PARTIAL):
        raise h.Failure("info on a cut core whose runtime survived: expected exit 0 or 5\n%s" % r.describe())
    doc = r.json()
    if doc["runtime"] is None or doc["gc"] is None:
        raise h.Failure("the runtime survived the cut, yet info reports none\n%s" % r.describe())
    check_process_facts(h, doc, truth, core, c, "python3.11")
    _, types = rn.expect_partial(["types", "--json", core], [r"truncated", r"GC generation|past the cut"])
    rn.expect_partial(["diff", "--json", core, core], [r"truncated"])
    if not types["totals"]["count"] < truth["gc_objects"]:
        raise h.Failure("a cut core yields %d objects, the whole heap had %d tracked"
                        % (types["totals"]["count"], truth["gc_objects"]))
    rn.expect_sane(core)


def note_offsets(c):
    """(file offset, type) of every note in the core's PT_NOTE segments."""
    out = []
    for p in c.notes:
        off, end = p["offset"], p["offset"] + p["filesz"]
        while off + 12 <= end:
            namesz, descsz, ntype = h_unpack("<III", c.data, off)
            out.append((off, ntype))
            off += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return out


def h_unpack(fmt, data, off):
    import struct
    return struct.unpack_from(fmt, data, off)


def case_damaged_notes(h, rn, d):
    """Damaged notes are reported as the damage (exit 3), never as "not a
    Python process" or "cannot determine the Python version" (exit 4): the
    NT_FILE and NT_AUXV notes' types overwritten (no mapped files recorded,
    and no auxiliary vector to find the dynamic linker's link map through:
    NT_FILE alone missing is a qemu-user core, which coreheap reads, see
    tests/check_no_nt_file.py), and a note whose size field runs past its
    segment (the list ends there: treated as a cut, with the truncation
    warning); an NT_FILE page size that is not a power of two or not the
    auxv's AT_PAGESZ."""
    import struct
    core = rn.need_core("abort")
    c = h.Core(core)
    notes = note_offsets(c)
    nt_file = [off for off, t in notes if t == h.NT_FILE]
    if len(nt_file) != 1:
        raise h.Failure("expected one NT_FILE note in %s, found %d" % (core, len(nt_file)))
    nt_auxv = [off for off, t in notes if t == h.NT_AUXV]
    if len(nt_auxv) != 1:
        raise h.Failure("expected one NT_AUXV note in %s, found %d" % (core, len(nt_auxv)))
    data = bytearray(c.data)
    struct.pack_into("<I", data, nt_file[0] + 8, 0x7fff)
    struct.pack_into("<I", data, nt_auxv[0] + 8, 0x7fff)
    p = h.write(os.path.join(d, "no-file-note.core"), bytes(data))
    rn.expect_error(["types", p], h.EXIT_INPUT, [r"NT_FILE", r"no mapped files", r"link map", r"AT_PHDR"])
    rn.expect_sane(p)
    data = bytearray(c.data)
    struct.pack_into("<I", data, notes[0][0] + 4, 0x7fffffff)  # descsz of the first note
    p = h.write(os.path.join(d, "cut-notes.core"), bytes(data))
    r = rn.expect_error(["types", p], h.EXIT_INPUT, [r"truncated|damaged|NT_FILE"])
    if not any("truncated" in l for l in r.err_lines if l.startswith("coreheap: warning:")):
        raise h.Failure("no warning says the core is truncated or damaged\n%s" % r.describe())
    rn.expect_sane(p)
    # NT_FILE's page size (its file offsets count pages): not a power of two,
    # and one that disagrees with the auxv's AT_PAGESZ. Either would read
    # every mapped file at wrong offsets (garbage code for the emulator: a
    # Unicorn abort found by the mutation test).
    for page, words in ((4095, [r"NT_FILE page size 4095 is implausible"]),
                        (8192, [r"NT_FILE counts file offsets in pages of 8192 bytes", r"AT_PAGESZ|auxiliary"])):
        data = bytearray(c.data)
        desc = nt_file[0] + 12 + 8  # namesz "CORE\0" padded to 8
        struct.pack_into("<Q", data, desc + 8, page)
        p = h.write(os.path.join(d, "file-page-%d.core" % page), bytes(data))
        rn.expect_error(["show", p, "0x1000"], h.EXIT_INPUT, words)
        rn.expect_sane(p)


# Runs the truth scenario after unlinking the interpreter's libpython (the
# process has it mapped already): the kernel then records the mapping as
# ".../libpython3.12.so.1.0 (deleted)", as after a package upgrade.
DELETING_LAUNCHER = r'''
import os, runpy, sys
lib, scenario, truth = sys.argv[1:4]
os.unlink(lib)
sys.argv = [scenario, truth]
runpy.run_path(scenario, run_name="__main__")
'''


def interpreter_tree(h, rn, d):
    """A copy of the pyenv interpreter (bin/python3.12 and lib/libpython)
    with its standard library linked in: ([python, libpython], env)."""
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(rn.python)))
    lib = [n for n in os.listdir(os.path.join(prefix, "lib")) if re.match(r"libpython3\.\d+\.so\.1\.0$", n)]
    if not lib:
        raise h.Skip("%s has no shared libpython" % prefix)
    tree = os.path.join(d, "tree")
    for sub in ("bin", "lib"):
        os.makedirs(os.path.join(tree, sub))
    python = os.path.join(tree, "bin", os.path.basename(rn.python))
    shutil.copy2(os.path.realpath(rn.python), python)
    libpython = os.path.join(tree, "lib", lib[0])
    shutil.copy2(os.path.join(prefix, "lib", lib[0]), libpython)
    stdlib = "python" + re.match(r"libpython(3\.\d+)", lib[0]).group(1)
    os.symlink(os.path.join(prefix, "lib", stdlib), os.path.join(tree, "lib", stdlib))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(tree, "lib"))  # before the original's RUNPATH
    return python, libpython, env


def wrapper(d, coreheap, extra):
    """A coreheap that adds extra options to every command, for check_truth.py."""
    path = os.path.join(d, "coreheap-" + str(len(os.listdir(d))))
    with open(path, "w") as f:
        f.write("#!/bin/sh\nsub=$1; shift\nexec '%s' \"$sub\" %s \"$@\"\n" % (coreheap, " ".join("'%s'" % a for a in extra)))
    os.chmod(path, 0o755)
    return path


def check_truth(h, rn, d, core, truth, extra, what):
    p = subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "check_truth.py"), "--coreheap",
                        wrapper(d, rn.coreheap, extra), "--core", core, "--truth", truth],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    if p.returncode != 0:
        raise h.Failure("%s: check_truth.py failed (exit %d):\n%s" % (what, p.returncode,
                                                                     p.stdout.decode("utf-8", "replace")[-3000:]))


def case_deleted_libpython(h, rn, d):
    """A process whose libpython was deleted after it mapped it (as a package
    upgrade does): the core records ".../libpython3.12.so.1.0 (deleted)".
    Without help: one error naming the file and --lib-search-path. With
    --lib-search-path DIR holding the same build: types match the truth the
    process recorded (check_truth.py). Another build put at the path is
    refused naming both build-ids; the same build put back is used."""
    python, libpython, env = interpreter_tree(h, rn, d)
    saved = os.path.join(d, "saved")
    os.makedirs(saved)
    shutil.copy2(libpython, saved)
    work = os.path.join(d, "run")
    truth = os.path.join(d, "truth.json")
    scenario = os.path.join(SOURCE, "fixtures", "scenario_heap.py")
    core = h.make_core(work, [python, "-I", "-S", "-c", DELETING_LAUNCHER, libpython, scenario, truth],
                       signal.SIGABRT, env=env)
    c = h.Core(core)
    if not any(m[3] == libpython + " (deleted)" for m in c.mappings):
        raise h.Failure("the core does not record %s as deleted: %s" % (libpython, sorted({m[3] for m in c.mappings})))
    name = re.escape(os.path.basename(libpython))
    rn.expect_error(["types", core], h.EXIT_INPUT, [name, r"deleted", r"--lib-search-path"])
    check_truth(h, rn, d, core, truth, ["--lib-search-path", os.path.join(d, "nowhere"), "--lib-search-path", saved],
                "deleted libpython found by --lib-search-path")
    def heap(doc):  # the answer, not where the DWARF was read (runtime.layout_source)
        return doc["types"], doc["totals"], doc["warnings"]
    want = heap(rn.expect_ok(["types", "--json", "--lib-search-path", saved, core]).json())
    # another build at the recorded path: refused, naming both ids
    shutil.copyfile(rn.other_libpython, libpython)
    ids = [h.elf_build_id(os.path.join(saved, os.path.basename(libpython))), h.elf_build_id(rn.other_libpython)]
    rn.expect_error(["types", core], h.EXIT_INPUT, [re.escape(ids[0]), re.escape(ids[1]), r"--lib-search-path"])
    got = heap(rn.expect_ok(["types", "--json", "--lib-search-path", saved, core]).json())
    if got != want:
        raise h.Failure("with another build at the recorded path, --lib-search-path gave other types")
    # the same build put back at the recorded path: used without options
    shutil.copyfile(os.path.join(saved, os.path.basename(libpython)), libpython)
    got = heap(rn.expect_ok(["types", "--json", core]).json())
    if got != want:
        raise h.Failure("the same build put back at the recorded path gave other types")


def case_exe_wrong(h, rn, d):
    """--exe naming a non-ELF file or another build is an error naming both
    the file given and the core's executable."""
    core = rn.need_core("abort")
    text = h.write(os.path.join(d, "not-elf"), b"#!/bin/sh\n")
    exe = core_exe(h, core)
    rn.expect_error(["types", "--exe", text, core], h.EXIT_INPUT, [re.escape(text), re.escape(exe), r"not an ELF"])
    other = os.path.join(os.path.dirname(os.path.dirname(rn.other_libpython)), "bin",
                         "python" + re.search(r"libpython(3\.\d+)", rn.other_libpython).group(1))
    if not os.path.isfile(other):
        other = shutil.which("true") or "/bin/true"
    rn.expect_error(["info", "--exe", other, core], h.EXIT_INPUT, [re.escape(other), re.escape(exe), r"build-id"])


def core_exe(h, core):
    """The executable the core recorded (the mapping named .../bin/python*)."""
    return sorted(m[3] for m in h.Core(core).mappings if "/bin/python" in m[3])[0]


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_served(url, server, seconds):
    """Poll url until the server answers 200 (True), it dies or time runs out."""
    import time
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with opener.open(url, timeout=5) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def case_debuginfod(h, rn, d):
    """Debian's python3.11 with its local debug file hidden (--debug-dir of an
    empty directory): with DEBUGINFOD_URLS naming a debuginfod server on
    127.0.0.1 that serves the python3.11-dbg file, the layouts come from the
    fetched file ("layout_method": "debuginfod") and the answer equals the
    one from the local debug file; after the server is stopped the file is
    still used from the client cache; with an empty cache and no server the
    built-in table is used and the reason names debuginfod."""
    python = "/usr/bin/python3.11"
    if not os.access(python, os.X_OK):
        raise h.Skip("%s is not installed (Debian's python3.11)" % python)
    server_bin = shutil.which("debuginfod")
    if not server_bin:
        raise h.Failure("debuginfod (the server) is not installed (scripts/install_deps.sh installs it)")
    build_id = h.elf_build_id(python)
    local = "/usr/lib/debug/.build-id/%s/%s.debug" % (build_id[:2], build_id[2:])
    if not os.path.isfile(local):
        raise h.Skip("%s is missing (apt-get install python3.11-dbg)" % local)
    core = h.make_core(os.path.join(d, "run"), [python, "-I", "-S", "-c", "import os; os.abort()"], signal.SIGABRT)
    serve, nodebug, cache = (os.path.join(d, n) for n in ("serve", "nodebug", "cache"))
    for p in (serve, nodebug):
        os.makedirs(p)
    shutil.copyfile(local, os.path.join(serve, "python3.11.debug"))
    for k in ("DEBUGINFOD_URLS", "DEBUGINFOD_CACHE_PATH", "http_proxy", "HTTP_PROXY"):
        os.environ.pop(k, None)
    os.environ["no_proxy"] = "127.0.0.1,localhost"

    def layout(doc):
        return doc["runtime"]["layout_method"], doc["layout"]["dwarf_file"]

    def heap(doc):
        return doc["types"], doc["totals"]

    want = heap(rn.expect_ok(["types", "--json", core]).json())  # the local debug file
    base = rn.expect_ok(["info", "--json", "--debug-dir", nodebug, core]).json()
    if layout(base)[0] == "debuginfod":
        raise h.Failure("layout method is debuginfod without DEBUGINFOD_URLS")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    server = subprocess.Popen([server_bin, "-p", str(port), "-d", os.path.join(d, "db.sqlite"), "-F", serve],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "server.log"), "wb"))
    try:
        if not wait_served("%s/buildid/%s/debuginfo" % (url, build_id), server, 60):
            with open(os.path.join(d, "server.log"), "rb") as f:
                log = f.read()[-1500:].decode("utf-8", "replace")
            raise h.Failure("the local debuginfod did not serve build-id %s within 60 s\n%s" % (build_id, log))
        os.environ["DEBUGINFOD_URLS"] = url
        os.environ["DEBUGINFOD_CACHE_PATH"] = cache
        doc = rn.expect_ok(["info", "--json", "--debug-dir", nodebug, core]).json()
        method, dwarf_file = layout(doc)
        if method != "debuginfod" or not (dwarf_file or "").startswith(cache):
            raise h.Failure("with DEBUGINFOD_URLS the layouts should come from the fetched file in %s, got %r"
                            % (cache, (method, dwarf_file)))
        r = rn.expect_ok(["info", "--debug-dir", nodebug, core])
        if "fetched from debuginfod" not in r.out:
            raise h.Failure("text info does not say the debug file came from debuginfod\n%s" % r.describe())
        got = heap(rn.expect_ok(["types", "--json", "--debug-dir", nodebug, core]).json())
        if got != want:
            raise h.Failure("types with the fetched debug file differ from types with the local one")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    doc = rn.expect_ok(["info", "--json", "--debug-dir", nodebug, core]).json()
    if layout(doc)[0] != "debuginfod":
        raise h.Failure("with the server stopped, the cached debug file should still be used: %r" % (layout(doc),))
    os.environ["DEBUGINFOD_CACHE_PATH"] = os.path.join(d, "cache2")
    doc = rn.expect_ok(["info", "--json", "--debug-dir", nodebug, core]).json()
    if layout(doc)[0] == "debuginfod" or "debuginfod" not in (doc["layout"]["dwarf_problem"] or ""):
        raise h.Failure("no server and an empty cache: expected the built-in table and a reason naming "
                        "debuginfod, got %r / %r" % (layout(doc), doc["layout"]["dwarf_problem"]))


def case_truncated_version_text(h, rn, d):
    """3.8-3.10 keep their version only as the text Py_GetVersion() formats
    into libpython's data at startup. A core cut before that data loses it:
    the answer is the cut (exit 3, naming it), not "cannot determine the
    Python version" (exit 4); info describes the process (exit 5)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(rn.python))))
    python = os.path.join(root, "3.10.13", "bin", "python3.10")
    if not os.access(python, os.X_OK):
        raise h.Skip("%s is not installed (pyenv install 3.10.13)" % python)
    core = h.make_core(os.path.join(d, "run"), [python, "-I", "-S", "-c", "import os; os.abort()"], signal.SIGABRT)
    c = h.Core(core)
    lib = [m for m in c.mappings if os.path.basename(m[3]).startswith("libpython3.10")]
    if not lib:
        raise h.Failure("the core maps no libpython3.10")
    data = max(lib, key=lambda m: m[2])  # its last file mapping: .data
    seg = c.load_for(data[0])
    if seg is None or not seg["filesz"]:
        raise h.Failure("libpython's data 0x%x is not in a dumped PT_LOAD" % data[0])
    at = seg["offset"]
    with open(core, "rb") as f:
        p = h.write(os.path.join(d, "cut.core"), f.read(at))
    r = rn.expect_error(["types", p], h.EXIT_INPUT, [r"truncated", re.escape(mib_pair(at, len(c.data)))])
    if not any("truncated" in l for l in r.err_lines if l.startswith("coreheap: warning:")):
        raise h.Failure("the truncation warning is missing\n%s" % r.describe())
    _, doc = rn.expect_partial(["info", "--json", p], [r"truncated"])
    if doc["runtime"] is not None or doc["process"]["pid"] != rn.expect_ok(["info", "--json", core]).json()["runtime"]["pid"]:
        raise h.Failure("info on the cut core: expected runtime null and the whole core's pid\n%r" % doc)
    rn.expect_sane(p)


def add_cases(h):
    for fn in (case_truncated_by_core_limit, case_truncated_static_interpreter, case_damaged_notes,
               case_deleted_libpython, case_exe_wrong, case_debuginfod, case_truncated_version_text):
        def bound(rn, d, fn=fn):
            return fn(h, rn, d)
        h.CASES[fn.__name__[len("case_"):]] = bound
