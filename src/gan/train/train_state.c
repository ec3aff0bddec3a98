// The training state in a checkpoint (checkpoint.h gives the file layer):
//   the model family's groups   e.g. /G, /D, /optim/G, /optim/D (DCGAN); /G_ema too (StyleGAN2)
//   /fixed_noise (n, latent)    the snapshot latents
//   / attributes                format_version, model, step, elapsed_seconds, config (the
//                               resolved YAML), rng [seed, counter] (the training steps'
//                               random inputs), data_epoch,
//                               data_position, data_count, image_height, image_width (the data's native
//                               size, for `gan sample` to crop to), threads, best_fid and
//                               best_step (evaluation during training; NAN and 0 before any)
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "trainer.h"

int gan_train_state_save(const gan_trainer *tr, const char *path, gan_err *err) {
    gan_ckpt_writer *w;
    if (gan_ckpt_create(path, &w, err) != 0) return -1;
    char *yaml = gan_config_to_yaml(&tr->cfg);
    int h, wd;
    gan_dataset_image_size(&tr->ds, &h, &wd);
    gan_loader_state ls = gan_loader_get_state(&tr->loader);
    const ag_shape fixed = AG_SHAPE(tr->cfg.sample.n, tr->family->latent_dim(&tr->cfg));
    int bad = tr->family->save(tr->model, w, err) ||
              gan_ckpt_write_f32(w, "/fixed_noise", fixed, tr->fixed_noise, err) ||
              gan_ckpt_set_attr_str(w, "/", "model", tr->cfg.model.type, err) ||
              gan_ckpt_set_attr_str(w, "/", "config", yaml, err) ||
              gan_ckpt_set_attr_i64(w, "/", "step", tr->step, err) ||
              gan_ckpt_set_attr_f64(w, "/", "elapsed_seconds", tr->elapsed, err) ||
              gan_ckpt_set_attr_rng(w, "/", "rng", &tr->rng, err) ||
              gan_ckpt_set_attr_i64(w, "/", "data_epoch", ls.epoch, err) ||
              gan_ckpt_set_attr_i64(w, "/", "data_position", ls.position, err) ||
              gan_ckpt_set_attr_i64(w, "/", "data_count", tr->ds.n, err) ||
              gan_ckpt_set_attr_i64(w, "/", "image_height", h, err) ||
              gan_ckpt_set_attr_i64(w, "/", "image_width", wd, err) ||
              gan_ckpt_set_attr_i64(w, "/", "threads", tr->threads, err) ||
              gan_ckpt_set_attr_f64(w, "/", "best_fid", tr->best_fid, err) ||
              gan_ckpt_set_attr_i64(w, "/", "best_step", tr->best_step, err);
    free(yaml);
    if (bad) {
        gan_ckpt_abort(w);
        return -1;
    }
    return gan_ckpt_commit(w, err);
}

int gan_train_state_load(gan_trainer *tr, const char *path, gan_err *err) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, err) != 0) return -1;
    const ag_shape fixed = AG_SHAPE(tr->cfg.sample.n, tr->family->latent_dim(&tr->cfg));
    int64_t step = 0, epoch = 0, position = 0, threads = 0, count = 0;
    double elapsed = 0;
    ag_rng rng;
    int bad = gan_ckpt_check_state_attrs(r, err) || tr->family->load(tr->model, r, err) ||
              gan_ckpt_read_f32(r, "/fixed_noise", fixed, tr->fixed_noise, err) ||
              gan_ckpt_get_attr_i64(r, "/", "step", &step, err) ||
              gan_ckpt_get_attr_f64(r, "/", "elapsed_seconds", &elapsed, err) ||
              gan_ckpt_get_attr_rng(r, "/", "rng", &rng, err) ||
              gan_ckpt_get_attr_i64(r, "/", "data_epoch", &epoch, err) ||
              gan_ckpt_get_attr_i64(r, "/", "data_position", &position, err) ||
              gan_ckpt_get_attr_i64(r, "/", "threads", &threads, err) ||
              gan_ckpt_get_attr_i64(r, "/", "data_count", &count, err) ||
              (count != tr->ds.n &&
               gan_errf(err, GAN_EXIT_USAGE, "the run was trained on %lld images of %s, which now holds %lld; "
                        "the data order cannot continue", (long long)count, tr->cfg.data.path, (long long)tr->ds.n)) ||
              gan_loader_set_state(&tr->loader, (gan_loader_state){.epoch = epoch, .position = position}, err);
    // Checkpoints from before evaluation during training have no best FID: none then.
    double best_fid = NAN;
    int64_t best_step = 0;
    if (!bad && gan_ckpt_has_attr(r, "/", "best_fid"))
        bad = gan_ckpt_get_attr_f64(r, "/", "best_fid", &best_fid, err) ||
              gan_ckpt_get_attr_i64(r, "/", "best_step", &best_step, err);
    gan_ckpt_close(r);
    if (bad) return gan_err_prefix(err, "resuming from %s: ", path);
    tr->step = step;
    tr->elapsed = elapsed;
    tr->rng = rng;
    tr->best_fid = best_fid;
    tr->best_step = best_step;
    if (threads != tr->threads)
        fprintf(stderr, "gan train: note: the checkpoint was written with %lld threads, this run uses %d; "
                        "results stay correct but are bit-identical to an unbroken run only with the same "
                        "thread count\n", (long long)threads, tr->threads);
    return 0;
}

int gan_ckpt_read_config(const char *path, int noverrides, const char *const *overrides, gan_config *cfg,
                          gan_err *err) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, err) != 0) return -1;
    char *yaml = NULL;
    int rc = gan_ckpt_get_attr_str(r, "/", "config", &yaml, err);
    gan_ckpt_close(r);
    if (rc != 0) return -1;
    char source[GAN_PATH_MAX + 16];
    snprintf(source, sizeof source, "%s:/config", path);
    rc = gan_config_parse(yaml, source, noverrides, overrides, cfg, err);
    free(yaml);
    return rc;
}
