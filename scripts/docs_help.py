"""Reading coreheap's --help texts: the one source of command and option
text that scripts/gen_docs.py renders into the man page, the completions
and docs/commands.md.

The format read: a first line `usage: coreheap USAGE`, then paragraphs
separated by blank lines; a paragraph whose only first line is `Title:` is a
section (Options, Common options, Examples, Commands, ...) whose body is the
indented lines under it. Option lines are `  -o, --output FILE    description`
(two spaces before the description; deeper-indented lines continue it; a
line that is no option is kept as a note). Anything else is prose; indented
lines inside prose are shown as they are. The top-level help has a
`Commands:` section and the exit codes ("Exit codes: 0 ok, 1 ..." or an
`Exit codes:` section of "  N  meaning" lines).
"""
import os
import re
import subprocess

GENERATOR = "scripts/gen_docs.py"


class GenError(Exception):
    pass


SECTION_RE = re.compile(r"^([A-Z][A-Za-z /()-]{0,60}):$")
OPTION_RE = re.compile(r"^( +)(-\S.*?)(?: {2,}(\S.*))?$")
OPT_PART_RE = re.compile(r"^(--?[A-Za-z0-9][\w-]*)(?:[ =](\S+))?$")


class Para:
    """Prose: lines as printed (indented ones are shown verbatim)."""

    def __init__(self, lines):
        self.lines = lines


class Section:
    """A `Title:` block and the lines under it (blank lines kept)."""

    def __init__(self, title, lines):
        self.title = title
        self.lines = lines

    @property
    def kind(self):
        t = self.title.lower()
        if "option" in t:
            return "options"
        if t.startswith("example"):
            return "examples"
        if t == "commands":
            return "commands"
        return "other"


class Option:
    """One option entry: spec as printed ("-o, --output FILE"), its names,
    the value it takes (None: none shown), and its description. An entry
    with no names is a note: a line of the section that is no option."""

    def __init__(self, spec, desc):
        self.spec = spec
        self.desc = desc
        self.names = []
        self.arg = None
        for part in spec.split(",") if spec else []:
            m = OPT_PART_RE.match(part.strip())
            if not m:
                self.names, self.arg, self.spec = [], None, ""
                self.desc = (spec + "  " + desc).strip()
                break
            self.names.append(m.group(1))
            if m.group(2):
                self.arg = m.group(2)


class Help:
    """One --help text: its usage line and its blocks (Para, Section) in
    the order printed."""

    def __init__(self, text, name):
        self.name = name  # None for the top-level help
        self.text = text
        lines = text.rstrip("\n").split("\n")
        m = re.match(r"^usage: (.*)$", lines[0])
        if not m:
            raise GenError("%s: --help does not start with 'usage: '" % self.label())
        usage = m.group(1).strip()
        i = 1
        while i < len(lines) and lines[i].startswith(" ") and lines[i].strip():
            usage += " " + lines[i].strip()
            i += 1
        self.usage = usage
        self.blocks = []
        for chunk in split_chunks(lines[i:]):
            m = SECTION_RE.match(chunk[0])
            if m:
                self.blocks.append(Section(m.group(1), chunk[1:]))
            elif chunk[0].startswith(" ") and self.blocks and isinstance(self.blocks[-1], Section):
                self.blocks[-1].lines += [""] + chunk
            else:
                self.blocks.append(Para(chunk))
        for b in self.blocks:
            if isinstance(b, Section) and not any(l.strip() for l in b.lines):
                raise GenError("%s: section %r is empty" % (self.label(), b.title))

    def label(self):
        return "coreheap %s --help" % self.name if self.name else "coreheap --help"

    def sections(self, kind):
        return [b for b in self.blocks if isinstance(b, Section) and b.kind == kind]

    def usages(self):
        """The usage line split into its alternatives ("layout --dump FILE |
        layout --list" is two), each starting after "coreheap "."""
        u = self.usage
        if u.startswith("coreheap "):
            u = u[len("coreheap "):]
        if not self.name:
            return [u]
        return re.split(r" \| (?=%s\b)" % re.escape(self.name), u)


def split_chunks(lines):
    chunks, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            chunks.append(cur)
            cur = []
    if cur:
        chunks.append(cur)
    return chunks


def parse_options(section):
    """Option entries of an options section; a line that is neither an
    option nor a continuation is a note."""
    opts = []
    indent = None
    for line in section.lines:
        if not line.strip():
            indent = None
            continue
        m = OPTION_RE.match(line)
        if m and (indent is None or len(m.group(1)) <= indent):
            indent = len(m.group(1))
            opts.append(Option(m.group(2).strip(), m.group(3) or ""))
        elif opts and indent is not None and len(line) - len(line.lstrip()) > indent:
            opts[-1].desc = (opts[-1].desc + " " + line.strip()).strip()
        else:
            indent = None
            opts.append(Option("", line.strip()))
    return opts


def parse_commands(section):
    cmds = []
    for line in section.lines:
        if not line.strip():
            continue
        m = re.match(r"^ {1,4}(\S+) {2,}(\S.*)$", line)
        if m:
            cmds.append([m.group(1), m.group(2)])
        elif cmds and line.startswith("     "):
            cmds[-1][1] += " " + line.strip()
        else:
            raise GenError("coreheap --help: Commands: cannot read line %r" % line)
    return cmds


def dedent(lines):
    ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    return [l[ind:] for l in lines]


def exit_codes(top):
    """(block, first line, [(code, meaning)]) from the top-level help: a line
    "Exit codes: 0 ok, 1 ..., 6 internal." (to the end of its paragraph), or
    a section "Exit codes:" of "  N  meaning" lines."""
    for b in top.blocks:
        if isinstance(b, Section) and re.match(r"(?i)exit (codes|status)$", b.title):
            codes = []
            for line in b.lines:
                m = re.match(r"^\s+(\d+)\s+(\S.*)$", line)
                if m:
                    codes.append([m.group(1), m.group(2)])
                elif line.strip() and codes:
                    codes[-1][1] += " " + line.strip()
            if codes:
                return b, 0, codes
        if not isinstance(b, Para):
            continue
        for i, line in enumerate(b.lines):
            if re.match(r"(?i)^exit (codes|status):", line):
                body = " ".join(l.strip() for l in b.lines[i:]).split(":", 1)[1].strip()
                codes = [[c, t.strip().rstrip(".")] for c, t in re.findall(r"(\d+) ((?:(?!, \d+ ).)+)", body)]
                if codes:
                    return b, i, codes
    raise GenError("coreheap --help names no exit codes ('Exit codes: 0 ok, ...'); "
                   "the man page's EXIT STATUS comes from there")


def run_help(coreheap, args):
    env = dict(os.environ, LC_ALL="C")
    r = subprocess.run([coreheap] + args + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, universal_newlines=True)
    if r.returncode != 0:
        raise GenError("coreheap %s --help exited %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


class Reference:
    """Everything the outputs are rendered from."""

    def __init__(self, coreheap):
        self.top = Help(run_help(coreheap, []), None)
        cmd_sections = self.top.sections("commands")
        if len(cmd_sections) != 1:
            raise GenError("coreheap --help: expected one 'Commands:' section")
        self.summaries = parse_commands(cmd_sections[0])
        if not self.summaries:
            raise GenError("coreheap --help lists no commands")
        self.commands = [Help(run_help(coreheap, [name]), name) for name, _ in self.summaries]
        self.exit_block, self.exit_line, self.exit_codes = exit_codes(self.top)
        r = subprocess.run([coreheap, "--version"], stdout=subprocess.PIPE, universal_newlines=True)
        m = re.match(r"^coreheap (\S+)", r.stdout)
        if r.returncode != 0 or not m:
            raise GenError("coreheap --version did not print 'coreheap VERSION'")
        self.version = m.group(1)
        # The common options: one text every command that has it prints
        # alike; a command whose copy differs keeps its own.
        self.common = None
        for h in self.commands:
            for s in h.sections("options"):
                if s.title.lower().startswith("common"):
                    self.common = self.common or s
        self.options = {}
        for h in self.commands:
            opts = []
            for s in h.sections("options"):
                opts += parse_options(s)
            self.options[h.name] = opts

    def is_common(self, section):
        return self.common is not None and section.title == self.common.title and section.lines == self.common.lines
