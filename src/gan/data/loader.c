#include "loader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gan_check.h"
#include "rng.h"

// Epoch e draws from the Philox counters [e << 40, (e + 1) << 40): room for far more draws than
// a Fisher-Yates pass over 2^32 images takes, and 2^24 epochs before the ranges run out.
#define EPOCH_COUNTER_SHIFT 40
#define MAX_EPOCH (INT64_C(1) << (64 - EPOCH_COUNTER_SHIFT))

// splitmix64 finalizer: gives the data order a key of its own, unrelated to other streams the
// same seed keys (weights, noise).
static uint64_t order_key(uint64_t seed) {
    uint64_t z = seed ^ 0x64617461206f7264ull;  // "data ord"
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void make_permutation(gan_loader *l, int64_t epoch) {
    int64_t n = l->ds->n;
    ag_rng r = {.seed = order_key(l->seed), .counter = (uint64_t)epoch << EPOCH_COUNTER_SHIFT};
    for (int64_t i = 0; i < n; i++) l->perm[i] = (uint32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint32_t j = ag_rng_below(&r, (uint32_t)(i + 1));
        uint32_t t = l->perm[i];
        l->perm[i] = l->perm[j];
        l->perm[j] = t;
    }
    l->perm_epoch = epoch;
}

void gan_data_placement(int h, int w, int res, int *y0, int *x0) {
    GAN_CHECK(h <= res && w <= res, "gan_data_placement: %dx%d image in a %d square", w, h, res);
    *y0 = (res - h) / 2;
    *x0 = (res - w) / 2;
}

void gan_dataset_background(const gan_dataset *ds, uint8_t *bg) {
    int64_t m = ds->n < 1000 ? ds->n : 1000;
    int h = ds->h, w = ds->w;
    for (int k = 0; k < ds->c; k++) {
        int64_t hist[256] = {0};
        for (int64_t i = 0; i < m; i++) {
            const uint8_t *p = gan_dataset_image(ds, i) + (int64_t)k * h * w;
            for (int y = 0; y < h; y++) {
                bool edge_row = y == 0 || y == h - 1;
                // Every pixel of the first and last rows, only the two ends of the others.
                for (int x = 0; x < w; x += edge_row || x == w - 1 ? 1 : w - 1)
                    hist[p[(int64_t)y * w + x]]++;
            }
        }
        int best = 0;
        for (int v = 1; v < 256; v++)
            if (hist[v] > hist[best]) best = v;
        bg[k] = (uint8_t)best;
    }
}

int gan_loader_init(gan_loader *l, const gan_dataset *ds, int batch, int res, int channels,
                    uint64_t seed, gan_err *err) {
    memset(l, 0, sizeof *l);
    GAN_CHECK(batch >= 1 && res >= 1, "gan_loader_init: batch %d res %d", batch, res);
    GAN_CHECK(ds->n >= 1 && ds->n <= UINT32_MAX, "gan_loader_init: dataset of %lld images", (long long)ds->n);
    GAN_CHECK(channels == ds->c && ds->c <= 4,
              "gan_loader_init: model takes %d channels, dataset has %d (load it with the model's)",
              channels, ds->c);
    // A batch larger than the dataset would hold every image more than once; the epochs it spans
    // would still be permutations, but a batch of repeats is not what a batch size of that many
    // asks for, so it is refused rather than silently wrapped.
    if (batch > ds->n)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "train.batch_size %d is larger than the dataset: %s has %lld images, so every batch "
                        "would repeat images; set train.batch_size to at most %lld, or use more images (data.limit)",
                        batch, ds->path, (long long)ds->n, (long long)ds->n);
    if (ds->h > res || ds->w > res)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: images are %dx%d, larger than model.resolution %d; set model.resolution to "
                        "at least %d (only image folders are resized when loaded)",
                        ds->path, ds->w, ds->h, res, ds->h > ds->w ? ds->h : ds->w);
    l->ds = ds;
    l->batch = batch;
    l->res = res;
    l->seed = seed;
    gan_data_placement(ds->h, ds->w, res, &l->y0, &l->x0);
    gan_dataset_background(ds, l->background);
    for (int v = 0; v < 256; v++) l->lut[v] = (float)v / 127.5f - 1.0f;
    l->perm = gan_xmalloc(sizeof(uint32_t) * (size_t)ds->n, "the data order");
    l->index = gan_xmalloc(sizeof(int64_t) * (size_t)batch, "a batch's indices");
    make_permutation(l, 0);
    return 0;
}

void gan_loader_free(gan_loader *l) {
    free(l->perm);
    free(l->index);
    memset(l, 0, sizeof *l);
}

gan_loader_state gan_loader_get_state(const gan_loader *l) { return l->state; }

int gan_loader_set_state(gan_loader *l, gan_loader_state s, gan_err *err) {
    if (s.epoch < 0 || s.epoch >= MAX_EPOCH || s.position < 0 || s.position >= l->ds->n)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: saved data position (epoch %lld, image %lld) does not fit this dataset of "
                        "%lld images; was the checkpoint made with other data or data.limit?",
                        l->ds->path, (long long)s.epoch, (long long)s.position, (long long)l->ds->n);
    l->state = s;
    return 0;
}

void gan_loader_fill(const gan_loader *l, const int64_t *indices, int n, float *out) {
    const gan_dataset *ds = l->ds;
    int c = ds->c, h = ds->h, w = ds->w, res = l->res;
    int64_t plane = (int64_t)res * res;
    bool padded = h != res || w != res;
    const float *lut = l->lut;
#pragma omp parallel for schedule(static) if ((int64_t)n * c * plane >= 32768)
    for (int b = 0; b < n; b++) {
        int64_t i = indices[b];
        GAN_CHECK(i >= 0 && i < ds->n, "gan_loader_fill: index %lld of %lld images", (long long)i,
                  (long long)ds->n);
        const uint8_t *img = gan_dataset_image(ds, i);
        for (int k = 0; k < c; k++) {
            float *dst = out + ((int64_t)b * c + k) * plane;
            const uint8_t *src = img + (int64_t)k * h * w;
            if (!padded) {
                for (int64_t p = 0; p < plane; p++) dst[p] = lut[src[p]];
                continue;
            }
            float fill = lut[l->background[k]];
            for (int y = 0; y < res; y++) {
                float *row = dst + (int64_t)y * res;
                int iy = y - l->y0;
                if (iy < 0 || iy >= h) {
                    for (int x = 0; x < res; x++) row[x] = fill;
                    continue;
                }
                const uint8_t *s = src + (int64_t)iy * w;
                for (int x = 0; x < l->x0; x++) row[x] = fill;
                for (int x = 0; x < w; x++) row[l->x0 + x] = lut[s[x]];
                for (int x = l->x0 + w; x < res; x++) row[x] = fill;
            }
        }
    }
}

void gan_loader_next(gan_loader *l, float *out) {
    int64_t n = l->ds->n;
    gan_loader_state *s = &l->state;
    for (int k = 0; k < l->batch; k++) {
        if (s->position == n) {
            s->epoch++;
            s->position = 0;
        }
        if (l->perm_epoch != s->epoch) make_permutation(l, s->epoch);
        l->index[k] = l->perm[s->position++];
    }
    if (s->position == n) {  // keep position in [0, n): the saved state is canonical
        s->epoch++;
        s->position = 0;
    }
    gan_loader_fill(l, l->index, l->batch, out);
}

void gan_loader_labels(const gan_loader *l, int32_t *out) {
    GAN_CHECK(l->ds->labels, "gan_loader_labels: dataset %s has no labels", l->ds->path);
    for (int k = 0; k < l->batch; k++) out[k] = l->ds->labels[l->index[k]];
}
