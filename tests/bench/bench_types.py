#!/usr/bin/env python3
"""Benchmark `coreheap types` (and `coreheap info`) on a core of ~N GC-tracked objects.

usage: bench_types.py COREHEAP [PYTHON [WORKDIR [OBJECTS]]] [--runs R] [--regen]

Prints numbers; asserts nothing about time.  See tests/bench/README.md.
Python 3.8+ standard library only.
"""
import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "bench_types_scenario.py")
DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12"


def die(msg):
    print("bench_types: error: " + msg, file=sys.stderr)
    sys.exit(1)


def default_workdir(coreheap):
    d = os.path.dirname(os.path.abspath(coreheap))
    if os.path.exists(os.path.join(d, "CMakeCache.txt")):
        return os.path.join(d, "bench-cores")
    return "/tmp/coreheap-bench"


def python_version(python):
    out = subprocess.run([python, "-I", "-S", "-c", "import sys; print(sys.version.split()[0])"],
                         stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
    return out.strip()


def make_core(python, workdir, objects, regen, scenario=SCENARIO, flags=("-I", "-S"), prefix="types"):
    """Return (core path, meta dict); reuse a cached core when the inputs match.

    scenario runs as `python FLAGS scenario OBJECTS meta.json` and must
    write meta.json (with "tracked") and abort."""
    scenario = os.path.abspath(scenario)
    with open(scenario, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()[:10]
    ver = python_version(python)
    stem = os.path.join(workdir, "%s-py%s-%d-%s" % (prefix, ver, objects, script_hash))
    core, meta_path = stem + ".core", stem + ".json"
    if not regen and os.path.exists(core) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("python_path") == os.path.realpath(python):
            print("core:     %s (cached)" % core)
            return core, meta
    scratch = stem + ".tmp"
    os.makedirs(scratch, exist_ok=True)
    for name in os.listdir(scratch):
        os.unlink(os.path.join(scratch, name))

    def unlimited_core():
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]  # `ulimit -c unlimited`, as far as allowed
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    print("core:     generating %d objects with %s ..." % (objects, python), flush=True)
    t0 = time.perf_counter()
    p = subprocess.run([python] + list(flags) + [scenario, str(objects), "meta.json"], cwd=scratch,
                       preexec_fn=unlimited_core)
    if p.returncode != -6:
        die("scenario exited with %d, expected SIGABRT" % p.returncode)
    dumped = [n for n in os.listdir(scratch) if n == "core" or n.startswith("core.")]
    if not dumped:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        die("no core written in %s (core_pattern is %r; it must be 'core')" % (scratch, pattern))
    with open(os.path.join(scratch, "meta.json")) as f:
        meta = json.load(f)
    meta["python_path"] = os.path.realpath(python)
    os.replace(os.path.join(scratch, dumped[0]), core)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    os.unlink(os.path.join(scratch, "meta.json"))
    os.rmdir(scratch)
    print("core:     %s (generated in %.1f s)" % (core, time.perf_counter() - t0))
    return core, meta


def run_once(argv, errfile):
    """Run argv with stdout on /dev/null; return (exit code, rusage, wall seconds)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    return code, ru, wall


def measure(argv, runs, errfile, label):
    rows = []
    for i in range(runs):
        code, ru, wall = run_once(argv, errfile)
        if code not in (0, 5):  # 5: partial result, still a complete run
            with open(errfile) as f:
                sys.stderr.write(f.read())
            die("%s exited with %d: %s" % (label, code, " ".join(argv)))
        rows.append({"user": ru.ru_utime, "sys": ru.ru_stime, "cpu": ru.ru_utime + ru.ru_stime,
                     "wall": wall, "rss_kib": ru.ru_maxrss, "code": code})
        print("  %-5s run %d: cpu %.3f s (user %.3f + sys %.3f), wall %.3f s, peak rss %.1f MiB%s"
              % (label, i + 1, rows[-1]["cpu"], ru.ru_utime, ru.ru_stime, wall, ru.ru_maxrss / 1024,
                 "" if code == 0 else " (exit 5: partial)"), flush=True)
    return rows


def summarize(rows, key):
    v = [r[key] for r in rows]
    return min(v), statistics.median(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("coreheap", help="coreheap binary")
    ap.add_argument("python", nargs="?", default=DEFAULT_PYTHON, help="interpreter that dumps the core")
    ap.add_argument("workdir", nargs="?", help="where cores are cached (default BUILD/bench-cores or /tmp)")
    ap.add_argument("objects", nargs="?", type=int, default=1000000, help="GC-tracked objects (default 1e6)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    ap.add_argument("--regen", action="store_true", help="regenerate the core even if cached")
    a = ap.parse_args()
    coreheap = os.path.abspath(a.coreheap)
    if not os.access(coreheap, os.X_OK):
        die("%s is not an executable" % a.coreheap)
    if not os.access(a.python, os.X_OK):
        die("%s is not an executable" % a.python)
    workdir = os.path.abspath(a.workdir or default_workdir(coreheap))
    os.makedirs(workdir, exist_ok=True)

    core, meta = make_core(a.python, workdir, a.objects, a.regen)
    core_size = os.path.getsize(core)
    errfile = os.path.join(workdir, "bench-stderr.txt")
    report = os.path.join(workdir, "bench-types.json")

    # Warm-up (page cache) and correctness: the real JSON, read back.
    code, _, _ = run_once([coreheap, "types", core, "--no-index", "--json", "-o", report], errfile)
    if code not in (0, 5):
        with open(errfile) as f:
            sys.stderr.write(f.read())
        die("coreheap types exited with %d" % code)
    with open(report) as f:
        doc = json.load(f)
    found = doc["totals"]["count"]
    gens = doc["totals"].get("generations", {})

    print("python:   %s (%s)" % (meta.get("python"), a.python))
    print("core:     %.1f MiB" % (core_size / 2**20))
    print("objects:  %d found by coreheap (totals.count; scenario counted %d); %d types; per generation %s%s"
          % (found, meta.get("tracked", -1), doc["totals"].get("types", -1),
             " ".join("%s=%s" % kv for kv in gens.items()), "" if code == 0 else "; exit 5 (partial)"))

    print("timing %d runs each (stdout to /dev/null):" % a.runs)
    types_rows = measure([coreheap, "types", core, "--no-index", "--json", "-o", "/dev/null"], a.runs, errfile, "types")
    info_rows = measure([coreheap, "info", core, "--no-index", "--json", "-o", "/dev/null"], a.runs, errfile, "info")
    cycles_rows = measure([coreheap, "cycles", core, "--no-index", "--json", "-o", "/dev/null"], a.runs, errfile, "cycles")
    top_rows = measure([coreheap, "top", core, "--no-index", "--json", "-o", "/dev/null"], a.runs, errfile, "top")

    print("%-26s %10s %10s" % ("", "min", "median"))
    for label, rows in (("types", types_rows), ("info", info_rows), ("cycles", cycles_rows), ("top", top_rows)):
        for key, name, scale, unit in (("cpu", "cpu (user+sys)", 1, "s"), ("user", "user", 1, "s"),
                                       ("sys", "sys", 1, "s"), ("wall", "wall", 1, "s"),
                                       ("rss_kib", "peak rss", 1 / 1024, "MiB")):
            lo, med = summarize(rows, key)
            print("%-26s %10.3f %10.3f %s" % ("%s %s" % (label, name), lo * scale, med * scale, unit))
    t_cpu, _ = summarize(types_rows, "cpu")
    t_wall, _ = summarize(types_rows, "wall")
    i_cpu, _ = summarize(info_rows, "cpu")
    rss, _ = summarize(types_rows, "rss_kib")
    walk = max(t_cpu - i_cpu, 1e-9)
    rate = found / max(t_cpu, 1e-9)
    print("objects/s: %.2f M (types cpu), %.2f M (types wall), %.2f M (types cpu minus info cpu = %.3f s)"
          % (rate / 1e6, found / max(t_wall, 1e-9) / 1e6, found / walk / 1e6, walk))
    cyc_report = os.path.join(workdir, "bench-cycles.json")
    code, _, _ = run_once([coreheap, "cycles", core, "--no-index", "--json", "-o", cyc_report], errfile)
    with open(cyc_report) as f:
        graph = json.load(f).get("graph", {})
    n_obj, n_edges = graph.get("objects", 0), graph.get("edges", 0)
    print("graph: %d objects, %d edges; object table %.1f bytes/object, edges %.1f bytes/edge "
          "(+ %.1f bytes/object of row offsets)"
          % (n_obj, n_edges, graph.get("object_table_bytes", 0) / max(n_obj, 1),
             (graph.get("edge_bytes", 0) - 4 * (n_obj + 1)) / max(n_edges, 1), 4.0))
    c_cpu, _ = summarize(cycles_rows, "cpu")
    c_rss, _ = summarize(cycles_rows, "rss_kib")
    print("bench_types: %d objects, cpu %.2f s (min of %d), %.1f M objects/s, peak rss %.0f MiB; "
          "info cpu %.2f s; python %s"
          % (found, t_cpu, a.runs, rate / 1e6, rss / 1024, i_cpu, meta.get("python")))
    # Peak RSS includes the touched pages of the mmap'd core, so bytes per
    # object is an upper bound on what coreheap itself allocates.
    print("bench_cycles: %d objects, cpu %.2f s (min of %d), %.2f M objects/s, peak rss %.0f MiB "
          "(%.0f bytes per object, core pages included)"
          % (found, c_cpu, a.runs, found / max(c_cpu, 1e-9) / 1e6, c_rss / 1024, c_rss * 1024 / max(found, 1)))
    # top = cycles' pipeline + roots + dominator tree + path search: the
    # ratios say what retained sizes cost on top of the cycle analysis.
    p_cpu, _ = summarize(top_rows, "cpu")
    p_wall, _ = summarize(top_rows, "wall")
    c_wall, _ = summarize(cycles_rows, "wall")
    p_rss, _ = summarize(top_rows, "rss_kib")
    print("bench_top: %d objects, cpu %.2f s, wall %.2f s (min of %d), peak rss %.0f MiB; "
          "vs cycles: cpu x%.2f, wall x%.2f, rss x%.2f"
          % (found, p_cpu, p_wall, a.runs, p_rss / 1024, p_cpu / max(c_cpu, 1e-9), p_wall / max(c_wall, 1e-9),
             p_rss / max(c_rss, 1e-9)))


if __name__ == "__main__":
    main()
