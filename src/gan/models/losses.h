// The GAN losses both model families train with, on D's outputs (N), as means over the batch:
//
//   loss      D output   D loss (real term + fake term)                  G loss
//   bce       sigmoid    BCE(D(x), 1 - s) + BCE(D(G(z)), 0)              BCE(D(G(z)), 1)
//   logits    raw        the same through BCE on logits (softplus form)  the same
//   logistic  raw        softplus(-D(x)) + softplus(D(G(z)))             softplus(-D(G(z)))
//   hinge     raw        relu(1 - D(x)) + relu(1 + D(G(z)))              -D(G(z))
//   lsgan     raw        (D(x) - 1)^2 / 2 + D(G(z))^2 / 2                (D(G(z)) - 1)^2 / 2
//   wgan-gp   raw        -D(x) + D(G(z)), plus lambda * the penalty       -D(G(z))
//
// bce and logits are DCGAN's non-saturating loss as the PyTorch reference writes it (s: one-sided
// label smoothing); logistic is StyleGAN2's (the same function through softplus, as NVlabs'
// loss.py writes it). lsgan is Mao et al. 2017 with a = 0, b = c = 1; hinge is Lim & Ye 2017 as
// BigGAN and SAGAN use it; wgan-gp is Gulrajani et al. 2017. The real and fake terms are separate
// tensors so that a family can run D's real and fake passes (and their backward) one at a time.
#pragma once
#include <stdbool.h>

#include "ctx.h"
#include "tensor.h"

typedef enum gan_loss_kind {
    GAN_LOSS_BCE,  // zero: the default of a zeroed options struct, DCGAN's reference loss
    GAN_LOSS_LOGITS,
    GAN_LOSS_LOGISTIC,
    GAN_LOSS_HINGE,
    GAN_LOSS_LSGAN,
    GAN_LOSS_WGAN_GP,
} gan_loss_kind;

// The config's spelling ("bce", "wgan-gp"); -1 for a name that is none. The schema has checked
// the name, so callers treat -1 as a programmer error.
int gan_loss_from_name(const char *name);
const char *gan_loss_name(gan_loss_kind k);
// Whether D ends in a sigmoid (probabilities) for this loss; every other loss reads raw scores.
bool gan_loss_d_sigmoid(gan_loss_kind k);

// D's loss terms on its outputs out (N): the real batch's (real_label is BCE's target, 1 - s;
// the other losses ignore it) and the fake batch's. Shape (1).
ag_tensor *gan_loss_d_real(ag_ctx *c, gan_loss_kind k, ag_tensor *out, float real_label);
ag_tensor *gan_loss_d_fake(ag_ctx *c, gan_loss_kind k, ag_tensor *out);
// G's loss on D's outputs on the fake batch (with history through G). Shape (1).
ag_tensor *gan_loss_g(ag_ctx *c, gan_loss_kind k, ag_tensor *out);

// D as the penalty sees it: x (N, ...) -> scores (N), differentiable twice.
typedef ag_tensor *(*gan_loss_critic_fn)(ag_ctx *c, void *critic, ag_tensor *x);

// WGAN-GP's gradient penalty, per sample (N): (|d sum D(x_hat) / d x_hat|_2 - 1)^2 on
// x_hat = eps * real + (1 - eps) * fake, eps (N, 1, ..., 1) with real's rank. The gradient is
// taken with create_graph, so the result differentiates into D's parameters (a gradient of a
// gradient); under no_grad only the value is computed. real and fake must carry no history. *norms gets the gradient norms (N) when not
// NULL. Summing D over the batch gives each sample its own gradient only when D treats samples
// independently (no batchnorm, no minibatch statistics): the caller's D must.
ag_tensor *gan_loss_gradient_penalty(ag_ctx *c, gan_loss_critic_fn critic_fn, void *critic, ag_tensor *real,
                                     ag_tensor *fake, ag_tensor *eps, ag_tensor **norms);

// G's backward through a frozen D, in two halves to save memory: loss_fn (D and G's loss on
// its input x, a leaf of its own) runs under a mark, the gradient of its loss with respect to x
// is copied below the mark and D's pass is given back, then the backward goes on through G from
// `fake` (the batch D judged, with G's history). The arena holds D's pass or G's gradients,
// never both, and the gradients are a single ag_backward's: the same rules in the same order.
// loss_fn may read statistics from D's outputs (they are gone afterwards). D's parameters must
// not require grad. Returns the loss's value.
typedef ag_tensor *(*gan_loss_g_fn)(ag_ctx *c, void *arg, ag_tensor *x);
float gan_backward_through_frozen_d(ag_ctx *c, ag_tensor *fake, gan_loss_g_fn loss_fn, void *arg);
