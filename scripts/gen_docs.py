#!/usr/bin/env python3
"""Renders coreheap's command reference from its --help texts.

The --help texts (the .summary/.usage strings of cli/cmd_*.c, the common
options of cli/options.c, the usage of cli/main.c) are the one source of
truth for command and option text. This script runs a built coreheap,
`coreheap --help` and `coreheap COMMAND --help` for every command the
top-level help lists (scripts/docs_help.py reads them), and renders:

  commands.md     the reference committed as docs/commands.md
  coreheap.1      the man page (roff), and coreheap.1.gz (as gzip -n)
  coreheap.bash   bash completion   (scripts/docs_completion.py)
  _coreheap       zsh completion    (scripts/docs_completion.py)

  gen_docs.py --coreheap BIN --out-dir DIR         write all of them into DIR
  gen_docs.py --coreheap BIN --markdown FILE       write only commands.md
  gen_docs.py --coreheap BIN --check FILE          exit 1 if FILE differs

Python 3 standard library only: it runs at build time.
"""
import argparse
import difflib
import gzip
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree at build time
from docs_completion import render_bash, render_zsh  # noqa: E402 (after dont_write_bytecode)
from docs_help import GENERATOR, GenError, Para, Reference, dedent, parse_options  # noqa: E402


# ---------------------------------------------------------------------------
# Markdown

MD_SPECIAL = re.compile(r"([\\*_\[\]<>|])")


def md_escape(text):
    """Escapes Markdown syntax outside `code spans` (kept as code)."""
    out = []
    for i, piece in enumerate(re.split(r"(`[^`]+`)", text)):
        out.append(piece if i % 2 else MD_SPECIAL.sub(r"\\\1", piece))
    s = "".join(out)
    # A line that would start a list, heading or quote.
    return re.sub(r"(?m)^(\s*)([-+#]|\d+\.)(?=\s)", r"\1\\\2", s)


def md_code(lines, lang=""):
    return ["```" + lang] + dedent(lines) + ["```"]


def md_prose(lines):
    """Prose lines; runs of indented lines become code blocks."""
    out, text, code = [], [], []

    def flush():
        if text:
            out.extend([md_escape(l) for l in text] + [""])
            text.clear()
        if code:
            out.extend(md_code(code) + [""])
            code.clear()

    for line in lines:
        if line.startswith(" "):
            if text:
                flush()
            code.append(line)
        else:
            if code:
                flush()
            text.append(line.strip())
    flush()
    return out


def md_options(opts):
    out = []
    for o in opts:
        desc = md_escape(o.desc) if o.desc else ""
        if not o.names:
            out += ["", desc, ""]
            continue
        out.append("- `%s`%s" % (o.spec, ": " + desc if desc else ""))
    return out + [""]


def md_blocks(help_, ref, level):
    out = []
    for b in help_.blocks:
        if isinstance(b, Para):
            lines = b.lines[:ref.exit_line] if b is ref.exit_block else b.lines
            out += md_prose(lines)
        elif b is ref.exit_block:
            continue
        elif b.kind == "commands":
            out += ["| command | what it does |", "|---|---|"]
            for name, summary in ref.summaries:
                out.append("| [`%s`](#%s) | %s |" % (name, name, md_escape(summary)))
            out.append("")
        elif ref.is_common(b) and help_.name:
            out += ["%s also takes the [common options](#common-options)." % ("`%s`" % help_.name), ""]
        elif b.kind == "options":
            out += ["%s %s" % ("#" * level, b.title), ""] + md_options(parse_options(b))
        elif b.kind == "examples":
            out += ["%s %s" % ("#" * level, b.title), ""] + md_code(b.lines, "sh") + [""]
        else:
            out += ["%s %s" % ("#" * level, b.title), ""] + md_code(b.lines) + [""]
    return out


def render_markdown(ref):
    out = ["# coreheap commands", "",
           "*Generated from `coreheap --help` and `coreheap COMMAND --help` by `%s`; do not edit:" % GENERATOR,
           "change the help texts and run `cmake --build build --target update-docs`.*", ""]
    out += md_code(["coreheap " + u for u in ref.top.usages()]) + [""]
    out += md_blocks(ref.top, ref, 2)
    out += ["## Exit codes", "", "| code | meaning |", "|---|---|"]
    out += ["| %s | %s |" % (code, md_escape(meaning)) for code, meaning in ref.exit_codes] + [""]
    if ref.common is not None:
        out += ["## Common options", ""] + md_options(parse_options(ref.common))
    for h in ref.commands:
        out += ["## %s" % h.name, ""]
        out += md_code(["coreheap " + u for u in h.usages()]) + [""]
        out += md_blocks(h, ref, 3)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# roff (man page)


def roff_escape(text):
    s = text.replace("\\", "\\e")
    s = re.sub(r"(?<![\w.])-", r"\\-", s)  # option dashes are minus signs; hyphens in words stay
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    return s


def roff_line(text):
    """A text line: escaped, never read as a request."""
    s = roff_escape(text)
    return "\\&" + s if s[:1] in (".", "'") else s


def roff_prose_text(text):
    """Escaped prose with `code spans` in bold."""
    out = []
    for i, piece in enumerate(re.split(r"`([^`]+)`", text)):
        out.append("\\fB%s\\fR" % roff_escape(piece) if i % 2 else roff_escape(piece))
    s = "".join(out)
    return "\\&" + s if s[:1] in (".", "'") else s


def roff_verbatim(lines, indent=4):
    return [".RS %d" % indent, ".nf"] + [roff_line(l) for l in dedent(lines)] + [".fi", ".RE"]


def roff_prose(lines):
    out, text, code = [".PP"], [], []
    for line in lines:
        if line.startswith(" "):
            if text:
                out += [roff_prose_text(t) for t in text]
                text = []
            code.append(line)
        else:
            if code:
                out += roff_verbatim(code)
                code = []
            text.append(line.strip())
    out += [roff_prose_text(t) for t in text]
    if code:
        out += roff_verbatim(code)
    return out


def roff_word(word, literal):
    """A usage or option-spec token: options and literals bold, placeholders
    (upper case, "options") italic, brackets and bars plain."""
    out = []
    for tok in re.split(r"([\[\]|,]|\.\.\.)", word):
        if not tok:
            continue
        if tok in ("[", "]", "|", ",", "..."):
            out.append(roff_escape(tok))
        elif tok.startswith("-") or tok in literal or (tok.islower() and tok not in ("options",)):
            out.append("\\fB%s\\fR" % roff_escape(tok))
        else:
            out.append("\\fI%s\\fR" % roff_escape(tok))
    return "".join(out)


def roff_usage(usage, literal):
    return " ".join(roff_word(w, literal) for w in usage.split())


def roff_options(opts):
    out = []
    for o in opts:
        if not o.names:
            out += [".PP", roff_prose_text(o.desc)]
            continue
        out += [".TP", roff_usage(o.spec, set())]
        out.append(roff_prose_text(o.desc) if o.desc else "")
    return [l for l in out if l != ""]


def roff_blocks(help_, ref, skip=None, skip_from=0):
    """The blocks of one help text; skip's lines from skip_from on are left
    out (the exit codes, which get their own section)."""
    out = []
    for b in help_.blocks:
        if isinstance(b, Para):
            lines = b.lines[:skip_from] if b is skip else b.lines
            if lines:
                out += roff_prose(lines)
        elif b is skip:
            continue
        elif b.kind == "commands":
            out += [".PP", "Commands (each described under \\fBCOMMANDS\\fR):"]
            for name, summary in ref.summaries:
                out += [".TP", "\\fB%s\\fR" % roff_escape(name), roff_prose_text(summary)]
        elif ref.is_common(b) and help_.name:
            out += [".PP", "It also takes the common options (see \\fBCOMMON OPTIONS\\fR)."]
        elif b.kind == "options":
            out += [".PP", "\\fI%s:\\fR" % roff_escape(b.title)] + [".RS 4"] + \
                roff_options(parse_options(b)) + [".RE"]
        else:
            out += [".PP", "\\fI%s:\\fR" % roff_escape(b.title)] + roff_verbatim(b.lines)
    return out


# Not in any --help text: what the environment and the file system add.
MAN_FILES = [
    ("/usr/lib/debug", "where separate debug files are looked up by build-id and "
     "`.gnu_debuglink` when `--debug-dir` is not given."),
    ("~/.cache/coreheap", "(or `$XDG_CACHE_HOME/coreheap`) heap indexes of cores in read-only folders, "
     "and in `layouts/` and `glibc/` the struct layouts read from each interpreter and libc build's DWARF, by build-id; "
     "safe to delete."),
]
MAN_ENVIRONMENT = [
    ("CH_LAYOUT_SOURCE", "`builtin` ignores DWARF debug info and takes struct layouts from "
     "the built-in table for the core's CPython version (for checking a table against a core)."),
    ("CH_LAYOUT_CACHE", "`off` neither reads nor writes the layout cache (`$XDG_CACHE_HOME/coreheap/layouts/` "
     "and `glibc/`): every command reads the struct layouts from DWARF."),
    ("XDG_CACHE_HOME", "where coreheap's cache folder `coreheap/` is (default `~/.cache`)."),
]
MAN_SEE_ALSO = "\\fBcore\\fR(5), \\fBgcore\\fR(1), \\fBpython3\\fR(1); README.md, CHANGELOG.md and " \
    "docs/*.md in coreheap's documentation directory (share/doc/coreheap)."


def render_man(ref):
    literal = {"coreheap"} | {name for name, _ in ref.summaries}
    first = next(b for b in ref.top.blocks if isinstance(b, Para))
    sentence = re.split(r"(?<=\.)\s", " ".join(l.strip() for l in first.lines))[0].rstrip(".")
    if len(sentence) > 1 and sentence[1].islower():
        sentence = sentence[0].lower() + sentence[1:]
    out = ['.\\" Generated from coreheap --help by %s; do not edit.' % GENERATOR,
           '.TH COREHEAP 1 "" "coreheap %s" "User Commands"' % roff_escape(ref.version),
           ".nh", ".ad l",
           ".SH NAME", "coreheap \\- " + roff_escape(sentence),
           ".SH SYNOPSIS", ".nf"]
    out += [roff_usage("coreheap " + u, literal) for u in ref.top.usages()]
    for h in ref.commands:
        out += [roff_usage("coreheap " + u, literal) for u in h.usages()]
    out += [".fi", ".SH DESCRIPTION"]
    out += roff_blocks(ref.top, ref, ref.exit_block, ref.exit_line)
    out += [".SH COMMANDS"]
    for h in ref.commands:
        out += [".SS %s" % roff_escape(h.name), ".nf"]
        out += [roff_usage("coreheap " + u, literal) for u in h.usages()]
        out += [".fi"] + roff_blocks(h, ref)
    if ref.common is not None:
        out += [".SH COMMON OPTIONS"] + roff_options(parse_options(ref.common))
    out += [".SH EXIT STATUS"]
    for code, meaning in ref.exit_codes:
        out += [".TP", roff_escape(code), roff_prose_text(meaning)]
    out += [".SH ENVIRONMENT"]
    for name, text in MAN_ENVIRONMENT:
        out += [".TP", "\\fB%s\\fR" % roff_escape(name), roff_prose_text(text)]
    out += [".SH FILES"]
    for name, text in MAN_FILES:
        out += [".TP", "\\fI%s\\fR" % roff_escape(name), roff_prose_text(text)]
    out += [".SH SEE ALSO", MAN_SEE_ALSO]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def write_if_changed(path, data):
    try:
        with open(path) as f:
            if f.read() == data:
                return
    except OSError:
        pass
    write(path, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coreheap", required=True, help="the built coreheap binary")
    ap.add_argument("--out-dir", help="write commands.md, coreheap.1(.gz), coreheap.bash, _coreheap here")
    ap.add_argument("--markdown", help="write commands.md to this path")
    ap.add_argument("--check", help="compare this file with the generated commands.md")
    ap.add_argument("--build-dir", default="build", help="build directory named in --check's hint")
    a = ap.parse_args()
    if not (a.out_dir or a.markdown or a.check):
        ap.error("nothing to do: give --out-dir, --markdown or --check")
    try:
        ref = Reference(a.coreheap)
        md = render_markdown(ref)
        if a.out_dir:
            os.makedirs(a.out_dir, exist_ok=True)
            man = render_man(ref)
            # Always written: the build compares their times with coreheap's.
            write(os.path.join(a.out_dir, "commands.md"), md)
            write(os.path.join(a.out_dir, "coreheap.1"), man)
            # As gzip -n: no name, no time stamp, so the bytes depend on the text only.
            write(os.path.join(a.out_dir, "coreheap.1.gz"), gzip.compress(man.encode(), compresslevel=9, mtime=0))
            write(os.path.join(a.out_dir, "coreheap.bash"), render_bash(ref))
            write(os.path.join(a.out_dir, "_coreheap"), render_zsh(ref))
        if a.markdown:
            write_if_changed(a.markdown, md)
        if a.check:
            try:
                with open(a.check) as f:
                    have = f.read()
            except OSError as e:
                have = ""
                print("gen_docs: cannot read %s: %s" % (a.check, e), file=sys.stderr)
            if have != md:
                diff = list(difflib.unified_diff(have.splitlines(), md.splitlines(), a.check,
                                                 "generated from coreheap --help", lineterm=""))
                print("\n".join(diff[:80]))
                if len(diff) > 80:
                    print("... (%d more diff lines)" % (len(diff) - 80))
                print("gen_docs: %s is out of date with coreheap's --help texts; regenerate it with:\n"
                      "  cmake --build %s --target update-docs" % (a.check, a.build_dir))
                return 1
            print("gen_docs: %s matches coreheap's --help texts (%d commands)" % (a.check, len(ref.commands)))
    except GenError as e:
        print("gen_docs: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
