// Series from a metrics table (series.h).
#include "series.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

typedef struct point {
    double x, y;
    int64_t row;  // the line's position in the log: later lines win ties
} point;

static int by_step_then_row(const void *a, const void *b) {
    const point *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->row > q->row) - (p->row < q->row);
}

void gan_series_extract(const gan_metrics_table *t, const char *name, int64_t max_points, gan_series *s) {
    memset(s, 0, sizeof *s);
    const gan_metrics_col *xc = gan_metrics_find(t, "step"), *yc = gan_metrics_find(t, name);
    if (!xc || !yc || t->rows == 0) return;
    point *p = gan_xmalloc((size_t)t->rows * sizeof *p, "a metrics series");
    int64_t n = 0;
    bool sorted = true;
    for (int64_t r = 0; r < t->rows; r++) {
        if (!isfinite(xc->v[r]) || !isfinite(yc->v[r])) continue;
        if (n && xc->v[r] <= p[n - 1].x) sorted = false;
        p[n++] = (point){xc->v[r], yc->v[r], r};
    }
    if (!sorted) {  // only after a resume: the usual log is already in step order
        qsort(p, (size_t)n, sizeof *p, by_step_then_row);
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            if (k && p[k - 1].x == p[i].x) k--;  // the later line of the same step replaces it
            p[k++] = p[i];
        }
        n = k;
    }
    s->n = s->total = n;
    s->x = gan_xmalloc((size_t)(n ? n : 1) * sizeof *s->x, "a metrics series");
    s->y = gan_xmalloc((size_t)(n ? n : 1) * sizeof *s->y, "a metrics series");
    for (int64_t i = 0; i < n; i++) s->x[i] = p[i].x, s->y[i] = p[i].y;
    free(p);
    gan_series_minmax(s, max_points);
}

void gan_series_minmax(gan_series *s, int64_t max_points) {
    if (max_points < 2) max_points = 2;
    if (s->n <= max_points) return;
    const int64_t buckets = max_points / 2, n = s->n;
    int64_t k = 0;
    for (int64_t b = 0; b < buckets; b++) {
        int64_t lo = b * n / buckets, hi = (b + 1) * n / buckets, imin = lo, imax = lo;
        for (int64_t i = lo + 1; i < hi; i++) {
            if (s->y[i] < s->y[imin]) imin = i;
            if (s->y[i] > s->y[imax]) imax = i;
        }
        int64_t first = imin < imax ? imin : imax, second = imin < imax ? imax : imin;
        // k never passes lo: each bucket holds at least two points (n > max_points)
        s->x[k] = s->x[first], s->y[k++] = s->y[first];
        if (second != first) s->x[k] = s->x[second], s->y[k++] = s->y[second];
    }
    s->n = k;
}

void gan_series_free(gan_series *s) {
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}
