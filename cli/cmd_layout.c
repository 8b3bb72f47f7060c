/* coreheap layout: a developer command that writes the layout table of an
 * interpreter build from its DWARF (the built-in tables are its output,
 * scripts/gen_layouts.sh), and shows the built-in tables. Its argument is
 * an ELF file with DWARF (libpython, a python executable, a .debug file),
 * not a core, so it parses its own few options. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "output_file.h"
#include "readers/process/dwarf_types.h"
#include "readers/process/elf_file.h"
#include "readers/allocators/glibc_table.h"
#include "readers/cpython/py_layout_table.h"

struct layout_opts {
	const char *file;
	const char *output;
	const char *version; /* --version X.Y.Z */
	const char *builtin; /* --builtin X.Y.Z */
	const char *glibc;   /* --glibc DEBUGFILE */
	bool list, json;
};

static const char help[] =
	"Options:\n"
	"  --dump FILE         the ELF file whose DWARF describes the interpreter (same as a bare FILE)\n"
	"  --version X.Y.Z     the CPython version of FILE; needed when FILE lacks Py_Version (3.6-3.10,\n"
	"                      .debug files); checked against Py_Version when both are known\n"
	"  --builtin X.Y.Z     print the built-in table generated from that version instead\n"
	"  --list              list the built-in tables\n"
	"  --glibc FILE        write the glibc malloc table of the libc whose debug file (libc6-dbg) is FILE\n"
	"                      instead (readers/allocators/glibc_tables/; --version gives glibc's version)\n"
	"  --json              the layout as a JSON object instead of the table format (--format json)\n"
	"  --exe, --sysroot, --debug-dir   accepted like every command's, unused: FILE is read as given\n"
	"  -o, --output FILE   write to FILE instead of standard output\n"
	"  -h, --help          this help\n\n"
	"Examples:\n"
	"  coreheap layout --dump ~/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0\n"
	"  coreheap layout --dump /usr/lib/debug/.build-id/c5/61f3...debug --version 3.11.2\n"
	"  coreheap layout --builtin 3.11.7\n"
	"  coreheap layout --list\n"
	"  coreheap layout --glibc /usr/lib/debug/.build-id/93/ac61...debug --version 2.36\n";

static int parse(const struct ch_cli_command *cmd, int argc, char **argv, struct layout_opts *o)
{
	enum { OPT_DUMP = 256, OPT_VERSION, OPT_BUILTIN, OPT_LIST, OPT_JSON, OPT_FORMAT, OPT_IGNORED, OPT_GLIBC };
	static const struct option longopts[] = {
		{"dump", required_argument, NULL, OPT_DUMP},   {"version", required_argument, NULL, OPT_VERSION},
		{"builtin", required_argument, NULL, OPT_BUILTIN}, {"list", no_argument, NULL, OPT_LIST},
		{"json", no_argument, NULL, OPT_JSON},         {"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},             {"help", no_argument, NULL, 'h'},
		{"format", required_argument, NULL, OPT_FORMAT}, {"glibc", required_argument, NULL, OPT_GLIBC},
		/* The common core options, accepted so every command takes them;
		 * FILE is read as given. */
		{"exe", required_argument, NULL, OPT_IGNORED}, {"sysroot", required_argument, NULL, OPT_IGNORED},
		{"debug-dir", required_argument, NULL, OPT_IGNORED},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: coreheap %s\n\n%s\n%s", cmd->usage, cmd->summary, help);
			return -1;
		case 'o':
			o->output = optarg;
			break;
		case 'q':
			break;
		case OPT_DUMP:
			o->file = optarg;
			break;
		case OPT_VERSION:
			o->version = optarg;
			break;
		case OPT_BUILTIN:
			o->builtin = optarg;
			break;
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_GLIBC:
			o->glibc = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return ch_cli_usage_error(cmd, "--format takes text or json, not '%s'", optarg);
			o->json = strcmp(optarg, "json") == 0;
			break;
		case OPT_IGNORED:
			break;
		case ':':
			return ch_cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		default:
			return ch_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && !o->file)
		o->file = argv[optind++];
	if (optind < argc)
		return ch_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!!o->file + !!o->builtin + o->list + !!o->glibc != 1)
		return ch_cli_usage_error(cmd, "give exactly one of FILE (--dump FILE), --builtin X.Y.Z, --list or --glibc FILE");
	if (o->glibc)
		return 0; /* --version is glibc's, recorded as given */
	struct ch_py_version v = {0};
	if (o->version && !ch_py_version_parse(o->version, &v))
		return ch_cli_usage_error(cmd, "--version takes a version such as 3.9.18, not '%s'", o->version);
	return 0;
}

/* Py_Version's value when FILE holds its bytes (a .debug file does not). */
static bool file_py_version(struct ch_elf_file *ef, struct ch_py_version *v)
{
	uint64_t value, addr, size;
	const uint8_t *bytes;
	struct ch_error *err = ch_elf_symbol(ef, "Py_Version", &value, NULL);
	if (!err)
		err = ch_elf_section(ef, ".rodata", &addr, &size, &bytes);
	bool ok = !err && bytes && value >= addr && size >= 4 && value - addr <= size - 4;
	ch_error_free(err);
	if (ok) {
		const uint8_t *p = bytes + (value - addr);
		ch_py_version_from_hex((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24, v);
	}
	return ok;
}

/* The version of FILE: Py_Version, else --version; both must agree, and
 * with the "python3.N" in the file name when there is one. */
static struct ch_error *file_version(struct ch_elf_file *ef, const char *given, struct ch_py_version *v)
{
	struct ch_py_version from_file = {0}, from_opt = {0};
	bool have_file = file_py_version(ef, &from_file), have_opt = given && ch_py_version_parse(given, &from_opt);
	if (have_file && have_opt && ch_py_version_hex(&from_file) != ch_py_version_hex(&from_opt))
		return ch_error_new(CH_ERR_INPUT, "%s: Py_Version says %s, --version says %s", ef->path, from_file.text,
				    from_opt.text);
	if (!have_file && !have_opt)
		return ch_error_new(CH_ERR_UNSUPPORTED,
				    "%s: the file does not hold Py_Version (3.6-3.10 and .debug files): pass --version X.Y.Z",
				    ef->path);
	*v = have_file ? from_file : from_opt;
	v->method = have_file ? "Py_Version" : "--version";
	const char *base = strrchr(ef->path, '/');
	base = base ? base + 1 : ef->path;
	const char *py = strstr(base, "python3.");
	if (py) {
		int minor = 0;
		for (const char *p = py + 8; *p >= '0' && *p <= '9' && minor < 1000; p++)
			minor = minor * 10 + (*p - '0');
		if (minor != v->minor)
			return ch_error_new(CH_ERR_INPUT, "%s: the file name says 3.%d, the version is %s", ef->path, minor,
					    v->text);
	}
	return NULL;
}

static json_t *layout_json(const struct ch_py_layout *l, const struct ch_py_layout_header *h)
{
	json_t *doc = json_object(), *fields = json_object();
	json_object_set_new(doc, "version", json_string(h->version));
	json_object_set_new(doc, "version_source", json_string(h->version_source));
	json_object_set_new(doc, "file", json_string(h->file));
	json_object_set_new(doc, "build_id", h->build_id[0] ? json_string(h->build_id) : json_null());
	for (size_t i = 0; i < CH_PY_NFIELDS; i++)
		json_object_set_new(fields, ch_py_field_name((enum ch_py_field)i),
				    l->v[i] == CH_PY_ABSENT ? json_null() : json_integer(l->v[i]));
	json_object_set_new(doc, "fields", fields);
	return doc;
}

static struct ch_error *dump(const struct layout_opts *o, FILE *out)
{
	struct ch_elf_file *ef = NULL;
	struct ch_dwarf *dw = NULL;
	struct ch_py_layout layout;
	struct ch_py_version v = {0};
	struct ch_error *err = ch_elf_open(o->file, &ef);
	if (!err) {
		err = ch_dwarf_open(o->file, &dw);
		if (err && err->kind == CH_ERR_NOT_FOUND) {
			ch_error_free(err);
			err = ch_error_new(CH_ERR_UNSUPPORTED,
					   "%s has no DWARF debug info (layout needs a libpython, python executable or .debug file with DWARF, not a core)",
					   o->file);
		}
	}
	if (!err)
		err = ch_py_layout_from_dwarf(&layout, dw, o->file);
	if (!err)
		err = file_version(ef, o->version, &v);
	if (!err) {
		ch_py_layout_set_rules(&layout, v.major, v.minor);
		char id[129], generator[512];
		ch_build_id_hex(ef->build_id, ef->build_id_len, id);
		const char *base = strrchr(o->file, '/');
		base = base ? base + 1 : o->file;
		snprintf(generator, sizeof(generator), "coreheap layout --dump %s%s%s", base,
			 strcmp(v.method, "--version") == 0 ? " --version " : "",
			 strcmp(v.method, "--version") == 0 ? v.text : "");
		struct ch_py_layout_header h = {v.text, v.method, base, id, generator, NULL};
		if (o->json) {
			json_t *doc = layout_json(&layout, &h);
			if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
				fputc('\n', out);
			json_decref(doc);
		} else {
			ch_py_layout_write(out, &layout, &h);
		}
	}
	ch_dwarf_close(dw);
	ch_elf_close(ef);
	return err;
}

static int run_layout(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct layout_opts o;
	int r = parse(cmd, argc, argv, &o);
	if (r != 0)
		return r < 0 ? CH_EXIT_OK : r;
	struct ch_error *err = NULL;
	const struct ch_py_layout_table *t = NULL;
	if (o.builtin && !(t = ch_py_layout_table_exact(o.builtin))) {
		char list[256];
		ch_py_layout_table_list(list, sizeof(list));
		fprintf(stderr, "coreheap: error: no built-in layout table generated from %s (tables: %s)\n", o.builtin, list);
		return CH_EXIT_UNSUPPORTED;
	}
	FILE *out = stdout;
	struct ch_output_file of = {0};
	if (o.output) {
		const char *inputs[] = {o.file};
		int oc = ch_output_file_open(&of, o.output, inputs, 1);
		if (oc)
			return oc;
		out = of.f;
	}
	if (o.list) {
		for (size_t i = 0; i < ch_py_layout_ntables; i++)
			fprintf(out, "%s\n", ch_py_layout_tables[i].version);
	} else if (t) {
		fputs(t->text, out);
	} else if (o.glibc) {
		err = ch_glibc_table_dump(o.glibc, o.version, out);
	} else {
		err = dump(&o, out);
	}
	int code = CH_EXIT_OK;
	if (fflush(out) != 0 || ferror(out))
		code = CH_EXIT_INTERNAL;
	if (err) {
		fprintf(stderr, "coreheap: error: %s\n", err->message);
		code = ch_exit_code_for(err);
		ch_error_free(err);
	}
	/* No half-written table: the file -o names changes only on success. */
	if (o.output && !ch_output_file_close(&of, code == CH_EXIT_OK) && code == CH_EXIT_OK)
		code = CH_EXIT_INTERNAL;
	return code;
}

const struct ch_cli_command ch_cmd_layout = {
	.name = "layout",
	.summary = "Developer: write the CPython layout table of an interpreter build from its DWARF.\n\n"
		   "The output is the data format of the built-in tables (readers/cpython/layouts/), used when a\n"
		   "core's interpreter has no debug info; scripts/gen_layouts.sh regenerates them all. FILE is an\n"
		   "ELF file with DWARF (a libpython .so, a python executable, or a .debug file), not a core. The\n"
		   "version comes from Py_Version in FILE (3.11+); 3.6-3.10 and .debug files (which keep no .rodata)\n"
		   "need --version. --json gives the same as a JSON object; --builtin X.Y.Z prints a table compiled\n"
		   "into coreheap and --list lists them. How the tables are made, picked and checked:\n"
		   "docs/debug-info.md.\n",
	.usage = "layout [--dump] FILE [--version X.Y.Z] [--json] [-o OUT] | layout --builtin X.Y.Z | layout --list |\n"
		 "       layout --glibc FILE [--version V]",
	.extras = 0,
	.run = run_layout,
};
