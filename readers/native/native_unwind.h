/* Layer readers/native: each thread's C call stack, unwound from the
 * core's registers with the call frame information (.eh_frame,
 * .debug_frame) of the mapped files, with function, library, offset and,
 * where debug info has it, file:line.
 * Does not: know about Python (graph/native_stacks.c puts the Python frames
 * in), or find files (the process layer did; each module is reported to the
 * unwinder at its path and bias).
 * Invariant: every byte of the process's memory the unwinder reads comes
 * through the process layer's address space (a memory-read callback); a
 * stack is bounded (CH_NATIVE_MAX_FRAMES) and a failed step ends it with the
 * reason kept, never the command. Includes readers/process and readers/base
 * only.
 *
 * The unwinder is elfutils' libdwfl (dwfl_attach_state with coreheap's own
 * thread callbacks, dwfl_getthread_frames). libdw exports dwarf_* functions
 * whose names are also libdwarf's (which the layouts use), so it is loaded
 * with dlmopen into a link-map namespace of its own, where its names cannot
 * meet libdwarf's. Without libdw.so.1 on the system, native stacks are
 * unavailable (CH_ERR_UNSUPPORTED, said once) and nothing else changes. */
#ifndef CH_NATIVE_UNWIND_H
#define CH_NATIVE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_process;

#define CH_NATIVE_MAX_FRAMES 2048

struct ch_native_frame {
	uint64_t pc;          /* the frame's program counter (a return address above the innermost) */
	uint64_t offset;      /* pc - start of `function` (valid when function[0]) */
	const char *module;   /* path of the mapped file holding pc (the process's string), NULL if none */
	char function[128];   /* symbol name, "" when no symbol covers pc */
	char file[256];       /* source file from the debug info's line table, "" when none */
	int line;             /* 0 when none */
};

struct ch_native_stack {
	struct ch_native_frame *frames; /* innermost first */
	size_t nframes;
	/* Why the unwind stopped before the outermost frame, "" when it reached
	 * it (or a frame with no return address). */
	char stopped[160];
};

struct ch_native;

struct ch_error *ch_native_open(struct ch_process *proc, struct ch_native **out);
/* The stack of the thread whose NT_PRSTATUS has this tid. Only out of
 * memory is an error; an unwinding failure ends the stack (stopped). */
struct ch_error *ch_native_unwind(struct ch_native *n, int32_t tid, struct ch_native_stack *out);
void ch_native_stack_deinit(struct ch_native_stack *s);
void ch_native_close(struct ch_native *n);

/* Whether libdw's namespace was loaded in this process. libdw loads
 * libdebuginfod (and through libcurl, libcrypto) into that namespace on
 * its own when a build-id lookup fails; under AddressSanitizer libcrypto's
 * exit handler there then crashes in ASan's thread bookkeeping, so the CLI
 * of a sanitizer build leaves such a process with _exit after flushing. */
bool ch_native_libdw_loaded(void);

#endif
