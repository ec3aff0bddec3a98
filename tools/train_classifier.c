// The recipe of data/fmnist_classifier.h5: trains the "fmnist" feature net (fmnist_net.h) on the
// Fashion-MNIST training set with cross-entropy and Adam, its learning rate decayed linearly to
// zero over the run, prints each epoch's mean loss and the accuracy on the t10k test set, and
// writes the weights with what made them as attributes.
//
// Deterministic for a seed and a thread count: the initialisation and each epoch's order come
// from Philox streams of the seed, and the CPU backend's results depend only on its thread
// count (docs/engine.md), so rerunning the same command rewrites the same file.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "autograd.h"
#include "checkpoint.h"
#include "dataset.h"
#include "fmnist_net.h"
#include "labels.h"
#include "loader.h"
#include "ops.h"
#include "optim.h"

static const char usage[] =
    "usage: train_classifier [options]\n"
    "\n"
    "Trains the fmnist feature net on Fashion-MNIST's training set and writes its weights.\n"
    "\n"
    "options:\n"
    "  --data DIR     the dataset's IDX files (default /usr/share/datasets/fashion-mnist)\n"
    "  --out FILE     the weights file (default data/fmnist_classifier.h5)\n"
    "  --epochs N     passes over the 60000 training images (default 10)\n"
    "  --batch B      images per step (default 128)\n"
    "  --lr LR        Adam's initial learning rate, decayed linearly to 0 over the run\n"
    "                 (default 0.001; betas 0.9, 0.999)\n"
    "  --seed S       initialisation and data order (default 1)\n"
    "  --threads T    CPU threads (default 2); the file depends on it\n";

typedef struct train_args {
    const char *data, *out;
    int epochs, batch, threads;
    double lr;
    long long seed;
} train_args;

#define EVAL_BATCH 500
#define FIRST_N 1000  // the test checks the shipped weights on the first 1000 test images

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int parse_args(int argc, char **argv, train_args *a) {
    *a = (train_args){.data = "/usr/share/datasets/fashion-mnist", .out = "data/fmnist_classifier.h5",
                      .epochs = 10, .batch = 128, .threads = 2, .lr = 1e-3, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (!v) return fprintf(stderr, "train_classifier: %s needs a value\n%s", o, usage), -1;
        i++;
        if (!strcmp(o, "--data")) a->data = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else if (!strcmp(o, "--epochs")) a->epochs = (int)strtol(v, &end, 10);
        else if (!strcmp(o, "--batch")) a->batch = (int)strtol(v, &end, 10);
        else if (!strcmp(o, "--threads")) a->threads = (int)strtol(v, &end, 10);
        else if (!strcmp(o, "--seed")) a->seed = strtoll(v, &end, 10);
        else if (!strcmp(o, "--lr")) a->lr = strtod(v, &end);
        else return fprintf(stderr, "train_classifier: unknown option %s\n%s", o, usage), -1;
        if (end && (*end || end == v))
            return fprintf(stderr, "train_classifier: %s: not a number: %s\n", o, v), -1;
    }
    if (a->epochs < 1 || a->batch < 1 || a->threads < 1 || a->seed < 0 || !(a->lr > 0))
        return fprintf(stderr, "train_classifier: epochs, batch and threads must be >= 1, seed >= 0, lr > 0\n"), -1;
    return 0;
}

// One split of the dataset: its images (as the loader scales them) and labels.
typedef struct split {
    gan_dataset ds;
    gan_loader loader;  // only for its pixel scaling (gan_loader_fill)
    uint8_t *labels;
} split;

static int split_load(split *s, const char *dir, const char *prefix, gan_err *err) {
    char images[GAN_PATH_MAX], labels[GAN_PATH_MAX];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    gan_data_opts o = {.path = images, .format = GAN_DATA_IDX, .channels = 1};
    if (gan_dataset_load(&o, &s->ds, err) != 0) return -1;
    if (s->ds.h != GAN_FMNIST_SIZE || s->ds.w != GAN_FMNIST_SIZE)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %d x %d images, expected 28 x 28", images, s->ds.h, s->ds.w);
    int64_t n;
    s->labels = gan_labels_load(labels, 0, GAN_FMNIST_CLASSES, &n, err);
    if (!s->labels) return -1;
    if (n != s->ds.n)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %lld labels for the %lld images of %s", labels, (long long)n,
                        (long long)s->ds.n, images);
    return gan_loader_init(&s->loader, &s->ds, EVAL_BATCH, GAN_FMNIST_SIZE, 1, 0, err);
}

static void split_free(split *s) {
    gan_loader_free(&s->loader);
    gan_dataset_free(&s->ds);
    free(s->labels);
}

// Images idx[0..n) into x (n, 1, 28, 28) and their one-hot labels into t (n, 10).
static void fill_batch(const split *s, const int64_t *idx, int n, float *x, float *t) {
    gan_loader_fill(&s->loader, idx, n, x);
    memset(t, 0, (size_t)n * GAN_FMNIST_CLASSES * sizeof *t);
    for (int i = 0; i < n; i++) t[i * GAN_FMNIST_CLASSES + s->labels[idx[i]]] = 1.0f;
}

// Correct predictions (argmax of the logits, the first on ties) among the first n images.
static int64_t count_correct(const gan_fmnist_net *net, ag_ctx *c, const split *s, int64_t n) {
    float *x = gan_xmalloc((size_t)EVAL_BATCH * GAN_FMNIST_SIZE * GAN_FMNIST_SIZE * sizeof *x, "a test batch");
    float logits[EVAL_BATCH * GAN_FMNIST_CLASSES];
    int64_t idx[EVAL_BATCH], correct = 0;
    const bool grad = ag_set_grad_enabled(c, false);
    for (int64_t i0 = 0; i0 < n; i0 += EVAL_BATCH) {
        const int b = (int)(n - i0 < EVAL_BATCH ? n - i0 : EVAL_BATCH);
        for (int j = 0; j < b; j++) idx[j] = i0 + j;
        gan_loader_fill(&s->loader, idx, b, x);
        ag_tensor *xt = ag_from_host(c, AG_SHAPE(b, 1, GAN_FMNIST_SIZE, GAN_FMNIST_SIZE), x);
        ag_tensor_to_host(gan_fmnist_net_logits(c, net, gan_fmnist_net_features(c, net, xt)), logits);
        ag_ctx_reset(c);
        for (int j = 0; j < b; j++) {
            const float *l = logits + j * GAN_FMNIST_CLASSES;
            int best = 0;
            for (int k = 1; k < GAN_FMNIST_CLASSES; k++)
                if (l[k] > l[best]) best = k;
            correct += best == s->labels[i0 + j];
        }
    }
    ag_set_grad_enabled(c, grad);
    free(x);
    return correct;
}

// One pass over the training set in the order of the epoch's permutation; returns the mean loss.
// *step counts the steps taken, of `steps` in the run (the learning rate's schedule).
static double train_epoch(gan_fmnist_net *net, ag_adam *opt, ag_ctx *c, const split *tr, int batch, double lr,
                          const int64_t *perm, int64_t *step, int64_t steps) {
    const int64_t n = tr->ds.n;
    float *x = gan_xmalloc((size_t)batch * GAN_FMNIST_SIZE * GAN_FMNIST_SIZE * sizeof *x, "a training batch");
    float *t = gan_xmalloc((size_t)batch * GAN_FMNIST_CLASSES * sizeof *t, "a batch's targets");
    double loss_sum = 0;
    for (int64_t i0 = 0; i0 < n; i0 += batch) {
        const int b = (int)(n - i0 < batch ? n - i0 : batch);
        fill_batch(tr, perm + i0, b, x, t);
        ag_tensor *xt = ag_from_host(c, AG_SHAPE(b, 1, GAN_FMNIST_SIZE, GAN_FMNIST_SIZE), x);
        ag_tensor *tt = ag_from_host(c, AG_SHAPE(b, GAN_FMNIST_CLASSES), t);
        ag_tensor *loss = ag_cross_entropy(c, gan_fmnist_net_logits(c, net, gan_fmnist_net_features(c, net, xt)), tt);
        ag_params_zero_grad(net->params);
        ag_backward(c, loss);
        opt->lr = (float)(lr * (1.0 - (double)(*step)++ / (double)steps));
        ag_adam_step(opt);
        loss_sum += (double)ag_item(loss) * b;
        ag_ctx_reset(c);
    }
    free(x);
    free(t);
    return loss_sum / (double)n;
}

// Fisher-Yates over 0..n-1 with draws from rng.
static void shuffle(int64_t *perm, int64_t n, ag_rng *rng) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = ag_rng_below(rng, (uint32_t)(i + 1));
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

static int write_weights(const train_args *a, const gan_fmnist_net *net, double acc, double acc_first,
                         gan_err *err) {
    // The command that rewrites this file, without --out: the bytes do not depend on where
    // they were written.
    char recipe[GAN_PATH_MAX + 256];
    snprintf(recipe, sizeof recipe,
             "build/tools/train_classifier --data %s --epochs %d --batch %d --lr %g --seed %lld --threads %d", a->data,
             a->epochs, a->batch, a->lr, a->seed, a->threads);
    gan_ckpt_writer *w;
    if (gan_ckpt_create(a->out, &w, err) != 0) return -1;
    if (gan_ckpt_write_params(w, GAN_FMNIST_GROUP, net->params, err) != 0 ||
        gan_ckpt_set_attr_str(w, "/", "net", "fmnist", err) != 0 ||
        gan_ckpt_set_attr_f64(w, "/", "test_accuracy", acc, err) != 0 ||
        gan_ckpt_set_attr_f64(w, "/", "test_accuracy_first_1000", acc_first, err) != 0 ||
        gan_ckpt_set_attr_i64(w, "/", "epochs", a->epochs, err) != 0 ||
        gan_ckpt_set_attr_i64(w, "/", "seed", a->seed, err) != 0 ||
        gan_ckpt_set_attr_i64(w, "/", "threads", a->threads, err) != 0 ||
        gan_ckpt_set_attr_str(w, "/", "recipe", recipe, err) != 0) {
        gan_ckpt_abort(w);
        return -1;
    }
    return gan_ckpt_commit(w, err);
}

// Trains from a fresh initialisation on tr, measures on te, writes the file.
static int train(const train_args *a, const ag_backend *be, const split *tr, const split *te, gan_err *err) {
    ag_rng root = ag_rng_make((uint64_t)a->seed);
    ag_rng init_rng = ag_rng_fork(&root), order_rng = ag_rng_fork(&root);
    gan_fmnist_net *net = gan_fmnist_net_create(be, true);
    gan_fmnist_net_init(net, &init_rng);
    ag_adam *opt = ag_adam_create(net->params, (float)a->lr, 0.9f, 0.999f, 1e-8f, 0.0f);
    ag_ctx *c = ag_ctx_create(be);
    int64_t *perm = gan_xmalloc((size_t)tr->ds.n * sizeof *perm, "the epoch's order");
    printf("fmnist net: %lld parameters; %lld training and %lld test images; batch %d, Adam lr %g, seed %lld, "
           "%d threads\n",
           (long long)ag_params_numel(net->params), (long long)tr->ds.n, (long long)te->ds.n, a->batch, a->lr,
           a->seed, a->threads);
    const double t0 = now_s();
    double acc = 0;
    int64_t step = 0;
    const int64_t steps = a->epochs * ((tr->ds.n + a->batch - 1) / a->batch);
    for (int e = 1; e <= a->epochs; e++) {
        shuffle(perm, tr->ds.n, &order_rng);
        const double loss = train_epoch(net, opt, c, tr, a->batch, a->lr, perm, &step, steps);
        acc = (double)count_correct(net, c, te, te->ds.n) / (double)te->ds.n;
        printf("epoch %d/%d: loss %.4f, test accuracy %.2f%%, %.0f s\n", e, a->epochs, loss, 100 * acc,
               now_s() - t0);
        fflush(stdout);
    }
    const int64_t first = te->ds.n < FIRST_N ? te->ds.n : FIRST_N;
    const double acc_first = (double)count_correct(net, c, te, first) / (double)first;
    int rc = write_weights(a, net, acc, acc_first, err);
    if (rc == 0)
        printf("wrote %s: test accuracy %.2f%% (first %lld test images: %.2f%%), %.0f s\n", a->out, 100 * acc,
               (long long)first, 100 * acc_first, now_s() - t0);
    free(perm);
    ag_ctx_free(c);
    ag_adam_free(opt);
    gan_fmnist_net_free(net);
    return rc;
}

static int run(const train_args *a, gan_err *err) {
    char why[256];
    ag_backend *be = ag_backend_open("cpu", why, sizeof why);
    if (!be) return gan_errf(err, GAN_EXIT_RUNTIME, "device cpu: %s", why);
    ag_backend_set_threads(be, a->threads);
    split tr = {0}, te = {0};
    int rc = split_load(&tr, a->data, "train", err);
    if (rc == 0) rc = split_load(&te, a->data, "t10k", err);
    if (rc == 0) rc = train(a, be, &tr, &te, err);
    split_free(&tr);
    split_free(&te);
    ag_backend_close(be);
    return rc;
}

int main(int argc, char **argv) {
    train_args a;
    if (parse_args(argc, argv, &a) != 0) return 2;
    gan_err err = {0};
    if (run(&a, &err) != 0) {
        fprintf(stderr, "train_classifier: %s\n", err.msg);
        return err.code ? err.code : 1;
    }
    return 0;
}
