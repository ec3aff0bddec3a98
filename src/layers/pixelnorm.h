// Pixel norm (the official normalize_2nd_moment): x / sqrt(mean over dim 1 of x^2 + eps). The
// mapping network normalises z with it.
#pragma once

#include "ops.h"

ag_tensor *nn_pixel_norm(ag_ctx *c, ag_tensor *x, float eps);
