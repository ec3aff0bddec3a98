// A run's summary (run_info.h).
#include "run_info.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "run_lock.h"

static const char *const state_names[] = {"running", "finished", "stopped", "diverged", "failed"};

const char *gan_run_state_name(gan_run_state s) { return state_names[s]; }

bool gan_run_is_dir(const char *path) {
    char p[GAN_PATH_MAX];
    return gan_fs_is_dir(path) && gan_fs_join(p, sizeof p, path, "config.yaml", NULL) == 0 && gan_fs_exists(p);
}

// "  key: value   # comment" -> "value" (quotes removed). False when the line is not "key:".
static bool line_value(const char *line, size_t len, const char *key, char *out, size_t size) {
    size_t k = strlen(key);
    if (len <= k || memcmp(line, key, k) || line[k] != ':') return false;
    const char *v = line + k + 1, *end = line + len;
    while (v < end && *v == ' ') v++;
    const char *e = v;
    if (v < end && (*v == '"' || *v == '\'')) {
        const char q = *v++;
        for (e = v; e < end && *e != q; e++) {}
    } else {
        for (e = v; e < end && !(*e == '#' && (e == v || e[-1] == ' ')); e++) {}
        while (e > v && e[-1] == ' ') e--;
    }
    snprintf(out, size, "%.*s", (int)(e - v), v);
    return true;
}

bool gan_run_config_value(const char *yaml, const char *key, char *out, size_t size) {
    const char *dot = strchr(key, '.');
    char section[64] = "";
    if (dot) snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
    const char *leaf = dot ? dot + 1 : key;
    bool in_section = false;
    for (const char *p = yaml; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && p[0] != ' ' && p[0] != '#') {  // a top-level line: a key, or a section's head
            char v[8];
            in_section = dot && line_value(p, len, section, v, sizeof v) && (!v[0] || v[0] == '#');
            if (!dot && line_value(p, len, leaf, out, size)) return true;
        } else if (in_section && len) {
            size_t ind = strspn(p, " ");
            if (line_value(p + ind, len - ind, leaf, out, size)) return true;
        }
        p = nl ? nl + 1 : p + len;
    }
    return false;
}

int64_t gan_run_ckpt_name_step(const char *name) {
    char *end;
    if (strncmp(name, "ckpt-", 5) || name[5] < '0' || name[5] > '9') return -1;
    long long s = strtoll(name + 5, &end, 10);
    return strcmp(end, ".h5") ? -1 : (int64_t)s;
}

static void newer(time_t *t, const char *dir, const char *name) {
    char p[GAN_PATH_MAX];
    struct stat st;
    if (gan_fs_join(p, sizeof p, dir, name, NULL) == 0 && stat(p, &st) == 0 && st.st_mtime > *t) *t = st.st_mtime;
}

static bool mtime_of(const char *dir, const char *name, struct timespec *t) {
    char p[GAN_PATH_MAX];
    struct stat st;
    if (gan_fs_join(p, sizeof p, dir, name, NULL) != 0 || stat(p, &st) != 0) return false;
    *t = st.st_mtim;
    return true;
}

// Whether RUN/name is at least as new as the log and the checkpoints folder (a session that
// started after status.json was written has appended to the one or renamed into the other).
static bool newest_of(const char *dir, const char *name) {
    static const char *const others[] = {"metrics.jsonl", "checkpoints"};
    struct timespec mine, other;
    if (!mtime_of(dir, name, &mine)) return false;
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        if (mtime_of(dir, others[i], &other) &&
            (other.tv_sec > mine.tv_sec || (other.tv_sec == mine.tv_sec && other.tv_nsec > mine.tv_nsec)))
            return false;
    return true;
}

static int64_t newest_checkpoint(const char *run_dir) {
    char p[GAN_PATH_MAX];
    int64_t best = -1;
    if (gan_fs_join(p, sizeof p, run_dir, "checkpoints", NULL) != 0) return -1;
    DIR *d = opendir(p);
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) {
        int64_t s = gan_run_ckpt_name_step(e->d_name);
        if (s > best) best = s;
    }
    closedir(d);
    return best;
}

// The last finite value of a column, or NAN.
static double last_value(const gan_metrics_table *t, const char *name) {
    const gan_metrics_col *c = gan_metrics_find(t, name);
    for (int64_t r = t->rows - 1; c && r >= 0; r--)
        if (isfinite(c->v[r])) return c->v[r];
    return NAN;
}

static void summarise_log(const gan_metrics_table *t, gan_run_info *ri) {
    ri->loss_d = last_value(t, "loss_d");
    ri->loss_g = last_value(t, "loss_g");
    ri->ips = last_value(t, "images_per_sec");
    ri->elapsed = last_value(t, "time");
    ri->log_lines = t->rows;
    double last_step = last_value(t, "step");
    if (isfinite(last_step) && (int64_t)last_step > ri->step) ri->step = (int64_t)last_step;
    ri->best_fid = NAN;
    const gan_metrics_col *fid = gan_metrics_find(t, "fid"), *step = gan_metrics_find(t, "step");
    for (int64_t r = 0; fid && step && r < t->rows; r++)
        if (isfinite(fid->v[r]) && !(fid->v[r] >= ri->best_fid))
            ri->best_fid = fid->v[r], ri->best_fid_step = (int64_t)step->v[r];
}

int gan_run_info_read(const char *dir, const gan_metrics_table *metrics, bool ending, gan_run_info *ri,
                      gan_err *err) {
    memset(ri, 0, sizeof *ri);
    if (!gan_fs_is_dir(dir))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s", dir, gan_fs_exists(dir) ? "not a directory" : "no such directory");
    if (!gan_run_is_dir(dir))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s is not a run directory (it has no config.yaml)", dir);
    snprintf(ri->dir, sizeof ri->dir, "%s", dir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    const char *base = dir + len;
    while (base > dir && base[-1] != '/') base--;
    snprintf(ri->name, sizeof ri->name, "%.*s", (int)(dir + len - base), base);

    char path[GAN_PATH_MAX], *yaml, v[64];
    size_t n;
    if (gan_fs_join(path, sizeof path, dir, "config.yaml", err) != 0 || gan_fs_read_all(path, &yaml, &n, err) != 0)
        return -1;
    if (!gan_run_config_value(yaml, "model.type", ri->family, sizeof ri->family)) snprintf(ri->family, sizeof ri->family, "?");
    if (!gan_run_config_value(yaml, "device", ri->device, sizeof ri->device)) snprintf(ri->device, sizeof ri->device, "cpu");
    ri->total = gan_run_config_value(yaml, "train.steps", v, sizeof v) ? strtoll(v, NULL, 10) : 0;
    ri->threads = gan_run_config_value(yaml, "train.threads", v, sizeof v) ? atoi(v) : 0;
    free(yaml);

    gan_metrics_table own;
    if (!metrics) {
        if (gan_fs_join(path, sizeof path, dir, "metrics.jsonl", err) != 0 || gan_metrics_read(path, &own, err) != 0)
            return -1;
    }
    ri->ckpt_step = newest_checkpoint(dir);
    ri->step = ri->ckpt_step > 0 ? ri->ckpt_step : 0;
    summarise_log(metrics ? metrics : &own, ri);
    if (!metrics) gan_metrics_free(&own);

    static const char *const watched[] = {"metrics.jsonl", "config.yaml", GAN_RUN_STATUS_NAME, "checkpoints", "samples"};
    for (size_t i = 0; i < sizeof watched / sizeof *watched; i++) newer(&ri->changed, dir, watched[i]);

    // The state: a lock held now says running, whatever the files say. Otherwise the end the
    // last session recorded, unless a later session wrote to the log or the checkpoints after
    // it and left no record (killed), or got further.
    int64_t end_step;
    gan_run_end end = gan_run_end_read(dir, &end_step, ri->message, sizeof ri->message);
    if (end != GAN_RUN_END_NONE && !newest_of(dir, GAN_RUN_STATUS_NAME)) end = GAN_RUN_END_NONE;
    if (!ending && gan_run_lock_held(dir, ri->holder, sizeof ri->holder)) {
        ri->state = GAN_RUN_RUNNING;
        ri->message[0] = '\0';
    } else if (end != GAN_RUN_END_NONE && end_step >= ri->step) {
        if (end_step > ri->step) ri->step = end_step;  // a divergence counts the step that failed
        // A signal that came with the last step still leaves a finished run.
        bool done = ri->total > 0 && ri->ckpt_step >= ri->total;
        ri->state = end == GAN_RUN_END_FINISHED || (end == GAN_RUN_END_STOPPED && done) ? GAN_RUN_FINISHED
                    : end == GAN_RUN_END_STOPPED ? GAN_RUN_STOPPED
                    : end == GAN_RUN_END_DIVERGED ? GAN_RUN_DIVERGED
                                                  : GAN_RUN_FAILED;
    } else {
        ri->state = ri->total > 0 && ri->ckpt_step >= ri->total ? GAN_RUN_FINISHED : GAN_RUN_STOPPED;
        ri->message[0] = '\0';
    }
    return 0;
}
