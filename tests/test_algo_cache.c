// Keys of the algorithm cache the CUDA backend keeps per convolution problem
// (src/autograd/algo_cache.h): every field of the problem tells keys apart, equal problems
// share a key, and the cache returns what was put under a key. No device needed.
#include "algo_cache.h"
#include "test.h"

int main(void) {
    const ag_shape x = AG_SHAPE(8, 16, 32, 32), w = AG_SHAPE(32, 16, 3, 3), y = AG_SHAPE(8, 32, 32, 32);
    const ag_conv_args a = AG_CONV(1, 1, 1);
    const ag_algo_key k = ag_algo_key_conv(0, x, w, y, a, true);
    ag_algo_key same = ag_algo_key_conv(0, x, w, y, a, true);
    TEST_CHECK(ag_algo_key_equal(&k, &same), "the same problem gives the same key");

    // Each change of one field gives another key.
    ag_conv_args strided = a, padded = a, grouped = a, outpad = a;
    strided.stride_w = 2;
    padded.pad_h = 0;
    grouped.groups = 2;
    outpad.out_pad_h = 1;
    const ag_algo_key others[] = {
        ag_algo_key_conv(1, x, w, y, a, true),                                  // another pass
        ag_algo_key_conv(0, AG_SHAPE(4, 16, 32, 32), w, y, a, true),            // batch
        ag_algo_key_conv(0, x, AG_SHAPE(32, 16, 1, 9), y, a, true),             // kernel shape, same numel
        ag_algo_key_conv(0, x, w, AG_SHAPE(8, 32, 32, 32, 1), a, true),         // rank
        ag_algo_key_conv(0, x, w, y, strided, true),
        ag_algo_key_conv(0, x, w, y, padded, true),
        ag_algo_key_conv(0, x, w, y, grouped, true),
        ag_algo_key_conv(0, x, w, y, outpad, true),
        ag_algo_key_conv(0, x, w, y, a, false),                                 // determinism
    };
    const int n = (int)(sizeof others / sizeof others[0]);
    for (int i = 0; i < n; i++) {
        TEST_CHECK(!ag_algo_key_equal(&k, &others[i]), "variant %d has its own key", i);
        for (int j = 0; j < i; j++)
            TEST_CHECK(!ag_algo_key_equal(&others[i], &others[j]), "variants %d and %d differ", i, j);
    }

    ag_algo_cache c = {0};
    ag_algo_choice got;
    TEST_CHECK(!ag_algo_cache_get(&c, &k, &got), "an empty cache has nothing");
    ag_algo_cache_put(&c, &k, (ag_algo_choice){.algo = 3, .workspace = 4096});
    for (int i = 0; i < n; i++) ag_algo_cache_put(&c, &others[i], (ag_algo_choice){.algo = 10 + i, .workspace = (size_t)i});
    TEST_CHECK(ag_algo_cache_get(&c, &same, &got) && got.algo == 3 && got.workspace == 4096, "found by an equal key");
    for (int i = 0; i < n; i++)
        TEST_CHECK(ag_algo_cache_get(&c, &others[i], &got) && got.algo == 10 + i, "variant %d maps to its own", i);
    ag_algo_cache_put(&c, &k, (ag_algo_choice){.algo = 5, .workspace = 0});
    TEST_CHECK(ag_algo_cache_get(&c, &k, &got) && got.algo == 5 && c.count == n + 1, "a put replaces, %d entries",
               c.count);
    ag_algo_cache_free(&c);
    return test_finish();
}
