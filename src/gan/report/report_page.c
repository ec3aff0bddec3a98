// Writes report.html (report.h): the page is assembled in memory, then written atomically, so
// a browser reloading while the trainer refreshes it sees the old page or the new one.
#define _DEFAULT_SOURCE  // readlink, lstat
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"
#include "metrics_table.h"
#include "report.h"
#include "report_assets.h"
#include "run_info.h"
#include "series.h"

gan_report_opts gan_report_default_opts(void) {
    return (gan_report_opts){.max_points = 2000, .max_grids = 40, .image_budget = 8u << 20, .ending = false};
}

static void html(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

// A JSON string that is also safe inside <script>: '<' is escaped, so no "</script>" can end it.
static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<') fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void base64(FILE *f, const unsigned char *d, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        fputc(t[v >> 18 & 63], f);
        fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

// "<before>data:image/png;base64,...<after>" for the PNG file at path; nothing at all when it
// cannot be read (gone since it was listed: a resume moved it aside).
static void png_uri(FILE *f, const char *before, const char *path, const char *after) {
    char *data;
    size_t n;
    gan_err ignored;
    if (gan_fs_read_all(path, &data, &n, &ignored) != 0) return;
    fprintf(f, "%sdata:image/png;base64,", before);
    base64(f, (const unsigned char *)data, n);
    fputs(after, f);
    free(data);
}

static void human_bytes(char *out, size_t size, double b) {
    if (b < 1024) snprintf(out, size, "%.0f B", b);
    else if (b < 1024 * 1024) snprintf(out, size, "%.1f KiB", b / 1024);
    else snprintf(out, size, "%.1f MiB", b / (1024 * 1024));
}

static void human_seconds(char *out, size_t size, double s) {
    if (!isfinite(s)) {
        snprintf(out, size, "-");
        return;
    }
    long long t = (long long)(s + 0.5);
    snprintf(out, size, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
}

static void utc(char *out, size_t size, time_t t) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

// ---- the curves ------------------------------------------------------------------------------

// Which chart a metrics key goes to; the step's own bookkeeping and an evaluation's settings are
// not drawn. Unknown numeric keys (a new family's statistics) land in "other", so nothing a run
// logs is lost from the page.
enum { G_LOSS, G_D, G_REG, G_IPS, G_FID, G_KID, G_PRDC, G_OTHER, G_COUNT, G_NONE = -1 };
static const struct {
    const char *id, *title, *note;
    bool markers;  // evaluations: few points, each drawn
} groups[G_COUNT] = {
    [G_LOSS] = {"losses", "Losses", "means over each log interval", false},
    [G_D] = {"d", "Discriminator outputs: D(x), D(G(z))",
             "d_x: D on real images; d_g_z1: D on fakes in D's step; d_g_z2: in G's step (scores_*: StyleGAN2's logits)",
             false},
    [G_REG] = {"reg", "Regularisers", "StyleGAN2: R1 penalty, path-length penalty and its running mean", false},
    [G_IPS] = {"ips", "Images/s", "training throughput over each log interval", false},
    [G_FID] = {"fid", "FID", "lower is better (eval.every)", true},
    [G_KID] = {"kid", "KID", "lower is better (eval.every)", true},
    [G_PRDC] = {"prdc", "Precision, recall, density, coverage", "eval.every", true},
    [G_OTHER] = {"other", "Other statistics", NULL, false},
};

static int group_of(const char *k) {
    static const char *const skip[] = {"step", "time", "kid_std", "eval_n", "eval_ref_n", "kid_subsets",
                                       "kid_subset_size", "feature_dim", "eval_seconds"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcmp(k, skip[i])) return G_NONE;
    if (!strncmp(k, "loss", 4)) return G_LOSS;
    if (!strncmp(k, "d_", 2) || !strncmp(k, "scores_", 7)) return G_D;
    if (!strncmp(k, "r1", 2) || !strncmp(k, "pl_", 3)) return G_REG;
    if (!strcmp(k, "images_per_sec")) return G_IPS;
    if (!strcmp(k, "fid")) return G_FID;
    if (!strcmp(k, "kid")) return G_KID;
    if (!strcmp(k, "precision") || !strcmp(k, "recall") || !strcmp(k, "density") || !strcmp(k, "coverage"))
        return G_PRDC;
    return G_OTHER;
}

static void json_series(FILE *f, const char *name, const gan_series *s) {
    fputs("{\"name\":", f);
    jstr(f, name);
    fprintf(f, ",\"total\":%lld,\"x\":[", (long long)s->total);
    for (int64_t i = 0; i < s->n; i++) fprintf(f, i ? ",%.0f" : "%.0f", s->x[i]);
    fputs("],\"y\":[", f);
    for (int64_t i = 0; i < s->n; i++) fprintf(f, i ? ",%.6g" : "%.6g", s->y[i]);
    fputs("]}", f);
}

static void json_groups(FILE *f, const gan_metrics_table *t, int64_t max_points) {
    fputs("\"groups\":[", f);
    bool first_group = true;
    for (int g = 0; g < G_COUNT; g++) {
        bool any = false, thinned = false;
        for (int c = 0; c < t->ncols; c++) {
            if (group_of(t->cols[c].name) != g) continue;
            gan_series s;
            gan_series_extract(t, t->cols[c].name, max_points, &s);
            if (s.n) {
                if (!any) {
                    fprintf(f, "%s{\"id\":\"%s\",\"title\":", first_group ? "" : ",", groups[g].id);
                    jstr(f, groups[g].title);
                    fprintf(f, ",\"markers\":%s,\"series\":[", groups[g].markers ? "true" : "false");
                    first_group = false;
                } else {
                    fputc(',', f);
                }
                any = true;
                thinned |= s.n < s.total;
                json_series(f, t->cols[c].name, &s);
            }
            gan_series_free(&s);
        }
        if (!any) continue;
        char note[320], thin[128] = "";
        if (thinned)
            snprintf(thin, sizeof thin, "long series drawn from the lowest and highest value of each of %lld buckets",
                     (long long)(max_points / 2));
        snprintf(note, sizeof note, "%s%s%s", groups[g].note ? groups[g].note : "", groups[g].note && thinned ? "; " : "",
                 thin);
        fputs("],\"note\":", f);
        jstr(f, note);
        fputc('}', f);
    }
    fputs("]", f);
}

// ---- sample grids ----------------------------------------------------------------------------

typedef struct grid {
    int64_t step;
    off_t size;
} grid;

static int by_step(const void *a, const void *b) {
    const grid *p = a, *q = b;
    return (p->step > q->step) - (p->step < q->step);
}

// samples/step-N.png, in step order; *n of them.
static grid *list_grids(const char *samples, int *n) {
    *n = 0;
    DIR *d = opendir(samples);
    if (!d) return NULL;
    int cap = 64;
    grid *g = gan_xmalloc((size_t)cap * sizeof *g, "the list of sample grids");
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        if (strncmp(e->d_name, "step-", 5) || e->d_name[5] < '0' || e->d_name[5] > '9') continue;
        long long s = strtoll(e->d_name + 5, &end, 10);
        char p[GAN_PATH_MAX];
        struct stat st;
        if (strcmp(end, ".png") || gan_fs_join(p, sizeof p, samples, e->d_name, NULL) != 0 || stat(p, &st) != 0) continue;
        if (*n == cap) {
            cap *= 2;
            grid *bigger = realloc(g, (size_t)cap * sizeof *g);
            GAN_CHECK(bigger, "out of memory listing %d sample grids", cap);
            g = bigger;
        }
        g[(*n)++] = (grid){s, st.st_size};
    }
    closedir(d);
    qsort(g, (size_t)*n, sizeof *g, by_step);
    return g;
}

// Which grids to embed: k of n spread evenly (the first and the newest always), k the most
// that fit the byte budget, at most max. Their indices go to idx, ascending; returns how many.
static int choose_grids(const grid *g, int n, int max, size_t budget, int *idx) {
    for (int k = n < max ? n : max; k >= 1; k--) {
        size_t bytes = 0;
        int m = 0;
        for (int i = 0; i < k; i++) {
            int j = k == 1 ? n - 1 : (int)((int64_t)i * (n - 1) / (k - 1));
            if (m && idx[m - 1] == j) continue;
            idx[m++] = j;
            bytes += (size_t)g[j].size;
        }
        if (bytes <= budget || k == 1) return m;  // the newest grid alone goes in whatever its size
    }
    return 0;
}

static void json_grids(FILE *f, const char *samples, const gan_report_opts *o, gan_report_summary *sum) {
    int n, *idx = NULL, k = 0;
    grid *g = list_grids(samples, &n);
    fputs("\"grids\":[", f);
    if (n) {
        idx = gan_xmalloc((size_t)n * sizeof *idx, "the chosen sample grids");
        k = choose_grids(g, n, o->max_grids > 0 ? o->max_grids : 1, o->image_budget, idx);
    }
    int written = 0;
    for (int i = 0; i < k; i++) {
        char name[64], p[GAN_PATH_MAX];
        snprintf(name, sizeof name, "step-%08lld.png", (long long)g[idx[i]].step);
        char before[64];
        snprintf(before, sizeof before, "%s{\"step\":%lld,\"src\":\"", written ? "," : "", (long long)g[idx[i]].step);
        long at = ftell(f);
        if (gan_fs_join(p, sizeof p, samples, name, NULL) == 0) png_uri(f, before, p, "\"}");
        written += ftell(f) != at;
    }
    fputs("]", f);
    sum->grids = written;
    sum->grids_total = n;
    free(idx);
    free(g);
}

// ---- the tables ------------------------------------------------------------------------------

typedef struct ckpt_row {
    char name[256];
    int64_t step;
    off_t size;
    time_t mtime;
} ckpt_row;

static int by_ckpt_step(const void *a, const void *b) {
    const ckpt_row *p = a, *q = b;
    return (p->step > q->step) - (p->step < q->step);
}

static void checkpoints_section(FILE *f, const char *run_dir, const gan_run_info *ri) {
    char dir[GAN_PATH_MAX], p[GAN_PATH_MAX], latest[256] = "", when[64], size[32];
    ckpt_row rows[256];
    int n = 0, abandoned = 0;
    bool best = false;
    struct stat best_st = {0};
    fputs("<section id=\"checkpoints\"><h2>Checkpoints</h2>\n", f);
    DIR *d = gan_fs_join(dir, sizeof dir, run_dir, "checkpoints", NULL) == 0 ? opendir(dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        if (gan_fs_join(p, sizeof p, dir, e->d_name, NULL) != 0 || lstat(p, &st) != 0) continue;
        int64_t step = gan_run_ckpt_name_step(e->d_name);
        if (step >= 0 && S_ISREG(st.st_mode) && n < (int)(sizeof rows / sizeof *rows)) {
            rows[n] = (ckpt_row){.step = step, .size = st.st_size, .mtime = st.st_mtime};
            snprintf(rows[n++].name, sizeof rows->name, "%s", e->d_name);
        } else if (!strcmp(e->d_name, "latest.h5") && S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(p, latest, sizeof latest - 1);
            latest[k > 0 ? k : 0] = '\0';
        } else if (!strcmp(e->d_name, "best.h5") && S_ISREG(st.st_mode)) {
            best = true, best_st = st;
        } else if (!strncmp(e->d_name, "abandoned-", 10) && S_ISDIR(st.st_mode)) {
            abandoned++;
        }
    }
    if (d) closedir(d);
    qsort(rows, (size_t)n, sizeof *rows, by_ckpt_step);
    if (!n && !best) fputs("<p>none yet (the first is written at checkpoint.every steps)</p>\n", f);
    else fputs("<table><tr><th>file</th><th>step</th><th>size</th><th>written</th><th></th></tr>\n", f);
    for (int i = n - 1; i >= 0; i--) {
        human_bytes(size, sizeof size, (double)rows[i].size);
        utc(when, sizeof when, rows[i].mtime);
        fprintf(f, "<tr><td>checkpoints/%s</td><td class=\"n\">%lld</td><td class=\"n\">%s</td><td>%s</td><td>%s</td></tr>\n",
                rows[i].name, (long long)rows[i].step, size, when,
                !strcmp(rows[i].name, latest) ? "&larr; latest.h5" : "");
    }
    if (best) {
        human_bytes(size, sizeof size, (double)best_st.st_size);
        utc(when, sizeof when, best_st.st_mtime);
        fprintf(f, "<tr><td>checkpoints/best.h5</td><td class=\"n\">%lld</td><td class=\"n\">%s</td><td>%s</td>"
                "<td>best FID %.2f</td></tr>\n", (long long)ri->best_fid_step, size, when, ri->best_fid);
    }
    if (n || best) fputs("</table>\n", f);
    if (latest[0]) {
        fputs("<p class=\"note\">latest.h5 &rarr; ", f);
        html(f, latest);
        if (gan_fs_join(p, sizeof p, dir, latest, NULL) != 0 || !gan_fs_exists(p)) fputs(" (missing)", f);
        fputs("</p>\n", f);
    }
    if (abandoned)
        fprintf(f, "<p class=\"note\">%d abandoned-* folder%s: what resumes from older checkpoints moved aside</p>\n",
                abandoned, abandoned == 1 ? "" : "s");
    fputs("</section>\n", f);
}

static void row(FILE *f, const char *k, const char *v) {
    fprintf(f, "<tr><th>%s</th><td>", k);
    html(f, v);
    fputs("</td></tr>\n", f);
}

static void cpu_model(char *out, size_t size) {
    snprintf(out, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            colon += strspn(colon + 1, " ") + 1;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(out, size, "%s", colon);
            break;
        }
    }
    if (f) fclose(f);
}

static void hardware_section(FILE *f, const char *run_dir, const gan_run_info *ri, const gan_metrics_table *t,
                             const char *yaml) {
    char v[512], lock[GAN_PATH_MAX], holder[320] = "", batch[32] = "?";
    fputs("<section id=\"hardware\"><h2>Hardware and timing</h2><table>\n", f);
    // The lock file keeps "pid N host H" of the run's last writer, running or not.
    if (gan_fs_join(lock, sizeof lock, run_dir, GAN_FS_LOCK_NAME, NULL) == 0) {
        FILE *lf = fopen(lock, "r");
        if (lf && fgets(holder, sizeof holder, lf)) holder[strcspn(holder, "\n")] = '\0';
        if (lf) fclose(lf);
    }
    row(f, "last writer", holder[0] ? holder : "-");
    row(f, "device", ri->device);
    if (ri->threads > 0) snprintf(v, sizeof v, "%d", ri->threads);
    else snprintf(v, sizeof v, "all cores (train.threads: 0)");
    row(f, "threads", v);
    gan_run_config_value(yaml, "train.batch_size", batch, sizeof batch);
    row(f, "batch size", batch);
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    snprintf(v, sizeof v, "%s, %ld cores online", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    row(f, "this machine", v);
    human_seconds(v, sizeof v, ri->elapsed);
    row(f, "training time", v);
    if (isfinite(ri->elapsed) && ri->elapsed > 0 && ri->step > 0) {
        snprintf(v, sizeof v, "%.2f", (double)ri->step / ri->elapsed);
        row(f, "steps/s (whole run)", v);
    }
    const gan_metrics_col *ips = gan_metrics_find(t, "images_per_sec");
    double sum = 0, max = 0;
    int64_t k = 0;
    for (int64_t r = 0; ips && r < t->rows; r++)
        if (isfinite(ips->v[r])) sum += ips->v[r], k++, max = ips->v[r] > max ? ips->v[r] : max;
    if (k) {
        snprintf(v, sizeof v, "%.0f last, %.0f mean, %.0f best interval", ri->ips, sum / (double)k, max);
        row(f, "images/s", v);
    }
    if (ri->state == GAN_RUN_RUNNING && isfinite(ri->elapsed) && ri->elapsed > 0 && ri->step > 0 && ri->total > ri->step) {
        human_seconds(v, sizeof v, (double)(ri->total - ri->step) * ri->elapsed / (double)ri->step);
        row(f, "to go (estimate)", v);
    }
    fputs("</table></section>\n", f);
}

// ---- the page --------------------------------------------------------------------------------

static int build(const char *run_dir, const gan_report_opts *o, bool ending, FILE *f, gan_report_summary *sum,
                 gan_err *err) {
    char p[GAN_PATH_MAX], *yaml = NULL, when[64], line[512];
    size_t ylen;
    gan_metrics_table t;
    gan_run_info ri;
    if (!gan_run_is_dir(run_dir)) return gan_run_info_read(run_dir, NULL, ending, &ri, err);  // its error
    if (gan_fs_join(p, sizeof p, run_dir, "metrics.jsonl", err) != 0 || gan_metrics_read(p, &t, err) != 0) return -1;
    if (gan_run_info_read(run_dir, &t, ending, &ri, err) != 0 ||
        gan_fs_join(p, sizeof p, run_dir, "config.yaml", err) != 0 || gan_fs_read_all(p, &yaml, &ylen, err) != 0) {
        gan_metrics_free(&t);
        return -1;
    }
    sum->log_lines = t.rows;
    const char *state = gan_run_state_name(ri.state);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    html(f, ri.name);
    fprintf(f, " &middot; gan report</title>\n<style>%s</style></head><body>\n<header><h1>", gan_report_css);
    html(f, ri.name);
    fprintf(f, "</h1>\n<p class=\"state s-%s\" id=\"state\">%s &middot; step %lld of %lld &middot; ", state, state,
            (long long)ri.step, (long long)ri.total);
    html(f, ri.family);
    utc(when, sizeof when, ri.changed);
    fprintf(f, " &middot; last change %s</p>\n", when);
    if (ri.message[0]) {
        fputs("<p class=\"msg\">", f);
        html(f, ri.message);
        fputs("</p>\n", f);
    }
    if (isfinite(ri.best_fid)) fprintf(f, "<p>best FID %.2f at step %lld</p>\n", ri.best_fid, (long long)ri.best_fid_step);
    fputs("<p class=\"note\">", f);
    html(f, run_dir);
    fputs(": <a href=\"#curves\">curves</a> &middot; <a href=\"#samples\">samples</a> &middot; "
          "<a href=\"#checkpoints\">checkpoints</a> &middot; <a href=\"#hardware\">hardware and timing</a> &middot; "
          "<a href=\"#config\">config</a></p></header>\n", f);

    fprintf(f, "<section id=\"curves\"><h2>Training curves</h2>\n<p class=\"note\">%lld log lines", (long long)t.rows);
    if (t.skipped) fprintf(f, ", %lld skipped (a line being written, or torn)", (long long)t.skipped);
    fputs("; hover a chart for the values at a step</p>\n<div id=\"plots\"></div>\n"
          "<noscript><p>The charts are drawn by the page's script; enable JavaScript.</p></noscript></section>\n", f);

    fputs("<section id=\"samples\"><h2>Samples</h2>\n<div class=\"grids\"><figure id=\"grids\">"
          "<div><input type=\"range\" id=\"grid-slider\" min=\"0\" max=\"0\" value=\"0\" step=\"1\" aria-label=\"step\"> "
          "<span id=\"grid-step\">no sample grid yet</span></div>\n<img id=\"grid-img\" alt=\"sample grid\"></figure>\n", f);
    if (gan_fs_join(p, sizeof p, run_dir, "samples/real.png", NULL) == 0)
        png_uri(f, "<figure><div>training images (samples/real.png)</div><img id=\"real-grid\" alt=\"training images\" src=\"",
                p, "\"></figure>");
    fputs("</div>\n", f);
    fputs("<p class=\"note\" id=\"grid-note\"></p></section>\n", f);

    checkpoints_section(f, run_dir, &ri);
    hardware_section(f, run_dir, &ri, &t, yaml);
    fputs("<section id=\"config\"><h2>Config (config.yaml)</h2><pre>", f);
    html(f, yaml);
    fputs("</pre></section>\n", f);
    time_t now = time(NULL);
    utc(when, sizeof when, now);
    snprintf(line, sizeof line, "written %s; a training run rewrites this page every sample.every steps and at its "
             "end: reload to follow it", when);
    fputs("<footer class=\"note\">", f);
    html(f, line);
    fputs("</footer>\n<script type=\"application/json\" id=\"gan-data\">{", f);
    json_groups(f, &t, o->max_points);
    fputc(',', f);
    if (gan_fs_join(p, sizeof p, run_dir, "samples", err) != 0) {
        free(yaml);
        gan_metrics_free(&t);
        return -1;
    }
    json_grids(f, p, o, sum);
    fprintf(f, ",\"grids_total\":%d}</script>\n<script>%s</script>\n", sum->grids_total, gan_report_js);
    fputs("</body></html>\n", f);
    free(yaml);
    gan_metrics_free(&t);
    return 0;
}

int gan_report_write(const char *run_dir, const char *out, const gan_report_opts *o, gan_report_summary *sum,
                     gan_err *err) {
    gan_report_summary own;
    if (!sum) sum = &own;
    memset(sum, 0, sizeof *sum);
    gan_report_opts def = gan_report_default_opts();
    if (!o) o = &def;
    char path[GAN_PATH_MAX], *page = NULL;
    size_t n = 0;
    if (!out) {
        if (gan_fs_join(path, sizeof path, run_dir, "report.html", err) != 0) return -1;
        out = path;
    }
    FILE *f = open_memstream(&page, &n);
    GAN_CHECK(f, "out of memory starting a report");
    int rc = build(run_dir, o, o->ending, f, sum, err);
    fclose(f);
    if (rc == 0) rc = gan_fs_write_atomic_unsynced(out, page, n, err);  // derived: rebuilt from the run
    sum->bytes = n;
    free(page);
    return rc;
}

