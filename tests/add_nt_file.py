#!/usr/bin/env python3
"""Give a core without NT_FILE the note the kernel would have written.

    add_nt_file.py CORE MAPS OUT

qemu-user writes a guest's core with no NT_FILE note (only NT_PRSTATUS,
NT_PRPSINFO and NT_AUXV).  A core of the same process written by a Linux
kernel on an arm64 machine has one, built from the process's file-backed
mappings.  MAPS is the /proc/self/maps the dumped process recorded at the
dumped instant (fixtures/scenario_heap.py --maps; under qemu-user it lists
the guest's mappings).  OUT is CORE with one more PT_NOTE segment holding an
NT_FILE note made from MAPS exactly as the kernel makes it (every mapping of
a file, page size 4096, offsets in pages); the program header table is
moved to the end of the file to make room for the new entry.  Nothing else
of CORE changes.

Exit status 0 done, 1 CORE or MAPS unusable (one line says why), 2 usage.
"""

import struct
import sys

NT_FILE = 0x46494C45
PT_NOTE = 4
PAGE = 4096


def file_mappings(maps_path):
    out = []
    with open(maps_path) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6 or parts[4] == "0" or not parts[5].startswith("/"):
                continue  # anonymous, [stack], [heap], ...
            start, end = (int(x, 16) for x in parts[0].split("-"))
            offset = int(parts[2], 16)
            out.append((start, end, offset // PAGE, parts[5].rstrip("\n")))
    return out


def note(maps):
    desc = struct.pack("<QQ", len(maps), PAGE)
    desc += b"".join(struct.pack("<QQQ", s, e, o) for s, e, o, _ in maps)
    desc += b"".join(p.encode() + b"\0" for _, _, _, p in maps)
    desc += b"\0" * (-len(desc) % 4)
    return struct.pack("<III", 5, len(desc), NT_FILE) + b"CORE\0\0\0\0" + desc


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: add_nt_file.py CORE MAPS OUT\n")
        return 2
    core_path, maps_path, out_path = argv[1:]
    with open(core_path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1 or struct.unpack_from("<H", data, 16)[0] != 4:
        sys.stderr.write("add_nt_file: %s is not a little-endian ELF64 core\n" % core_path)
        return 1
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if phentsize != 56 or phoff + phnum * 56 > len(data):
        sys.stderr.write("add_nt_file: %s: bad program header table\n" % core_path)
        return 1
    for i in range(phnum):
        ptype, = struct.unpack_from("<I", data, phoff + i * 56)
        noff, nsz = struct.unpack_from("<QQ", data, phoff + i * 56 + 8)[0], \
            struct.unpack_from("<Q", data, phoff + i * 56 + 32)[0]
        if ptype == PT_NOTE:
            at = noff
            while at + 12 <= noff + nsz:
                namesz, descsz, ntype = struct.unpack_from("<III", data, at)
                if ntype == NT_FILE:
                    sys.stderr.write("add_nt_file: %s already has an NT_FILE note\n" % core_path)
                    return 1
                at += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    maps = file_mappings(maps_path)
    if not maps:
        sys.stderr.write("add_nt_file: %s lists no file mappings\n" % maps_path)
        return 1
    table = bytes(data[phoff:phoff + phnum * 56])
    data += b"\0" * (-len(data) % 8)
    note_off = len(data)
    blob = note(maps)
    data += blob
    data += b"\0" * (-len(data) % 8)
    new_phoff = len(data)
    data += struct.pack("<IIQQQQQQ", PT_NOTE, 0, note_off, 0, 0, len(blob), 0, 4) + table
    struct.pack_into("<Q", data, 32, new_phoff)
    struct.pack_into("<H", data, 56, phnum + 1)
    with open(out_path, "wb") as f:
        f.write(data)
    print("add_nt_file: wrote %s: %d file mappings from %s" % (out_path, len(maps), maps_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
