// Training progress: on a terminal one live line (step/total, images/s, ETA, losses) redrawn at
// most ten times a second; otherwise (logs, CI, nohup) a plain line every `every` steps.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

typedef struct gan_progress {
    FILE *out;
    bool live;           // a terminal: redraw one line
    int64_t total, every;
    double last_draw;    // seconds (monotonic) of the last live redraw
    bool line_open;      // a live line is on screen without its newline
    char extra[64];      // shown after the ETA ("FID 43.12"); empty: nothing
    bool never_block;    // drop what the output cannot take now (gan_progress_never_block)
} gan_progress;

void gan_progress_init(gan_progress *p, FILE *out, int64_t total_steps, int64_t every);
// step: steps done; rates measured by the caller; the statistics to show (the trainer passes
// the means of the current log interval, what metrics.jsonl stores; NAN ones are left out).
void gan_progress_update(gan_progress *p, int64_t step, double steps_per_sec, double images_per_sec,
                         const gan_stats *st);
// Text shown in every progress line from now on (the last evaluation's FID).
void gan_progress_set_extra(gan_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prints a message on its own line (closing any live line first).
void gan_progress_note(gan_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// From now on neither a note nor a redraw waits for the reader: what it cannot take within 0.2 s
// (a note) or at once (a redraw) is dropped. For an output no one else writes to (O_NONBLOCK is
// set on it around each write) whose reader may stop reading while the run goes on: rank 0 of an
// MPI run, whose stdout is a pseudo-terminal that mpirun stops draining once it ends a job
// (Ctrl-C), which would otherwise hold rank 0 in write() until mpirun's SIGKILL and lose the
// checkpoint the stop writes.
void gan_progress_never_block(gan_progress *p);
void gan_progress_finish(gan_progress *p);
// Monotonic seconds.
double gan_now(void);
