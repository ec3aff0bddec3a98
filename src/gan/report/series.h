// One metric against the training step, ready to draw: ordered by step, and cut down to a
// bounded number of points so that a run of 10^5 log lines still opens fast.
#pragma once
#include <stdint.h>

#include "metrics_table.h"

typedef struct gan_series {
    int64_t n;  // points kept
    int64_t total;  // finite values in the log, before downsampling
    double *x;  // (n): steps
    double *y;  // (n): values
} gan_series;

// The finite values of column `name` against the column "step", ordered by step; where a step
// was logged more than once (a run resumed after a kill logs again from its checkpoint) the
// last line wins. More than max_points (>= 2) are cut down by min/max buckets
// (gan_series_minmax). A missing column gives an empty series.
void gan_series_extract(const gan_metrics_table *t, const char *name, int64_t max_points, gan_series *s);
// In place: splits the n points into max_points/2 buckets of consecutive points and keeps the
// lowest and the highest of each, in step order, so spikes (a loss blowing up) survive, unlike
// with a stride or a mean. Keeps everything when n <= max_points.
void gan_series_minmax(gan_series *s, int64_t max_points);
void gan_series_free(gan_series *s);
