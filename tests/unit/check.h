/* Minimal assertion macros for the unit tests: each CHECK counts one
 * passed or failed check, failures print file:line and the expression, and
 * CHECK_SUMMARY prints the closing "NAME: N passed, M failed" line and
 * yields the process exit status. Header-only: include it in exactly one
 * translation unit per test executable. Every macro evaluates to 1 when
 * the check passed, so a test can stop early: if (!CHECK(p)) return; */
#ifndef CH_TEST_CHECK_H
#define CH_TEST_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "readers/base/error.h"

static unsigned long check_passed, check_failed;

static inline int check_record(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
	}
	return ok;
}

static inline int check_eq_u64(uint64_t a, uint64_t b, const char *file, int line, const char *what)
{
	int ok = check_record(a == b, file, line, what);
	if (!ok)
		fprintf(stderr, "    0x%" PRIx64 " != 0x%" PRIx64 "\n", a, b);
	return ok;
}

static inline int check_str(const char *a, const char *b, const char *file, int line, const char *what)
{
	int ok = check_record(a && b && strcmp(a, b) == 0, file, line, what);
	if (!ok)
		fprintf(stderr, "    \"%s\" != \"%s\"\n", a ? a : "(null)", b ? b : "(null)");
	return ok;
}

/* The error is consumed (freed) either way. */
static inline int check_ok(struct ch_error *e, const char *file, int line, const char *what)
{
	int ok = check_record(e == NULL, file, line, what);
	if (!ok)
		fprintf(stderr, "    error: %s\n", e->message);
	ch_error_free(e);
	return ok;
}

static inline int check_err(struct ch_error *e, enum ch_error_kind kind, const char *file, int line,
			    const char *what)
{
	int ok = check_record(e != NULL && e->kind == kind, file, line, what);
	if (!ok) {
		if (e)
			fprintf(stderr, "    got error kind %d: %s\n", (int)e->kind, e->message);
		else
			fprintf(stderr, "    got success\n");
	}
	ch_error_free(e);
	return ok;
}

#define CHECK(cond) check_record(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ_U64(a, b) check_eq_u64((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_STR(a, b) check_str((a), (b), __FILE__, __LINE__, #a " equals " #b)
#define CHECK_OK(errexpr) check_ok((errexpr), __FILE__, __LINE__, #errexpr " succeeds")
#define CHECK_ERR(errexpr, kind) check_err((errexpr), (kind), __FILE__, __LINE__, #errexpr " fails with " #kind)

#define CHECK_SUMMARY(name) \
	(printf("%s: %lu passed, %lu failed\n", (name), check_passed, check_failed), check_failed ? 1 : 0)

#endif
