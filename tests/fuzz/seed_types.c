/* Seed for the DWARF fuzz target (tests/fuzz/make_seeds.py compiles it into
 * a small shared object at test time): declarations shaped like the
 * CPython structs coreheap asks DWARF about, so the seeds reach every kind
 * of lookup: typedef'd and tagged structs, a struct declared here and
 * defined later, nested members and arrays of structs, anonymous unions,
 * bitfields, flexible arrays and enumerators. Never run. */
#include <stdint.h>

typedef intptr_t Py_ssize_t;
typedef struct _is PyInterpreterState;
struct _typeobject;

typedef struct _object {
	union {
		Py_ssize_t ob_refcnt;
		uint32_t ob_refcnt_split[2];
	};
	struct _typeobject *ob_type;
} PyObject;

typedef struct {
	PyObject ob_base;
	Py_ssize_t ob_size;
} PyVarObject;

typedef struct _typeobject {
	PyVarObject ob_base;
	const char *tp_name;
	Py_ssize_t tp_basicsize, tp_itemsize;
	unsigned long tp_flags;
	int (*tp_traverse)(PyObject *, void *, void *);
	struct _typeobject *tp_base;
	PyObject *tp_dict;
	PyObject *tp_mro;
} PyTypeObject;

typedef struct {
	PyObject ob_base;
	Py_ssize_t length;
	Py_ssize_t hash;
	struct {
		unsigned int interned : 2;
		unsigned int kind : 3;
		unsigned int compact : 1;
		unsigned int ascii : 1;
		unsigned int statically_allocated : 1;
		unsigned int : 24;
	} state;
} PyASCIIObject;

typedef struct {
	PyVarObject ob_base;
	PyObject *ob_item[1];
} PyTupleObject;

typedef struct {
	PyVarObject ob_base;
	PyObject **ob_item;
	Py_ssize_t allocated;
} PyListObject;

typedef struct {
	PyVarObject ob_base;
	uint32_t ob_digit[];
} PyLongObject;

struct gc_generation {
	uintptr_t head[2];
	int threshold;
	int count;
};

struct _gc_runtime_state {
	void *trash_delete_later;
	int enabled;
	int debug;
	struct gc_generation generations[3];
	struct gc_generation *generation0;
	struct gc_generation permanent_generation;
	PyObject *garbage;
};

enum _frameowner {
	FRAME_OWNED_BY_THREAD = 0,
	FRAME_OWNED_BY_GENERATOR = 1,
	FRAME_OWNED_BY_FRAME_OBJECT = 2,
	FRAME_OWNED_BY_CSTACK = 3,
};

typedef struct _PyInterpreterFrame {
	PyObject *f_executable;
	struct _PyInterpreterFrame *previous;
	PyObject *f_locals;
	uint16_t *instr_ptr;
	int stacktop;
	char owner;
	PyObject *localsplus[1];
} _PyInterpreterFrame;

typedef struct _ts {
	struct _ts *prev, *next;
	PyInterpreterState *interp;
	_PyInterpreterFrame *current_frame;
	unsigned long thread_id, native_thread_id;
} PyThreadState;

struct _is {
	struct _is *next;
	int64_t id;
	struct {
		PyThreadState *head;
	} threads;
	struct _gc_runtime_state gc;
	PyObject *modules, *sysdict, *builtins;
};

typedef struct pyruntimestate {
	int initialized;
	struct {
		PyInterpreterState *head;
		PyInterpreterState *main;
		int64_t next_id;
	} interpreters;
	char _Py_DebugOffsets_cookie[8];
} _PyRuntimeState;

_PyRuntimeState _PyRuntime;
PyTypeObject PyType_Type;
PyASCIIObject seed_str;
PyTupleObject seed_tuple;
PyListObject seed_list;
PyLongObject seed_long;
_PyInterpreterFrame seed_frame;
enum _frameowner seed_owner;
