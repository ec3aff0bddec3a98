// The trainer's calls (report.h): the report and status.json are derived data, so their
// failures never stop a run.
#include <stdio.h>

#include "report.h"
#include "run_end.h"

// One warning per session: a disk that refuses the report at one sample interval will likely
// refuse it at the next, and the training's log should not fill with the same line.
static void warn(const gan_err *err, bool *warned) {
    if (*warned) return;
    *warned = true;
    fprintf(stderr, "gan train: warning: the report was not refreshed: %s (training goes on; further report "
            "failures are not shown)\n", err->msg);
}

void gan_report_refresh(const char *run_dir, bool *warned) {
    gan_err err = {0};
    if (gan_report_write(run_dir, NULL, NULL, NULL, &err) != 0) warn(&err, warned);
}

void gan_report_session_end(const char *run_dir, int64_t step, int rc, const char *message, bool stopped,
                            bool *warned) {
    gan_err err = {0};
    gan_report_opts o = gan_report_default_opts();
    o.ending = true;
    if ((gan_run_end_write(run_dir, step, rc, message, stopped, &err) != 0 ||
         gan_report_write(run_dir, NULL, &o, NULL, &err) != 0) &&
        rc == 0)
        warn(&err, warned);
}
