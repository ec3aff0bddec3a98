#include "memory_check.h"

#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "ctx.h"
#include "meminfo.h"

// One throwaway step at `batch`: its arena peak and workspace. False when the family refuses
// the batch (a StyleGAN2 batch must split into minibatch-stddev groups).
static bool probe_step(const gan_family *f, const gan_config *cfg, const ag_backend *be, int batch, double *arena,
                       double *workspace) {
    gan_config c = *cfg;
    c.train.batch_size = batch;
    ag_rng init = ag_rng_make(1), rng = ag_rng_make(2);
    gan_err ignored;
    gan_model *m = f->create(&c, be, &init, &ignored);
    if (!m) return false;
    const size_t n = (size_t)f->batches_per_step(&c) * batch * c.model.channels * c.model.resolution *
                     c.model.resolution;
    float *real = gan_xcalloc(n, sizeof *real, "a memory probe's batch");
    // A conditional model's step takes the real batches' classes: class 0 for all will do.
    int32_t *labels = c.model.num_classes > 0
                          ? gan_xcalloc((size_t)f->batches_per_step(&c) * batch, sizeof *labels, "a probe's labels")
                          : NULL;
    ag_ctx *ctx = ag_ctx_create(be);
    gan_stats st;
    f->step(m, ctx, 0, real, labels, &rng, &st);  // step 0 runs every regulariser: the largest step
    *arena = (double)ag_ctx_arena_peak(ctx);
    *workspace = (double)ag_ctx_workspace_bytes(ctx);
    ag_ctx_free(ctx);
    free(real);
    free(labels);
    f->free(m);
    return true;
}

// The arena is fitted by a line through the two probes. The kernels' workspace is not linear
// in the batch and small beside the tensors: the larger probe's, doubled, stands for it. On the
// CPU it is one buffer per thread, each capped, grown with the samples a thread takes at once.
// On a GPU it is what the cuDNN algorithm chosen for each shape asks, and the algorithm changes
// with the batch: DCGAN 32x32's step on an H200 took 0.16 MB at batch 2 and 3.7 MB at batch 24,
// so the estimate fell 31% short there; a GPU's check doubles the estimate (gan_check_step_memory).
int gan_step_memory_probe(const gan_family *family, const gan_config *cfg, const ag_backend *be,
                          gan_step_memory *m) {
    for (int b = 1; b <= 64; b++) {
        double a1, w1, a2, w2;
        if (!probe_step(family, cfg, be, b, &a1, &w1) || !probe_step(family, cfg, be, 2 * b, &a2, &w2)) continue;
        double per = fmax((a2 - a1) / b, 0);
        *m = (gan_step_memory){.batch_a = b, .batch_b = 2 * b,
                               .fixed_bytes = fmax(a1 - per * b, 0) + 2 * fmax(w1, w2), .per_image_bytes = per,
                               .workspace_a = w1, .workspace_b = w2};
        return 0;
    }
    return -1;
}

double gan_step_memory_at(const gan_step_memory *m, int64_t batch) {
    return m->fixed_bytes + m->per_image_bytes * (double)batch;
}

// One limit a run must fit under: bytes = fixed + per_image * batch.
typedef struct need {
    double fixed, per_image;
    const gan_mem_room *room;
    const char *where;  // "" or " of the GPU"
} need;

// The batch the refusal offers, with headroom: what a process holds varies from run to run by a
// heap or a thread's stack (1.53 vs 1.64 GiB left under one ulimit -v, seen in test_run_dir), and
// the offered batch must train.
static int64_t largest_batch(const need *n) {
    const double room = 0.9 * (double)n->room->bytes - 128.0 * (1 << 20);
    double b = n->per_image > 0 ? floor((room - n->fixed) / n->per_image) : INFINITY;
    return b < 0 ? 0 : b > INT32_MAX ? INT32_MAX : (int64_t)b;
}

// Under an address-space limit each CPU thread also reserves what it never touches: OpenBLAS a
// 128 MiB buffer per calling thread, glibc a heap of up to 128 MiB per thread that allocates.
// OpenBLAS 0.3.21 retries such an allocation forever instead of failing (found with ulimit -v
// and a 300 MB dataset: the process hung in its first step, or in the probe).
static double per_thread_reserve(const ag_backend *be) {
    return ag_backend_device_memory(be, &(size_t){0}, &(size_t){0}) ? 0.0
                                                                   : 256.0 * (1 << 20) * ag_backend_threads(be);
}

int gan_check_step_memory(const gan_family *family, const gan_config *cfg, const ag_backend *be, gan_err *err) {
    // The probe itself runs steps: their threads' reservations must fit before it starts.
    const gan_mem_rooms before = gan_mem_rooms_now();
    if (before.reserved.known && per_thread_reserve(be) > (double)before.reserved.bytes) {
        char need[32], left[32];
        gan_format_bytes(need, sizeof need, per_thread_reserve(be));
        gan_format_bytes(left, sizeof left, (double)before.reserved.bytes);
        return gan_errf(err, GAN_EXIT_RUNTIME, "not enough memory for a training step: its %d threads reserve about %s "
                        "of address space (the math library's buffers), but %s is left under %s with the data loaded; "
                        "use fewer images (data.limit), fewer threads (train.threads) or raise the limit",
                        ag_backend_threads(be), need, left, before.reserved.what);
    }
    gan_step_memory sm;
    if (gan_step_memory_probe(family, cfg, be, &sm) != 0) return 0;  // nothing known: nothing refused
    const int64_t B = cfg->train.batch_size;
    const int k = family->batches_per_step(cfg);
    // The host's per-step buffers: the real batches and the latents of a step.
    const double host_per_image =
        (double)k * ((double)cfg->model.channels * cfg->model.resolution * cfg->model.resolution +
                     family->latent_dim(cfg)) * sizeof(float);
    gan_mem_rooms host = gan_mem_rooms_now();
    size_t dev_room = 0, dev_total = 0;
    gan_mem_room device = {0};
    const bool on_device = ag_backend_device_memory(be, &dev_room, &dev_total);
    if (on_device) device = (gan_mem_room){.known = true, .bytes = dev_room, .what = "the GPU's free memory"};

    // The arena grows geometrically in a run's first step, so it may reserve up to twice what
    // it touches: address-space limits, and a GPU (whose allocations are all committed), see
    // twice the step's tensors.
    need needs[3];
    int nn = 0;
    if (on_device) {
        needs[nn++] = (need){2 * sm.fixed_bytes, 2 * sm.per_image_bytes, &device, " of the GPU"};
        needs[nn++] = (need){0, host_per_image, &host.touched, ""};
        needs[nn++] = (need){0, host_per_image, &host.reserved, ""};
    } else {
        // The probe ran at small batches, on fewer threads than a step may use.
        const double per_thread = per_thread_reserve(be);
        needs[nn++] = (need){sm.fixed_bytes, sm.per_image_bytes + host_per_image, &host.touched, ""};
        needs[nn++] = (need){2 * sm.fixed_bytes + per_thread, 2 * sm.per_image_bytes + host_per_image, &host.reserved, ""};
    }
    // Of the limits the step overruns, the one that leaves the smallest batch is named.
    const need *worst = NULL;
    for (int i = 0; i < nn; i++) {
        const need *n = &needs[i];
        if (n->room->known && n->fixed + n->per_image * (double)B > (double)n->room->bytes &&
            (!worst || largest_batch(n) < largest_batch(worst)))
            worst = n;
    }
    if (worst) {
        char total[32], left[32], per[32], fixed[32], hint[96];
        gan_format_bytes(total, sizeof total, worst->fixed + worst->per_image * (double)B);
        gan_format_bytes(left, sizeof left, (double)worst->room->bytes);
        gan_format_bytes(per, sizeof per, worst->per_image);
        gan_format_bytes(fixed, sizeof fixed, worst->fixed);
        int64_t fits = largest_batch(worst);
        if (fits >= 1) snprintf(hint, sizeof hint, "lower train.batch_size to at most %lld", (long long)fits);
        else snprintf(hint, sizeof hint, "not even a batch of 1 fits; free memory or choose a smaller model");
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "train.batch_size %lld does not fit in memory%s: a training step needs about %s (%s per "
                        "image and %s besides%s), but %s is left under %s; %s",
                        (long long)B, worst->where, total, per, fixed,
                        worst->room != &host.touched ? ", counting the step's tensors twice as their arena may "
                                                       "reserve that much while it grows" : "",
                        left, worst->room->what, hint);
    }
    return 0;
}
