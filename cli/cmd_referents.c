/* `coreheap referents CORE ADDR`: a developer command that shows what
 * ch_py_refs_visit and ch_py_object_full_size make of one object, so the
 * tests can compare them with gc.get_referents / sys.getsizeof. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "exit_codes.h"
#include "readers/cpython/py_refs.h"
#include "readers/cpython/py_str.h"
#include "readers/cpython/py_types.h"
#include "readers/cpython/py_value.h"
#include "reports/report.h"
#include "reports/report_table.h"
#include "session.h"

static const char *const kind_names[] = {
	[CH_REF_FIELD] = "field",         [CH_REF_INDEX] = "index",       [CH_REF_DICT_KEY] = "dict_key",
	[CH_REF_DICT_VALUE] = "dict_value", [CH_REF_ATTR] = "attr",       [CH_REF_SET_ITEM] = "set_item",
	[CH_REF_CONSERVATIVE] = "conservative", [CH_REF_WEAK] = "weak",
};

struct collect {
	struct ch_python *py;
	json_t *list;
	FILE *text;            /* NULL for JSON */
	uint64_t source;       /* the object whose references these are */
	struct ch_table table; /* the text rows */
	size_t limit, n;       /* --limit (0: all); referents seen */
};

static json_t *hexj(uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return ch_json_text(buf);
}

/* 'name' of an attribute-name key object, or its address when it is not a
 * readable str (an identifier: never redacted). */
static void key_text(struct ch_python *py, uint64_t key, char *buf, size_t max)
{
	char s[64];
	bool trunc = false;
	struct ch_error *err = ch_py_str_read(py, key, s, sizeof(s), &trunc);
	if (err) {
		ch_error_free(err);
		snprintf(buf, max, "key 0x%" PRIx64, key);
	} else {
		snprintf(buf, max, "'%s%s'", s, trunc ? "..." : "");
	}
}

static void label(struct ch_python *py, uint64_t source, const struct ch_ref *r, char *buf, size_t max)
{
	char key[CH_PY_VALUE_MAX];
	switch (r->kind) {
	case CH_REF_INDEX:
		if (r->name == CH_REF_ARRAY_ELEMENT)
			ch_py_ndarray_index_text(py, source, r->index, buf, max);
		else
			snprintf(buf, max, "[%" PRIu64 "]", r->index);
		break;
	case CH_REF_CONSERVATIVE:
		snprintf(buf, max, "+%" PRIu64, r->index);
		break;
	case CH_REF_DICT_VALUE: {
		const struct ch_py_builtins *b = ch_py_builtins_get(py);
		if (b)
			ch_py_key_render(py, b, r->key, key, sizeof(key));
		else
			snprintf(key, sizeof(key), "key 0x%" PRIx64, r->key);
		snprintf(buf, max, "[%s]", key);
		break;
	}
	case CH_REF_ATTR:
		if (r->name == CH_REF_LOCAL_NAME && r->key) {
			key_text(py, r->key, key, sizeof(key));
			snprintf(buf, max, ".f_locals[%s]", key);
		} else if (r->name)
			snprintf(buf, max, "%s+%" PRIu64, r->name, r->index);
		else {
			key_text(py, r->key, key, sizeof(key));
			snprintf(buf, max, ".%s", key);
		}
		break;
	default:
		snprintf(buf, max, "%s", r->name ? r->name : "");
	}
}

static int collect_ref(void *arg, const struct ch_ref *r)
{
	struct collect *c = arg;
	if (c->limit && ++c->n > c->limit)
		return 0; /* counted, not listed */
	if (!c->limit)
		c->n++;
	char lab[CH_PY_VALUE_MAX + 16];
	label(c->py, c->source, r, lab, sizeof(lab));
	const char *kind = (unsigned)r->kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[r->kind] : "?";
	if (c->text) {
		ch_table_cell(&c->table, "0x%" PRIx64, r->target);
		ch_table_cell(&c->table, "%s", kind);
		ch_table_cell(&c->table, "%s", r->traversed ? "traversed" : "-");
		ch_table_cell(&c->table, "%s", lab);
		return 0;
	}
	json_t *o = json_object();
	json_object_set_new(o, "address", hexj(r->target));
	json_object_set_new(o, "kind", ch_json_text(kind));
	json_object_set_new(o, "label", ch_json_text(lab));
	json_object_set_new(o, "traversed", json_boolean(r->traversed));
	json_array_append_new(c->list, o);
	return 0;
}

/* One object: {"object": {...}, "referents": [...]} into *doc (JSON) or
 * its lines on s->out. An address that is not an object is an error. */
static struct ch_error *referents_one(struct ch_session *s, uint64_t addr, json_t **doc)
{
	uint64_t type_addr;
	uint32_t type;
	if (!ch_py_object_plausible(s->py, addr, &type_addr))
		return ch_error_new(CH_ERR_INPUT, "0x%" PRIx64 " is not the address of a Python object", addr);
	struct ch_error *err = ch_py_type_intern(s->py, type_addr, &type);
	if (err)
		return err;
	uint64_t size = ch_py_object_full_size(s->py, addr, type);
	struct collect c = {s->py, json_array(), s->opts.json ? NULL : s->out, addr, {0}, s->opts.limit, 0};
	static const char *const head[] = {"TO", "KIND", "TRAVERSED", "REFERENCE"};
	if (c.text) {
		char hb[32];
		ch_report_human_bytes(size, hb, sizeof(hb));
		fprintf(s->out, "object 0x%" PRIx64 " type %s size %s\n", addr, ch_py_type_name(&s->py->types, type), hb);
		ch_table_init(&c.table, 4, head, "llll", CH_FLEX(3), "  ");
	}
	struct ch_refs_outcome outcome;
	err = ch_py_refs_visit_ex(s->py, addr, type, collect_ref, &c, &outcome);
	if (c.text) {
		if (c.n)
			ch_table_print(s->out, &c.table);
		else
			ch_table_deinit(&c.table);
		if (c.limit && c.n > c.limit)
			fprintf(s->out, "  ... %zu more (--limit 0 shows all)\n", c.n - c.limit);
	}
	if (c.text && !outcome.exact)
		fprintf(s->out, "  NOT EXACT: references read conservatively: %s\n", outcome.reason);
	if (err) {
		ch_diag_partial(&s->py->diag, "references of 0x%" PRIx64 " are incomplete: %s", addr, err->message);
		ch_error_free(err);
	}
	if (!s->opts.json) {
		json_decref(c.list);
		return NULL;
	}
	*doc = json_object();
	json_t *o = json_object();
	json_object_set_new(o, "address", hexj(addr));
	json_object_set_new(o, "type", ch_json_text(ch_py_type_name(&s->py->types, type)));
	json_object_set_new(o, "size", json_integer((json_int_t)size));
	json_object_set_new(o, "exact", json_boolean(outcome.exact));
	if (!outcome.exact)
		json_object_set_new(o, "conservative_reason", json_string(outcome.reason));
	json_object_set_new(*doc, "object", o);
	json_object_set_new(*doc, "referents", c.list);
	return NULL;
}

static int run_referents(const struct ch_cli_command *cmd, int argc, char **argv)
{
	struct ch_session s;
	bool done;
	int code = ch_session_begin(&s, cmd, argc, argv, &done);
	if (done)
		return code;
	json_t *list = s.opts.json && s.opts.naddrs > 1 ? json_array() : NULL;
	json_t *doc = NULL;
	bool failed = false;
	for (size_t i = 0; i < s.opts.naddrs; i++) {
		json_t *one = NULL;
		struct ch_error *err = referents_one(&s, s.opts.addrs[i], &one);
		if (err && (s.opts.naddrs == 1 || err->kind == CH_ERR_NOMEM)) {
			json_decref(list);
			code = ch_session_fail(&s, err);
			ch_session_end(&s);
			return code;
		}
		if (err) {
			/* Several addresses: the bad one is an entry (or a line on
			 * stderr) and the exit code 3; the others are still read. */
			failed = true;
			if (list) {
				char hexaddr[24];
				snprintf(hexaddr, sizeof(hexaddr), "0x%" PRIx64, s.opts.addrs[i]);
				one = json_pack("{s:{s:s}, s:s}", "object", "address", hexaddr, "error", err->message);
			} else {
				fprintf(stderr, "coreheap: error: %s\n", err->message);
			}
			ch_error_free(err);
		}
		if (list && one)
			json_array_append_new(list, one);
		else if (one)
			doc = one;
	}
	if (s.opts.json) {
		if (list) {
			doc = json_object();
			json_object_set_new(doc, "objects", list);
		}
		/* "runtime" first, as in every document. */
		json_t *full = json_object();
		json_object_set_new(full, "runtime", ch_report_runtime_json(s.py));
		json_object_update(full, doc);
		json_decref(doc);
		doc = full;
	}
	code = ch_session_finish(&s, doc);
	if (failed && code == CH_EXIT_OK)
		code = CH_EXIT_INPUT;
	ch_session_end(&s);
	return code;
}

const struct ch_cli_command ch_cmd_referents = {
	.name = "referents",
	.summary = "Developer command: the references one object holds and its full size.\n\n"
		   "One line per reference, with its label (.attr, ['key'], [3], {item}, +0x18 (conservative)), its\n"
		   "kind and whether the type's tp_traverse visits it (what gc.get_referents returns, and what the\n"
		   "cycle replay of `cycles` uses). Kinds: field, index, dict_key, dict_value, attr, set_item,\n"
		   "conservative, weak (a weakref's referent: it owns no reference). A GC type coreheap does\n"
		   "not model has its references from its own tp_traverse, run in an emulator; when that fails\n"
		   "they are read conservatively (every aligned word that points into writable memory, never as\n"
		   "traversed) and the object says \"exact\": false with the reason.\n\n"
		   "--verify-traverse: also run the tp_traverse of objects of modelled types in the emulator and\n"
		   "report each target counted differently (text lines; JSON traverse_mismatches); exit 1 when\n"
		   "there is any difference.\n\n"
		   "An address that is not an object is a one-line error (exit 3). Several ADDRs share one opening\n"
		   "of the core; with --json the document then lists each object, and an address that is not an\n"
		   "object is an entry with its \"error\" (exit 3). The JSON shape: docs/json.md.\n\n"
		   "Options:\n"
		   "  --limit N            list the first N references of each object (default all)\n\n"
		   "Examples:\n"
		   "  coreheap referents core.1234 0x7f0123456780\n"
		   "  coreheap referents core.1234 0x7f0123456780 --json\n",
	.usage = "referents [options] CORE ADDR [ADDR...]",
	.extras = CH_OPT_ADDR | CH_OPT_ADDRS | CH_OPT_VERIFY | CH_OPT_LIMIT | CH_OPT_LIMIT_ALL,
	.run = run_referents,
};
