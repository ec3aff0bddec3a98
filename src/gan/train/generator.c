#include "generator.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "checkpoint.h"
#include "device.h"
#include "image_grid.h"
#include "trainer.h"

int gan_generator_open(const char *path, const char *device, gan_generator *g, gan_err *err) {
    memset(g, 0, sizeof *g);
    if (gan_resolve_checkpoint(path, g->ckpt, sizeof g->ckpt, err) != 0) return -1;
    if (gan_ckpt_read_config(g->ckpt, 0, NULL, &g->cfg, err) != 0) return -1;
    if (!(g->family = gan_family_find(g->cfg.model.type)))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: model type '%s' is not one this gan builds", g->ckpt,
                        g->cfg.model.type);
    g->be = device ? gan_device_open(device, g->cfg.train.threads, "--device", err)
                   : gan_device_open(g->cfg.device, g->cfg.train.threads, "device (the run's; --device overrides)", err);
    if (!g->be) return -1;
    ag_rng init = ag_rng_make(0);  // overwritten by the checkpoint's weights
    g->model = g->family->create(&g->cfg, g->be, &init, err);
    gan_ckpt_reader *r = NULL;
    int64_t h = g->cfg.model.resolution, w = g->cfg.model.resolution;
    int rc = g->model ? gan_ckpt_open(g->ckpt, &r, err) : -1;
    if (rc == 0) rc = gan_ckpt_check_state_attrs(r, err);
    if (rc == 0) rc = g->family->load_generator(g->model, r, err);
    if (rc == 0) rc = gan_ckpt_get_attr_i64(r, "/", "step", &g->step, err);
    // Checkpoints of older builds may lack the data's size: then the model's is the size.
    if (rc == 0 && gan_ckpt_has_attr(r, "/", "image_height")) {
        rc = gan_ckpt_get_attr_i64(r, "/", "image_height", &h, err);
        if (rc == 0) rc = gan_ckpt_get_attr_i64(r, "/", "image_width", &w, err);
    }
    gan_ckpt_close(r);
    if (rc != 0) {
        gan_generator_free(g);
        return -1;
    }
    const int R = g->cfg.model.resolution;
    if (h > R || w > R || h < 1 || w < 1) h = w = R;
    g->image_h = (int)h;
    g->image_w = (int)w;
    g->c = ag_ctx_create(g->be);
    return 0;
}

void gan_generator_free(gan_generator *g) {
    if (g->model) g->family->free(g->model);
    ag_ctx_free(g->c);
    ag_backend_close(g->be);
    memset(g, 0, sizeof *g);
}

void gan_generator_images(gan_generator *g, const float *z, int n, const gan_sample_opts *o, float *out) {
    g->family->generate(g->model, g->c, z, n, o, out);
}

void gan_latents_of_seed(uint64_t seed, int64_t first, int n, int nz, float *z) {
    ag_philox_normal_range(z, first * nz, (int64_t)n * nz, seed);
}

int gan_sample_source_images(void *source, int64_t first, int count, float *images, gan_err *err) {
    (void)err;
    gan_sample_source *s = source;
    const int nz = s->family->latent_dim(s->cfg), R = s->cfg->model.resolution, C = s->cfg->model.channels;
    float *z = gan_xmalloc((size_t)count * nz * sizeof *z, "latents");
    float *full = s->out_h == R && s->out_w == R
                      ? images
                      : gan_xmalloc((size_t)count * C * R * R * sizeof *full, "generated images");
    gan_latents_of_seed(s->seed, first, count, nz, z);
    gan_sample_opts o = s->opts;
    o.noise_first = first;
    int32_t *labels = NULL;
    const int K = s->cfg->model.num_classes;
    if (K > 0) {  // numbered from `first`, so that any chunking gives the same classes
        labels = gan_xmalloc((size_t)count * sizeof *labels, "the images' classes");
        for (int i = 0; i < count; i++) labels[i] = s->one_class ? s->klass : (int32_t)((first + i) % K);
        o.labels = labels;
    }
    s->family->generate(s->model, s->c, z, count, &o, full);
    free(labels);
    if (full != images) {
        gan_images_center_crop(full, count, C, R, R, s->out_h, s->out_w, images);
        free(full);
    }
    free(z);
    return 0;
}

gan_sample_opts gan_eval_sample_opts(float psi, bool random_noise, uint64_t seed) {
    return (gan_sample_opts){.psi = psi, .noise_mode = random_noise, .noise_per_image = random_noise,
                             .noise_seed = seed ^ 0x6e6f697365ull};
}

void gan_grid_row_labels(int n, int nrow, int classes, int32_t *labels) {
    int cols = nrow > 0 ? (nrow < n ? nrow : n) : 0;
    while (nrow <= 0 && cols * cols < n) cols++;  // ceil(sqrt(n)), as gan_grid_dims
    if (cols < 1) cols = 1;
    for (int i = 0; i < n; i++) labels[i] = (i / cols) % classes;
}
