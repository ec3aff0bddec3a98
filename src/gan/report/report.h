// RUN/report.html: one self-contained page about a run that opens offline in any browser (no
// server, no network): the training curves drawn by a small embedded script as inline SVG,
// the sample grids over the steps with a slider, the real grid, the checkpoints, hardware and
// timing, and the resolved config. docs/report.md shows one and tells what is in it.
//
// It is derived data: everything in it comes from the run's files, so it can be written again
// at any time (`gan report RUN_DIR`), and the trainer refreshes it at every sample interval.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct gan_report_opts {
    int64_t max_points;   // drawn per series; longer series keep the min and max of each bucket
    int max_grids;        // sample grids embedded, spread evenly over the run, the newest always
    size_t image_budget;  // bytes of PNG embedded in all; fewer grids are embedded past it
    bool ending;          // written by the run's own writer as its session ends: its lock, still
                          // held, does not make the run "running" (run_info.h)
} gan_report_opts;

// 2000 points, 40 grids, 8 MiB.
gan_report_opts gan_report_default_opts(void);

typedef struct gan_report_summary {
    size_t bytes;         // the page's size
    int grids, grids_total;  // sample grids embedded, and in samples/
    int64_t log_lines;
} gan_report_summary;

// Writes the report of run_dir to out (NULL: RUN/report.html) atomically. Errors name the
// path: not a run directory, an unreadable file, a write that failed.
int gan_report_write(const char *run_dir, const char *out, const gan_report_opts *o, gan_report_summary *sum,
                     gan_err *err);

// For the trainer, at each sample interval: rewrites RUN/report.html. A failure is a warning on
// stderr (the first one only: *warned, the caller's, records it), never a stop: the report is
// derived data, and the training's own files are what must not be lost.
void gan_report_refresh(const char *run_dir, bool *warned);
// For the trainer, as a session ends (rc and message its outcome, stopped when a signal ended
// it): records the end in RUN/status.json (run_end.h) and refreshes the report. Failures are a
// warning when the session succeeded, and silent when it failed: its own error is the one line
// the user needs (and a full disk would only be reported twice).
void gan_report_session_end(const char *run_dir, int64_t step, int rc, const char *message, bool stopped,
                            bool *warned);
