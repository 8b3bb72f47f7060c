#!/usr/bin/env python3
"""Every relative link in README.md and docs/*.md leads somewhere.

A link [text](target) whose target is not a URL must name an existing file
(relative to the page), and a #fragment must be the anchor of a heading of
that page as GitHub makes it (lowercase; punctuation other than - and _
dropped; spaces become -; a repeated heading gets -1, -2, ...). Links inside
code spans and fenced code blocks are not links.


Usage: check_doc_links.py REPO_ROOT   (exit 0: all links resolve; 1: not)
"""
import pathlib
import re
import sys


FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fenced = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            if fenced is None:
                fenced = m.group(1)
            elif m.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            yield n, line


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = text.lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path):
    seen = {}
    out = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        s = slug(m.group(2))
        k = seen.get(s, 0)
        seen[s] = k + 1
        out.add(s if k == 0 else "%s-%d" % (s, k))
    return out


def links(path):
    for n, line in prose_lines(path.read_text(encoding="utf-8")):
        m = REF_DEF.match(line)
        if m:
            yield n, m.group(1)
            continue
        for m in INLINE_LINK.finditer(CODE_SPAN.sub("", line)):
            yield n, m.group(1)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1]).resolve()
    pages = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    bad = checked = 0
    for page in pages:
        if not page.exists():
            continue
        for n, target in links(page):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:, ...
                continue
            checked += 1
            where = "%s:%d: %s" % (page.relative_to(root), n, target)
            file_part, _, frag = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            try:
                rel = dest.relative_to(root).as_posix()
            except ValueError:  # outside the repository
                rel = str(dest)
            if not dest.exists():
                print("%s: no such file" % where)
                bad += 1
                continue
            if frag:
                if dest.is_dir() or dest.suffix != ".md":
                    print("%s: a #fragment needs a markdown page" % where)
                    bad += 1
                elif frag not in anchors(dest):
                    print("%s: no heading with anchor #%s in %s" % (where, frag, rel))
                    bad += 1
    print("check_doc_links: %d links in %d pages, %d broken" % (checked, len(pages), bad))
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
