#include "device.h"

ag_backend *gan_device_open(const char *device, int threads, const char *what, gan_err *err) {
    char why[256];
    ag_backend *be = ag_backend_open(device, why, sizeof why);
    if (!be) {
        gan_errf(err, ag_backend_is_built(device) ? GAN_EXIT_RUNTIME : GAN_EXIT_USAGE, "%s %s: %s", what, device, why);
        return NULL;
    }
    ag_backend_set_threads(be, threads);
    return be;
}
