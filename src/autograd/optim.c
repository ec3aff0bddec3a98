#include "optim.h"

#include <math.h>
#include <stdlib.h>

#include "backend_impl.h"
#include "check.h"

ag_adam *ag_adam_create(ag_params *ps, float lr, float beta1, float beta2, float eps, float weight_decay) {
    AG_CHECK(ps->finalized && ps->trainable, "ag_adam_create: the parameter set must be finalized and trainable");
    ag_adam *o = ag_xcalloc(1, sizeof *o);
    *o = (ag_adam){.ps = ps, .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps,
                   .weight_decay = weight_decay};
    o->m = ag_tensor_create(ps->be, ps->values->shape);
    o->v = ag_tensor_create(ps->be, ps->values->shape);
    return o;
}

void ag_adam_free(ag_adam *o) {
    if (!o) return;
    ag_tensor_free(o->m);
    ag_tensor_free(o->v);
    free(o);
}

void ag_adam_step(ag_adam *o) {
    if (o->grad_hook) o->grad_hook(o->grad_hook_user, o->ps);
    o->step++;
    ag_adam_args a = {
        .lr = o->lr, .beta1 = o->beta1, .beta2 = o->beta2, .eps = o->eps,
        .weight_decay = o->weight_decay,
        .bias_correction1 = (float)(1.0 - pow(o->beta1, (double)o->step)),
        .bias_correction2 = (float)(1.0 - pow(o->beta2, (double)o->step)),
    };
    const ag_params *ps = o->ps;
    ps->be->ops->adam_update(ps->be, ps->values->data, ps->grads->data, o->m->data, o->v->data, ps->total, &a);
}

ag_sgd *ag_sgd_create(ag_params *ps, float lr, float momentum, float dampening, float weight_decay, int nesterov) {
    AG_CHECK(ps->finalized && ps->trainable, "ag_sgd_create: the parameter set must be finalized and trainable");
    AG_CHECK(!nesterov || (momentum > 0 && dampening == 0), "ag_sgd_create: nesterov needs momentum and no dampening");
    ag_sgd *o = ag_xcalloc(1, sizeof *o);
    *o = (ag_sgd){.ps = ps, .lr = lr, .momentum = momentum, .dampening = dampening,
                  .weight_decay = weight_decay, .nesterov = nesterov};
    o->buf = ag_tensor_create(ps->be, ps->values->shape);
    return o;
}

void ag_sgd_free(ag_sgd *o) {
    if (!o) return;
    ag_tensor_free(o->buf);
    free(o);
}

void ag_sgd_step(ag_sgd *o) {
    const ag_params *ps = o->ps;
    ps->be->ops->sgd_update(ps->be, ps->values->data, ps->grads->data, o->buf->data, ps->total, o->lr, o->momentum,
                       o->dampening, o->weight_decay, o->nesterov, o->step == 0);
    o->step++;
}
