#include "test_backend.h"

#include <stdio.h>
#include <stdlib.h>

#include "test.h"

static ag_backend *under_test;  // this test binary's backend (tests only)

static void close_backend(void) {
    ag_backend_close(under_test);
    under_test = NULL;
}

ag_backend *test_backend(void) {
    if (under_test) return under_test;
    const char *name = getenv("GAN_TEST_BACKEND");
    if (!name || !*name) name = "cpu";
    char why[256];
    under_test = ag_backend_open(name, why, sizeof why);
    if (!under_test) {
        if (ag_backend_is_built(name)) {
            printf("skipped: backend %s is built but cannot run here: %s\n", name, why);
            exit(TEST_SKIP);
        }
        fprintf(stderr, "FAIL: GAN_TEST_BACKEND=%s: %s\n", name, why);
        exit(1);
    }
    atexit(close_backend);
    return under_test;
}
