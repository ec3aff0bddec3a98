// RUN/status.json (run_end.h).
#include "run_end.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "gan_check.h"
#include "json.h"

static const char *const names[] = {"", "finished", "stopped", "diverged", "failed"};

const char *gan_run_end_name(gan_run_end e) { return names[e]; }

int gan_run_end_write(const char *run_dir, int64_t step, int rc, const char *message, bool stopped, gan_err *err) {
    gan_run_end e = rc == 0 ? (stopped ? GAN_RUN_END_STOPPED : GAN_RUN_END_FINISHED)
                   : message && strstr(message, "training diverged") ? GAN_RUN_END_DIVERGED
                                                                     : GAN_RUN_END_FAILED;
    char path[GAN_PATH_MAX], *text = NULL;
    size_t n = 0;
    if (gan_fs_join(path, sizeof path, run_dir, GAN_RUN_STATUS_NAME, err) != 0) return -1;
    FILE *f = open_memstream(&text, &n);
    GAN_CHECK(f, "out of memory formatting %s", path);
    fprintf(f, "{\"state\": \"%s\", \"step\": %lld, \"time\": %lld, \"message\": ", names[e], (long long)step,
            (long long)time(NULL));
    gan_json_string(f, rc != 0 && message ? message : "");
    fputs("}\n", f);
    fclose(f);
    int r = gan_fs_write_atomic_unsynced(path, text, n, err);
    free(text);
    return r;
}

// The string value of "key" in a one-line JSON object gan wrote (escapes kept as written, but
// for \" and \\, which are undone).
static bool string_field(const char *text, const char *key, char *out, size_t size) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(text, pat);
    if (!p || !size) return false;
    size_t k = 0;
    for (p += strlen(pat); *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
        if (k + 1 < size) out[k++] = *p;
    }
    out[k] = '\0';
    return *p == '"';
}

gan_run_end gan_run_end_read(const char *run_dir, int64_t *step, char *message, size_t size) {
    char path[GAN_PATH_MAX], *text, state[32];
    size_t n;
    gan_err ignored;
    *step = 0;
    if (size) message[0] = '\0';
    if (gan_fs_join(path, sizeof path, run_dir, GAN_RUN_STATUS_NAME, NULL) != 0 || !gan_fs_exists(path) ||
        gan_fs_read_all(path, &text, &n, &ignored) != 0)
        return GAN_RUN_END_NONE;
    gan_run_end e = GAN_RUN_END_NONE;
    const char *s = strstr(text, "\"step\": ");
    if (string_field(text, "state", state, sizeof state) && s) {
        *step = strtoll(s + 8, NULL, 10);
        for (int i = 1; i < (int)(sizeof names / sizeof *names); i++)
            if (!strcmp(state, names[i])) e = (gan_run_end)i;
        string_field(text, "message", message, size);
    }
    free(text);
    return e;
}
