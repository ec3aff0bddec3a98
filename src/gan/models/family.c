#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "family.h"

#include "alloc.h"
#include "gan_check.h"
#include "tensor.h"

extern const gan_family gan_family_dcgan, gan_family_stylegan2;

static const gan_family *const families[] = {&gan_family_dcgan, &gan_family_stylegan2};

const gan_family *gan_family_find(const char *type) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i]->type, type)) return families[i];
    return NULL;
}

bool gan_state_find_nonfinite(const gan_state_part *parts, int n, char *what, size_t size) {
    for (int i = 0; i < n; i++) {
        int64_t elem;
        float value;
        int bad = ag_params_first_nonfinite(parts[i].ps, parts[i].block, &elem, &value);
        if (bad < 0) continue;
        snprintf(what, size, "%s %s element %lld = %g", parts[i].group, parts[i].ps->items[bad].name,
                 (long long)elem, (double)value);
        return true;
    }
    return false;
}

void gan_draw_classes(int32_t *out, float *u, int64_t n, int K, ag_rng *rng) {
    ag_philox_fill_uniform(u, n, rng->seed, ag_rng_reserve(rng, n), 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) {
        int32_t k = (int32_t)(u[i] * (float)K);
        out[i] = k < K ? k : K - 1;  // u * K rounds up to K for u just below 1
    }
}

void gan_shard_rows(void *dst, const void *src, size_t elem, int64_t row, int batches, int batch, int groups,
                    int rank, int size) {
    GAN_CHECK(groups >= 1 && size >= 1 && rank >= 0 && rank < size && batch % (groups * size) == 0,
              "gan_shard_rows: batch %d in %d groups over %d processes (rank %d)", batch, groups, size, rank);
    const int64_t chunk = batch / (groups * size), per_group = batch / groups, bytes = chunk * row * (int64_t)elem;
    char *out = dst;
    const char *in = src;
    for (int b = 0; b < batches; b++)
        for (int g = 0; g < groups; g++) {
            const int64_t first = (int64_t)b * batch + g * per_group + rank * chunk;
            memcpy(out, in + first * row * (int64_t)elem, (size_t)bytes);
            out += bytes;
        }
}

ag_tensor *gan_shard_tensor(ag_ctx *c, ag_tensor *t, int groups, int rank, int size) {
    const int batch = (int)t->shape.d[0];
    const int64_t row = t->numel / batch;
    ag_shape s = t->shape;
    s.d[0] = batch / size;
    float *all = gan_xmalloc((size_t)t->numel * sizeof *all, "a batch to shard");
    float *mine = gan_xmalloc((size_t)(row * s.d[0]) * sizeof *mine, "a process's share of a batch");
    ag_tensor_to_host(t, all);
    gan_shard_rows(mine, all, sizeof *all, row, 1, batch, groups, rank, size);
    ag_tensor *out = ag_new(c, s);
    ag_tensor_from_host(out, mine);
    free(all), free(mine);
    return out;
}

double gan_sum_over_processes(ag_ctx *c, double x) {
    float v = (float)x;
    ag_ctx_allreduce_host(c, &v, 1);
    return v;
}

int gan_two_optimizers(ag_adam **out, int max, ag_adam *g, ag_adam *d) {
    ag_adam *all[2] = {g, d};
    const int n = max < 2 ? max : 2;
    for (int i = 0; i < n; i++) out[i] = all[i];
    return n;
}
