// Tensor shapes: up to AG_MAX_DIMS dimensions, row-major, always contiguous.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define AG_MAX_DIMS 6

typedef struct ag_shape {
    int ndim;
    int d[AG_MAX_DIMS];
} ag_shape;

// AG_SHAPE(2, 3, 4) -> a shape of 3 dims. AG_SHAPE() is not allowed; a scalar is AG_SHAPE(1).
#define AG_SHAPE(...)                                                                    \
    ((ag_shape){.ndim = (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), .d = {__VA_ARGS__}})

ag_shape ag_shape_make(int ndim, const int *dims);
int64_t ag_shape_numel(ag_shape s);
bool ag_shape_equal(ag_shape a, ag_shape b);
// Writes "(2, 3, 4)" into buf (size >= 64 is always enough) and returns buf.
char *ag_shape_str(ag_shape s, char *buf, int size);
// Numpy broadcasting of a and b. Returns false when they do not broadcast.
bool ag_shape_broadcast(ag_shape a, ag_shape b, ag_shape *out);
// True when `from` broadcasts to `to` (the direction expand goes and sum_to comes back).
bool ag_shape_broadcastable_to(ag_shape from, ag_shape to);
// Row-major strides in elements.
void ag_shape_strides(ag_shape s, int64_t *strides);
// Normalises a possibly negative axis; aborts naming `op` when out of range.
int ag_shape_axis(ag_shape s, int axis, const char *op);

// Formats a shape for an error message in a temporary; valid until the end of the statement.
#define AG_SHAPE_STR(s) ag_shape_str((s), (char[80]){0}, 80)
