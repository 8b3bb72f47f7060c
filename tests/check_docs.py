#!/usr/bin/env python3
"""Checks of what scripts/gen_docs.py generates from coreheap's --help texts
(the generator's own --check covers docs/commands.md), read back the way a
user meets them. The expected option and command sets are read from the
--help texts here, independently of the generator's parser.

  man      the man page renders with groff -wall and man -l without a
           warning, and has the usual sections, every command, every
           option and every exit code of the --help texts
  bash     the bash completion, sourced into bash and called as bash
           would: commands, each command's options, the values of an
           option shown as a|b, files for CORE and FILE/PATH options,
           directories only for DIR options, nothing for other values
  zsh      the zsh completion in a real zsh (zpty, compinit): commands,
           options, values, directories; SKIP (77) without zsh
  versions CHANGELOG.md's newest version is the project's version, and
           docs/versioning.md names the current CH_SNAPSHOT_SCHEMA
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

NAME = "check_docs"


def fail(msg):
    raise SystemExit("%s: FAIL: %s" % (NAME, msg))


def run(cmd, env=None, cwd=None, timeout=60):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=env, cwd=cwd, timeout=timeout)


def help_text(coreheap, args):
    p = run([coreheap] + args + ["--help"])
    if p.returncode != 0:
        fail("coreheap %s --help exited %d" % (" ".join(args), p.returncode))
    return p.stdout


def help_commands(coreheap):
    """Command names: the lines under "Commands:" in coreheap --help."""
    text = help_text(coreheap, [])
    m = re.search(r"^Commands:\n((?:[ \t]+\S.*\n)+)", text, re.M)
    if not m:
        fail("coreheap --help has no Commands: list")
    return [line.split()[0] for line in m.group(1).splitlines() if re.match(r"^ {1,4}\S", line)]


def help_options(text):
    """{option name: value placeholder or None} from the option lines
    ("  -o, --output FILE    ...") of one --help text."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"^ +(-[^ ].*?)(?: {2,}|$)", line)
        if not m:
            continue
        for part in m.group(1).split(", "):
            words = part.split()
            if words and words[0].startswith("-"):
                opts.setdefault(words[0], words[1] if len(words) > 1 else None)
    return opts


# ---------------------------------------------------------------------------


def check_man(a):
    page = a.page
    p = run(["groff", "-man", "-Tutf8", "-wall", "-ww", "-z", page])
    if p.returncode != 0 or p.stderr.strip():
        fail("groff -man -wall on %s: exit %d\n%s" % (page, p.returncode, p.stderr))
    if shutil.which("mandoc"):
        p = run(["mandoc", "-Tlint", "-Wwarning", page])
        if p.returncode != 0:
            fail("mandoc -Tlint on %s:\n%s%s" % (page, p.stdout, p.stderr))
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", LC_ALL="C.UTF-8")
    p = run(["man", "--warnings", "-l", "-P", "cat", page], env=env)
    if p.returncode != 0 or p.stderr.strip():
        fail("man -l %s: exit %d\n%s" % (page, p.returncode, p.stderr))
    text = re.sub(r".\x08", "", p.stdout)
    # Sections, in order.
    pos = -1
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "COMMON OPTIONS", "EXIT STATUS",
                    "ENVIRONMENT", "FILES", "SEE ALSO"):
        m = re.search(r"^%s$" % section, text, re.M)
        if not m or m.start() < pos:
            fail("man page: section %s missing or out of order" % section)
        pos = m.start()
    commands_part = text[text.index("\nCOMMANDS\n"):text.index("\nEXIT STATUS\n")]
    for cmd in help_commands(a.coreheap):
        if not re.search(r"^   %s$" % re.escape(cmd), commands_part, re.M):
            fail("man page: no subsection for command %s" % cmd)
        if not re.search(r"^ +coreheap %s\b" % re.escape(cmd), text, re.M):
            fail("man page: no synopsis line for command %s" % cmd)
        for opt in help_options(help_text(a.coreheap, [cmd])):
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), commands_part + text):
                fail("man page: option %s of %s is missing" % (opt, cmd))
    top = help_text(a.coreheap, [])
    m = re.search(r"Exit codes:(.*?)(?:\n\n|\Z)", top, re.S)
    if not m:
        fail("coreheap --help has no 'Exit codes:' text")
    codes = re.findall(r"(?<![\w-])(\d+) ", m.group(1))
    status = text[text.index("\nEXIT STATUS\n"):text.index("\nENVIRONMENT\n")]
    for code in codes:
        if not re.search(r"^ +%s +\S" % code, status, re.M):
            fail("man page: EXIT STATUS lacks code %s" % code)
    print("%s: man page renders without warnings; %d commands, %d exit codes" % (NAME, len(help_commands(a.coreheap)), len(codes)))


# ---------------------------------------------------------------------------


BASH_DRIVER = r'''
source "$1" || exit 1
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_coreheap coreheap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def bash_complete(script, words, cwd):
    p = run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "driver", os.path.abspath(script)] + words, cwd=cwd)
    if p.returncode != 0 or p.stderr:
        fail("bash completion of %r: exit %d\n%s" % (words, p.returncode, p.stderr))
    return set(l for l in p.stdout.splitlines() if l)


def completion_probes(coreheap):
    """(words, expected set or a predicate description) for both shells:
    from the --help texts, with a scratch directory holding a file core.1
    and a directory sub/."""
    cmds = help_commands(coreheap)
    probes = [(["coreheap", ""], set(cmds) | {"--help", "--version"}, "commands"),
              (["coreheap", "-"], {"--help", "--version"}, "top-level options")]
    values = []
    for cmd in cmds:
        opts = help_options(help_text(coreheap, [cmd]))
        probes.append((["coreheap", cmd, "-"], set(opts), "options of %s" % cmd))
        for opt, arg in opts.items():
            if arg and re.match(r"^[a-z]+(\|[a-z]+)+$", arg):
                values.append((["coreheap", cmd, opt, ""], set(arg.split("|")), "values of %s %s" % (cmd, opt)))
    if not values:
        fail("no option with a|b values in any --help: the value probes would test nothing")
    probes += values
    files = {"core.1", "sub"}
    probes += [
        (["coreheap", "info", ""], files, "CORE"),
        (["coreheap", "info", "-o", ""], files, "-o FILE"),
        (["coreheap", "info", "--exe", "="] + [""], files, "--exe=PATH"),
        (["coreheap", "info", "--sysroot", ""], {"sub"}, "--sysroot DIR"),
        (["coreheap", "info", "--debug-dir", ""], {"sub"}, "--debug-dir DIR"),
        (["coreheap", "types", "--top", ""], set(), "--top N"),
    ]
    return probes


def scratch_dir():
    d = tempfile.mkdtemp(prefix="coreheap-completion-")
    open(os.path.join(d, "core.1"), "w").close()
    os.mkdir(os.path.join(d, "sub"))
    return d


def check_bash(a):
    d = scratch_dir()
    try:
        p = run(["bash", "-n", a.script])
        if p.returncode != 0:
            fail("bash -n %s:\n%s" % (a.script, p.stderr))
        probes = completion_probes(a.coreheap)
        for words, want, what in probes:
            got = bash_complete(a.script, words, d)
            if got != want:
                fail("bash: %s: `%s<TAB>` offers %s, --help says %s" % (what, " ".join(words), sorted(got), sorted(want)))
        print("%s: bash completion matches --help (%d probes)" % (NAME, len(probes)))
    finally:
        shutil.rmtree(d)


ZSH_DRIVER = r'''
# Types each probe line and a TAB into an interactive zsh on a pseudo-
# terminal, then clears the line and prints a marker; what the terminal
# shows up to the marker is the completion listing. The marker's text is
# split in the typed command so that only its output matches the pattern.
zmodload zsh/zpty || exit 3
zpty z 'TERM=dumb zsh -f -i'
zpty -w z 'PS1="> "; unset zle_bracketed_paste; fpath=("$ZDIR" $fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep; LISTMAX=100000; COLUMNS=200; unsetopt prompt_sp prompt_cr list_ambiguous auto_menu; zstyle ":completion:*" list-separator "::"; cd "$SCRATCH"; print REA""DY'
# Typed only at a prompt: while a command runs the terminal is in cooked
# mode, where the ^U below would erase the typed line before zsh reads it.
zpty -r z out '*READY*> ' || exit 4
n=0
for line in "$@"; do
  (( n++ ))
  zpty -w -n z "$line"$'\t'
  zpty -w -n z $'\x15'
  zpty -w z "print MA\"\"RK-$n"
  out=
  zpty -r z out "*MARK-$n*> " || exit 4
  print -r -- "=====PROBE $n"
  print -r -- "${out//$'\r'/}"
done
zpty -d z
'''


def zsh_listing(chunk, line):
    """Candidates in one completion listing: the words left of each "::"
    description separator, or every word of a listing without descriptions
    (a single candidate is inserted into the line instead)."""
    after = chunk.split(line, 1)[1] if line in chunk else chunk
    after = after.split("print MA")[0]
    after = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", after)
    got = set()
    rows = [r for r in after.split("\n")[1:] if r.strip() and not r.startswith(">")]
    for r in rows:
        left = r.split("::", 1)[0]
        got.update(w.rstrip("/") for w in left.split() if w)
    if not rows:  # inserted: the one candidate follows the line typed
        rest = after.split("\n")[0].strip()
        if rest:
            got.add(rest.rstrip("/ "))
    return got


def check_zsh(a):
    if not shutil.which("zsh"):
        print("%s: SKIP: zsh is not installed (scripts/install_deps.sh installs it)" % NAME)
        return 77
    p = run(["zsh", "-n", a.script])
    if p.returncode != 0:
        fail("zsh -n %s:\n%s" % (a.script, p.stderr))
    d = scratch_dir()
    zdir = tempfile.mkdtemp(prefix="coreheap-zsh-")
    try:
        shutil.copy(a.script, os.path.join(zdir, "_coreheap"))
        probes = completion_probes(a.coreheap)
        # "--exe=" is bash's word splitting; zsh sees one word.
        # zsh offers the commands alone until a "-" is typed.
        probes = [(ws, w - {"--help", "--version"}, what) if what == "commands" else (ws, w, what)
                  for ws, w, what in probes]
        probes = [(["coreheap", "info", "--exe="], w, what) if what == "--exe=PATH" else (ws, w, what)
                  for ws, w, what in probes]
        lines = [" ".join(words) for words, _, _ in probes]
        env = dict(os.environ, ZDIR=zdir, SCRATCH=d, HOME=d)
        p = run(["zsh", "-f", "-c", ZSH_DRIVER, "driver"] + lines, env=env, timeout=120)
        if p.returncode != 0:
            fail("zsh driver exit %d\n%s%s" % (p.returncode, p.stdout[-2000:], p.stderr))
        chunks = p.stdout.split("=====PROBE ")[1:]
        if len(chunks) != len(probes):
            fail("zsh driver answered %d of %d probes" % (len(chunks), len(probes)))
        for (words, want, what), line, chunk in zip(probes, lines, chunks):
            got = zsh_listing(chunk, line)
            if what.startswith("options of"):
                # zsh offers options by prefix "-"; both forms of an alias pair show.
                got = {w for w in got if w.startswith("-")}
            if what == "--exe=PATH":
                got = {w.replace("--exe=", "") for w in got}
            if what == "--top N":
                got = {w for w in got if w in ("core.1", "sub")}
            if got != want:
                fail("zsh: %s: `%s<TAB>` offers %s, --help says %s\n%s" % (what, line, sorted(got), sorted(want), chunk))
        print("%s: zsh completion matches --help (%d probes)" % (NAME, len(probes)))
    finally:
        shutil.rmtree(d)
        shutil.rmtree(zdir)
    return 0


# ---------------------------------------------------------------------------


def check_versions(a):
    with open(os.path.join(a.source_dir, "CHANGELOG.md")) as f:
        changelog = f.read()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.M)
    if not versions or versions[0] != a.version:
        fail("CHANGELOG.md's newest version is %s, CMakeLists.txt says %s: add its entry"
             % (versions[0] if versions else "none", a.version))
    with open(os.path.join(a.source_dir, "reports", "snapshot_read.h")) as f:
        m = re.search(r"^#define CH_SNAPSHOT_SCHEMA (\d+)$", f.read(), re.M)
    if not m:
        fail("reports/snapshot_read.h defines no CH_SNAPSHOT_SCHEMA")
    with open(os.path.join(a.source_dir, "docs", "versioning.md")) as f:
        d = re.search(r"current snapshot schema is \*\*(\d+)\*\*", f.read())
    if not d or d.group(1) != m.group(1):
        fail("docs/versioning.md names snapshot schema %s, CH_SNAPSHOT_SCHEMA is %s"
             % (d.group(1) if d else "none", m.group(1)))
    p = run([a.coreheap, "--version"])
    if not p.stdout.startswith("coreheap %s" % a.version):
        fail("coreheap --version prints %r, not 'coreheap %s ...'" % (p.stdout, a.version))
    print("%s: version %s in CHANGELOG.md and --version; snapshot schema %s documented" % (NAME, a.version, m.group(1)))


README_MAX_LINES = 300


def check_readme(a):
    """README.md is the front door (issue 11): short, and its command table
    lists every command `coreheap --help` lists, and no other."""
    with open(os.path.join(a.source_dir, "README.md")) as f:
        text = f.read()
    lines = text.count("\n")
    if lines > README_MAX_LINES:
        fail("README.md has %d lines (at most %d): move reference text to docs/" % (lines, README_MAX_LINES))
    listed = re.findall(r"^\| `([a-z]+)[ `]", text, re.M)
    commands = help_commands(a.coreheap)
    missing = [c for c in commands if c not in listed]
    extra = [c for c in listed if c not in commands]
    if missing or extra:
        fail("README.md's command table: missing %s, not a command %s" % (missing or "none", extra or "none"))
    print("%s: README.md has %d lines and a row for each of the %d commands" % (NAME, lines, len(commands)))


def main():
    ap = argparse.ArgumentParser(prog=NAME)
    ap.add_argument("what", choices=["man", "bash", "zsh", "versions", "readme"])
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--page", help="man: the roff page")
    ap.add_argument("--script", help="bash/zsh: the completion file")
    ap.add_argument("--source-dir", help="versions, readme: the source tree")
    ap.add_argument("--version", help="versions: the project's version")
    a = ap.parse_args()
    return {"man": check_man, "bash": check_bash, "zsh": check_zsh, "versions": check_versions,
            "readme": check_readme}[a.what](a) or 0


if __name__ == "__main__":
    sys.exit(main())
