// The backend a test runs on, from the test setup: GAN_TEST_BACKEND names it ("cpu" when unset;
// `meson test --setup cuda` sets "cuda"), so every op, gradient and fixture test runs on each
// backend that is built. Opened once per test binary and closed at exit.
#pragma once
#include "backend.h"

// The backend under test. A backend that is built but has no device here ends the test as
// skipped (exit 77, saying which and why); a name this build does not have fails the test
// (exit 1): asking for a backend that is not there must not pass quietly.
ag_backend *test_backend(void);
