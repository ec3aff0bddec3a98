#include "shape.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

ag_shape ag_shape_make(int ndim, const int *dims) {
    AG_CHECK(ndim >= 1 && ndim <= AG_MAX_DIMS, "shape: %d dims, expected 1..%d", ndim, AG_MAX_DIMS);
    ag_shape s = {.ndim = ndim};
    for (int i = 0; i < ndim; i++) {
        AG_CHECK(dims[i] >= 0, "shape: negative dimension %d at axis %d", dims[i], i);
        s.d[i] = dims[i];
    }
    return s;
}

int64_t ag_shape_numel(ag_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.ndim; i++) n *= s.d[i];
    return n;
}

bool ag_shape_equal(ag_shape a, ag_shape b) {
    if (a.ndim != b.ndim) return false;
    for (int i = 0; i < a.ndim; i++)
        if (a.d[i] != b.d[i]) return false;
    return true;
}

char *ag_shape_str(ag_shape s, char *buf, int size) {
    int n = snprintf(buf, (size_t)size, "(");
    for (int i = 0; i < s.ndim && n < size; i++)
        n += snprintf(buf + n, (size_t)(size - n), i ? ", %d" : "%d", s.d[i]);
    if (n < size) snprintf(buf + n, (size_t)(size - n), ")");
    return buf;
}

bool ag_shape_broadcast(ag_shape a, ag_shape b, ag_shape *out) {
    int nd = a.ndim > b.ndim ? a.ndim : b.ndim;
    ag_shape r = {.ndim = nd};
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a.ndim), ib = i - (nd - b.ndim);
        int da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
        if (da != db && da != 1 && db != 1) return false;
        r.d[i] = da == 1 ? db : da;
    }
    *out = r;
    return true;
}

bool ag_shape_broadcastable_to(ag_shape from, ag_shape to) {
    if (from.ndim > to.ndim) return false;
    for (int i = 0; i < from.ndim; i++) {
        int df = from.d[from.ndim - 1 - i], dt = to.d[to.ndim - 1 - i];
        if (df != dt && df != 1) return false;
    }
    return true;
}

void ag_shape_strides(ag_shape s, int64_t *strides) {
    int64_t st = 1;
    for (int i = s.ndim - 1; i >= 0; i--) {
        strides[i] = st;
        st *= s.d[i];
    }
}

int ag_shape_axis(ag_shape s, int axis, const char *op) {
    int a = axis < 0 ? axis + s.ndim : axis;
    AG_CHECK(a >= 0 && a < s.ndim, "%s: axis %d out of range for shape %s", op, axis,
             AG_SHAPE_STR(s));
    return a;
}
