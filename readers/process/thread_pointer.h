/* Thread pointers (x86_64 fs_base) that a core leaves out. qemu-user's
 * x86_64 cores put the %fs selector (0) where the kernel writes fs_base,
 * so TLS reads (glibc's tcache, the stack protector's canary that emulated
 * code checks, pthread_self() of 3.6/3.7 thread states) would all miss.
 *
 * They are found again in the dumped memory by what the ABI fixes about a
 * thread control block: its first word points at itself (the x86_64 TLS
 * ABI: %fs:0 is the thread pointer), glibc's header.self (%fs:16) does too,
 * and %fs:0x28 holds the stack protector's canary (GCC emits that offset;
 * glibc zeroes its lowest byte and gives every thread the same one). A
 * non-main thread's TCB lies in the mapping of its own stack (glibc puts it
 * at the top of the stack it allocates); the one candidate left over is the
 * main thread's. Anything ambiguous is left at 0. x86_64 cores only. */
#ifndef CH_THREAD_POINTER_H
#define CH_THREAD_POINTER_H

#include <stddef.h>

struct ch_process;

/* When every thread's fs_base (ch_core_thread.tp) is 0 in an x86_64 core,
 * sets those it can prove (see above), reading the core's own segments;
 * returns how many it set. Other machines' cores are left alone. */
size_t ch_threads_recover_fs_base(struct ch_process *proc);

#endif
