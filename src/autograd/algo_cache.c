#include "algo_cache.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

static void key_push(ag_algo_key *k, int32_t v) {
    AG_CHECK(k->n < AG_ALGO_KEY_MAX, "algo cache: key longer than %d values", AG_ALGO_KEY_MAX);
    k->v[k->n++] = v;
}

// A shape as its rank then its dims, so shapes of different ranks never run together.
static void key_shape(ag_algo_key *k, ag_shape s) {
    key_push(k, s.ndim);
    for (int i = 0; i < s.ndim; i++) key_push(k, s.d[i]);
}

ag_algo_key ag_algo_key_conv(int pass, ag_shape x, ag_shape w, ag_shape y, ag_conv_args a, bool deterministic) {
    ag_algo_key k = {0};
    key_push(&k, pass);
    key_shape(&k, x);
    key_shape(&k, w);
    key_shape(&k, y);
    const int32_t args[] = {a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.out_pad_h, a.out_pad_w, a.groups};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) key_push(&k, args[i]);
    key_push(&k, deterministic);
    return k;
}

bool ag_algo_key_equal(const ag_algo_key *a, const ag_algo_key *b) {
    return a->n == b->n && !memcmp(a->v, b->v, (size_t)a->n * sizeof a->v[0]);
}

bool ag_algo_cache_get(const ag_algo_cache *c, const ag_algo_key *k, ag_algo_choice *out) {
    for (int i = 0; i < c->count; i++)
        if (ag_algo_key_equal(&c->keys[i], k)) {
            *out = c->choices[i];
            return true;
        }
    return false;
}

void ag_algo_cache_put(ag_algo_cache *c, const ag_algo_key *k, ag_algo_choice choice) {
    for (int i = 0; i < c->count; i++)
        if (ag_algo_key_equal(&c->keys[i], k)) {
            c->choices[i] = choice;
            return;
        }
    if (c->count == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->keys = ag_xrealloc(c->keys, (size_t)c->cap * sizeof *c->keys);
        c->choices = ag_xrealloc(c->choices, (size_t)c->cap * sizeof *c->choices);
    }
    c->keys[c->count] = *k;
    c->choices[c->count++] = choice;
}

void ag_algo_cache_free(ag_algo_cache *c) {
    free(c->keys);
    free(c->choices);
    *c = (ag_algo_cache){0};
}
