#include "refstats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "gan_check.h"
#include "h5io.h"
#include "npz.h"
#include "rng.h"

#define FORMAT "gan.c reference statistics"
#define FORMAT_VERSION 1
// The stream that picks reference images out of a larger dataset: fixed, so every run and
// every `gan eval` of the same data compares with the same images.
#define PICK_SEED 0x5eed0f4e5ull
// Images converted and run through the feature net at a time.
#define CHUNK 1024

uint64_t gan_hash_bytes(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int hash_file(const char *path, uint64_t *h, gan_err *err) {
    char *data;
    size_t n;
    if (gan_fs_read_all(path, &data, &n, err) != 0) return -1;
    *h = gan_hash_bytes(GAN_HASH_INIT, data, n);
    free(data);
    return 0;
}

int gan_refstats_cache_dir(char *dir, size_t size, gan_err *err) {
    const char *own = getenv("GAN_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (own && *own) {
        if (snprintf(dir, size, "%s", own) >= (int)size) return gan_errf(err, GAN_EXIT_USAGE, "GAN_CACHE_DIR is too long");
        return 0;
    }
    if (xdg && *xdg) return gan_fs_join(dir, size, xdg, "gan.c", err);
    if (home && *home) return gan_fs_join(dir, size, home, ".cache/gan.c", err);
    return gan_errf(err, GAN_EXIT_USAGE, "no directory for the reference statistics cache: set GAN_CACHE_DIR");
}

void gan_refstats_free(gan_refstats *r) {
    gan_gaussian_free(&r->gauss);
    free(r->features);
    memset(r, 0, sizeof *r);
}

// k of n indices without replacement (a partial Fisher-Yates shuffle of PICK_SEED's stream), or
// all of them in order when k == n.
static int64_t *pick(int64_t n, int64_t k) {
    int64_t *idx = gan_xmalloc((size_t)n * sizeof *idx, "the reference images' indices");
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    if (k < n) {
        ag_rng rng = ag_rng_make(PICK_SEED);
        for (int64_t i = 0; i < k; i++) {
            int64_t j = i + (int64_t)ag_rng_below(&rng, (uint32_t)(n - i));
            int64_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    }
    return idx;
}

int gan_refstats_save(const char *path, const gan_refstats *r, uint64_t data_hash, uint64_t weights_hash,
                      gan_err *err) {
    if (!r->features)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: statistics without features (%s) are not written again", path,
                        r->source);
    char tmp[GAN_PATH_MAX + 32];
    gan_fs_tmp_path(path, tmp, sizeof tmp);
    gan_h5 f;
    if (gan_h5_create(&f, tmp, err) != 0) return -1;
    const int d = r->dim;
    int bad = gan_h5_write_f64(&f, "/mean", AG_SHAPE(d), r->gauss.mean, err) ||
              gan_h5_write_f64(&f, "/cov", AG_SHAPE(d, d), r->gauss.cov, err) ||
              gan_h5_write_f32(&f, "/features", AG_SHAPE((int)r->n, d), r->features, err) ||
              gan_h5_set_attr_str(&f, "/", "format", FORMAT, err) ||
              gan_h5_set_attr_i64(&f, "/", "version", FORMAT_VERSION, err) ||
              gan_h5_set_attr_str(&f, "/", "feature_net", r->net, err) ||
              gan_h5_set_attr_i64(&f, "/", "feature_dim", d, err) ||
              gan_h5_set_attr_u64s(&f, "/", "data_hash", &data_hash, 1, err) ||
              gan_h5_set_attr_u64s(&f, "/", "weights_hash", &weights_hash, 1, err) ||
              gan_h5_set_attr_str(&f, "/", "source", r->source, err) ||
              gan_h5_set_attr_i64(&f, "/", "count", r->n, err);
    if (gan_h5_close(&f, bad ? NULL : err) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return -1;
    }
    return gan_fs_commit(tmp, path, err);
}

int gan_refstats_load(const char *path, const gan_feature_net *net, gan_refstats *out, gan_err *err) {
    memset(out, 0, sizeof *out);
    const gan_feature_net_info *info = gan_feature_net_info_of(net);
    gan_h5 f;
    if (gan_h5_open(&f, path, err) != 0) return -1;
    char *format = NULL, *name = NULL, *source = NULL;
    int64_t version = 0, dim = 0, count = 0;
    gan_h5_info fi;
    int rc = gan_h5_get_attr_str(&f, "/", "format", &format, err);
    if (rc == 0 && strcmp(format, FORMAT))
        rc = gan_errf(err, GAN_EXIT_USAGE, "%s: not a statistics file of gan.c (format '%s')", path, format);
    if (rc == 0) rc = gan_h5_get_attr_i64(&f, "/", "version", &version, err);
    if (rc == 0 && version != FORMAT_VERSION)
        rc = gan_errf(err, GAN_EXIT_USAGE, "%s: statistics format version %lld, this gan reads %d", path,
                      (long long)version, FORMAT_VERSION);
    if (rc == 0) rc = gan_h5_get_attr_str(&f, "/", "feature_net", &name, err);
    if (rc == 0) rc = gan_h5_get_attr_i64(&f, "/", "feature_dim", &dim, err);
    if (rc == 0 && (strcmp(name, info->name) || dim != info->dim))
        rc = gan_errf(err, GAN_EXIT_USAGE, "%s: statistics of the %s features (%lld-d), not of %s (%d-d): compute "
                      "them again with --features %s", path, name, (long long)dim, info->name, info->dim, info->name);
    if (rc == 0) rc = gan_h5_get_attr_str(&f, "/", "source", &source, err);
    if (rc == 0) rc = gan_h5_get_attr_i64(&f, "/", "count", &count, err);
    if (rc == 0) rc = gan_h5_dataset_info(&f, "/features", &fi, err);
    if (rc == 0 && (fi.rank != 2 || fi.dims[0] != count || fi.dims[1] != dim))
        rc = gan_errf(err, GAN_EXIT_USAGE, "%s:/features: shape (%lld, %lld) expected", path, (long long)count,
                      (long long)dim);
    if (rc == 0) {
        const int d = (int)dim;
        gan_gaussian_init(&out->gauss, d);
        out->gauss.n = count;
        out->features = gan_xmalloc((size_t)(count * d) * sizeof(float), "the reference features");
        out->n = count;
        out->dim = d;
        rc = gan_h5_read_f64(&f, "/mean", AG_SHAPE(d), out->gauss.mean, err) ||
             gan_h5_read_f64(&f, "/cov", AG_SHAPE(d, d), out->gauss.cov, err) ||
             gan_h5_read_f32(&f, "/features", AG_SHAPE((int)count, d), out->features, err);
        snprintf(out->net, sizeof out->net, "%s", name);
        snprintf(out->source, sizeof out->source, "%s", source);
        snprintf(out->file, sizeof out->file, "%s", path);
    }
    gan_h5_close(&f, NULL);
    free(format);
    free(name);
    free(source);
    if (rc != 0) {
        gan_refstats_free(out);
        return -1;
    }
    return 0;
}

// The chosen images at their native size, as floats in [-1, 1] (the loader's mapping), through
// the net, CHUNK at a time.
static int run_features(const gan_dataset *ds, const int64_t *idx, int64_t k, gan_feature_net *net, ag_ctx *c,
                        float *features, gan_err *err) {
    const int dim = gan_feature_net_info_of(net)->dim;
    const int64_t per = (int64_t)ds->c * ds->h * ds->w;
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 127.5f - 1.0f;
    float *buf = gan_xmalloc((size_t)(CHUNK * per) * sizeof *buf, "a chunk of reference images");
    int rc = 0;
    for (int64_t i0 = 0; i0 < k && rc == 0; i0 += CHUNK) {
        const int64_t m = k - i0 < CHUNK ? k - i0 : CHUNK;
        for (int64_t j = 0; j < m; j++) {
            const uint8_t *px = gan_dataset_image(ds, idx[i0 + j]);
            for (int64_t p = 0; p < per; p++) buf[j * per + p] = lut[px[p]];
        }
        rc = gan_feature_net_run(net, c, buf, m, ds->c, ds->h, ds->w, features + i0 * dim, err);
    }
    free(buf);
    return rc;
}

// klass >= 0: only the images of that class (data->num_classes > 0 loads the labels).
static int from_data(const gan_data_opts *data, int klass, int64_t ref_n, gan_feature_net *net, ag_ctx *c,
                     const char *cache_dir, gan_refstats *out, gan_err *err) {
    memset(out, 0, sizeof *out);
    const gan_feature_net_info *info = gan_feature_net_info_of(net);
    gan_dataset ds;
    if (gan_dataset_load(data, &ds, err) != 0) return -1;
    int64_t *of_class = NULL, m = ds.n;  // the images to draw from: all, or the class's
    if (klass >= 0) {
        of_class = gan_xmalloc((size_t)ds.n * sizeof *of_class, "a class's image indices");
        m = 0;
        for (int64_t i = 0; i < ds.n; i++)
            if (ds.labels[i] == klass) of_class[m++] = i;
        if (m < 2) {
            free(of_class);
            gan_dataset_free(&ds);
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %lld images of class %d, too few for reference statistics",
                            data->path, (long long)m, klass);
        }
    }
    const int64_t k = ref_n <= 0 || ref_n >= m ? m : ref_n;
    int64_t *idx = pick(m, k);
    for (int64_t i = 0; i < k && of_class; i++) idx[i] = of_class[idx[i]];
    free(of_class);

    // The statistics are those of exactly these images under exactly these weights.
    uint64_t data_hash = GAN_HASH_INIT, weights_hash = 0;
    const int32_t dims[4] = {(int32_t)k, ds.c, ds.h, ds.w};
    data_hash = gan_hash_bytes(data_hash, dims, sizeof dims);
    for (int64_t i = 0; i < k; i++)
        data_hash = gan_hash_bytes(data_hash, gan_dataset_image(&ds, idx[i]), (size_t)ds.c * ds.h * ds.w);
    char path[GAN_PATH_MAX], name[96];
    int rc = hash_file(info->weights_path, &weights_hash, err);
    if (rc == 0) {
        snprintf(name, sizeof name, "refstats-%s-%016llx.h5", info->name,
                 (unsigned long long)gan_hash_bytes(data_hash, &weights_hash, sizeof weights_hash));
        rc = gan_fs_join(path, sizeof path, cache_dir, name, err);
    }
    if (rc == 0 && gan_fs_exists(path)) {
        rc = gan_refstats_load(path, net, out, err);
    } else if (rc == 0) {
        out->features = gan_xmalloc((size_t)(k * info->dim) * sizeof(float), "the reference features");
        out->n = k;
        out->dim = info->dim;
        snprintf(out->net, sizeof out->net, "%s", info->name);
        if (klass >= 0)
            snprintf(out->source, sizeof out->source, "%s class %d, %lld of its %lld images", ds.path, klass,
                     (long long)k, (long long)m);
        else
            snprintf(out->source, sizeof out->source, "%s, %lld of %lld images", ds.path, (long long)k, (long long)ds.n);
        rc = run_features(&ds, idx, k, net, c, out->features, err);
        if (rc == 0) rc = gan_features_check(out->features, k, info->dim, "the reference features", err);
        if (rc == 0) rc = gan_gaussian_fit(&out->gauss, out->features, k, info->dim, err);
        gan_err cache_err = {0};
        if (rc == 0 && (gan_fs_mkdir_p(cache_dir, &cache_err) != 0 ||
                        gan_refstats_save(path, out, data_hash, weights_hash, &cache_err) != 0))
            fprintf(stderr, "gan: note: the reference statistics were not cached: %s\n", cache_err.msg);
        else if (rc == 0)
            snprintf(out->file, sizeof out->file, "%s", path);
    }
    free(idx);
    gan_dataset_free(&ds);
    if (rc != 0) gan_refstats_free(out);
    return rc;
}

int gan_refstats_from_data(const gan_data_opts *data, int64_t ref_n, gan_feature_net *net, ag_ctx *c,
                           const char *cache_dir, gan_refstats *out, gan_err *err) {
    return from_data(data, -1, ref_n, net, c, cache_dir, out, err);
}

int gan_refstats_of_class(const gan_data_opts *data, int klass, int64_t ref_n, gan_feature_net *net, ag_ctx *c,
                          gan_refstats *out, gan_err *err) {
    GAN_CHECK(data->num_classes > klass && klass >= 0, "gan_refstats_of_class: class %d of %d", klass,
              data->num_classes);
    char cache[GAN_PATH_MAX];
    if (gan_refstats_cache_dir(cache, sizeof cache, err) != 0) return -1;
    return from_data(data, klass, ref_n, net, c, cache, out, err);
}

// A statistics file, as opposed to a dataset: an .h5 file that says it is one.
static bool is_stats_file(const char *path) {
    size_t len = strlen(path);
    if (len < 4 || strcmp(path + len - 3, ".h5") || gan_fs_is_dir(path)) return false;
    gan_h5 f;
    if (gan_h5_open(&f, path, NULL) != 0) return false;
    bool yes = gan_h5_has_attr(&f, "/", "format");
    gan_h5_close(&f, NULL);
    return yes;
}

int gan_refstats_load_npz(const char *path, const gan_feature_net *net, gan_refstats *out, gan_err *err) {
    memset(out, 0, sizeof *out);
    const gan_feature_net_info *info = gan_feature_net_info_of(net);
    int nd_mu = 0, nd_sigma = 0;
    int64_t s_mu[GAN_NPY_MAX_DIMS], s_sigma[GAN_NPY_MAX_DIMS];
    double *mu = NULL, *sigma = NULL;
    if (gan_npz_read_f64(path, "mu", &nd_mu, s_mu, &mu, err) != 0) return -1;
    if (gan_npz_read_f64(path, "sigma", &nd_sigma, s_sigma, &sigma, err) != 0) {
        free(mu);
        return -1;
    }
    const int64_t d = info->dim;
    if (nd_mu != 1 || s_mu[0] != d || nd_sigma != 2 || s_sigma[0] != d || s_sigma[1] != d) {
        free(mu);
        free(sigma);
        return gan_errf(err, GAN_EXIT_USAGE, "%s: mu (%lld) and sigma (%lld, %lld) expected for the %s features", path,
                        (long long)d, (long long)d, (long long)d, info->name);
    }
    out->gauss = (gan_gaussian){.d = (int)d, .mean = mu, .cov = sigma};
    out->dim = (int)d;
    snprintf(out->net, sizeof out->net, "%s", info->name);
    snprintf(out->source, sizeof out->source, "pytorch-fid statistics %s", path);
    snprintf(out->file, sizeof out->file, "%s", path);
    return 0;
}

int gan_refstats_open(const char *spec, const gan_data_opts *run_data, int channels, int resolution, int64_t ref_n,
                      gan_feature_net *net, ag_ctx *c, gan_refstats *out, gan_err *err) {
    gan_data_opts o = {.path = spec, .format = GAN_DATA_AUTO, .channels = channels, .resolution = resolution};
    if (!strcmp(spec, "data")) {
        if (!run_data) return gan_errf(err, GAN_EXIT_USAGE, "reference 'data': no run whose data it would be");
        o = *run_data;
    } else if (is_stats_file(spec)) {
        return gan_refstats_load(spec, net, out, err);
    } else if (strlen(spec) > 4 && !strcmp(spec + strlen(spec) - 4, ".npz")) {
        return gan_refstats_load_npz(spec, net, out, err);
    }
    char cache[GAN_PATH_MAX];
    if (gan_refstats_cache_dir(cache, sizeof cache, err) != 0) return -1;
    return gan_refstats_from_data(&o, ref_n, net, c, cache, out, err);
}
