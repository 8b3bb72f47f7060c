/* An ELF core dump, mmap'd and parsed: PT_LOAD segments and the notes the
 * kernel writes (NT_PRSTATUS per thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV,
 * NT_FILE, NT_ARM_TLS). x86_64 and aarch64 little-endian ELF64 cores are
 * accepted (core_arch.h says what differs).
 *
 * Everything here points into the mapping and is valid until ch_core_close().
 * A truncated core is not an error: the segments keep their declared ranges
 * and `present` says how many bytes the file really has, so reads past that
 * fault and the caller can report a partial result. */
#ifndef CH_CORE_FILE_H
#define CH_CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readers/base/error.h"
#include "readers/process/core_arch.h"
#include "readers/process/core_inflate.h"

struct ch_core_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;  /* file offset of the dumped bytes */
	uint64_t filesz;  /* bytes the kernel dumped (0 for pages it skipped) */
	uint64_t present; /* of filesz, bytes the file actually holds (< filesz if truncated) */
	uint32_t flags;   /* PF_R | PF_W | PF_X */
};

/* One NT_PRSTATUS: the kernel writes one per thread, the faulting one first. */
struct ch_core_thread {
	int32_t tid;
	int32_t cursig;   /* signal that was being delivered to this thread (0 if none) */
	/* The thread pointer: fs_base on x86_64 (== pthread_self() with glibc);
	 * TPIDR_EL0 on aarch64, from the thread's NT_ARM_TLS note, 0 when the
	 * core has none (qemu-user writes none). */
	uint64_t tp;
	uint64_t pc, sp, fp;
	/* aarch64: the return-address bits that hold a pointer authentication
	 * code (NT_ARM_PAC_MASK's insn_mask, else core_arch's default); 0 on
	 * x86_64. */
	uint64_t pac_mask;
	uint64_t regs[CH_CORE_NREGS]; /* pr_reg in the machine's order (core_arch.h), for unwinding */
	uint8_t nregs;
};

/* Where the list of file-backed mappings came from: the kernel's NT_FILE
 * note, or (qemu-user and old gcore cores have none) the dynamic linker's
 * r_debug link map read from the dumped memory (link_map.h). */
enum ch_mapping_source { CH_MAPPINGS_NONE, CH_MAPPINGS_NT_FILE, CH_MAPPINGS_LINK_MAP };

/* One NT_FILE entry (or one PT_LOAD of a link-map object, the same record
 * the kernel would have written): a file-backed mapping of the process. */
struct ch_core_mapping {
	uint64_t start, end;
	uint64_t file_offset; /* in bytes */
	const char *path;     /* NUL-terminated, inside the core mapping (or mapping_names) */
};

struct ch_core_file {
	const char *path;
	const struct ch_core_arch *arch; /* from e_machine; never NULL once parsed */
	const uint8_t *data;
	size_t size;
	bool owns_map;        /* data was mmap'd by ch_core_open */
	enum ch_core_compression compression; /* of the file given (the data is inflated) */
	bool streamed;        /* data is a temporary copy (compressed file or pipe), not the file itself */
	bool truncated;       /* some segment or note extends past the end of the file */
	bool notes_cut;       /* the note list itself ends early (cut or damaged): threads or files may be missing */
	uint64_t expected_size; /* end of the last segment or note the headers declare (>= size when truncated) */

	struct ch_core_segment *segments;
	size_t nsegments;
	struct ch_core_thread *threads;
	size_t nthreads;
	struct ch_core_mapping *mappings;
	size_t nmappings;
	enum ch_mapping_source mapping_source;
	uint64_t mapping_page; /* NT_FILE's page size (its file offsets count these), 0 without NT_FILE */
	char *mapping_names;  /* owned storage of link-map paths (NULL for NT_FILE) */
	size_t link_map_objects; /* CH_MAPPINGS_LINK_MAP: files named by the link map */
	char mapping_problem[320]; /* CH_MAPPINGS_NONE: why the link map gave nothing */

	/* NT_PRPSINFO */
	bool have_psinfo;
	int32_t pid;
	char fname[17];
	char psargs[81];
	/* NT_SIGINFO of the signal that killed the process; without that note the
	 * first thread's pending signal (NT_PRSTATUS pr_cursig); 0 if none */
	int32_t signo;
	/* An NT_SIGINFO note was there: the kernel (3.7 and later) or gdb wrote
	 * the core, not qemu-user (whose segments need not match NT_FILE's
	 * mappings one to one: segment_check.h). */
	bool have_siginfo;
	/* NT_AUXV values coreheap uses (0 if absent) */
	uint64_t at_phdr, at_phnum, at_pagesz, at_entry, at_base, at_execfn;
};

/* Opens and maps the core at path ("-": standard input). A compressed core
 * or one on a pipe is first copied into a temporary file (core_inflate.h),
 * reporting progress through progress (may be NULL). */
struct ch_error *ch_core_open(const char *path, ch_core_progress_fn progress, void *progress_arg,
			      struct ch_core_file **out);
void ch_core_close(struct ch_core_file *core);

/* When the core is truncated, one phrase that says so with its figures
 * and the likely causes ("core.1 is truncated: 20.0 MiB of 190.3 MiB ...")
 * into buf, returning true; false (buf empty) for a whole core. brief: a
 * shorter phrase, to fit inside an error message. */
bool ch_core_truncation_text(const struct ch_core_file *core, bool brief, char *buf, size_t size);

/* "NT_FILE", "r_debug link map", or NULL (no mapped files known). */
const char *ch_core_mapping_source_name(enum ch_mapping_source s);
/* Distinct files among the mappings (a quadratic count: for reports). */
size_t ch_core_mapped_files(const struct ch_core_file *core);

/* Parse an in-memory core image (used by ch_core_open and by unit tests).
 * The buffer must outlive the result; ch_core_close will not unmap it. */
struct ch_error *ch_core_parse(const uint8_t *data, size_t size, const char *name,
			       struct ch_core_file **out);

#endif
