#include "train_dist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "ctx.h"
#include "optim.h"
#include "tensor.h"

int gan_train_dist_procs(const gan_trainer *tr) { return tr->dist ? gan_dist_size(tr->dist) : 1; }

// Host staging of n floats for a collective, kept by the trainer between steps.
static float *staging(gan_trainer *tr, int64_t n) {
    if (n > tr->grad_cap) {
        free(tr->grad_buf);
        tr->grad_buf = gan_xmalloc((size_t)n * sizeof *tr->grad_buf, "a parameter block's staging buffer");
        tr->grad_cap = n;
    }
    return tr->grad_buf;
}

// A collective that fails inside a step has no way back up: the message, then every process
// of the run ends (none is left waiting on it).
static void dist_fail(gan_trainer *tr, const gan_err *e) {
    fprintf(stderr, "gan train: error: rank %d: %s\n", gan_dist_rank(tr->dist), e->msg);
    fflush(stderr);
    gan_dist_abort(tr->dist, GAN_EXIT_RUNTIME);
}

// The engine's collective (ctx.h): a sum over the processes.
static void allreduce_sum(void *user, float *buf, int64_t n) {
    gan_trainer *tr = user;
    gan_err e = {0};
    if (gan_dist_allreduce_sum(tr->dist, buf, n, &e) != 0) dist_fail(tr, &e);
}

// Every optimizer's hook: the set's gradients averaged over the processes, one allreduce per
// parameter set and step. Each process's loss is a mean over its share of the batch, so the
// average is the gradient of the global batch's mean, as one process computes it.
static void average_grads(void *user, ag_params *ps) {
    gan_trainer *tr = user;
    float *buf = staging(tr, ps->total);
    ag_tensor_to_host(ps->grads, buf);
    allreduce_sum(tr, buf, ps->total);
    const float inv = 1.0f / (float)gan_train_dist_procs(tr);
    for (int64_t i = 0; i < ps->total; i++) buf[i] *= inv;
    ag_tensor_from_host(ps->grads, buf);
}

int gan_train_dist_shard(gan_trainer *tr, gan_err *err) {
    const gan_family *f = tr->family;
    if (!f->shard || !f->optimizers)
        return gan_errf(err, GAN_EXIT_USAGE, "model.type: %s does not train over several processes",
                        tr->cfg.model.type);
    if (f->shard(tr->model, &tr->cfg, gan_dist_rank(tr->dist), gan_train_dist_procs(tr), err) != 0) return -1;
    ag_adam *opts[8];
    const int n = f->optimizers(tr->model, opts, 8);
    for (int i = 0; i < n; i++) opts[i]->grad_hook = average_grads, opts[i]->grad_hook_user = tr;
    return 0;
}

void gan_train_dist_connect(gan_trainer *tr, ag_ctx *c) {
    ag_ctx_set_allreduce(c, allreduce_sum, tr, gan_train_dist_procs(tr));
    ag_ctx_set_sync_batch_stats(c, tr->cfg.train.sync_bn);
}

void gan_train_dist_agree(gan_trainer *tr, gan_stats *st, int *stop_signal) {
    // Counts of the processes stopped by SIGINT and by SIGTERM (the two the trainer catches),
    // so that every process knows which signal the run stopped for.
    float buf[GAN_STATS_MAX + 2];
    for (int i = 0; i < st->n; i++) buf[i] = st->values[i];
    buf[st->n] = *stop_signal == SIGINT ? 1.0f : 0.0f;
    buf[st->n + 1] = *stop_signal != 0 && *stop_signal != SIGINT ? 1.0f : 0.0f;
    allreduce_sum(tr, buf, st->n + 2);
    for (int i = 0; i < st->n; i++) st->values[i] = buf[i] / (float)gan_train_dist_procs(tr);
    *stop_signal = buf[st->n + 1] > 0 ? SIGTERM : buf[st->n] > 0 ? SIGINT : 0;
}

int gan_train_dist_check_ranks(gan_trainer *tr, gan_err *err) {
    ag_adam *opts[8];
    const int n = tr->family->optimizers(tr->model, opts, 8);
    static const char *const what[3] = {"weights", "Adam first moments", "Adam second moments"};
    for (int i = 0; i < n; i++) {
        const ag_tensor *blocks[3] = {opts[i]->ps->values, opts[i]->m, opts[i]->v};
        for (int b = 0; b < 3; b++) {
            float *buf = staging(tr, blocks[b]->numel);
            ag_tensor_to_host(blocks[b], buf);
            int first = -1;
            if (gan_dist_same_everywhere(tr->dist, buf, blocks[b]->numel * (int64_t)sizeof(float), &first, err) != 0)
                return -1;
            if (first >= 0)
                return gan_errf(err, GAN_EXIT_RUNTIME, "step %lld: rank %d's %s of optimizer %d differ from rank 0's "
                                "(train.check_ranks_every); the ranks have drifted apart",
                                (long long)tr->step, first, what[b], i);
        }
    }
    return 0;
}
