#!/usr/bin/env python3
"""A core whose thread-state list loops: threads that could be read, a
warning, exit 5.

    check_stacks_corrupt.py --coreheap PATH --core CORE --truth TRUTH.json
                            --out PATCHED_CORE [--python PATH]

Copies CORE to PATCHED_CORE and makes the second thread state of the list
point at itself: its `next` field (found as the word in its first 256 bytes
that holds the third thread state's address; `coreheap stacks --json` lists
thread states in list order with their addresses) is overwritten with its
own address, located in the file through the core's PT_LOAD headers. Then
runs check_stacks.py --expect-partial on the copy: the first two threads
must come out with their exact stacks, the rest are lost, the loop is
warned about, and the exit status is 5. Exit 77 if --python is missing.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys


def load_segments(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit("check_stacks_corrupt: %s is not an ELF64 file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(phnum):
        p_type, _flags, off, vaddr, _paddr, filesz, _memsz, _align = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and filesz:
            segs.append((vaddr, filesz, off))
    return segs


def file_offset(segs, addr, n):
    for vaddr, filesz, off in segs:
        if vaddr <= addr and addr + n <= vaddr + filesz:
            return off + addr - vaddr
    sys.exit("check_stacks_corrupt: 0x%x is not in the core" % addr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreheap", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--python")
    a = ap.parse_args()
    if a.python and not os.path.exists(a.python):
        print("check_stacks_corrupt: SKIP: interpreter %s not found" % a.python)
        return 77
    r = subprocess.run([a.coreheap, "stacks", a.core, "--json", "-q"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print("check_stacks_corrupt: coreheap stacks on the intact core exited %d: %s" % (r.returncode, r.stderr))
        return 1
    states = [int(t["thread_state"], 16) for t in json.loads(r.stdout)["threads"]]
    if len(states) < 3:
        print("check_stacks_corrupt: need at least 3 thread states, the core has %d" % len(states))
        return 1
    victim, successor = states[1], states[2]
    shutil.copyfile(a.core, a.out)
    with open(a.out, "r+b") as f:
        data = bytearray(f.read())
        segs = load_segments(data)
        base = file_offset(segs, victim, 256)
        words = [struct.unpack_from("<Q", data, base + k)[0] for k in range(0, 256, 8)]
        if successor not in words:
            print("check_stacks_corrupt: thread state 0x%x holds no pointer to 0x%x" % (victim, successor))
            return 1
        k = words.index(successor) * 8
        f.seek(base + k)
        f.write(struct.pack("<Q", victim))
    print("check_stacks_corrupt: thread state 0x%x: next (+%d) now points at itself" % (victim, k))
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.run([sys.executable, os.path.join(here, "check_stacks.py"), "--coreheap", a.coreheap,
                           "--core", a.out, "--truth", a.truth, "--expect-partial"]).returncode


if __name__ == "__main__":
    sys.exit(main())
