// Finite-difference checks of gradients and of gradients of gradients.
//
// For f(inputs) with output y, a fixed random projection r gives the scalar L = <y, r>.
//   gradcheck:     grad(L, inputs) against a 4-point central stencil on every element.
//   gradgradcheck: H = sum_i <grad_{x_i} L, v_i> (computed with create_graph) is itself a
//                  function of the inputs and of r; grad(H, inputs and r) is checked the same
//                  way. That exercises every backward rule as a differentiable function of both
//                  its forward inputs and its upstream gradient (the idea of torch's
//                  gradgradcheck).
// Near a kink (relu, abs, clamp) a stencil that straddles it is meaningless; with kinks on, an
// element whose one-sided differences disagree is skipped (and counted: at most a quarter may be).
#pragma once
#include <stdbool.h>

#include "autograd.h"
#include "ops.h"

typedef ag_tensor *(*gc_fn)(ag_ctx *c, ag_tensor **inputs, void *user);

typedef struct gc_opts {
    float eps;        // stencil step (default 1e-2)
    float atol, rtol; // default 5e-3, 2e-2
    bool kinks;       // skip elements whose stencil straddles a kink
    int skip_input;   // bit mask of inputs not to check (no gradient expected: targets, indices)
} gc_opts;

// inputs: persistent leaves on the backend under test (their values are perturbed and restored). Returns the number
// of failed elements (0 = pass) and reports each failure through the test helper.
int gc_check_grad(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o);
int gc_check_gradgrad(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o);
// Both of the above.
int gc_check(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o);

// A persistent leaf on the backend under test that requires grad, filled with N(0, 1) * scale + shift from `seed`.
ag_tensor *gc_input(ag_shape shape, uint64_t seed, float scale, float shift);
void gc_free_inputs(int n, ag_tensor **inputs);
