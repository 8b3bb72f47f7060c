#include "readers/process/mappings.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ch_mapping_kind_name(enum ch_mapping_kind k)
{
	static const char *const names[CH_MAP_KINDS] = {
		[CH_MAP_FILE_CODE] = "file_code", [CH_MAP_FILE_DATA] = "file_data", [CH_MAP_STACK] = "stack",
		[CH_MAP_ANON] = "anonymous",      [CH_MAP_NO_ACCESS] = "no_access",
	};
	return (unsigned)k < CH_MAP_KINDS ? names[k] : "?";
}

/* Bytes of [off, off + len) of the file that are data, not holes. */
static uint64_t data_bytes(int fd, uint64_t off, uint64_t len, bool *ok)
{
	uint64_t total = 0, pos = off, end = off + len;
	while (pos < end) {
		off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				break; /* no data after pos: the rest is a hole */
			*ok = false;
			return len;
		}
		if ((uint64_t)d >= end)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			*ok = false;
			return len;
		}
		uint64_t he = (uint64_t)h < end ? (uint64_t)h : end;
		total += he - (uint64_t)d;
		pos = he;
	}
	return total;
}

struct ch_error *ch_mappings_build(const struct ch_core_file *core, struct ch_mappings *out)
{
	memset(out, 0, sizeof(*out));
	out->rows = calloc(core->nsegments ? core->nsegments : 1, sizeof(*out->rows));
	if (!out->rows)
		return ch_error_new(CH_ERR_NOMEM, "out of memory for %zu mappings", core->nsegments);
	int fd = core->path ? open(core->path, O_RDONLY | O_CLOEXEC) : -1;
	out->touched_known = fd >= 0;
	for (size_t i = 0; i < core->nsegments; i++) {
		const struct ch_core_segment *seg = &core->segments[i];
		struct ch_mapping *m = &out->rows[out->n++];
		m->start = seg->vaddr;
		m->end = seg->vaddr + seg->memsz;
		m->flags = seg->flags;
		m->dumped = seg->present;
		m->touched = m->dumped;
		if (fd >= 0 && m->dumped)
			m->touched = data_bytes(fd, seg->offset, m->dumped, &out->touched_known);
		for (size_t f = 0; f < core->nmappings; f++)
			if (core->mappings[f].start <= m->start && m->start < core->mappings[f].end) {
				m->path = core->mappings[f].path;
				break;
			}
		if (!(seg->flags & (PF_R | PF_W | PF_X)))
			m->kind = CH_MAP_NO_ACCESS;
		else if (m->path)
			m->kind = (seg->flags & PF_W) ? CH_MAP_FILE_DATA : CH_MAP_FILE_CODE;
		else
			m->kind = CH_MAP_ANON;
		for (size_t t = 0; m->kind == CH_MAP_ANON && t < core->nthreads; t++)
			if (core->threads[t].sp >= m->start && core->threads[t].sp < m->end) {
				m->kind = CH_MAP_STACK;
				m->stack_tid = core->threads[t].tid;
			}
		/* A file's .bss beyond its last page is an anonymous mapping right
		 * after the file's writable one: the file's data, not heap. */
		if (m->kind == CH_MAP_ANON && (seg->flags & PF_W) && out->n >= 2) {
			const struct ch_mapping *prev = &out->rows[out->n - 2];
			if (prev->kind == CH_MAP_FILE_DATA && !prev->bss && prev->end == m->start) {
				m->kind = CH_MAP_FILE_DATA;
				m->path = prev->path;
				m->bss = true;
			}
		}
		out->virtual_total += m->end - m->start;
		out->dumped_total += m->dumped;
		out->touched_total += m->touched;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

void ch_mappings_deinit(struct ch_mappings *m)
{
	free(m->rows);
	memset(m, 0, sizeof(*m));
}
