#!/usr/bin/env python3
"""The layout cache (readers/cpython/py_layout_cache.h) against DWARF.

    check_layout_cache.py --coreheap BIN --core CORE --work DIR [--debug-dir D]

Each step runs with XDG_CACHE_HOME in its own folder under DIR.
1. Reference: `info`, `info --json` and `types` with CH_LAYOUT_CACHE=off
   (the DWARF route); no cache file may appear.
2. Miss: the same commands in an empty cache write exactly one file,
   layouts/<build-id>.layout, where build-id is the one of the file the
   layout's DWARF came from (read from that ELF file here, not from
   coreheap); info --json says cache state "written".
3. Hit: state "read", `types` byte-identical to the reference, `info`
   identical but for one line naming the cache file, `info --json`
   identical but for layout.cache.
4. Damaged files, each written over the good one: a flipped digit, a cut
   file, a wrong build-id, an unknown field, a missing field, a repeated
   field, another coreheap's key (the last five with a valid checksum, so
   that the check they aim at is the one that refuses them). Each is
   ignored (state "written", layout.cache.ignored says why), the output
   equals the reference, and the rewritten file is then read.
5. A cache folder that cannot be made (XDG_CACHE_HOME below a plain file):
   exit 0, state "not written", output equal to the reference.
6. CH_LAYOUT_CACHE=off beside a cache file: state "off" and the file is
   neither read nor changed.
7. glibc malloc's layout (cached when libc's debug file is installed):
   `memory --json` from a cold cache, a warm one and over damaged files
   (a changed value, a wrong build-id, an unknown line, a missing field)
   equals the DWARF route's, and each damaged file is rewritten.
Prints "check_layout_cache: N passed, M failed"; exit 0/1."""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

NAME = "check_layout_cache"


def elf_build_id(path):
    """The NT_GNU_BUILD_ID of a 64-bit little-endian ELF file, as hex."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        sh = shoff + i * shentsize
        sh_type, = struct.unpack_from("<I", data, sh + 4)
        if sh_type != 7:  # SHT_NOTE
            continue
        off, size = struct.unpack_from("<QQ", data, sh + 0x18)
        p = off
        while p + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from("<III", data, p)
            name = data[p + 12:p + 12 + namesz]
            desc_at = p + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name.rstrip(b"\0") == b"GNU":
                return data[desc_at:desc_at + descsz].hex()
            p = desc_at + ((descsz + 3) & ~3)
    return None


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def with_checksum(text):
    """A cache file's text whose checksum line matches the rest."""
    lines = text.split("\n")
    rest = "\n".join(lines[3:])
    lines[2] = "checksum %016x" % fnv(rest.encode())
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(prog=NAME)
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--debug-dir")
    a = ap.parse_args()
    if not os.path.exists(a.core):
        print("%s: SKIP: %s not found (its fixture did not run)" % (NAME, a.core))
        return 77
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)
        return ok

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    extra = ["--debug-dir", a.debug_dir] if a.debug_dir else []

    def run(xdg, args, off=False):
        env = dict(os.environ, XDG_CACHE_HOME=xdg)
        env.pop("CH_LAYOUT_SOURCE", None)
        env.pop("CH_LAYOUT_CACHE", None)
        if off:
            env["CH_LAYOUT_CACHE"] = "off"
        p = subprocess.run([a.coreheap] + args + ["--no-index"] + extra + [a.core], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise SystemExit("%s: FAIL: coreheap %s exited %d: %s" % (NAME, " ".join(args), p.returncode,
                                                                   p.stderr.decode(errors="replace")))
        return p.stdout

    def three(xdg, off=False):
        """info --json (first: its cache state is the one a miss reports), info, types."""
        doc = json.loads(run(xdg, ["info", "--json"], off))
        info = run(xdg, ["info"], off).decode()
        return info, doc, run(xdg, ["types"], off)

    def files(xdg):
        d = os.path.join(xdg, "coreheap", "layouts")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def without_cache(doc):
        doc = json.loads(json.dumps(doc))
        cache = doc["layout"].pop("cache")
        return doc, cache

    # 1. the DWARF route
    xdg = os.path.join(a.work, "off")
    ref_info, ref_doc, ref_types = three(xdg, off=True)
    ref_doc, cache = without_cache(ref_doc)
    check(ref_doc["layout"]["kind"] == "dwarf", "the reference did not use DWARF: %r" % ref_doc["layout"])
    check(cache and cache["state"] == "off", "CH_LAYOUT_CACHE=off: cache %r" % cache)
    check(files(xdg) == [], "CH_LAYOUT_CACHE=off wrote %r" % files(xdg))
    dwarf_file = ref_doc["layout"]["dwarf_file"]
    want_id = elf_build_id(dwarf_file)
    check(want_id is not None, "%s has no build-id" % dwarf_file)

    # 2. a miss writes layouts/<build-id>.layout
    xdg = os.path.join(a.work, "cache")
    doc = json.loads(run(xdg, ["info", "--json"]))
    _, cache = without_cache(doc)
    path = os.path.join(xdg, "coreheap", "layouts", "%s.layout" % want_id)
    check(cache and cache["state"] == "written" and cache["file"] == path,
          "first run: cache %r, expected written to %s" % (cache, path))
    check(files(xdg) == ["%s.layout" % want_id], "cache folder holds %r" % files(xdg))
    if not os.path.exists(path):
        print("%s: %d passed, %d failed" % (NAME, passed, failed + 1))
        return 1
    with open(path) as f:
        good = f.read()

    def same_as_reference(xdg, state, what):
        info, doc, types = three(xdg)
        doc, cache = without_cache(doc)
        ok = check(cache and cache["state"] == state, "%s: cache %r, expected %s" % (what, cache, state))
        check(types == ref_types, "%s: types differs from the DWARF route's" % what)
        check(doc == ref_doc, "%s: info --json differs from the DWARF route's:\n%s\n%s"
              % (what, json.dumps(doc, sort_keys=True), json.dumps(ref_doc, sort_keys=True)))
        lines = info.splitlines()
        marker = [l for l in lines if "layout cache" in l]
        rest = "\n".join(l for l in lines if "layout cache" not in l) + "\n"
        check(rest == ref_info, "%s: info differs from the DWARF route's beyond the cache line" % what)
        if state == "read":
            check(len(marker) == 1 and path in marker[0], "%s: info does not name the cache file once: %r"
                  % (what, marker))
        return ok and cache

    # 3. a hit
    same_as_reference(xdg, "read", "second run")

    # 4. damaged files
    field_lines = [i for i, l in enumerate(good.split("\n")) if l[:1].isupper() and " " in l]
    lines = good.split("\n")
    last_field = lines[field_lines[-1]]
    digit_at = next(i for i, l in enumerate(lines) if l.startswith("OB_TYPE "))
    flipped = list(lines)
    flipped[digit_at] = "OB_TYPE %d" % (int(lines[digit_at].split()[1]) ^ 8)
    damaged = {
        "flipped value": "\n".join(flipped),
        "cut": good[:len(good) * 2 // 3],
        "wrong build-id": with_checksum(good.replace("build_id " + want_id, "build_id " + "ab" * 20)),
        "unknown field": with_checksum(good.replace(last_field + "\n", last_field + "\nNO_SUCH_FIELD 8\n")),
        "missing field": with_checksum(good.replace(last_field + "\n", "")),
        "repeated field": with_checksum(good.replace(last_field + "\n", last_field + "\n" + last_field + "\n")),
        "other key": with_checksum(good.replace(lines[1], "key 0123456789abcdef")),
    }
    for what, text in damaged.items():
        check(text != good, "%s: the damage changed nothing" % what)
        with open(path, "w") as f:
            f.write(text)
        c = same_as_reference(xdg, "written", "cache file with %s" % what)
        check(c and c["ignored"], "%s: not reported as ignored: %r" % (what, c))
        with open(path) as f:
            check(f.read() == good, "%s: the file was not rewritten as it was" % what)
        c = json.loads(run(xdg, ["info", "--json"]))["layout"]["cache"]
        check(c["state"] == "read", "%s: the rewritten file is not read: %r" % (what, c))

    # 5. no cache folder can be made
    plain = os.path.join(a.work, "plain-file")
    with open(plain, "w") as f:
        f.write("not a folder\n")
    info, doc, types = three(os.path.join(plain, "x"))
    doc, cache = without_cache(doc)
    check(cache and cache["state"] == "not written" and cache["problem"],
          "unwritable cache: %r" % cache)
    check(types == ref_types and doc == ref_doc, "unwritable cache: output differs from the DWARF route's")
    check("\n".join(l for l in info.splitlines() if "layout cache not written" not in l) + "\n" == ref_info
          and "layout cache not written" in info, "unwritable cache: info text is not the reference plus one note")

    # 6. the bypass leaves a planted file alone
    planted = "\n".join(flipped)
    with open(path, "w") as f:
        f.write(planted)
    info, doc, types = three(xdg, off=True)
    doc, cache = without_cache(doc)
    check(cache and cache["state"] == "off", "CH_LAYOUT_CACHE=off: cache %r" % cache)
    check(types == ref_types and doc == ref_doc and info == ref_info, "CH_LAYOUT_CACHE=off: output differs")
    with open(path) as f:
        check(f.read() == planted, "CH_LAYOUT_CACHE=off changed the cache file")

    # 7. glibc malloc's layout (readers/allocators/glibc_cache.c), when
    # libc's debug file is there to be read and cached
    xdg = os.path.join(a.work, "glibc")
    ref_mem = run(xdg, ["memory", "--json"], off=True)
    run(xdg, ["memory", "--json"])
    gdir = os.path.join(xdg, "coreheap", "glibc")
    glibc = sorted(os.listdir(gdir)) if os.path.isdir(gdir) else []
    if not glibc:
        print("%s: note: no glibc layout was cached (no libc debug file here): its checks were not run" % NAME)
    else:
        gpath = os.path.join(gdir, glibc[0])
        libc_id = glibc[0][:-len(".glibc")]
        with open(gpath) as f:
            ggood = f.read()
        check(len(glibc) == 1 and "build_id %s\n" % libc_id in ggood, "glibc cache files %r" % glibc)
        check(run(xdg, ["memory", "--json"]) == ref_mem, "memory from the cached glibc layout differs from DWARF's")
        glines = ggood.split("\n")
        at = next(i for i, l in enumerate(glines) if l.startswith("ms_sizeof "))
        gflip = list(glines)
        gflip[at] = "ms_sizeof %d" % (int(glines[at].split()[1]) + 16)
        gdamaged = {
            "flipped value": "\n".join(gflip),
            "wrong build-id": with_checksum(ggood.replace("build_id " + libc_id, "build_id " + "cd" * 20)),
            "unknown line": with_checksum(ggood.replace("\nformat 1\n", "\nformat 1\nno_such_field 8\n")),
            "missing field": with_checksum(ggood.replace("\n" + glines[at] + "\n", "\n")),
        }
        for what, text in gdamaged.items():
            check(text != ggood, "glibc %s: the damage changed nothing" % what)
            with open(gpath, "w") as f:
                f.write(text)
            check(run(xdg, ["memory", "--json"]) == ref_mem, "glibc cache with %s: memory differs from DWARF's" % what)
            with open(gpath) as f:
                check(f.read() == ggood, "glibc cache with %s: not rewritten as it was" % what)

    print("%s: %d passed, %d failed" % (NAME, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
