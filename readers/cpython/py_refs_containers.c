/* References of containers: tuple, list, dict (and its subclasses'
 * dict part), set/frozenset, collections.deque. What each tp_traverse
 * visits (Objects/ sources, 3.8-3.13):
 *   tupletraverse: every non-NULL item;  list_traverse: items [0, ob_size);
 *   dict_traverse: general tables (3.8-3.10: dk_lookup == lookdict; 3.11+:
 *     dk_kind == DICT_KEYS_GENERAL) visit key and value of each entry with a
 *     value; unicode-keyed and split tables visit the values only, and in
 *     3.13 not even those when the values are embedded in an instance;
 *   set_traverse: every key that is neither NULL nor the dummy;
 *   deque_traverse: the items of the block chain from leftindex of the left
 *     block to rightindex of the right block. */
#include <string.h>

#include "readers/base/chain.h"
#include "readers/cpython/py_refs_internal.h"
#include "readers/cpython/py_str.h"

#define CH_SEQ_MAX (1ULL << 32)

struct ch_error *ch_refs_tuple(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	int64_t n;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (err)
		return err;
	if (n < 0 || (uint64_t)n > CH_SEQ_MAX || !ch_py_has(&py->layout, CH_PY_TUPLE_ITEMS))
		return ch_error_new(CH_ERR_INPUT, "tuple at 0x%llx has a corrupt size", (unsigned long long)obj);
	uint64_t items = obj + (uint64_t)ch_py_off(py, CH_PY_TUPLE_ITEMS);
	for (int64_t i = 0; i < n && !c->stopped; i++) {
		uint64_t v;
		if ((err = ch_as_read_u64(&py->proc->as, items + 8 * (uint64_t)i, &v)))
			return err;
		ch_refs_emit(c, v, CH_REF_INDEX, true, (uint64_t)i, 0, NULL);
	}
	return NULL;
}

struct ch_error *ch_refs_list(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	int64_t n;
	uint64_t items;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_LIST_ITEMS, &items);
	if (err)
		return err;
	if (n < 0 || (uint64_t)n > CH_SEQ_MAX)
		return ch_error_new(CH_ERR_INPUT, "list at 0x%llx has a corrupt size", (unsigned long long)obj);
	for (int64_t i = 0; i < n && !c->stopped; i++) {
		uint64_t v;
		if ((err = ch_as_read_u64(&py->proc->as, items + 8 * (uint64_t)i, &v)))
			return err;
		ch_refs_emit(c, v, CH_REF_INDEX, true, (uint64_t)i, 0, NULL);
	}
	return NULL;
}

/* <=3.10: whether dict_traverse takes the general branch. Without the
 * lookdict symbol, a table whose keys are all exact str is taken for a
 * unicode one (it is, unless a non-str key was once inserted and removed). */
static struct ch_error *general_legacy(struct ch_refs_ctx *c, const struct ch_py_dict_view *v, bool *general)
{
	struct ch_python *py = c->py;
	struct ch_py_refs_cache *cache = py->refs;
	*general = false;
	if (v->values)
		return NULL; /* split tables use lookdict_split */
	if (cache->lookdict && ch_py_has(&py->layout, CH_PY_DK_LOOKUP)) {
		uint64_t lk;
		struct ch_error *err = ch_py_read_u64(py, v->keys, CH_PY_DK_LOOKUP, &lk);
		if (err)
			return err;
		*general = lk == cache->lookdict;
		return NULL;
	}
	for (uint64_t i = 0; i < v->nentries; i++) {
		uint64_t key, t;
		struct ch_error *err = ch_as_read_u64(&py->proc->as, v->entries + i * v->entry_size + (uint64_t)v->key_off, &key);
		if (!err && key)
			err = ch_py_read_u64(py, key, CH_PY_OB_TYPE, &t);
		if (err)
			return err;
		if (key && t != cache->unicode_type) {
			*general = true;
			return NULL;
		}
	}
	return NULL;
}

/* The entries of a dict: dict_traverse visits keys only in a general
 * (not all-str) table, values unless embedded (3.13). */
static struct ch_error *dict_part(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	struct ch_py_dict_view v;
	struct ch_error *err = ch_py_dict_view(py, obj, &v);
	if (err)
		return err;
	bool general = v.general;
	if (!ch_py_has(&py->layout, CH_PY_DK_LOG2_SIZE) && (err = general_legacy(c, &v, &general)))
		return err;
	/* 3.13: values embedded in an instance (its inline values) are visited
	 * by the instance's traverse, not by the dict's (until 3.13.13), and
	 * counted by the instance (dict_dealloc releases values only when
	 * values->embedded is 0): reported here as shared, not counted twice.
	 * From 3.13.13 the instance reports the dict instead of its values,
	 * so the dict's visit is their one counted reference. */
	bool values_traversed = true;
	if (!ch_refs_materialized_dict_traversed(py)) {
		bool embedded;
		if ((err = ch_py_dict_values_embedded(py, &v, &embedded)))
			return err;
		values_traversed = !embedded;
	}
	for (uint64_t i = 0; i < v.nentries && !c->stopped; i++) {
		uint64_t key, value;
		if ((err = ch_py_dict_entry(py, &v, i, &key, &value)))
			return err;
		if (!value)
			continue;
		struct ch_ref kr = {key, CH_REF_DICT_KEY, general, i, 0, NULL, v.values != 0};
		ch_refs_emit_ref(c, &kr);
		struct ch_ref vr = {value, CH_REF_DICT_VALUE, values_traversed, i, key, NULL, !values_traversed};
		ch_refs_emit_ref(c, &vr);
	}
	return NULL;
}

struct ch_error *ch_refs_dict(struct ch_refs_ctx *c, uint64_t obj)
{
	return dict_part(c, obj);
}

/* odict_traverse visits od_inst_dict, then the key of every node of the
 * order list (each node owns a reference to its key), then the dict part
 * (found by --verify-traverse). struct
 * _odictobject (3.8-3.15): od_dict, od_first, od_last, od_fast_nodes,
 * od_fast_nodes_size, ..., od_inst_dict; struct _odictnode: key, hash,
 * next, prev. So a key is visited twice in a general table, once in an
 * all-str one. The walk is checked against a slow pointer: a loop is an
 * error, not a hang. */
#define CH_ODICT_NODE_NEXT 16
static struct ch_error *odict_nodes(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	int64_t first_off = ch_py_has(l, CH_PY_ODICT_FAST_NODES_SIZE) ? l->v[CH_PY_ODICT_FAST_NODES_SIZE] - 24
			    : ch_py_has(l, CH_PY_ODICT_INST_DICT)     ? l->v[CH_PY_ODICT_INST_DICT] - 48
								      : -1;
	if (first_off <= 0)
		return ch_error_new(CH_ERR_UNSUPPORTED, "no OrderedDict layout");
	struct ch_address_space *as = &py->proc->as;
	uint64_t node, slow, key;
	struct ch_error *err = ch_as_read_u64(as, obj + (uint64_t)first_off, &node);
	slow = node;
	for (uint64_t n = 0; !err && node && !c->stopped; n++) {
		if (!(err = ch_as_read_u64(as, node, &key)))
			err = ch_as_read_u64(as, node + CH_ODICT_NODE_NEXT, &node);
		if (!err)
			ch_refs_emit(c, key, CH_REF_DICT_KEY, true, n, 0, NULL);
		/* the slow pointer moves every other step: meeting it means a loop */
		if (!err && (n & 1) && (err = ch_as_read_u64(as, slow + CH_ODICT_NODE_NEXT, &slow)))
			break;
		if (!err && node && node == slow)
			return ch_error_new(CH_ERR_INPUT, "OrderedDict at 0x%llx: its node list loops",
					    (unsigned long long)obj);
	}
	return err;
}

struct ch_error *ch_refs_odict(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_error *err = ch_refs_field(c, obj, CH_PY_ODICT_INST_DICT, "od_inst_dict", true);
	if (!err)
		err = odict_nodes(c, obj);
	return err ? err : dict_part(c, obj);
}

struct ch_error *ch_refs_set(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_SET_TABLE) || !ch_py_has(l, CH_PY_SIZEOF_SETENTRY))
		return ch_error_new(CH_ERR_UNSUPPORTED, "no set layout");
	uint64_t table, mask;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_SET_TABLE, &table);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_SET_MASK, &mask);
	if (err)
		return err;
	if (mask >= CH_SEQ_MAX || ((mask + 1) & mask))
		return ch_error_new(CH_ERR_INPUT, "set at 0x%llx has a corrupt mask", (unsigned long long)obj);
	uint64_t esz = (uint64_t)l->v[CH_PY_SIZEOF_SETENTRY], dummy = py->refs->set_dummy;
	for (uint64_t i = 0; i <= mask && !c->stopped; i++) {
		uint64_t key;
		if ((err = ch_as_read_u64(&py->proc->as, table + i * esz + (uint64_t)l->v[CH_PY_SETENTRY_KEY], &key)))
			return err;
		if (key && key != dummy)
			ch_refs_emit(c, key, CH_REF_SET_ITEM, true, i, 0, NULL);
	}
	return NULL;
}

struct ch_error *ch_refs_deque(struct ch_refs_ctx *c, uint64_t obj)
{
	struct ch_python *py = c->py;
	const struct ch_py_layout *l = &py->layout;
	if (!ch_py_has(l, CH_PY_DEQUE_LEFTBLOCK) || !ch_py_has(l, CH_PY_DEQUE_BLOCKLEN))
		return ch_error_new(CH_ERR_UNSUPPORTED, "no deque layout");
	uint64_t left, right, blocklen = (uint64_t)l->v[CH_PY_DEQUE_BLOCKLEN];
	int64_t li, ri, n;
	struct ch_error *err = ch_py_read_u64(py, obj, CH_PY_DEQUE_LEFTBLOCK, &left);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_DEQUE_RIGHTBLOCK, &right);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_DEQUE_LEFTINDEX, (uint64_t *)&li);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_DEQUE_RIGHTINDEX, (uint64_t *)&ri);
	if (!err)
		err = ch_py_read_u64(py, obj, CH_PY_VAR_SIZE, (uint64_t *)&n);
	if (err)
		return err;
	if (n < 0 || li < 0 || (uint64_t)li >= blocklen || ri < -1 || ri >= (int64_t)blocklen)
		return ch_error_new(CH_ERR_INPUT, "deque at 0x%llx is corrupt", (unsigned long long)obj);
	/* The chain must reach `right` within the blocks ob_size items need. */
	struct ch_chain chain;
	ch_chain_init(&chain, (size_t)((uint64_t)n / blocklen + 2));
	uint64_t b = left, idx = 0;
	int64_t lo = li;
	for (;;) {
		if (ch_chain_step(&chain, b) != CH_CHAIN_OK)
			return ch_error_new(CH_ERR_INPUT, "deque at 0x%llx: block chain loops or runs on",
					    (unsigned long long)obj);
		int64_t hi = b == right ? ri : (int64_t)blocklen - 1;
		for (int64_t i = lo; i <= hi && !c->stopped; i++) {
			uint64_t v;
			if ((err = ch_as_read_u64(&py->proc->as, b + (uint64_t)l->v[CH_PY_DEQUE_BLOCK_DATA] + 8 * (uint64_t)i, &v)))
				return err;
			ch_refs_emit(c, v, CH_REF_INDEX, true, idx++, 0, NULL);
		}
		if (b == right || c->stopped)
			return NULL;
		if ((err = ch_as_read_u64(&py->proc->as, b + (uint64_t)l->v[CH_PY_DEQUE_BLOCK_RIGHTLINK], &b)))
			return err;
		lo = 0;
	}
}
