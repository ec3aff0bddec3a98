// Checkpoint files: HDF5, readable by h5py, laid out like PyTorch's state_dicts (docs/checkpoints.md).
//
//   /                      attrs: format_version (= GAN_CKPT_FORMAT_VERSION) + whatever the
//                          trainer sets (step, RNG states, resolved config, ...)
//   /G/<state_dict name>   one dataset per tensor, with its shape ("main.0.weight": (64,100,4,4))
//   /optim/G/exp_avg/<name>, /optim/G/exp_avg_sq/<name>   Adam moments (torch's names)
//   /optim/G               attrs: step, lr, beta1, beta2, eps, weight_decay
//
// Writing is atomic: the file is built in memory, and gan_ckpt_commit writes it to
// "<path>.tmp.<pid>" and moves that over <path> (fsync, rename, directory fsync). A failed write
// or commit removes the temp file and leaves any previous <path> as it was; its message is one
// line naming <path>, the system's reason ("No space left on device") and what is left
// ("the previous checkpoint runs/a/checkpoints/ckpt-00000003.h5 is intact and ... latest.h5
// still names it"). Every float and int64 array dataset carries a
// Fletcher32 checksum and the metadata its own checksums, so a damaged file is reported as
// corrupted; a cut file is reported as truncated. Reading a parameter set checks the whole
// layout and reads everything into staging memory first: the set is changed only when all of it
// was read successfully, never half-loaded.
//
// PyTorch's int64 buffers: a parameter named "*.num_batches_tracked" with one element (BatchNorm
// keeps it as a float) is stored as an int64 scalar dataset, as in a state_dict, and read back
// from one (an int64 scalar in the file also loads into any one-element parameter).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "optim.h"
#include "params.h"
#include "rng.h"

#define GAN_CKPT_FORMAT_VERSION 1

typedef struct gan_ckpt_writer gan_ckpt_writer;
typedef struct gan_ckpt_reader gan_ckpt_reader;

// --- writing ------------------------------------------------------------------------------
// Creates "<path>.tmp.<pid>" (empty: a directory that cannot take it fails here, before the
// work), starts the file in memory and sets format_version on "/". The directory must exist.
int gan_ckpt_create(const char *path, gan_ckpt_writer **w, gan_err *err);
// One dataset per parameter of ps, named by its state_dict name, under `group` (created as
// needed; several sets, e.g. parameters and buffers, may share one group).
int gan_ckpt_write_params(gan_ckpt_writer *w, const char *group, const ag_params *ps, gan_err *err);
// Several sets sharing one group (a module's parameters and buffers, like one state_dict): the
// counterpart of gan_ckpt_read_module.
int gan_ckpt_write_module(gan_ckpt_writer *w, const char *group, ag_params *const *sets, int nsets, gan_err *err);
// Adam state of o->ps: <group>/exp_avg/<name>, <group>/exp_avg_sq/<name>, and attributes step,
// lr, beta1, beta2, eps, weight_decay on <group>.
int gan_ckpt_write_adam(gan_ckpt_writer *w, const char *group, const ag_adam *o, gan_err *err);
// A single tensor at an absolute dataset path.
int gan_ckpt_write_tensor(gan_ckpt_writer *w, const char *dset, const ag_tensor *t, gan_err *err);
// A float32 array in host memory (the snapshot latents), with its shape.
int gan_ckpt_write_f32(gan_ckpt_writer *w, const char *dset, ag_shape shape, const float *values, gan_err *err);
// An int64 scalar dataset (shape ()).
int gan_ckpt_write_i64(gan_ckpt_writer *w, const char *dset, int64_t value, gan_err *err);
// Attributes on "/" or any group/dataset already written.
int gan_ckpt_set_attr_i64(gan_ckpt_writer *w, const char *obj, const char *name, int64_t value, gan_err *err);
int gan_ckpt_set_attr_f64(gan_ckpt_writer *w, const char *obj, const char *name, double value, gan_err *err);
int gan_ckpt_set_attr_str(gan_ckpt_writer *w, const char *obj, const char *name, const char *value,
                          gan_err *err);
// The generator's whole state as a uint64 pair attribute [seed, counter].
int gan_ckpt_set_attr_rng(gan_ckpt_writer *w, const char *obj, const char *name, const ag_rng *rng,
                          gan_err *err);
// Closes the file and moves it over the final path. Refuses (and removes the temp file) when any
// earlier write on w failed. Frees w in every case.
int gan_ckpt_commit(gan_ckpt_writer *w, gan_err *err);
// Drops the temp file; the previous file at the final path is untouched. Frees w; NULL is fine.
void gan_ckpt_abort(gan_ckpt_writer *w);

// --- reading ------------------------------------------------------------------------------
// Opens a checkpoint. Refuses a missing file, a file that is not HDF5 or is truncated, a file
// without format_version and one of another format version (naming both numbers).
int gan_ckpt_open(const char *path, gan_ckpt_reader **r, gan_err *err);
void gan_ckpt_close(gan_ckpt_reader *r);  // NULL is fine

// Loads a parameter set from `group`. Every parameter must be there with its shape and the group
// must hold nothing else; otherwise the error lists every difference ("missing main.3.weight;
// main.0.weight: shape (64, 32, 4, 4) in file vs (128, 64, 4, 4) expected; unexpected
// main.13.weight") and ps is untouched, as it is on any read or checksum error.
int gan_ckpt_read_params(gan_ckpt_reader *r, const char *group, ag_params *ps, gan_err *err);
// The same for several sets sharing one group (a module's parameters and buffers, like one
// state_dict): the group must hold exactly their union; all sets load or none does.
int gan_ckpt_read_module(gan_ckpt_reader *r, const char *group, ag_params *const *sets, int nsets,
                         gan_err *err);
// Restores o->step and the moments of o->ps (layout-checked like read_params; all or nothing).
// The hyper-parameters in the file are not applied: the run's config decides them.
int gan_ckpt_read_adam(gan_ckpt_reader *r, const char *group, ag_adam *o, gan_err *err);
// A single tensor whose shape must equal t->shape; t is untouched on error.
int gan_ckpt_read_tensor(gan_ckpt_reader *r, const char *dset, ag_tensor *t, gan_err *err);
// A float32 array of exactly `shape` into host memory; values may be partly written on error.
int gan_ckpt_read_f32(gan_ckpt_reader *r, const char *dset, ag_shape shape, float *values, gan_err *err);
int gan_ckpt_read_i64(gan_ckpt_reader *r, const char *dset, int64_t *value, gan_err *err);
bool gan_ckpt_has(gan_ckpt_reader *r, const char *obj);
bool gan_ckpt_has_attr(gan_ckpt_reader *r, const char *obj, const char *name);
int gan_ckpt_get_attr_i64(gan_ckpt_reader *r, const char *obj, const char *name, int64_t *value, gan_err *err);
int gan_ckpt_get_attr_f64(gan_ckpt_reader *r, const char *obj, const char *name, double *value, gan_err *err);
// *value is malloc'd; free it.
int gan_ckpt_get_attr_str(gan_ckpt_reader *r, const char *obj, const char *name, char **value, gan_err *err);
int gan_ckpt_get_attr_rng(gan_ckpt_reader *r, const char *obj, const char *name, ag_rng *rng, gan_err *err);
// The training state's root attributes, those present, within the ranges the trainer writes:
// step, data_epoch >= 0; data_count >= 1; 0 <= data_position < data_count; threads,
// image_height, image_width >= 1; 0 <= best_step <= step; elapsed_seconds finite and >= 0;
// best_fid NaN (none yet) or finite and >= 0. An edited file is refused naming the file, the
// attribute, its value and the range, before anything acts on the value (the checksums cover
// datasets, not attributes). Readers of a training checkpoint call it right after opening.
int gan_ckpt_check_state_attrs(gan_ckpt_reader *r, gan_err *err);

// --- a run's checkpoint directory ---------------------------------------------------------
// "<dir>/ckpt-<step, 8 digits or more>.h5"
int gan_ckpt_step_path(char *dst, size_t size, const char *dir, int64_t step, gan_err *err);
// Keeps the `keep` (>= 1) newest ckpt-*.h5 files in dir (by step), deletes the older ones, and
// points the symlink "<dir>/latest.h5" at the newest (replaced atomically by a rename). Other
// files, temp files included, are left alone.
int gan_ckpt_rotate(const char *dir, int keep, gan_err *err);
// The checkpoint a run's checkpoint directory continues from, as a path: "<dir>/latest.h5", or
// a ckpt-*.h5 newer than its target (the writer was killed between saving it and moving the
// link, or before the first link). 1 when found, 0 when dir holds no checkpoint (or does not
// exist), -1 when latest.h5 is dangling: the message names its missing target and the newest
// ckpt-*.h5 that opens as a checkpoint.
int gan_ckpt_find_latest(const char *dir, char *path, size_t size, gan_err *err);
// Starts a new branch in dir at `step` from the checkpoint file `from` (a name in dir; latest.h5
// stands for its target). The ckpt-*.h5 of later steps, and best.h5 when its step is later,
// belong to the abandoned branch: they move into "<dir>/abandoned-<UTC yyyymmdd-hhmmss>/" (its
// path in `aside`, "" when nothing moved; nothing is deleted), and the link latest.h5 then names
// `from`, so it never points into the abandoned branch.
int gan_ckpt_branch(const char *dir, int64_t step, const char *from, char *aside, size_t size, gan_err *err);
