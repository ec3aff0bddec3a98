// gan runs: one line per run directory (src/gan/report/run_info.h).
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "fsutil.h"
#include "json.h"
#include "run_info.h"

static const char usage[] =
    "usage: gan runs [DIR] [--json]\n"
    "\n"
    "One line per run directory in DIR (default runs/), or for DIR itself when it is a run:\n"
    "name, model family, step of train.steps, state, the last logged losses, the best FID (with\n"
    "eval.every), the last images/s, and how long ago the run last changed.\n"
    "\n"
    "States: running (a process holds the run's lock now), finished (at train.steps), stopped\n"
    "(short of it: Ctrl-C, SIGTERM, or killed), diverged (a loss or weight turned NaN or\n"
    "infinite), failed (another error ended it: a full disk, say).\n"
    "\n"
    "options:\n"
    "  --json   one JSON object per run and line instead of the table\n";

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void age(char *out, size_t size, time_t changed, time_t now) {
    double s = difftime(now, changed);
    if (changed == 0) snprintf(out, size, "-");
    else if (s < 0) snprintf(out, size, "just now");
    else if (s < 90) snprintf(out, size, "%.0fs ago", s);
    else if (s < 90 * 60) snprintf(out, size, "%.0fm ago", s / 60);
    else if (s < 36 * 3600) snprintf(out, size, "%.0fh ago", s / 3600);
    else snprintf(out, size, "%.0fd ago", s / 86400);
}

static void number(char *out, size_t size, double v, const char *fmt) {
    if (isfinite(v)) snprintf(out, size, fmt, v);
    else snprintf(out, size, "-");
}

static void json_number(FILE *f, const char *key, double v) {
    if (isfinite(v)) fprintf(f, ", \"%s\": %.6g", key, v);
    else fprintf(f, ", \"%s\": null", key);
}

static void print_json(const gan_run_info *r, time_t now) {
    fputs("{\"name\": ", stdout);
    gan_json_string(stdout, r->name);
    fputs(", \"dir\": ", stdout);
    gan_json_string(stdout, r->dir);
    fputs(", \"family\": ", stdout);
    gan_json_string(stdout, r->family);
    fprintf(stdout, ", \"step\": %lld, \"total\": %lld, \"state\": \"%s\"", (long long)r->step, (long long)r->total,
            gan_run_state_name(r->state));
    json_number(stdout, "loss_d", r->loss_d);
    json_number(stdout, "loss_g", r->loss_g);
    json_number(stdout, "best_fid", r->best_fid);
    if (isfinite(r->best_fid)) fprintf(stdout, ", \"best_fid_step\": %lld", (long long)r->best_fid_step);
    json_number(stdout, "images_per_sec", r->ips);
    fprintf(stdout, ", \"changed\": %lld, \"age_seconds\": %.0f, \"holder\": ", (long long)r->changed,
            difftime(now, r->changed));
    gan_json_string(stdout, r->holder);
    fputs(", \"message\": ", stdout);
    gan_json_string(stdout, r->message);
    fputs("}\n", stdout);
}

// The cells of one run's line.
typedef struct cells {
    char steps[48], ld[24], lg[24], fid[40], ips[24], ago[24];
} cells;

static void fill(cells *c, const gan_run_info *r, time_t now) {
    snprintf(c->steps, sizeof c->steps, "%lld/%lld", (long long)r->step, (long long)r->total);
    number(c->ld, sizeof c->ld, r->loss_d, "%.4f");
    number(c->lg, sizeof c->lg, r->loss_g, "%.4f");
    if (isfinite(r->best_fid)) snprintf(c->fid, sizeof c->fid, "%.2f @%lld", r->best_fid, (long long)r->best_fid_step);
    else snprintf(c->fid, sizeof c->fid, "-");
    number(c->ips, sizeof c->ips, r->ips, "%.0f");
    age(c->ago, sizeof c->ago, r->changed, now);
}

static int wider(int w, const char *s) { return (int)strlen(s) > w ? (int)strlen(s) : w; }

// Columns as wide as their widest cell: names left-aligned, numbers right-aligned.
static void print_table(const gan_run_info *runs, const bool *ok, size_t count, int width, time_t now) {
    int wf = 6, ws = 4, wd = 6, wg = 6, wb = 8, wi = 5;
    cells c;
    for (size_t i = 0; i < count; i++) {
        if (!ok[i]) continue;
        fill(&c, &runs[i], now);
        wf = wider(wf, runs[i].family), ws = wider(ws, c.steps), wd = wider(wd, c.ld), wg = wider(wg, c.lg);
        wb = wider(wb, c.fid), wi = wider(wi, c.ips);
    }
    printf("%-*s  %-*s  %*s  %-8s  %*s  %*s  %*s  %*s  %s\n", width, "RUN", wf, "FAMILY", ws, "STEP", "STATE", wd,
           "LOSS_D", wg, "LOSS_G", wb, "BEST FID", wi, "IMG/S", "CHANGED");
    for (size_t i = 0; i < count; i++) {
        if (!ok[i]) continue;
        const gan_run_info *r = &runs[i];
        fill(&c, r, now);
        printf("%-*.*s  %-*s  %*s  %-8s  %*s  %*s  %*s  %*s  %s\n", width, width, r->name, wf, r->family, ws, c.steps,
               gan_run_state_name(r->state), wd, c.ld, wg, c.lg, wb, c.fid, wi, c.ips, c.ago);
    }
}

int gan_cmd_runs(int argc, char **argv) {
    gan_err err = {0};
    const char *dir = NULL;
    bool json = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return fputs(usage, stdout), 0;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-') {
            gan_errf(&err, GAN_EXIT_USAGE, "unknown option %s (usage: gan runs [DIR] [--json])", gan_config_clip(a).s);
            return gan_cli_fail("runs", &err);
        } else if (dir) {
            gan_errf(&err, GAN_EXIT_USAGE, "unexpected argument '%s' (usage: gan runs [DIR] [--json])",
                     gan_config_clip(a).s);
            return gan_cli_fail("runs", &err);
        } else {
            dir = a;
        }
    }
    if (!dir) dir = "runs";
    if (!gan_fs_is_dir(dir)) {
        gan_errf(&err, GAN_EXIT_RUNTIME, "%s: %s", dir,
                 gan_fs_exists(dir) ? "not a directory" : "no such directory (gan train makes runs/NAME)");
        return gan_cli_fail("runs", &err);
    }

    // The run directories: DIR itself when it is one, else its subdirectories that are.
    char **names = NULL;
    size_t n = 0, cap = 0;
    char path[GAN_PATH_MAX];
    bool single = gan_run_is_dir(dir);
    DIR *d = single ? NULL : opendir(dir);
    if (!single && !d) {
        gan_errf(&err, GAN_EXIT_RUNTIME, "%s: cannot list: %m", dir);
        return gan_cli_fail("runs", &err);
    }
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || gan_fs_join(path, sizeof path, dir, e->d_name, NULL) != 0 || !gan_run_is_dir(path))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) {
                gan_errf(&err, GAN_EXIT_RUNTIME, "out of memory listing %s", dir);
                break;
            }
            names = bigger;
        }
        names[n++] = strdup(e->d_name);
    }
    if (d) closedir(d);
    if (err.msg[0]) return gan_cli_fail("runs", &err);
    if (n > 1) qsort(names, n, sizeof *names, by_name);  // names is NULL when the folder had none

    size_t count = single ? 1 : n;
    gan_run_info *runs = calloc(count ? count : 1, sizeof *runs);
    bool *ok = calloc(count ? count : 1, sizeof *ok);
    int rc = 0, width = 3;
    for (size_t i = 0; runs && ok && i < count; i++) {
        const char *run = single ? dir : path;
        if (!single && gan_fs_join(path, sizeof path, dir, names[i], &err) != 0) continue;
        gan_err e = {0};
        ok[i] = gan_run_info_read(run, NULL, false, &runs[i], &e) == 0;
        if (!ok[i]) {
            fprintf(stderr, "gan runs: error: %s\n", e.msg);  // the other runs are still listed
            rc = GAN_EXIT_RUNTIME;
        } else if ((int)strlen(runs[i].name) > width) {
            width = (int)strlen(runs[i].name);
        }
    }
    if (width > 40) width = 40;
    time_t now = time(NULL);
    if (json) {
        for (size_t i = 0; runs && ok && i < count; i++)
            if (ok[i]) print_json(&runs[i], now);
    } else if (count == 0) {
        printf("no runs in %s\n", dir);
    } else if (runs && ok) {
        print_table(runs, ok, count, width, now);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(runs);
    free(ok);
    return rc;
}
