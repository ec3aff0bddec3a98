// Optimizers over a parameter set. State lives in blocks of the set's layout (persistent, so a
// checkpoint can save and restore it exactly); each step is one loop over the whole block.
#pragma once
#include <stdint.h>

#include "params.h"

// Called by ag_adam_step with the set's gradients before they are used: a data-parallel run
// averages them over its processes here (one block, ps->grads, per optimizer step).
typedef void (*ag_grad_hook)(void *user, ag_params *ps);

typedef struct ag_adam {
    ag_params *ps;
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;   // number of steps taken (bias correction uses step after increment)
    ag_tensor *m;   // (ps->total) first moments
    ag_tensor *v;   // (ps->total) second moments
    ag_grad_hook grad_hook;  // NULL: none
    void *grad_hook_user;
} ag_adam;

ag_adam *ag_adam_create(ag_params *ps, float lr, float beta1, float beta2, float eps, float weight_decay);
void ag_adam_free(ag_adam *o);
// One step of torch.optim.Adam (amsgrad off) with the gradients in ps->grads.
void ag_adam_step(ag_adam *o);

typedef struct ag_sgd {
    ag_params *ps;
    float lr, momentum, dampening, weight_decay;
    int nesterov;
    int64_t step;
    ag_tensor *buf;  // (ps->total) momentum buffer
} ag_sgd;

ag_sgd *ag_sgd_create(ag_params *ps, float lr, float momentum, float dampening, float weight_decay, int nesterov);
void ag_sgd_free(ag_sgd *o);
// One step of torch.optim.SGD.
void ag_sgd_step(ag_sgd *o);
