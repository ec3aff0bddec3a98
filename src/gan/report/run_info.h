// A run directory at a glance, from its files and its lock: what `gan runs` prints a line of
// and the report's header shows. Reads only; never takes the run's lock.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "metrics_table.h"
#include "run_end.h"

typedef enum gan_run_state {
    GAN_RUN_RUNNING,   // a process holds RUN/.lock now (run_lock.h)
    GAN_RUN_FINISHED,  // at train.steps
    GAN_RUN_STOPPED,   // short of train.steps and not running: stopped by a signal, or killed
    GAN_RUN_DIVERGED,  // its last session ended with a non-finite loss or weight (status.json)
    GAN_RUN_FAILED,    // its last session ended with another error (status.json)
} gan_run_state;

typedef struct gan_run_info {
    char dir[1024];
    char name[256];      // the directory's last component
    char family[32];     // model.type
    char device[32];
    int64_t total;       // train.steps
    int64_t step;        // the furthest step the log or a checkpoint reached
    int64_t ckpt_step;   // the newest checkpoint's step (-1: none)
    int threads;         // train.threads of the config (0: all cores)
    gan_run_state state;
    char holder[320];    // running: the lock's "pid N host H"
    char message[1024];  // diverged, failed: the error the session ended with
    double loss_d, loss_g;  // the last logged means (NAN when none)
    double ips;             // the last logged images/s (NAN when none)
    double elapsed;         // the last logged training seconds (NAN when none)
    double best_fid;        // NAN when never evaluated
    int64_t best_fid_step;
    int64_t log_lines;
    time_t changed;         // the newest mtime of the run's log, config, status, checkpoints and samples
} gan_run_info;

// Whether path looks like a run directory: a directory holding config.yaml.
bool gan_run_is_dir(const char *path);
// Reads the run's summary. metrics, when not NULL, is the run's metrics.jsonl already read
// (the report has it); otherwise it is read here. Errors (not a run directory, an unreadable
// file) name the path. `ending`: the caller is the run's own writer as its session ends (it
// still holds the lock, and has just written status.json), so the lock does not mean running.
int gan_run_info_read(const char *dir, const gan_metrics_table *metrics, bool ending, gan_run_info *ri,
                      gan_err *err);
const char *gan_run_state_name(gan_run_state s);

// The value of key "section.key" (or a top-level "key") in a config.yaml gan wrote (the resolved
// config: two levels, one key a line, comments after " #"). Not a YAML parser: the report layer
// sits below the config library, and this is all it needs. False when absent.
bool gan_run_config_value(const char *yaml, const char *key, char *out, size_t size);
// The step in a checkpoint's file name ("ckpt-00001000.h5" -> 1000), or -1.
int64_t gan_run_ckpt_name_step(const char *name);
