/* A CPython version as coreheap detects it (Py_Version, the version text)
 * and names it (tables, messages). */
#ifndef CH_PY_VERSION_H
#define CH_PY_VERSION_H

#include <stdbool.h>
#include <stdint.h>

struct ch_py_version {
	int major, minor, micro;
	char text[32];      /* "3.12.1", or with a release level suffix "3.13.0rc1" */
	const char *method; /* how it was found, for `info` */
};

/* From a PY_VERSION_HEX value (Py_Version, _Py_DebugOffsets.version);
 * leaves method alone. */
void ch_py_version_from_hex(uint32_t hex, struct ch_py_version *v);

/* "3.11.7" (digits only, nothing after the micro number). */
bool ch_py_version_parse(const char *s, struct ch_py_version *v);

/* PY_VERSION_HEX of major.minor.micro, release level and serial zero. */
static inline uint32_t ch_py_version_hex(const struct ch_py_version *v)
{
	return ((uint32_t)v->major << 24) | ((uint32_t)(v->minor & 0xff) << 16) | ((uint32_t)(v->micro & 0xff) << 8);
}

#endif
