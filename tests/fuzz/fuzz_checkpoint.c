// Checkpoints (io/checkpoint.c over io/h5io.c and libhdf5): the input is a checkpoint file, read
// as the commands read one. `gan info`, `gan sample` and `gan train --resume` first read the
// stored config (gan_ckpt_read_config), then open the file, check the training state's
// attributes (gan_ckpt_check_state_attrs) and read them; sample and resume then build the model
// the config describes and load its weights (a family's load_generator, or load for the whole
// training state: networks, buffers, Adam moments), and resume reads the snapshot latents.
//
// libhdf5 is not instrumented here, and the HDF5 project does not promise safe handling of
// crafted files: a crash inside libhdf5 is recorded in tests/fuzz/README.md, not fixed. A model
// is built only when the stored config describes a small one (the seeds' tiny networks): a config
// may ask for networks of gigabytes, which is a config's right, not a reader's bug.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "config.h"
#include "device.h"
#include "family.h"
#include "fuzz_common.h"
#include "trainer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ag_backend *backend;

static bool small_model(const gan_config *c) {
    const gan_model_config *m = &c->model;
    const bool latents = (int64_t)c->sample.n * (m->nz > m->z_dim ? m->nz : m->z_dim) <= 4096;
    const bool batch = (int64_t)c->train.batch_size * c->train.d_steps <= 256;
    if (!strcmp(m->type, "dcgan")) return latents && batch && m->nz <= 64 && m->ngf <= 8 && m->ndf <= 8;
    return latents && batch && m->resolution <= 16 && m->z_dim <= 16 && m->w_dim <= 16 && m->channel_max <= 8 &&
           m->mapping_layers <= 4;
}

// What sample and resume do after the attributes: the model from the stored config, its weights.
static void load_model(const gan_config *cfg, gan_ckpt_reader *r) {
    const gan_family *fam = gan_family_find(cfg->model.type);
    if (!fam || !small_model(cfg)) return;
    gan_err err;
    ag_rng init = ag_rng_make(0);
    gan_model *m = fam->create(cfg, backend, &init, &err);
    if (!m) return;
    if (fam->load_generator(m, r, &err) == 0) fam->load(m, r, &err);
    const int latent = fam->latent_dim(cfg);
    float *z = malloc((size_t)cfg->sample.n * latent * sizeof *z);
    gan_ckpt_read_f32(r, "/fixed_noise", AG_SHAPE(cfg->sample.n, latent), z, &err);
    free(z);
    fam->free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!backend) {
        gan_err err;
        if (!(backend = gan_device_open("cpu", 1, "fuzz", &err))) fuzz_fail("%s", err.msg);
    }
    char path[GAN_PATH_MAX];
    fuzz_write("ckpt.h5", data, size, path);
    gan_err err;
    gan_config cfg;
    const bool have_cfg = gan_ckpt_read_config(path, 0, NULL, &cfg, &err) == 0;
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, &err) != 0) return 0;
    int64_t i64;
    double f64;
    ag_rng rng;
    if (gan_ckpt_check_state_attrs(r, &err) == 0) {
        static const char *const ints[] = {"step", "data_epoch", "data_position", "data_count", "threads",
                                           "image_height", "image_width", "best_step"};
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) gan_ckpt_get_attr_i64(r, "/", ints[i], &i64, &err);
        gan_ckpt_get_attr_f64(r, "/", "elapsed_seconds", &f64, &err);
        gan_ckpt_get_attr_f64(r, "/", "best_fid", &f64, &err);
        gan_ckpt_get_attr_rng(r, "/", "rng", &rng, &err);
        char *model = NULL;
        if (gan_ckpt_get_attr_str(r, "/", "model", &model, &err) == 0) free(model);
        if (have_cfg) load_model(&cfg, r);
    }
    gan_ckpt_close(r);
    return 0;
}
