#include "test.h"

int test_checks_, test_failures_;
