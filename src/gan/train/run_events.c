#include "run_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "stats.h"

gan_tfevents *gan_run_events_open(const char *run_dir, int64_t start_step, const char *config_yaml, gan_err *err) {
    gan_tfevents *ev = gan_tfevents_open(run_dir, err);
    if (!ev) return NULL;
    // Indented four spaces: a markdown code block, so the text plugin keeps the YAML's lines.
    size_t n = strlen(config_yaml), lines = 1;
    for (const char *p = config_yaml; *p; p++) lines += *p == '\n';
    char *md = gan_xmalloc(n + 4 * lines + 1, "the config as markdown");
    char *o = md;
    for (const char *p = config_yaml; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
        memcpy(o, "    ", 4);
        memcpy(o + 4, p, len);
        o += 4 + len;
        p += len;
    }
    *o = '\0';
    int rc = gan_tfevents_session_start(ev, start_step + 1, err) == 0 &&
             gan_tfevents_text(ev, start_step, "config", md, err) == 0 ? 0 : -1;
    free(md);
    if (rc != 0) {
        gan_tfevents_close(ev);
        return NULL;
    }
    return ev;
}

int gan_run_events_interval(gan_tfevents *ev, int64_t step, int n, const char *const *names, const double *sum,
                            const int64_t *count, double images_per_sec, gan_err *err) {
    char tags[GAN_STATS_MAX + 1][64];
    const char *tag_ptrs[GAN_STATS_MAX + 1];
    float values[GAN_STATS_MAX + 1];
    int k = 0;
    for (int i = 0; i < n && i < GAN_STATS_MAX; i++) {
        if (!count[i]) continue;
        if (!strcmp(names[i], "loss_d") || !strcmp(names[i], "loss_g"))
            snprintf(tags[k], sizeof tags[k], "loss/%s", names[i] + 5);
        else
            snprintf(tags[k], sizeof tags[k], "train/%s", names[i]);
        values[k++] = (float)(sum[i] / (double)count[i]);
    }
    snprintf(tags[k], sizeof tags[k], "speed/images_per_sec");
    values[k++] = (float)images_per_sec;
    for (int i = 0; i < k; i++) tag_ptrs[i] = tags[i];
    return gan_tfevents_scalars(ev, step, k, tag_ptrs, values, err);
}

int gan_run_events_eval(gan_tfevents *ev, int64_t step, const gan_eval_result *r, gan_err *err) {
    static const char *const tags[] = {"eval/fid", "eval/kid", "eval/kid_std", "eval/precision", "eval/recall",
                                       "eval/density", "eval/coverage"};
    const float values[] = {(float)r->fid, (float)r->kid.mean, (float)r->kid.std, (float)r->prdc.precision,
                            (float)r->prdc.recall, (float)r->prdc.density, (float)r->prdc.coverage};
    return gan_tfevents_scalars(ev, step, (int)(sizeof values / sizeof *values), tags, values, err);
}

int gan_run_events_samples(gan_tfevents *ev, int64_t step, const gan_png *png, gan_err *err) {
    return gan_tfevents_image(ev, step, "samples", png->data, png->size, png->height, png->width, png->channels,
                              err);
}
