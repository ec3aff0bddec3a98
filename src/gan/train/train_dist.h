// The trainer's side of a data-parallel run (docs/distributed.md): what makes N processes of one
// run compute what one process would. trainer.c calls these only when tr->dist is set (more
// than one process); every call is collective.
#pragma once
#include <stdbool.h>

#include "stats.h"
#include "trainer.h"

// The run's number of processes (1 without tr->dist).
int gan_train_dist_procs(const gan_trainer *tr);
// Makes the model this process's share (the family's shard) and hooks its optimizers so that
// each step averages its gradients over the processes. A usage error when the config cannot
// be split so.
int gan_train_dist_shard(gan_trainer *tr, gan_err *err);
// Gives a context the run's collective (ag_ctx_set_allreduce) and, for train.sync_bn,
// synchronised batch statistics.
void gan_train_dist_connect(gan_trainer *tr, ag_ctx *c);
// After each step: the step's statistics become their mean over the processes. *stop_signal
// (in: the signal that asked this process to stop, 0 for none) becomes the run's: SIGTERM when
// any process had one, else SIGINT when any had one, else 0. Every process then leaves the loop
// at the same step, and rank 0 reports a stop that reached only another rank.
void gan_train_dist_agree(gan_trainer *tr, gan_stats *st, int *stop_signal);
// train.check_ranks_every: a runtime error naming the first rank whose weights or Adam moments
// differ from rank 0's; every rank gets the same answer.
int gan_train_dist_check_ranks(gan_trainer *tr, gan_err *err);
