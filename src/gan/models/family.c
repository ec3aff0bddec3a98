#include <stdio.h>
#include <string.h>

#include "family.h"

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
