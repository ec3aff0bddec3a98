// gan report: writes a run's report.html (src/gan/report/report.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "fsutil.h"
#include "report.h"

static const char usage[] =
    "usage: gan report RUN_DIR [--out FILE] [--max-points N] [--max-grids N]\n"
    "\n"
    "Writes RUN_DIR/report.html: one self-contained page (no network, no server) with the\n"
    "training curves, the sample grids over the steps with a slider, the real grid, the\n"
    "checkpoints, hardware and timing, and the resolved config. A training run rewrites it\n"
    "every sample.every steps and at its end. docs/report.md describes it.\n"
    "\n"
    "options:\n"
    "  --out FILE        write the page there instead\n"
    "  --max-points N    points drawn per curve (default 2000; longer curves keep the lowest and\n"
    "                    highest value of each of N/2 buckets)\n"
    "  --max-grids N     sample grids embedded, spread evenly over the run (default 40)\n";

// "--opt value" or "--opt=value": the value, or NULL (and err) when missing.
static const char *option_value(int argc, char **argv, int *i, const char *name, gan_err *err) {
    const char *o = argv[*i];
    size_t k = strlen(name);
    if (!strncmp(o, name, k) && o[k] == '=') return o + k + 1;
    if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2)) return argv[++*i];
    gan_errf(err, GAN_EXIT_USAGE, "%s needs a value (usage: gan report RUN_DIR [--out FILE])", name);
    return NULL;
}

static bool is_option(const char *o, const char *name) {
    size_t k = strlen(name);
    return !strncmp(o, name, k) && (o[k] == '\0' || o[k] == '=');
}

static int whole(const char *name, const char *v, long long lo, long long *out, gan_err *err) {
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || end == v || x < lo || x > 10000000)
        return gan_errf(err, GAN_EXIT_USAGE, "%s '%s': expected a whole number from %lld to 10000000", name,
                        gan_config_clip(v).s, lo);
    *out = x;
    return 0;
}

int gan_cmd_report(int argc, char **argv) {
    gan_err err = {0};
    const char *dir = NULL, *out = NULL, *v;
    gan_report_opts o = gan_report_default_opts();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        long long x = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return fputs(usage, stdout), 0;
        if (is_option(a, "--out")) {
            if (!(out = option_value(argc, argv, &i, "--out", &err))) return gan_cli_fail("report", &err);
        } else if (is_option(a, "--max-points")) {
            if (!(v = option_value(argc, argv, &i, "--max-points", &err)) || whole("--max-points", v, 2, &x, &err))
                return gan_cli_fail("report", &err);
            o.max_points = x;
        } else if (is_option(a, "--max-grids")) {
            if (!(v = option_value(argc, argv, &i, "--max-grids", &err)) || whole("--max-grids", v, 1, &x, &err))
                return gan_cli_fail("report", &err);
            o.max_grids = (int)x;
        } else if (a[0] == '-') {
            gan_errf(&err, GAN_EXIT_USAGE, "unknown option %s (usage: gan report RUN_DIR [--out FILE])",
                     gan_config_clip(a).s);
            return gan_cli_fail("report", &err);
        } else if (dir) {
            gan_errf(&err, GAN_EXIT_USAGE, "unexpected argument '%s' (usage: gan report RUN_DIR)", gan_config_clip(a).s);
            return gan_cli_fail("report", &err);
        } else {
            dir = a;
        }
    }
    if (!dir) {
        gan_errf(&err, GAN_EXIT_USAGE, "expected a run directory (usage: gan report RUN_DIR [--out FILE])");
        return gan_cli_fail("report", &err);
    }
    gan_report_summary s;
    if (gan_report_write(dir, out, &o, &s, &err) != 0) return gan_cli_fail("report", &err);
    char where[GAN_PATH_MAX + 16];
    if (out) snprintf(where, sizeof where, "%s", out);
    else snprintf(where, sizeof where, "%s/report.html", dir);
    printf("wrote %s (%.0f KiB: %lld log lines, %d of %d sample grids embedded)\n", where, (double)s.bytes / 1024,
           (long long)s.log_lines, s.grids, s.grids_total);
    return 0;
}
