// The report library's pieces (src/gan/report): the metrics.jsonl reader on the lines gan
// writes and on damaged ones, series in step order with a resumed run's repeated steps, the
// min/max thinning (bounded, in order, spikes kept), the config lookup, checkpoint names, and
// status.json written and read back. The whole page and gan runs: tests/cli/test_report*.sh.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "metrics_table.h"
#include "run_lock.h"
#include "run_end.h"
#include "run_info.h"
#include "series.h"
#include "test.h"

static void parse(const char *text, gan_metrics_table *t) { gan_metrics_parse(text, strlen(text), t); }

static void test_reader(void) {
    gan_metrics_table t;
    parse("{\"step\": 1, \"time\": 0.5, \"loss_d\": 1.25, \"loss_g\": null, \"images_per_sec\": 100.00}\n"
          "{\"step\": 2, \"time\": 1.0, \"fid\": 41.5, \"feature_net\": \"fmnist \\\"x\\\", y\", \"reference\": \"a,b}\"}\n"
          "not json\n"
          "\n"
          "{\"step\": 3, \"loss_d\": -2e-3 , \"flag\": true}\n"
          "{\"step\": 4, \"loss_d\": }\n"
          "{\"step\": 5, \"loss_d\": 7}",  // torn: no newline
          &t);
    TEST_CHECK(t.rows == 3, "3 rows parsed, got %lld", (long long)t.rows);
    TEST_CHECK(t.skipped == 3, "a bad line, a value missing and the torn last line skipped, got %lld",
               (long long)t.skipped);
    const gan_metrics_col *step = gan_metrics_find(&t, "step"), *ld = gan_metrics_find(&t, "loss_d"),
                          *lg = gan_metrics_find(&t, "loss_g"), *fid = gan_metrics_find(&t, "fid"),
                          *flag = gan_metrics_find(&t, "flag");
    TEST_CHECK(step && ld && lg && fid && flag, "every numeric key is a column");
    TEST_CHECK(!gan_metrics_find(&t, "nope"), "no column for a key never seen");
    if (step && ld && lg && fid && flag) {
        TEST_CHECK(step->v[0] == 1 && step->v[1] == 2 && step->v[2] == 3, "steps");
        TEST_CHECK(ld->v[0] == 1.25 && isnan(ld->v[1]) && ld->v[2] == -2e-3, "loss_d: a value, absent, a value");
        TEST_CHECK(isnan(lg->v[0]), "null reads as NAN");
        TEST_CHECK(isnan(fid->v[0]) && fid->v[1] == 41.5 && isnan(fid->v[2]),
                   "a key first seen in row 2 is NAN before and after");
        TEST_CHECK(flag->v[2] == 1, "true reads as 1");
    }
    // A string column (feature_net) holds no numbers but its key still exists.
    const gan_metrics_col *net = gan_metrics_find(&t, "feature_net");
    TEST_CHECK(net && isnan(net->v[1]), "a string value is NAN in its column");
    gan_metrics_free(&t);

    parse("", &t);
    TEST_CHECK(t.rows == 0 && t.skipped == 0, "an empty log");
    gan_metrics_free(&t);
    TEST_CHECK(gan_metrics_read("/nonexistent/metrics.jsonl", &t, &(gan_err){0}) == 0 && t.rows == 0,
               "a missing log is an empty table");
    gan_metrics_free(&t);
    // A number at the very end of a line: strtod must not run into the next line.
    parse("{\"step\": 1, \"a\":\n2}\n{\"step\": 2, \"a\": 3}\n", &t);
    TEST_CHECK(t.rows == 1 && t.skipped == 2, "a line cut after the colon: %lld rows, %lld skipped",
               (long long)t.rows, (long long)t.skipped);
    gan_metrics_free(&t);
}

static void test_series(void) {
    gan_metrics_table t;
    // Steps 1..4 logged, a kill, a resume from step 2 logging 3 and 4 again (other values), then 5.
    parse("{\"step\": 1, \"x\": 10}\n{\"step\": 2, \"x\": 20}\n{\"step\": 3, \"x\": 30}\n{\"step\": 4, \"x\": 40}\n"
          "{\"step\": 3, \"x\": 31}\n{\"step\": 4, \"x\": 41}\n{\"step\": 5, \"x\": null}\n{\"step\": 6, \"x\": 60}\n",
          &t);
    gan_series s;
    gan_series_extract(&t, "x", 100, &s);
    const double want_x[] = {1, 2, 3, 4, 6}, want_y[] = {10, 20, 31, 41, 60};
    TEST_CHECK(s.n == 5 && s.total == 5, "5 points (repeated steps once, the null left out), got %lld",
               (long long)s.n);
    for (int64_t i = 0; i < s.n && i < 5; i++)
        TEST_CHECK(s.x[i] == want_x[i] && s.y[i] == want_y[i], "point %lld: (%g, %g), expected (%g, %g)",
                   (long long)i, s.x[i], s.y[i], want_x[i], want_y[i]);
    gan_series_free(&s);
    gan_series_extract(&t, "missing", 100, &s);
    TEST_CHECK(s.n == 0, "a missing column is an empty series");
    gan_series_free(&s);
    gan_metrics_free(&t);
}

static void test_minmax(void) {
    enum { N = 100003 };
    gan_series s = {.n = N, .total = N, .x = malloc(N * sizeof(double)), .y = malloc(N * sizeof(double))};
    for (int i = 0; i < N; i++) s.x[i] = i + 1, s.y[i] = sin(i / 300.0);
    s.y[54321] = 99, s.y[77777] = -99;
    gan_series_minmax(&s, 2000);
    TEST_CHECK(s.n <= 2000 && s.n >= 1000, "at most 2000 points, got %lld", (long long)s.n);
    bool ordered = true, spike = false, dip = false;
    for (int64_t i = 0; i < s.n; i++) {
        if (i && !(s.x[i] > s.x[i - 1])) ordered = false;
        spike |= s.y[i] == 99 && s.x[i] == 54322;
        dip |= s.y[i] == -99 && s.x[i] == 77778;
    }
    TEST_CHECK(ordered, "points stay in step order");
    TEST_CHECK(spike && dip, "a one-step spike and dip survive");
    TEST_CHECK(s.x[0] == 1, "the curve starts at the first step (a bucket's lowest or highest point)");
    gan_series_free(&s);

    gan_series small = {.n = 3, .x = malloc(3 * sizeof(double)), .y = malloc(3 * sizeof(double))};
    for (int i = 0; i < 3; i++) small.x[i] = i, small.y[i] = i;
    gan_series_minmax(&small, 2000);
    TEST_CHECK(small.n == 3, "short series are kept whole");
    gan_series_free(&small);
}

static void test_config_and_names(void) {
    const char *yaml = "# comment\nname: dcgan_fmnist           # run name\nseed: 1\n\nmodel:      # the networks\n"
                       "  type: dcgan                     # architecture\n  resolution: 32\ndata:\n"
                       "  path: \"/a b/#c.gz\"   # quoted\ntrain:\n  steps: 3000   # number\n  threads: 0\n";
    char v[64];
    TEST_CHECK(gan_run_config_value(yaml, "model.type", v, sizeof v) && !strcmp(v, "dcgan"), "model.type: '%s'", v);
    TEST_CHECK(gan_run_config_value(yaml, "train.steps", v, sizeof v) && !strcmp(v, "3000"), "train.steps: '%s'", v);
    TEST_CHECK(gan_run_config_value(yaml, "name", v, sizeof v) && !strcmp(v, "dcgan_fmnist"), "name: '%s'", v);
    TEST_CHECK(gan_run_config_value(yaml, "data.path", v, sizeof v) && !strcmp(v, "/a b/#c.gz"), "data.path: '%s'", v);
    TEST_CHECK(!gan_run_config_value(yaml, "model.steps", v, sizeof v), "a key of another section is not found");
    TEST_CHECK(!gan_run_config_value(yaml, "type", v, sizeof v), "a nested key is not a top-level one");
    TEST_CHECK(gan_run_ckpt_name_step("ckpt-00001000.h5") == 1000, "ckpt name");
    TEST_CHECK(gan_run_ckpt_name_step("ckpt-00001000.h5.tmp.12") == -1, "a temporary is no checkpoint");
    TEST_CHECK(gan_run_ckpt_name_step("latest.h5") == -1 && gan_run_ckpt_name_step("ckpt-.h5") == -1, "other names");
}

static void test_run_end(void) {
    char dir[] = "/tmp/test_report.XXXXXX";
    TEST_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    gan_err err = {0};
    int64_t step;
    char msg[256];
    TEST_CHECK(gan_run_end_read(dir, &step, msg, sizeof msg) == GAN_RUN_END_NONE, "no status.json: none");
    const struct {
        int rc;
        const char *message;
        bool stopped;
        gan_run_end want;
    } cases[] = {
        {0, NULL, false, GAN_RUN_END_FINISHED},
        {0, "ignored", true, GAN_RUN_END_STOPPED},
        {1, "step 7: loss_d = nan (not finite): training diverged; \"quoted\" \\ back", false, GAN_RUN_END_DIVERGED},
        {1, "runs/x/metrics.jsonl: cannot append: No space left on device", false, GAN_RUN_END_FAILED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        TEST_CHECK(gan_run_end_write(dir, 7, cases[i].rc, cases[i].message, cases[i].stopped, &err) == 0, "write: %s",
                   err.msg);
        gan_run_end e = gan_run_end_read(dir, &step, msg, sizeof msg);
        TEST_CHECK(e == cases[i].want && step == 7, "case %zu: read %s at %lld", i, gan_run_end_name(e), (long long)step);
        const char *want_msg = cases[i].rc ? cases[i].message : "";
        TEST_CHECK(!strcmp(msg, want_msg), "case %zu: message '%s', expected '%s'", i, msg, want_msg);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/" GAN_RUN_STATUS_NAME, dir);
    unlink(p);
    rmdir(dir);
}

// The probe sees a lock held through another open file description (as a writer process's
// would be) and sees none once it is released; it never creates a lock file.
static void test_lock(void) {
    char dir[] = "/tmp/test_report_lock.XXXXXX", holder[320], p[512];
    TEST_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(p, sizeof p, "%s/" GAN_FS_LOCK_NAME, dir);
    TEST_CHECK(!gan_run_lock_held(dir, holder, sizeof holder) && access(p, F_OK) != 0,
               "no lock file: not held, and none made");
    int fd;
    gan_err err = {0};
    TEST_CHECK(gan_fs_lock_dir(dir, &fd, &err) == 0, "lock: %s", err.msg);
    TEST_CHECK(gan_run_lock_held(dir, holder, sizeof holder), "a held lock is seen");
    TEST_CHECK(!strncmp(holder, "pid ", 4), "its holder: '%s'", holder);
    gan_fs_unlock_dir(fd);
    TEST_CHECK(!gan_run_lock_held(dir, holder, sizeof holder), "a released lock is not");
    unlink(p);
    rmdir(dir);
}

int main(void) {
    test_lock();
    test_reader();
    test_series();
    test_minmax();
    test_config_and_names();
    test_run_end();
    return test_finish();
}
