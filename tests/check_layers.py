#!/usr/bin/env python3
"""The source tree's layering, checked (docs/design.md states it).

Each folder may include only the folders listed for it below (and system
headers); a project include that is not allowed "runs upward" and fails the
test, as does a folder that is not in the table (a new layer must say where
it sits) and a source file longer than MAX_LINES (split it by concern).
Exit 0 only when every file was checked and passed."""
import os
import re
import sys

# folder -> folders its files may include (its own is always allowed)
ALLOWED = {
    "readers/base": [],
    "readers/process": ["readers/base"],
    "readers/emulator": ["readers/base", "readers/process"],
    "readers/allocators": ["readers/base", "readers/process"],
    "readers/native": ["readers/base", "readers/process"],
    "readers/cpython": ["readers/base", "readers/process", "readers/emulator"],
    "graph": ["readers/base", "readers/process", "readers/emulator", "readers/allocators", "readers/native",
              "readers/cpython"],
    "reports": ["readers/base", "readers/process", "readers/emulator", "readers/allocators", "readers/native",
                "readers/cpython", "graph"],
    "cli": ["readers/base", "readers/process", "readers/emulator", "readers/allocators", "readers/native",
            "readers/cpython", "graph", "reports"],
}
MAX_LINES = 850
# Headers the build generates into the build tree (see CMakeLists.txt).
GENERATED = {"ch_git_describe.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """The ALLOWED key a repository-relative include path belongs to."""
    d = os.path.dirname(path)
    return d if d in ALLOWED else None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    failures, checked = [], 0
    for top in ("readers", "graph", "reports", "cli"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            rel_dir = os.path.relpath(dirpath, root)
            srcs = [f for f in files if f.endswith((".c", ".h"))]
            if not srcs:
                continue
            if rel_dir not in ALLOWED:
                failures.append("%s: folder has no place in the layer table of tests/check_layers.py" % rel_dir)
                continue
            ok_dirs = set(ALLOWED[rel_dir]) | {rel_dir}
            for f in sorted(srcs):
                rel = os.path.join(rel_dir, f)
                checked += 1
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    lines = fh.read().split("\n")
                if len(lines) > MAX_LINES:
                    failures.append("%s: %d lines (limit %d): split it by concern" % (rel, len(lines), MAX_LINES))
                for n, line in enumerate(lines, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if "/" not in inc:  # same folder
                        if inc not in GENERATED and not os.path.exists(os.path.join(dirpath, inc)):
                            failures.append("%s:%d: \"%s\" is not in %s" % (rel, n, inc, rel_dir))
                        continue
                    target = folder_of(inc)
                    if target is None:
                        failures.append("%s:%d: \"%s\" is in no known layer" % (rel, n, inc))
                    elif target not in ok_dirs:
                        failures.append("%s:%d: includes \"%s\": %s may not include %s (runs upward)"
                                        % (rel, n, inc, rel_dir, target))
    for f in failures:
        print("check_layers: FAIL: " + f)
    print("check_layers: %d files checked, %d failures" % (checked, len(failures)))
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
