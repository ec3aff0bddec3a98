#include "embedding.h"

#include <stdlib.h>

#include "fatal.h"
#include "conv.h"

void nn_embedding_init(nn_embedding *l, ag_params *ps, const char *prefix, int classes, int dim) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(classes, dim));
}

ag_tensor *nn_embedding_forward(ag_ctx *c, const nn_embedding *l, ag_tensor *y) {
    return ag_matmul(c, y, l->weight, false, false);
}

ag_tensor *nn_one_hot(ag_ctx *c, const int32_t *labels, int n, int classes) {
    AG_CHECK(n >= 1 && classes >= 1, "one_hot: %d labels of %d classes", n, classes);
    float *h = calloc((size_t)n * (size_t)classes, sizeof *h);
    AG_CHECK(h, "one_hot: out of memory for %d x %d", n, classes);
    for (int i = 0; i < n; i++) {
        AG_CHECK(labels[i] >= 0 && labels[i] < classes, "one_hot: label %d is %d, expected [0, %d)", i,
                 (int)labels[i], classes);
        h[(size_t)i * classes + labels[i]] = 1.0f;
    }
    ag_tensor *t = ag_from_host(c, AG_SHAPE(n, classes), h);
    free(h);
    return t;
}
