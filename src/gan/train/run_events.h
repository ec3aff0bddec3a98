// A training run's TensorBoard event file (tfevents.h) in the trainer's terms: which tag each
// logged number gets, the config as text, the sample grids. docs/tensorboard.md lists the tags.
//
// Every session of a run (the first, each resume) writes a file of its own; its first records
// after the file version are a SessionLog START at start_step + 1 and the config at start_step.
// TensorBoard's Python loader takes every START after a run's first as a restart and drops what
// it read earlier from step start_step + 1 on: the points an abandoned branch logged after the
// checkpoint being resumed. The point at start_step itself, logged before that checkpoint was
// written, stays.
#pragma once
#include <stdint.h>

#include "error.h"
#include "evaluate.h"
#include "image_grid.h"
#include "tfevents.h"

// Opens a new event file in run_dir for a session starting at start_step, and writes the START
// and config_yaml (tag "config", a code block). NULL with err set on failure.
gan_tfevents *gan_run_events_open(const char *run_dir, int64_t start_step, const char *config_yaml, gan_err *err);

// One log interval, as write_metrics puts it in metrics.jsonl: stat i's mean is sum[i] / count[i]
// (not written when count[i] is 0: metrics.jsonl says null). Tags: "loss/d" and "loss/g" for
// loss_d and loss_g, "train/NAME" for the family's other statistics, "speed/images_per_sec".
int gan_run_events_interval(gan_tfevents *ev, int64_t step, int n, const char *const *names, const double *sum,
                            const int64_t *count, double images_per_sec, gan_err *err);
// An evaluation: "eval/fid", "eval/kid", "eval/kid_std", "eval/precision", "eval/recall",
// "eval/density", "eval/coverage" (the names metrics.jsonl gives them).
int gan_run_events_eval(gan_tfevents *ev, int64_t step, const gan_eval_result *r, gan_err *err);
// A snapshot grid (samples/step-NNNNNNNN.png's bytes), tag "samples".
int gan_run_events_samples(gan_tfevents *ev, int64_t step, const gan_png *png, gan_err *err);
