"""Shell completions for coreheap rendered from its --help texts (read by
scripts/docs_help.py): bash (commands, then the command's options, the
values of options shown as a|b, files for CORE and FILE/PATH values,
directories for DIR values) and zsh (the same through _arguments, with each
option's description)."""
import re

from docs_help import GENERATOR


FILE_ARGS = {"FILE", "PATH", "OUT", "CORE"}
DIR_ARGS = {"DIR"}


def arg_kind(arg):
    """How an option's value completes: ("flag" (takes none) | "file" | "dir" |
    "words" | "none" (nothing to offer), words)."""
    if arg is None:
        return ("flag", [])
    if arg in FILE_ARGS:
        return ("file", [])
    if arg in DIR_ARGS:
        return ("dir", [])
    words = arg.split("|")
    if all(re.match(r"^[a-z0-9][a-z0-9-]*$", w) for w in words):
        return ("words", words)
    return ("none", [])


def completion_table(ref):
    """{command: [(names, kind, words, desc, repeatable, value placeholder)]}.
    An entry listed without its value that names options shown with one
    elsewhere (layout's "--exe, --sysroot, --debug-dir") is one entry per
    name, each taking the value it is shown with; an option shown both with
    a placeholder and with a literal value ("--format FMT", "--format
    ndjson") completes no value."""
    shown = {}
    for opts in ref.options.values():
        for o in opts:
            for n in o.names:
                shown.setdefault(n, set()).add(o.arg)
    table = {}
    for name, _ in ref.summaries:
        entries, seen = [], set()
        for o in ref.options[name]:
            if not o.names:
                continue
            if o.arg is None and any(shown[n] - {None} for n in o.names):
                groups = [([n], sorted(shown[n] - {None})[0] if shown[n] - {None} else None) for n in o.names]
            else:
                groups = [(o.names, o.arg)]
            for names, arg in groups:
                if tuple(names) in seen:  # "--format ndjson" and "--format FMT": one entry
                    continue
                seen.add(tuple(names))
                kinds = [arg_kind(a)[0] for a in set().union(*(shown[n] for n in names)) - {None}]
                kind, words = arg_kind(arg)
                if kind == "words" and any(k != "words" for k in kinds):
                    kind, words = "none", []
                entries.append((names, kind, words, o.desc, "repeatable" in o.desc, arg))
        table[name] = entries
    return table


def top_options(ref):
    return [w for w in re.findall(r"\[(-[-\w]+)\]", ref.top.usage)]


def render_bash(ref):
    table = completion_table(ref)
    cmds = " ".join(name for name, _ in ref.summaries)
    out = ["# bash completion for coreheap(1).",
           "# Generated from coreheap --help by %s; do not edit." % GENERATOR,
           "",
           "_coreheap_compgen()",
           "{",
           "    # _coreheap_compgen COMPGEN-ARGS...: COMPREPLY from compgen, one per line",
           "    # (file names may hold spaces).",
           "    mapfile -t COMPREPLY < <(compgen \"$@\")",
           "}",
           "",
           "_coreheap()",
           "{",
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= opts= i",
           "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}",
           "    # --opt=VALUE: bash splits at '=' (COMP_WORDBREAKS).",
           "    if [[ $cur == = ]]; then",
           "        cur=",
           "    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then",
           "        prev=${COMP_WORDS[COMP_CWORD-2]}",
           "    fi",
           "    for (( i = 1; i < COMP_CWORD; i++ )); do",
           "        if [[ ${COMP_WORDS[i]} != -* ]]; then",
           "            cmd=${COMP_WORDS[i]}",
           "            break",
           "        fi",
           "    done",
           "    COMPREPLY=()",
           "    if [[ -z $cmd ]]; then",
           "        _coreheap_compgen -W '%s %s' -- \"$cur\"" % (" ".join(top_options(ref)), cmds),
           "        return 0",
           "    fi",
           "    case $cmd in"]
    for name, _ in ref.summaries:
        entries = table[name]
        out.append("    %s)" % name)
        out.append("        opts='%s'" % " ".join(n for e in entries for n in e[0]))
        by_kind = {}
        for names, kind, words, _, _, _ in entries:
            if kind == "flag":
                continue
            key = (kind, " ".join(words))
            by_kind.setdefault(key, []).extend(names)
        if by_kind:
            out.append("        case $prev in")
            for (kind, words), names in sorted(by_kind.items()):
                if kind == "file":
                    action = "compopt -o filenames 2>/dev/null; _coreheap_compgen -f -- \"$cur\""
                elif kind == "dir":
                    action = "compopt -o filenames 2>/dev/null; _coreheap_compgen -d -- \"$cur\""
                elif kind == "words":
                    action = "_coreheap_compgen -W '%s' -- \"$cur\"" % words
                else:
                    action = ":"  # a value with nothing to offer
                out.append("        %s) %s; return 0 ;;" % ("|".join(names), action))
            out.append("        esac")
        out.append("        ;;")
    out += ["    esac",
            "    if [[ $cur == -* ]]; then",
            "        _coreheap_compgen -W \"$opts\" -- \"$cur\"",
            "    else",
            "        compopt -o filenames 2>/dev/null",
            "        _coreheap_compgen -f -- \"$cur\"",
            "    fi",
            "    return 0",
            "}",
            "complete -F _coreheap coreheap"]
    return "\n".join(out) + "\n"


def zsh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def zsh_desc(s):
    s = re.sub(r"\s+", " ", s).strip()
    return re.sub(r"([\\\[\]:])", r"\\\1", s)


def render_zsh(ref):
    table = completion_table(ref)
    out = ["#compdef coreheap",
           "# zsh completion for coreheap(1).",
           "# Generated from coreheap --help by %s; do not edit." % GENERATOR,
           "",
           "_coreheap() {",
           "  local -a commands",
           "  commands=("]
    for name, summary in ref.summaries:
        out.append("    %s" % zsh_quote("%s:%s" % (name, re.sub(r"\s+", " ", summary))))
    out += ["  )",
            "  if (( CURRENT == 2 )); then",
            "    if [[ $PREFIX == -* ]]; then",
            "      compadd -- %s" % " ".join(top_options(ref)),
            "    else",
            "      _describe -t commands 'coreheap command' commands",
            "    fi",
            "    return",
            "  fi",
            "  local cmd=${words[2]}",
            "  shift words",
            "  (( CURRENT-- ))",
            "  curcontext=\"${curcontext%:*:*}:coreheap-$cmd:\"",
            "  case $cmd in"]
    for name, _ in ref.summaries:
        out += ["    %s)" % name, "      _arguments -s -S \\"]
        for names, kind, words, desc, repeatable, arg in table[name]:
            if kind == "flag":
                forms = names
                action = ""
            else:
                forms = [n + ("=" if n.startswith("--") else "+") for n in names]
                if kind == "file":
                    action = ":%s:_files" % arg
                elif kind == "dir":
                    action = ":%s:_files -/" % arg
                elif kind == "words":
                    action = ":%s:(%s)" % (arg.replace("|", " or "), " ".join(words))
                else:
                    action = ":%s: " % zsh_desc(arg)
            excl = "" if len(names) == 1 or repeatable else "(%s)" % " ".join(names)
            star = "*" if repeatable else ""
            spec_desc = "[%s]" % zsh_desc(desc) if desc else ""
            if len(forms) == 1:
                spec = zsh_quote(star + forms[0] + spec_desc + action)
            else:
                spec = zsh_quote(excl + star) + "{" + ",".join(forms) + "}" + zsh_quote(spec_desc + action)
            out.append("        %s \\" % spec)
        out += ["        '*:file:_files'", "      ;;"]
    out += ["    *)", "      _files", "      ;;", "  esac", "}", "", "_coreheap \"$@\""]
    return "\n".join(out) + "\n"
