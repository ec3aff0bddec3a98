// Adam and SGD against torch.optim (tests/fixtures/optim.h5): three steps with given gradients,
// every parameter value after every step.
#include <string.h>

#include "fixture.h"
#include "optim.h"
#include "test.h"
#include "test_backend.h"

static double attr(fx_file *f, const char *group, const char *name) {
    double v = 0;
    fx_attr_float(f, group, name, &v);
    return v;
}

static void run_case(fx_file *f, const char *name) {
    ag_backend *be = test_backend();
    ag_params *ps = ag_params_create(be, true);
    ag_tensor *p = ag_params_add(ps, "p", AG_SHAPE(5, 3));
    ag_params_finalize(ps);
    char path[128];
    snprintf(path, sizeof path, "/%s/p0", name);
    fx_load_into(f, path, p);
    bool adam = !strncmp(name, "adam", 4);
    ag_adam *a = NULL;
    ag_sgd *s = NULL;
    if (adam)
        a = ag_adam_create(ps, (float)attr(f, name, "lr"), (float)attr(f, name, "beta1"), (float)attr(f, name, "beta2"),
                           (float)attr(f, name, "eps"), (float)attr(f, name, "weight_decay"));
    else
        s = ag_sgd_create(ps, (float)attr(f, name, "lr"), (float)attr(f, name, "momentum"),
                          (float)attr(f, name, "dampening"), (float)attr(f, name, "weight_decay"),
                          attr(f, name, "nesterov") != 0);
    for (int k = 1; k <= 3; k++) {
        snprintf(path, sizeof path, "/%s/g%d", name, k);
        fx_load_into(f, path, p->grad);
        if (a) ag_adam_step(a);
        else ag_sgd_step(s);
        snprintf(path, sizeof path, "/%s/p%d", name, k);
        char what[64];
        snprintf(what, sizeof what, "%s after step %d", name, k);
        FX_EXPECT(f, path, p, 1e-6, what);
    }
    ag_adam_free(a);
    ag_sgd_free(s);
    ag_params_free(ps);
}

int main(void) {
    fx_file *f = fx_open("optim.h5");
    const char *cases[] = {"adam", "adam_wd", "sgd", "sgd_momentum", "sgd_nesterov"};
    for (size_t i = 0; f && i < sizeof cases / sizeof cases[0]; i++) run_case(f, cases[i]);
    fx_close(f);
    return test_finish();
}
