#!/usr/bin/env python3
"""What an installed coreheap looks like, checked from the outside.

  version  `coreheap --version` is "coreheap VERSION" plus, in a git
           checkout, "(git DESCRIPTION)" naming the checked-out commit;
           cmake/git_describe.cmake gives no description for a directory
           that is not the top of a checkout, or without git
  prefix   `cmake --install BUILD --prefix SCRATCH` installs exactly the
           expected files; the installed binary runs, its man page renders,
           its completions parse, its documents are the source's
  deb      `cpack -G DEB` from the build tree: the control fields, Depends
           naming the package of every library the binary needs (and
           satisfied by what is installed here), the same files as an
           install under /usr, and the unpacked package run from its root

The expected file list (expected_files) is written here, not derived from
the install rules it checks.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

NAME = "check_install"


def fail(msg):
    raise SystemExit("%s: FAIL: %s" % (NAME, msg))


def run(cmd, env=None, cwd=None, ok=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       env=env, cwd=cwd, timeout=300)
    if ok and p.returncode != 0:
        fail("%s exited %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def source_docs(source_dir):
    """docs/**/*.md of the source, relative to docs/."""
    docs = os.path.join(source_dir, "docs")
    return sorted(os.path.relpath(p, docs) for p in glob.glob(os.path.join(docs, "**", "*.md"), recursive=True))


def expected_files(source_dir, under_usr):
    """Files (relative to the prefix) an install must hold. zsh's directory
    is Debian's: vendor-completions for /usr, site-functions elsewhere."""
    files = {
        "bin/coreheap",
        "share/man/man1/coreheap.1.gz",
        "share/bash-completion/completions/coreheap",
        "share/zsh/%s/_coreheap" % ("vendor-completions" if under_usr else "site-functions"),
        "share/doc/coreheap/README.md",
        "share/doc/coreheap/CHANGELOG.md",
        "share/doc/coreheap/LICENSE",
    }
    files |= {"share/doc/coreheap/docs/" + d for d in source_docs(source_dir)}
    return files


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def compare_files(what, have, want):
    if have != want:
        fail("%s: unexpected %s, missing %s" % (what, sorted(have - want) or "nothing", sorted(want - have) or "nothing"))


def version_line(coreheap):
    p = run([coreheap, "--version"])
    return p.stdout.strip()


def check_tree(a, prefix, what):
    """The installed tree at prefix works: binary, man page, completions,
    documents."""
    line = version_line(os.path.join(prefix, "bin", "coreheap"))
    if line != version_line(a.coreheap):
        fail("%s: installed --version says %r, the build's %r" % (what, line, version_line(a.coreheap)))
    if not line.startswith("coreheap %s" % a.version):
        fail("%s: --version says %r, not 'coreheap %s ...'" % (what, line, a.version))
    env = dict(os.environ, MANPAGER="cat", MANWIDTH="80", LC_ALL="C.UTF-8")
    page = os.path.join(prefix, "share", "man", "man1", "coreheap.1.gz")
    p = run(["man", "--warnings", "-l", "-P", "cat", page], env=env)
    text = re.sub(r".\x08", "", p.stdout)
    if p.stderr.strip() or "EXIT STATUS" not in text or "coreheap %s" % a.version not in text:
        fail("%s: man -l %s: %s\n%s" % (what, page, p.stderr, text[:500]))
    bash = os.path.join(prefix, "share", "bash-completion", "completions", "coreheap")
    run(["bash", "-n", bash])
    p = run(["bash", "--norc", "-c", 'source "$1" && complete -p coreheap', "x", bash])
    if "_coreheap" not in p.stdout:
        fail("%s: the bash completion does not register for coreheap: %s" % (what, p.stdout))
    zsh = glob.glob(os.path.join(prefix, "share", "zsh", "*", "_coreheap"))
    if shutil.which("zsh"):
        run(["zsh", "-n", zsh[0]])
    for name in ("README.md", "CHANGELOG.md", "LICENSE"):
        with open(os.path.join(a.source_dir, name), "rb") as f, \
                open(os.path.join(prefix, "share", "doc", "coreheap", name), "rb") as g:
            if f.read() != g.read():
                fail("%s: installed %s differs from the source's" % (what, name))
    for d in source_docs(a.source_dir):
        with open(os.path.join(a.source_dir, "docs", d), "rb") as f, \
                open(os.path.join(prefix, "share", "doc", "coreheap", "docs", d), "rb") as g:
            if f.read() != g.read():
                fail("%s: installed docs/%s differs from the source's" % (what, d))


# ---------------------------------------------------------------------------


def git_describe_header(a, source, scratch, git):
    out = os.path.join(scratch, "desc.h")
    if os.path.exists(out):
        os.remove(out)
    cmd = ["cmake", "-DSOURCE_DIR=" + source, "-DOUT=" + out]
    if git:
        cmd.append("-DGIT_EXECUTABLE=" + git)
    run(cmd + ["-P", os.path.join(a.source_dir, "cmake", "git_describe.cmake")])
    with open(out) as f:
        m = re.search(r'#define CH_GIT_DESCRIBE "(.*)"', f.read())
    if not m:
        fail("cmake/git_describe.cmake wrote no CH_GIT_DESCRIBE")
    return m.group(1)


def check_version(a):
    scratch = fresh_dir(os.path.join(a.build_dir, "install-test", "version"))
    git = shutil.which("git")
    line = version_line(a.coreheap)
    m = re.match(r"^coreheap (\S+)(?: \(git (\S+)\))?$", line)
    if not m or m.group(1) != a.version:
        fail("--version prints %r, not 'coreheap %s [(git DESCRIPTION)]'" % (line, a.version))
    top = run([git, "-C", a.source_dir, "rev-parse", "--show-toplevel"], ok=False) if git else None
    checkout = top is not None and top.returncode == 0 and \
        os.path.realpath(top.stdout.strip()) == os.path.realpath(a.source_dir)
    if checkout:
        now = run([git, "-C", a.source_dir, "describe", "--always", "--dirty"]).stdout.strip()
        # The tree may have become dirty (or clean) since the build.
        if not m.group(2) or m.group(2).replace("-dirty", "") != now.replace("-dirty", ""):
            fail("--version prints %r; the source is at %s: rebuild" % (line, now))
        if git_describe_header(a, a.source_dir, scratch, git) != now:
            fail("cmake/git_describe.cmake does not give `git describe --always --dirty` (%s)" % now)
    elif m.group(2):
        fail("--version prints %r although the source is no git checkout" % line)
    # A directory inside the checkout but not its top (as a tarball unpacked
    # in someone's repository), and no git at all: the version alone.
    inner = fresh_dir(os.path.join(scratch, "tree"))
    if git and git_describe_header(a, inner, scratch, git) != "":
        fail("cmake/git_describe.cmake describes %s, which is no checkout's top" % inner)
    if git_describe_header(a, a.source_dir, scratch, None) != "":
        fail("cmake/git_describe.cmake describes the source without git")
    print("%s: %s%s" % (NAME, line, "" if checkout else " (not a git checkout)"))


def check_prefix(a):
    scratch = fresh_dir(os.path.join(a.build_dir, "install-test", "prefix"))
    prefix = os.path.join(scratch, "opt")
    run(["cmake", "--install", a.build_dir, "--prefix", prefix])
    compare_files("cmake --install --prefix", files_under(prefix), expected_files(a.source_dir, False))
    check_tree(a, prefix, "cmake --install --prefix")
    shutil.rmtree(scratch)
    print("%s: cmake --install --prefix: %d files as expected; binary, man page, completions and docs work"
          % (NAME, len(expected_files(a.source_dir, False))))


# ---------------------------------------------------------------------------


def library_packages(binary):
    """The Debian package of each shared library the binary names (NEEDED;
    ldd says where each is)."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", run(["readelf", "-d", binary]).stdout)
    where = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]).stdout, re.M))
    pkgs = {}
    for soname in needed:
        if soname not in where:
            fail("ldd does not find %s, which %s needs" % (soname, binary))
        path = where[soname]
        candidates = [path, os.path.realpath(path)]
        candidates += [c[4:] if c.startswith("/usr/") else "/usr" + c for c in list(candidates)]
        for c in candidates:
            q = run(["dpkg-query", "-S", c], ok=False)
            if q.returncode == 0:
                pkgs[soname] = q.stdout.split(":")[0].strip()
                break
        else:
            fail("no Debian package holds %s (%s)" % (soname, path))
    return pkgs


def check_deb(a):
    scratch = fresh_dir(os.path.join(a.build_dir, "install-test", "deb"))
    run(["cpack", "-G", "DEB", "--config", os.path.join(a.build_dir, "CPackConfig.cmake"), "-B", scratch])
    debs = glob.glob(os.path.join(scratch, "*.deb"))
    if len(debs) != 1:
        fail("cpack made %s, not one .deb" % debs)
    deb = debs[0]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    if os.path.basename(deb) != "coreheap_%s_%s.deb" % (a.version, arch):
        fail("package file %s is not coreheap_%s_%s.deb" % (deb, a.version, arch))
    info = run(["dpkg-deb", "-I", deb]).stdout
    fields = dict(re.findall(r"^ ([A-Z][\w-]*): (.*)$", info, re.M))
    want = {"Package": "coreheap", "Version": a.version, "Architecture": arch, "Section": "devel"}
    for k, v in want.items():
        if fields.get(k) != v:
            fail("dpkg-deb -I: %s is %r, not %r\n%s" % (k, fields.get(k), v, info))
    for k in ("Maintainer", "Description", "Depends"):
        if not fields.get(k):
            fail("dpkg-deb -I: no %s\n%s" % (k, info))
    if "Homepage" in fields:
        fail("dpkg-deb -I: a Homepage field (no host names in the package)")
    if not re.search(r"^  \S", info, re.M):
        fail("dpkg-deb -I: the Description has no long description\n%s" % info)
    # Depends: exactly the packages of the libraries the binary loads, each
    # satisfied by the version installed here.
    deps = {}
    for rel in fields["Depends"].split(","):
        m = re.match(r"^\s*([a-z0-9][a-z0-9.+-]*)(?:\s*\((>=|<=|=|<<|>>)\s*(\S+)\))?\s*$", rel)
        if not m:
            fail("Depends: cannot read %r (alternatives are not expected)" % rel)
        deps[m.group(1)] = (m.group(2), m.group(3))
    libs = library_packages(a.coreheap)
    if set(deps) != set(libs.values()):
        fail("Depends names %s; the binary's libraries %s come from %s"
             % (sorted(deps), sorted(libs), sorted(set(libs.values()))))
    for name in ("libelf1", "libdwarf1", "libjansson4", "libzstd1"):
        if name not in deps:
            fail("Depends lacks %s: %s" % (name, fields["Depends"]))
    for pkg, (op, ver) in deps.items():
        have = run(["dpkg-query", "-W", "-f", "${Version}", pkg]).stdout.strip()
        if op and run(["dpkg", "--compare-versions", have, {"<<": "lt", ">>": "gt", "<=": "le", ">=": "ge", "=": "eq"}[op], ver],
                      ok=False).returncode != 0:
            fail("Depends: %s (%s %s) is not satisfied by the installed %s" % (pkg, op, ver, have))
    # Contents: the expected files under /usr, nothing else.
    root = os.path.join(scratch, "root")
    run(["dpkg", "-x", deb, root])
    compare_files("the .deb", files_under(root), {"usr/" + f for f in expected_files(a.source_dir, True)})
    check_tree(a, os.path.join(root, "usr"), "the .deb")
    print("%s: %s: %s; Depends: %s; %d files; runs from the unpacked root"
          % (NAME, os.path.basename(deb), ", ".join("%s %s" % kv for kv in sorted(want.items())),
             fields["Depends"], len(files_under(root))))
    shutil.rmtree(scratch)


def main():
    ap = argparse.ArgumentParser(prog=NAME)
    ap.add_argument("what", choices=["version", "prefix", "deb"])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--coreheap", required=True, help="the build tree's coreheap")
    ap.add_argument("--version", required=True, help="the project's version")
    a = ap.parse_args()
    {"version": check_version, "prefix": check_prefix, "deb": check_deb}[a.what](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
