/* Code objects: a function's name and file, and the line a frame is at,
 * decoded from each version's line table:
 *   3.8/3.9  co_lnotab, byte offsets            (CH_PY_LINES_LNOTAB)
 *   3.10     co_linetable, (sdelta, ldelta)     (CH_PY_LINES_LINETABLE310)
 *   3.11+    co_linetable, PEP 657 locations    (CH_PY_LINES_LOCATIONS)
 * The kind follows from which code-object fields the layout has, not from
 * the version number. */
#ifndef CH_PY_CODE_H
#define CH_PY_CODE_H

#include <stdbool.h>
#include <stdint.h>

#include "readers/base/error.h"

struct ch_python;

enum ch_py_lines_kind { CH_PY_LINES_NONE, CH_PY_LINES_LNOTAB, CH_PY_LINES_LINETABLE310, CH_PY_LINES_LOCATIONS };

#define CH_PY_FUNCTION_MAX 256
#define CH_PY_FILE_MAX 1024

struct ch_py_code {
	uint64_t address;
	char function[CH_PY_FUNCTION_MAX]; /* co_qualname (3.11+) or co_name */
	char file[CH_PY_FILE_MAX];         /* co_filename */
	int32_t firstlineno;
	enum ch_py_lines_kind kind;
	uint64_t table, table_len;         /* the line table's bytes in the dump */
	uint64_t code_units;               /* 3.11+: address of the first instruction (co_code_adaptive) */
	int32_t firsttraceable;            /* 3.11+: _co_firsttraceable, in code units */
};

/* Reads name, file and line-table location of the code object at addr.
 * Unreadable names become "?" and are reported through the returned error
 * only when the object itself is unreadable. */
struct ch_error *ch_py_code_read(struct ch_python *py, uint64_t addr, struct ch_py_code *out);

/* PyCode_Addr2Line: line of the instruction at byte offset addr (negative:
 * not started, the first line). -1 when the table says "no line" or cannot
 * be read. */
int32_t ch_py_code_addr2line(struct ch_python *py, const struct ch_py_code *code, int64_t addr);

/* PyFrame_GetLineNumber of a 3.8-3.10 frame object from its f_lasti,
 * f_lineno and f_trace: 3.8/3.9 trust f_lineno only while tracing (f_lasti
 * in bytes); 3.10 whenever it is set (f_lasti in code units). */
int32_t ch_py_legacy_frame_line(struct ch_python *py, const struct ch_py_code *code, int32_t lasti, int32_t lineno,
				bool traced);
/* The line of a 3.11+ interpreter frame whose next/last instruction is at
 * instr (IFRAME_INSTR), as PyUnstable_InterpreterFrame_GetLine computes it. */
int32_t ch_py_iframe_line(struct ch_python *py, const struct ch_py_code *code, uint64_t instr);
/* Line-table decoders on bytes already copied out (unit-testable). */
int32_t ch_py_lnotab_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr);
int32_t ch_py_linetable310_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr);
int32_t ch_py_locations_line(const uint8_t *t, uint64_t len, int32_t firstlineno, int64_t addr);

#endif
