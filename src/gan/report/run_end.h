// How the last training session of a run ended, kept in RUN/status.json, because the files
// alone cannot tell a run that diverged from one that was killed: both stop short of
// train.steps with their newest checkpoint behind the log. The trainer writes it as the
// session ends (while it still holds the run's lock); `gan runs` and the report read it.
//
//   {"state": "diverged", "step": 1234, "time": 1764500000, "message": "step 1234: loss_d = nan ..."}
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GAN_RUN_STATUS_NAME "status.json"

typedef enum gan_run_end {
    GAN_RUN_END_NONE,      // no status.json: a run before its first session ended, or killed in it
    GAN_RUN_END_FINISHED,  // reached train.steps
    GAN_RUN_END_STOPPED,   // a signal: checkpointed and stopped early
    GAN_RUN_END_DIVERGED,  // a loss or a weight turned NaN or infinite
    GAN_RUN_END_FAILED,    // any other error (a full disk, say)
} gan_run_end;

const char *gan_run_end_name(gan_run_end e);

// Writes status.json for a session that ended at `step`: failed when rc != 0 (diverged when
// message says so: the trainer's divergence errors all read "training diverged"), stopped when
// `stopped`, else finished. Atomic; returns -1 (err) when it cannot be written.
int gan_run_end_write(const char *run_dir, int64_t step, int rc, const char *message, bool stopped, gan_err *err);
// Reads status.json: GAN_RUN_END_NONE when there is none or it does not parse.
gan_run_end gan_run_end_read(const char *run_dir, int64_t *step, char *message, size_t size);
