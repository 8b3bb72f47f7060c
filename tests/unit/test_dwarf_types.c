/* Unit test for the DWARF reader (readers/process/dwarf_types.h, dwarf_*.c).
 *
 * The test reads its own executable's DWARF (/proc/self/exe) and checks every
 * answer against the compiler: offsetof()/sizeof() for members and types, and
 * for bitfields the bits that a store to the field actually changes. It is
 * built three times (tests/CMakeLists.txt): with the default DWARF version
 * (5 on current GCC), with -gdwarf-4 (legacy DW_AT_bit_offset bitfields) and
 * with -gdwarf-2 -gstrict-dwarf (DW_AT_data_member_location as a location
 * expression block).
 *
 * The same file compiled with CH_TEST_SECOND_UNIT is a second compile unit
 * linked after the first: it holds the only complete definition of
 * struct t_split, while the first unit sees just a typedef of the declared
 * struct -- the PyInterpreterState / struct _is situation of libpython.
 */
#include <stddef.h>
#include <stdint.h>

struct t_split;
typedef struct t_split t_split_t;

#ifdef CH_TEST_SECOND_UNIT

struct t_split {
	int a;
	double b;
	long c[5];
};
struct t_split g_split_definition;

void t_split_layout(size_t *size, size_t *off_b, size_t *off_c2);
void t_split_layout(size_t *size, size_t *off_b, size_t *off_c2)
{
	*size = sizeof(struct t_split);
	*off_b = offsetof(struct t_split, b);
	*off_c2 = offsetof(struct t_split, c[2]);
}

#else /* the test proper */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readers/process/dwarf_types.h"

void t_split_layout(size_t *size, size_t *off_b, size_t *off_c2);

/* ---- Types under test; each reaches the DWARF through a global below. ---- */

enum t_color { T_RED, T_GREEN = 5, T_BLUE = -3, T_BIG = 0x7fffffff };

struct t_inner {
	int a;
	char b[3];
	long c;
};

typedef struct {
	uintptr_t g_next;
	uintptr_t g_prev;
} t_gc_head; /* like CPython 3.8's PyGC_Head */

typedef int t_row[3];

struct t_outer {
	uint32_t x;
	struct t_inner inner;
	union { /* anonymous union member */
		int64_t u_i;
		double u_d;
	};
	struct { /* anonymous struct member */
		short s1;
		short s2;
		struct {
			char deep; /* two anonymous levels down */
		};
	};
	struct t_inner arr[4];
	int grid[2][3];
	t_row rows[2];
	unsigned int bf_a : 3;
	unsigned int bf_b : 5;
	unsigned int bf_c : 12;
	int bf_s : 7;
	struct { /* like PyASCIIObject.state */
		unsigned int interned : 2;
		unsigned int kind : 3;
		unsigned int compact : 1;
		unsigned int ascii : 1;
		unsigned int : 25;
	} state;
	t_gc_head gc;
	enum t_color color;
	const volatile struct t_inner *ptr;
	int zero[0]; /* GNU zero-length array */
	char tail[]; /* flexible array member: no bound at all */
};

typedef struct t_outer t_outer_t;
typedef const t_outer_t t_outer_ct; /* typedef -> const -> typedef -> struct */

union t_union {
	char c;
	long l;
	struct t_inner in;
};

/* Tag and typedef with the same name, as in "typedef struct foo foo". */
typedef struct t_dual t_dual;
struct t_dual {
	char a;
	long b;
};

struct t_decl_only;
typedef struct t_decl_only t_decl_only_t;

struct t_outer g_outer;
t_outer_ct *g_outer_ct;
union t_union g_union;
t_dual g_dual;
t_decl_only_t *g_decl_only;
t_split_t *g_split_ptr;
enum t_color g_color;
enum { T_ANON_A = 41, T_ANON_B } g_anon_enum;
t_row g_row;

/* ---- Harness ---- */

static int checks, failures;

#define FAIL(...)                                                      \
	do {                                                           \
		failures++;                                            \
		fprintf(stderr, "FAIL line %d: ", __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                          \
		fputc('\n', stderr);                                   \
	} while (0)

static const char *kind_name(int kind)
{
	switch (kind) {
	case 0: return "ok";
	case CH_ERR_USAGE: return "USAGE";
	case CH_ERR_INPUT: return "INPUT";
	case CH_ERR_UNSUPPORTED: return "UNSUPPORTED";
	case CH_ERR_FAULT: return "FAULT";
	case CH_ERR_NOT_FOUND: return "NOT_FOUND";
	case CH_ERR_NOMEM: return "NOMEM";
	}
	return "?";
}

/* Consume err; 0 for success. */
static int kind_of(struct ch_error *err, char *msg, size_t msglen)
{
	if (!err) {
		if (msg)
			snprintf(msg, msglen, "ok");
		return 0;
	}
	int k = err->kind;
	if (msg)
		snprintf(msg, msglen, "%s", err->message);
	ch_error_free(err);
	return k;
}

static struct ch_dwarf *dw;

static void check_size(int line, const char *type, uint64_t want)
{
	char msg[512];
	uint64_t got = 0;
	checks++;
	int k = kind_of(ch_dwarf_type_size(dw, type, &got), msg, sizeof(msg));
	if (k || got != want) {
		failures++;
		fprintf(stderr, "FAIL line %d: sizeof %s = %llu (%s), want %llu\n", line, type,
			(unsigned long long)got, msg, (unsigned long long)want);
	}
}

static void check_member(int line, const char *type, const char *path, uint64_t off_bits, uint64_t size_bits)
{
	char msg[512];
	uint64_t o = 0, s = 0;
	checks++;
	int k = kind_of(ch_dwarf_member(dw, type, path, &o, &s), msg, sizeof(msg));
	if (k || o != off_bits || s != size_bits) {
		failures++;
		fprintf(stderr, "FAIL line %d: %s.%s = bit %llu size %llu (%s), want bit %llu size %llu\n", line,
			type, path, (unsigned long long)o, (unsigned long long)s, msg,
			(unsigned long long)off_bits, (unsigned long long)size_bits);
	}
}

static void check_length(int line, const char *type, const char *path, uint64_t want)
{
	char msg[512];
	uint64_t got = 0;
	checks++;
	int k = kind_of(ch_dwarf_array_length(dw, type, path, &got), msg, sizeof(msg));
	if (k || got != want) {
		failures++;
		fprintf(stderr, "FAIL line %d: length %s.%s = %llu (%s), want %llu\n", line, type, path,
			(unsigned long long)got, msg, (unsigned long long)want);
	}
}

static void check_kind(int line, const char *what, struct ch_error *err, int want)
{
	char msg[512];
	checks++;
	int k = kind_of(err, msg, sizeof(msg));
	if (k != want) {
		failures++;
		fprintf(stderr, "FAIL line %d: %s gave %s (%s), want %s\n", line, what, kind_name(k), msg,
			kind_name(want));
	}
}

static void check_enum(int line, const char *name, int64_t want)
{
	char msg[512];
	int64_t got = 0;
	checks++;
	int k = kind_of(ch_dwarf_enumerator(dw, name, &got), msg, sizeof(msg));
	if (k || got != want) {
		failures++;
		fprintf(stderr, "FAIL line %d: enumerator %s = %lld (%s), want %lld\n", line, name,
			(long long)got, msg, (long long)want);
	}
}

/* Bitfield check: after zeroing v and storing all-ones into the field, the
 * set bits of v's bytes (bit i of byte n is bit 8n+i, i.e. little-endian
 * numbering) must be exactly [offset, offset + size). */
static void check_bits(int line, const char *type, const char *path, const unsigned char *bytes, size_t n)
{
	uint64_t lo = UINT64_MAX, count = 0, hi = 0;
	for (size_t i = 0; i < n * 8; i++) {
		if (bytes[i / 8] >> (i % 8) & 1) {
			if (lo == UINT64_MAX)
				lo = i;
			hi = i;
			count++;
		}
	}
	if (count == 0 || hi - lo + 1 != count) {
		FAIL("bitfield %s: store did not set a contiguous run", path);
		return;
	}
	check_member(line, type, path, lo, count);
}

#define MEMBER(T, tname, m) check_member(__LINE__, tname, #m, offsetof(T, m) * 8, sizeof(((T *)0)->m) * 8)
#define BITFIELD(m, val)                                                                              \
	do {                                                                                          \
		struct t_outer v_;                                                                    \
		memset(&v_, 0, sizeof(v_));                                                           \
		v_.m = val;                                                                           \
		check_bits(__LINE__, "t_outer", #m, (const unsigned char *)&v_, sizeof(v_));          \
	} while (0)

/* ---- Scratch files ---- */

static char tmpdir[] = "/tmp/ch_test_dwarf_XXXXXX";

static void scratch_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

static unsigned char *read_self(size_t *len)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return NULL;
	}
	unsigned char *buf = malloc((size_t)st.st_size);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return buf;
}

/* Offset and size of a section of an ELF64 image, by name. */
static int find_section(const unsigned char *img, size_t len, const char *name, size_t *off, size_t *size)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return -1;
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shoff > len || (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum || eh.e_shstrndx >= eh.e_shnum)
		return -1;
	Elf64_Shdr strsh;
	memcpy(&strsh, img + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strsh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		size_t n = strsh.sh_offset + sh.sh_name;
		if (n >= len || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			continue;
		if (strncmp((const char *)img + n, name, len - n) == 0) {
			*off = sh.sh_offset;
			*size = sh.sh_size;
			return 0;
		}
	}
	return -1;
}

/* A minimal valid ELF64 relocatable: null section + .shstrtab, no DWARF. */
static size_t make_tiny_elf(unsigned char *buf, size_t cap)
{
	static const char strtab[] = "\0.shstrtab";
	size_t shoff = sizeof(Elf64_Ehdr) + sizeof(strtab);
	shoff = (shoff + 7) & ~(size_t)7;
	size_t total = shoff + 2 * sizeof(Elf64_Shdr);
	if (total > cap)
		return 0;
	memset(buf, 0, total);
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_shoff = shoff;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 2;
	eh.e_shstrndx = 1;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), strtab, sizeof(strtab));
	Elf64_Shdr sh = {0};
	sh.sh_name = 1;
	sh.sh_type = SHT_STRTAB;
	sh.sh_offset = sizeof(Elf64_Ehdr);
	sh.sh_size = sizeof(strtab);
	sh.sh_addralign = 1;
	memcpy(buf + shoff + sizeof(Elf64_Shdr), &sh, sizeof(sh));
	return total;
}

/* Run a batch of lookups on an open handle; all that matters is that they
 * return (any answer or error) rather than crash or hang. */
static void exercise(struct ch_dwarf *d)
{
	static const char *const types[] = {"t_outer", "t_outer_ct", "t_gc_head", "t_union", "t_split_t",
					    "t_dual", "t_row", "no_such_type"};
	static const char *const paths[] = {"x", "inner.c", "u_d", "deep", "arr[3].b[2]", "grid[1][2]",
					    "rows[1][1]", "bf_c", "state.ascii", "gc.g_prev", "g_prev", "c[2]"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		uint64_t v;
		ch_error_free(ch_dwarf_type_size(d, types[i], &v));
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
			ch_error_free(ch_dwarf_member(d, types[i], paths[j], &v, &v));
			ch_error_free(ch_dwarf_array_length(d, types[i], paths[j], &v));
		}
	}
	int64_t e;
	ch_error_free(ch_dwarf_enumerator(d, "T_BLUE", &e));
	ch_error_free(ch_dwarf_enumerator(d, "NO_SUCH_ENUMERATOR", &e));
}

/* ---- Tests ---- */

static void test_layouts(void)
{
	check_size(__LINE__, "t_outer", sizeof(struct t_outer));
	check_size(__LINE__, "t_outer_t", sizeof(t_outer_t));
	check_size(__LINE__, "t_outer_ct", sizeof(t_outer_ct));
	check_size(__LINE__, "t_inner", sizeof(struct t_inner));
	check_size(__LINE__, "t_gc_head", sizeof(t_gc_head));
	check_size(__LINE__, "t_union", sizeof(union t_union));
	check_size(__LINE__, "t_dual", sizeof(t_dual));
	check_size(__LINE__, "t_color", sizeof(enum t_color));
	check_size(__LINE__, "t_row", sizeof(t_row));
	check_size(__LINE__, "int", sizeof(int));

	MEMBER(struct t_outer, "t_outer", x);
	MEMBER(struct t_outer, "t_outer", inner);
	MEMBER(struct t_outer, "t_outer", inner.a);
	MEMBER(struct t_outer, "t_outer", inner.b);
	MEMBER(struct t_outer, "t_outer", inner.b[2]);
	MEMBER(struct t_outer, "t_outer", inner.c);
	MEMBER(struct t_outer, "t_outer", u_i);
	MEMBER(struct t_outer, "t_outer", u_d);
	MEMBER(struct t_outer, "t_outer", s1);
	MEMBER(struct t_outer, "t_outer", s2);
	MEMBER(struct t_outer, "t_outer", deep);
	MEMBER(struct t_outer, "t_outer", arr);
	MEMBER(struct t_outer, "t_outer", arr[0]);
	MEMBER(struct t_outer, "t_outer", arr[3]);
	MEMBER(struct t_outer, "t_outer", arr[2].c);
	MEMBER(struct t_outer, "t_outer", arr[3].b[1]);
	MEMBER(struct t_outer, "t_outer", grid);
	MEMBER(struct t_outer, "t_outer", grid[1]);
	MEMBER(struct t_outer, "t_outer", grid[1][2]);
	MEMBER(struct t_outer, "t_outer", rows);
	MEMBER(struct t_outer, "t_outer", rows[1]);
	MEMBER(struct t_outer, "t_outer", rows[1][2]);
	MEMBER(struct t_outer, "t_outer", state);
	MEMBER(struct t_outer, "t_outer", gc);
	MEMBER(struct t_outer, "t_outer", gc.g_prev);
	MEMBER(struct t_outer, "t_outer", color);
	MEMBER(struct t_outer, "t_outer", ptr);
	check_member(__LINE__, "t_outer", "tail", offsetof(struct t_outer, tail) * 8, 0);
	check_member(__LINE__, "t_outer", "zero", offsetof(struct t_outer, zero) * 8, 0);
	/* The same member through the typedef chain and through the tag. */
	MEMBER(struct t_outer, "t_outer_ct", arr[2].c);
	MEMBER(struct t_outer, "t_outer_t", gc.g_next);
	MEMBER(t_gc_head, "t_gc_head", g_next);
	MEMBER(t_gc_head, "t_gc_head", g_prev);
	MEMBER(union t_union, "t_union", l);
	MEMBER(union t_union, "t_union", in.c);
	MEMBER(t_dual, "t_dual", b);
	/* An empty path is the type itself. */
	check_member(__LINE__, "t_inner", "", 0, sizeof(struct t_inner) * 8);

	BITFIELD(bf_a, 7);
	BITFIELD(bf_b, 31);
	BITFIELD(bf_c, 4095);
	BITFIELD(bf_s, -1);
	BITFIELD(state.interned, 3);
	BITFIELD(state.kind, 7);
	BITFIELD(state.compact, 1);
	BITFIELD(state.ascii, 1);

	check_length(__LINE__, "t_outer", "arr", 4);
	check_length(__LINE__, "t_outer", "inner.b", 3);
	check_length(__LINE__, "t_outer", "arr[1].b", 3);
	check_length(__LINE__, "t_outer", "grid", 2);
	check_length(__LINE__, "t_outer", "grid[1]", 3);
	check_length(__LINE__, "t_outer", "rows", 2);
	check_length(__LINE__, "t_outer", "rows[0]", 3);
	check_length(__LINE__, "t_outer", "zero", 0);
	check_length(__LINE__, "t_row", "", 3);
}

static void test_split_units(void)
{
	/* t_split_t is first met in this unit, where struct t_split is only
	 * declared; the definition is in the second unit. */
	size_t size, off_b, off_c2;
	t_split_layout(&size, &off_b, &off_c2);
	check_size(__LINE__, "t_split_t", size);
	check_size(__LINE__, "t_split", size);
	check_member(__LINE__, "t_split_t", "b", off_b * 8, sizeof(double) * 8);
	check_member(__LINE__, "t_split_t", "c[2]", off_c2 * 8, sizeof(long) * 8);
	check_length(__LINE__, "t_split_t", "c", 5);
}

static void test_enumerators(void)
{
	check_enum(__LINE__, "T_RED", T_RED);
	check_enum(__LINE__, "T_GREEN", T_GREEN);
	check_enum(__LINE__, "T_BLUE", T_BLUE);
	check_enum(__LINE__, "T_BIG", T_BIG);
	check_enum(__LINE__, "T_ANON_A", T_ANON_A);
	check_enum(__LINE__, "T_ANON_B", T_ANON_B);
	int64_t v;
	check_kind(__LINE__, "missing enumerator", ch_dwarf_enumerator(dw, "T_NO_SUCH", &v), CH_ERR_NOT_FOUND);
}

static void test_misses(void)
{
	uint64_t v;
	check_kind(__LINE__, "missing type", ch_dwarf_type_size(dw, "t_no_such_type", &v), CH_ERR_NOT_FOUND);
	/* Twice: the second answer comes from the negative cache. */
	check_kind(__LINE__, "missing type again", ch_dwarf_type_size(dw, "t_no_such_type", &v), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "declaration only", ch_dwarf_type_size(dw, "t_decl_only_t", &v), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "declaration only (tag)", ch_dwarf_type_size(dw, "t_decl_only", &v), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "missing member", ch_dwarf_member(dw, "t_outer", "nope", &v, &v), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "missing nested member", ch_dwarf_member(dw, "t_outer", "inner.nope", &v, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "member of a scalar", ch_dwarf_member(dw, "t_outer", "x.y", NULL, NULL), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "member through pointer", ch_dwarf_member(dw, "t_outer", "ptr.a", NULL, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "index out of range", ch_dwarf_member(dw, "t_outer", "arr[4]", &v, NULL), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "index into zero-length", ch_dwarf_member(dw, "t_outer", "zero[0]", &v, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "inner index out of range", ch_dwarf_member(dw, "t_outer", "grid[0][3]", &v, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "too many indexes", ch_dwarf_member(dw, "t_outer", "grid[1][2][0]", &v, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "index of non-array", ch_dwarf_member(dw, "t_outer", "inner[0]", &v, NULL),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "member of array", ch_dwarf_member(dw, "t_outer", "arr.a", &v, NULL), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "length of non-array", ch_dwarf_array_length(dw, "t_outer", "x", &v), CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "length of flexible array", ch_dwarf_array_length(dw, "t_outer", "tail", &v),
		   CH_ERR_NOT_FOUND);
	check_kind(__LINE__, "length in missing type", ch_dwarf_array_length(dw, "t_no_such_type", "a", &v),
		   CH_ERR_NOT_FOUND);

	static const char *const bad[] = {"inner..a", ".x", "x.", "arr[", "arr[x]", "arr]", "arr[1", "a b",
					  "arr[-1]", "arr.[1]", "arr[99999999999999999999999]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_kind(__LINE__, bad[i], ch_dwarf_member(dw, "t_outer", bad[i], &v, NULL), CH_ERR_USAGE);
	check_kind(__LINE__, "NULL type", ch_dwarf_member(dw, NULL, "x", &v, NULL), CH_ERR_USAGE);
	check_kind(__LINE__, "NULL path", ch_dwarf_member(dw, "t_outer", NULL, &v, NULL), CH_ERR_USAGE);
	check_kind(__LINE__, "NULL handle", ch_dwarf_type_size(NULL, "t_outer", &v), CH_ERR_USAGE);
	check_kind(__LINE__, "NULL enumerator", ch_dwarf_enumerator(dw, NULL, NULL), CH_ERR_USAGE);

	/* NULL out pointers are allowed. */
	check_kind(__LINE__, "NULL outs", ch_dwarf_member(dw, "t_outer", "inner.c", NULL, NULL), 0);
	check_kind(__LINE__, "NULL size out", ch_dwarf_type_size(dw, "t_outer", NULL), 0);
}

static void test_open_errors(void)
{
	struct ch_dwarf *d = (struct ch_dwarf *)(uintptr_t)1; /* must be reset to NULL on failure */
	char path[256];

	check_kind(__LINE__, "missing file", ch_dwarf_open("/nonexistent/ch_test_no_such_file", &d), CH_ERR_INPUT);
	checks++;
	if (d != NULL)
		FAIL("*out not cleared on failure");
	check_kind(__LINE__, "directory", ch_dwarf_open("/", &d), CH_ERR_INPUT);
	check_kind(__LINE__, "NULL path", ch_dwarf_open(NULL, &d), CH_ERR_USAGE);
	ch_dwarf_close(NULL); /* must be a no-op */

	scratch_path(path, sizeof(path), "text");
	if (write_file(path, "this is not an ELF file\n", 24) == 0)
		check_kind(__LINE__, "text file", ch_dwarf_open(path, &d), CH_ERR_INPUT);
	else
		FAIL("cannot write %s", path);

	scratch_path(path, sizeof(path), "empty");
	if (write_file(path, "", 0) == 0)
		check_kind(__LINE__, "empty file", ch_dwarf_open(path, &d), CH_ERR_INPUT);
	else
		FAIL("cannot write %s", path);

	unsigned char tiny[1024];
	size_t n = make_tiny_elf(tiny, sizeof(tiny));
	scratch_path(path, sizeof(path), "tiny.o");
	if (n && write_file(path, tiny, n) == 0)
		check_kind(__LINE__, "ELF without DWARF", ch_dwarf_open(path, &d), CH_ERR_NOT_FOUND);
	else
		FAIL("cannot write %s", path);

	/* An ELF header alone: magic right, everything else missing. */
	scratch_path(path, sizeof(path), "header-only");
	if (write_file(path, tiny, sizeof(Elf64_Ehdr)) == 0) {
		struct ch_error *err = ch_dwarf_open(path, &d);
		int k = kind_of(err, NULL, 0);
		checks++;
		if (k != CH_ERR_INPUT && k != CH_ERR_NOT_FOUND)
			FAIL("header-only ELF gave %s", kind_name(k));
		if (!k)
			ch_dwarf_close(d);
	}
}

/* A damaged copy that ch_dwarf_open must refuse as input naming `why`. */
static void expect_refused(const unsigned char *copy, size_t len, const char *why, const char *what)
{
	char path[256], msg[512];
	struct ch_dwarf *d;
	scratch_path(path, sizeof(path), "corrupt");
	if (write_file(path, copy, len) != 0)
		return;
	int k = kind_of(ch_dwarf_open(path, &d), msg, sizeof(msg));
	checks++;
	if (k == 0)
		ch_dwarf_close(d);
	if (k != CH_ERR_INPUT || !strstr(msg, why))
		FAIL("%s: %s", what, msg);
}

/* Truncated and corrupted copies of this executable: any answer is fine,
 * crashing or hanging is not. */
static void test_damaged_copies(void)
{
	size_t len;
	unsigned char *img = read_self(&len);
	if (!img) {
		FAIL("cannot read /proc/self/exe");
		return;
	}
	char path[256];
	struct ch_dwarf *d;

	scratch_path(path, sizeof(path), "truncated");
	if (write_file(path, img, len / 2) == 0) {
		int k = kind_of(ch_dwarf_open(path, &d), NULL, 0);
		checks++;
		if (!k) {
			exercise(d);
			ch_dwarf_close(d);
		}
	}

	size_t info_off, info_size, abbrev_off, abbrev_size;
	if (find_section(img, len, ".debug_info", &info_off, &info_size) != 0 ||
	    find_section(img, len, ".debug_abbrev", &abbrev_off, &abbrev_size) != 0 || info_size < 64) {
		FAIL("no .debug_info/.debug_abbrev in /proc/self/exe (built without -g?)");
		free(img);
		return;
	}
	unsigned char *copy = malloc(len);
	/* A section header claiming more bytes than the file has (fuzz_dwarf
	 * found libdwarf allocating such a size before looking): refused. */
	uint64_t shoff, shnum;
	memcpy(&shoff, img + 0x28, 8);
	shnum = (uint64_t)img[0x3c] | (uint64_t)img[0x3d] << 8;
	if (copy && shoff && shnum > 1 && shoff + shnum * 64 <= len) {
		memcpy(copy, img, len);
		uint64_t huge = 0x9a00000000ULL;
		memcpy(copy + shoff + 64 * (shnum - 1) + 0x20, &huge, 8); /* sh_size of the last section */
		expect_refused(copy, len, "lies outside the file", "section beyond the end of the file");
	}
	/* A DWARF 5 range-list unit of length 0 (fuzz_dwarf: libdwarf 20210528
	 * frees memory twice on it): refused before libdwarf sees it. Only the
	 * DWARF 5 build of this test has the table. */
	size_t rl_off, rl_size;
	if (copy && find_section(img, len, ".debug_rnglists", &rl_off, &rl_size) == 0 && rl_size >= 4) {
		memcpy(copy, img, len);
		memset(copy + rl_off, 0, 4);
		expect_refused(copy, len, ".debug_rnglists is malformed", "range-list unit of length 0");
	}
	uint64_t rng = 0x9e3779b97f4a7c15u;
	for (int round = 0; copy && round < 24; round++) {
		memcpy(copy, img, len);
		/* Rounds alternate between sprinkling random bytes over
		 * .debug_info, over .debug_abbrev, and zeroing a block. */
		size_t off = round % 3 == 1 ? abbrev_off : info_off;
		size_t size = round % 3 == 1 ? abbrev_size : info_size;
		int hits = 1 + round * 3;
		for (int h = 0; h < hits; h++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			size_t pos = off + (size_t)(rng % size);
			if (round % 3 == 2) {
				size_t l = size - (pos - off) < 16 ? size - (pos - off) : 16;
				memset(copy + pos, h & 1 ? 0xff : 0, l);
			} else {
				copy[pos] = (unsigned char)(rng >> 32);
			}
		}
		scratch_path(path, sizeof(path), "corrupt");
		if (write_file(path, copy, len) != 0)
			break;
		checks++;
		if (kind_of(ch_dwarf_open(path, &d), NULL, 0) == 0) {
			exercise(d);
			ch_dwarf_close(d);
		}
	}
	free(copy);
	free(img);
}

static void cleanup_scratch(void)
{
	static const char *const names[] = {"text", "empty", "tiny.o", "header-only", "truncated", "corrupt"};
	char path[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		scratch_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	char msg[512];
	int k = kind_of(ch_dwarf_open("/proc/self/exe", &dw), msg, sizeof(msg));
	if (k) {
		fprintf(stderr, "FAIL: cannot open own DWARF: %s\n", msg);
		cleanup_scratch();
		printf("test_dwarf_types: FAILED (no DWARF in /proc/self/exe)\n");
		return 1;
	}
	/* Keep the globals (and with them their types) in the DWARF. */
	g_outer.x = (uint32_t)(uintptr_t)&g_outer_ct + (uint32_t)(uintptr_t)&g_union +
		    (uint32_t)(uintptr_t)&g_dual + (uint32_t)(uintptr_t)&g_decl_only +
		    (uint32_t)(uintptr_t)&g_split_ptr + (uint32_t)g_color + (uint32_t)g_anon_enum +
		    (uint32_t)g_row[0];

	test_layouts();
	test_split_units();
	test_enumerators();
	test_misses();
	/* Everything again: answers now come from the caches. */
	int before = failures;
	test_layouts();
	test_split_units();
	if (failures != before)
		fprintf(stderr, "(failures above are from the cached pass)\n");
	ch_dwarf_close(dw);

	test_open_errors();
	test_damaged_copies();
	cleanup_scratch();

	printf("test_dwarf_types: %d checks, %d failures: %s\n", checks, failures, failures ? "FAILED" : "OK");
	return failures ? 1 : 0;
}

#endif /* CH_TEST_SECOND_UNIT */
