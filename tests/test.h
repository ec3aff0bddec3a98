// A tiny test helper: count checks, report failures with file:line, exit non-zero on any.
//   int main(void) { TEST_CHECK(x == 1, "x is %d", x); return test_finish(); }
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

// Defined once in test_support.c, shared by every file of a test binary.
extern int test_checks_, test_failures_;

#define TEST_CHECK(cond, ...)                                                            \
    do {                                                                                 \
        test_checks_++;                                                                  \
        if (!(cond)) {                                                                   \
            test_failures_++;                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
        }                                                                                \
    } while (0)

// |a - b| <= atol + rtol * |b|
#define TEST_CLOSE(a, b, atol, rtol, what)                                               \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        TEST_CHECK(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_), "%s: %.8g vs %.8g", (what), a_, b_); \
    } while (0)

// max(m, x) that keeps a NaN: fmax drops one (fmax(NaN, x) is x), so a max |error| gathered
// with fmax passes `err <= tol` even where an output is NaN. Once NaN, the result stays NaN and
// the check fails.
static inline double test_nanmax(double m, double x) {
    return isnan(m) || isnan(x) ? NAN : x > m ? x : m;
}

static inline int test_finish(void) {
    printf("%d checks, %d failed\n", test_checks_, test_failures_);
    return test_failures_ ? 1 : 0;
}

// Exit code meson reads as "skipped".
#define TEST_SKIP 77
