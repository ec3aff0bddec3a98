// A training run's augmentation: options from the config and ADA's state in checkpoints.
#pragma once
#include "augment.h"
#include "checkpoint.h"
#include "config.h"
#include "error.h"

// The config's augment.* keys (checked by the config) as options; mode off when none is set.
void gan_aug_opts_from_config(const gan_config *cfg, gan_aug_opts *o);
// ADA's p and the signs gathered since its last adjustment, as root attributes of the
// checkpoint (nothing for other modes). 0 or -1 with err set.
int gan_ada_save(const gan_aug_opts *o, const gan_ada_state *s, gan_ckpt_writer *w, gan_err *err);
int gan_ada_load(const gan_aug_opts *o, gan_ada_state *s, gan_ckpt_reader *r, gan_err *err);
