/* Edit distance of two short names, for "did you mean" (an unknown
 * command, a misspelt type name). */
#ifndef CH_EDIT_DISTANCE_H
#define CH_EDIT_DISTANCE_H

#include <stddef.h>

/* Levenshtein distance of a and b, or cap when it is at least cap or a
 * name is longer than CH_EDIT_DISTANCE_MAX (no allocation: one row on the
 * stack). */
#define CH_EDIT_DISTANCE_MAX 128
size_t ch_edit_distance(const char *a, const char *b, size_t cap);

#endif
