// What a training run needs around augment.h: its options from the config, and ADA's state in
// checkpoints (root attributes aug_p, aug_sign_sum, aug_sign_count, aug_steps, written only by
// ADA runs, so other runs' checkpoints are unchanged).
#include <stdio.h>

#include "augment.h"
#include "augment_run.h"
#include "gan_check.h"

void gan_aug_opts_from_config(const gan_config *cfg, gan_aug_opts *o) {
    *o = (gan_aug_opts){0};
    char bad[64];
    GAN_CHECK(gan_diffaug_parse(cfg->augment.diffaugment, o, bad, sizeof bad),
              "augment: augment.diffaugment '%s' passed the config check with part '%s'", cfg->augment.diffaugment, bad);
    if (!cfg->augment.ada) return;
    GAN_CHECK(o->mode == GAN_AUG_OFF, "augment: DiffAugment and ADA together passed the config check");
    o->mode = GAN_AUG_ADA;
    o->ada_target = cfg->augment.ada_target;
    o->ada_interval = cfg->augment.ada_interval;
    o->ada_kimg = cfg->augment.ada_kimg;
}

int gan_ada_save(const gan_aug_opts *o, const gan_ada_state *s, gan_ckpt_writer *w, gan_err *err) {
    if (o->mode != GAN_AUG_ADA) return 0;
    return gan_ckpt_set_attr_f64(w, "/", "aug_p", s->p, err) ||
                   gan_ckpt_set_attr_f64(w, "/", "aug_sign_sum", s->sign_sum, err) ||
                   gan_ckpt_set_attr_f64(w, "/", "aug_sign_count", s->sign_count, err) ||
                   gan_ckpt_set_attr_f64(w, "/", "aug_steps", (double)s->steps, err)
               ? -1
               : 0;
}

int gan_ada_load(const gan_aug_opts *o, gan_ada_state *s, gan_ckpt_reader *r, gan_err *err) {
    if (o->mode != GAN_AUG_ADA) return 0;
    double steps = 0;
    if (gan_ckpt_get_attr_f64(r, "/", "aug_p", &s->p, err) ||
        gan_ckpt_get_attr_f64(r, "/", "aug_sign_sum", &s->sign_sum, err) ||
        gan_ckpt_get_attr_f64(r, "/", "aug_sign_count", &s->sign_count, err) ||
        gan_ckpt_get_attr_f64(r, "/", "aug_steps", &steps, err))
        return -1;
    s->steps = (int64_t)steps;
    return 0;
}
