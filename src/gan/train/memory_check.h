// The up-front memory check of a training run: what one step at train.batch_size will take,
// against what the process can still get (meminfo.h), so a run that cannot fit is refused with
// both figures before its first step, instead of aborting in the middle of it.
//
// A step's memory is measured, not modelled: two small probe steps (batches b and 2b, the
// smallest the family accepts) of a throwaway copy of the model give the arena and workspace
// bytes that do not depend on the batch and those per image; a step's tensors grow linearly in
// the batch, so the two points give every batch. The copy's weights and the probes' random
// inputs are the copy's own: the run's state and streams are not touched.
#pragma once
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "error.h"
#include "family.h"

typedef struct gan_step_memory {
    int batch_a, batch_b;     // the probe batches
    double fixed_bytes;       // the step's arena and workspace at batch 0 (extrapolated)
    double per_image_bytes;   // and per image of the batch
    double workspace_a, workspace_b;  // the kernels' workspace at each probe (in the above)
} gan_step_memory;

// Probes `family` under cfg on `be`. Returns 0, or -1 when no small batch is valid for the
// family (nothing is then known; err is not set).
int gan_step_memory_probe(const gan_family *family, const gan_config *cfg, const ag_backend *be,
                          gan_step_memory *m);
// The step's arena and workspace bytes at `batch`.
double gan_step_memory_at(const gan_step_memory *m, int64_t batch);

// The check itself, for a run of cfg with its model and data already in memory: the step's
// tensors (on the backend: the host's memory for the CPU, the device's for a GPU) and the
// host's per-step buffers (the real batches and latents) against what is left. Exit status 1,
// naming the need, the room, the limit and the largest batch that fits.
int gan_check_step_memory(const gan_family *family, const gan_config *cfg, const ag_backend *be, gan_err *err);
