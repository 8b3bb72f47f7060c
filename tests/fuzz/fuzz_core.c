/* libFuzzer target: the core reader. Each input is a core file: parsed
 * by ch_core_parse straight from the bytes (headers, notes, NT_FILE), then
 * opened as the program opens it (ch_process_open on a file: sniffing,
 * mapping, modules, the address space) with a sysroot where no module file
 * exists, so the process layer works from the core alone; every segment's
 * and mapping's edges are then read through the address space, and the
 * runtime finder (ch_python_open) runs over it. Seeds: small cuts of the
 * fixture cores (tests/fuzz/make_seeds.py).
 *
 * Speed (issue 17 asks for 10M executions): a real core has a hundred or
 * more segments and mappings, and every read past an edge builds an error
 * message; reading the edges of all of them made that the largest cost of
 * an execution without reaching any other code. The first and last
 * EDGE_READS of each list are read (where mutations of the headers and of
 * NT_FILE land first), and one in EDGE_STRIDE of the rest. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "readers/cpython/python.h"
#include "readers/process/process.h"

static void read_edges(struct ch_address_space *as, uint64_t start, uint64_t end)
{
	uint8_t buf[64];
	uint64_t v;
	char s[32];
	bool truncated;
	ch_error_free(ch_as_read_u64(as, start, &v));
	ch_error_free(ch_as_read_u64(as, end - 4, &v)); /* straddles the end */
	ch_error_free(ch_as_read(as, start + 1, buf, sizeof(buf)));
	ch_error_free(ch_as_read_cstr(as, start, s, sizeof(s), &truncated));
	(void)ch_as_peek(as, end - 8, 8);
	(void)ch_as_find(as, end);
}

#define EDGE_READS 8
#define EDGE_STRIDE 16

static bool edge_chosen(size_t i, size_t n)
{
	return i < EDGE_READS || n - i <= EDGE_READS || i % EDGE_STRIDE == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ch_core_file *core = NULL;
	ch_error_free(ch_core_parse(data, size, "fuzz-core", &core));
	ch_core_close(core);

	const char *path = ch_fuzz_file_set(data, size);
	struct ch_process_options opts = {.sysroot = "/nonexistent-coreheap-fuzz-sysroot"};
	struct ch_process *proc = NULL;
	struct ch_error *err = ch_process_open(path, &opts, &proc);
	if (err) {
		ch_error_free(err);
		return 0;
	}
	struct ch_address_space *as = &proc->as;
	for (size_t i = 0; i < proc->core->nsegments; i++) {
		if (!edge_chosen(i, proc->core->nsegments))
			continue;
		const struct ch_core_segment *s = &proc->core->segments[i];
		read_edges(as, s->vaddr, s->vaddr + s->memsz);
	}
	for (size_t i = 0; i < proc->core->nmappings; i++)
		if (edge_chosen(i, proc->core->nmappings))
			read_edges(as, proc->core->mappings[i].start, proc->core->mappings[i].end);
	(void)ch_process_main_module(proc);
	struct ch_module *mod = ch_process_find_module(proc, "libpython");
	struct ch_elf_file *ef;
	if (mod)
		ch_error_free(ch_process_module_elf(mod, &ef));
	struct ch_python *py = NULL;
	err = ch_python_open(proc, &py);
	if (!err)
		ch_python_close(py);
	ch_error_free(err);
	ch_process_close(proc);
	return 0;
}
