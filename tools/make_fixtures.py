#!/usr/bin/python3
"""PyTorch reference fixtures for the C tests: `python3 tools/make_fixtures.py` rewrites them all.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy. Everything is float32,
PyTorch runs on one CPU thread, and every file and every op case draws from its own fixed seed,
so a rerun writes the same numbers (and the same bytes: no HDF5 timestamps), and adding a case
changes no other. Files are written into tests/fixtures/ (next to this script's ../tests),
replacing what is there. Datasets of 1024 or more elements are stored with HDF5's shuffle +
deflate filters, which libhdf5 and h5py undo transparently. A float scalar (PyTorch shape ()) is
stored with shape (1); the int64 num_batches_tracked entries keep shape ().

tests/fixtures/ops.h5 -- single ops, one group per case (`h5ls tests/fixtures/ops.h5`):
    x0, x1, ...   inputs, in the order of the PyTorch call
    y             output
    gy            a random N(0,1) upstream gradient of y's shape
    gx<i>         d<y, gy>/d x<i>, present only for inputs that are differentiated (absent for
                  targets of losses)
    attributes    the op's parameters; ints (int64) unless noted:
                    conv2d_*            stride_h, stride_w, pad_h, pad_w, groups
                                        x0 input, x1 weight, x2 bias (when present)
                    conv_transpose2d_*  the same plus out_pad_h, out_pad_w
                    batchnorm2d_train_* momentum, eps (floats); x0 input, x1 weight (gamma),
                                        x2 bias (beta); extra datasets running_mean_before,
                                        running_var_before, running_mean_after,
                                        running_var_after (the update of nn.BatchNorm2d in
                                        training mode, unbiased variance)
                    batchnorm2d_eval    eps (float); x0, x1, x2 as above; extra datasets
                                        running_mean, running_var (used, not differentiated)
                    linear*             none; x0 input (N, in), x1 weight (out, in), x2 bias
                    leaky_relu          negative_slope (float)
                    relu tanh sigmoid softplus upsample_nearest2x avg_pool2d   none
                    bce*                none; x0 probabilities, x1 targets (no gx1); y = mean
                    bce_with_logits*    none; x0 logits, x1 targets (no gx1); y = mean
                    sum_* mean_*        keepdim (0/1) and axes (int64 array; absent: all axes,
                                        and y has shape (1))
                    pad2d*              top, bottom, left, right (negative crops), i.e.
                                        F.pad(x, (left, right, top, bottom))
                    matmul*             transpose_a, transpose_b (0/1): y = op(x0) @ op(x1)
                    concat*             axis
                    log_softmax*        none; y = torch.log_softmax(x0, dim=1), x0 (N, K)
                    cross_entropy*      none; x0 logits (N, K), x1 targets (N, K) (no gx1);
                                        y = F.cross_entropy(x0, x1) with probability targets,
                                        or with class indices x1.argmax(1) for one-hot x1
                                        (cross_entropy_labels*)
                    max_pool2d_*        kernel, stride, pad (square); y = F.max_pool2d(x0,
                                        kernel, stride, pad); x0 without ties in any window
    every group also has a string attribute `expr`: the PyTorch expression, for humans.

tests/fixtures/dcgan32.h5, tests/fixtures/dcgan64.h5 -- the Generator and Discriminator of
pytorch/examples/dcgan/main.py (tools/dcgan_reference.py) at nz=16, ngf=8, ndf=8, batch B=4;
64x64 with nc=3 is exactly the reference architecture, 32x32 with nc=1 drops one block from each
network (G: ngf*4 -> ngf*2 -> ngf -> nc; D: nc -> ndf -> ndf*2 -> ndf*4 -> 1). Weights are
initialised as the reference weights_init (conv N(0, 0.02), BN weight N(1, 0.02), BN bias 0).
    /G/<name>, /D/<name>       every state_dict entry before the iteration (main.0.weight,
                               main.1.weight, main.1.bias, main.1.running_mean,
                               main.1.running_var, main.1.num_batches_tracked, ...);
                               num_batches_tracked as int64 scalars (shape ())
    /noise (B, nz, 1, 1)       N(0, 1)
    /real (B, nc, H, W)        uniform in [-1, 1]
  then ONE iteration of the reference training loop (BCELoss, Adam lr 2e-4 betas (0.5, 0.999),
  labels 1 real / 0 fake; both networks in training mode):
        netD.zero_grad(); out = netD(real).view(-1); errD_real = crit(out, 1); errD_real.backward()
        fake = netG(noise); out = netD(fake.detach()).view(-1); errD_fake = crit(out, 0)
        errD_fake.backward(); optimizerD.step()
        netG.zero_grad(); out = netD(fake).view(-1); errG = crit(out, 1); errG.backward()
        optimizerG.step()
    /fake (B, nc, H, W)        netG(noise)
    /d_real, /d_fake1, /d_fake2 (B)   the three D outputs, in that order
    /errD_real, /errD_fake, /errG (1)
    /grad_D/<param name>       D's gradients when optimizerD.step() runs (real + fake terms)
    /grad_G/<param name>       G's gradients when optimizerG.step() runs
    /D_after/<name>, /G_after/<name>   full state_dicts after the iteration, running statistics
                               included (D's BN layers saw three batches, G's one)

tests/fixtures/optim.h5 -- torch.optim.Adam and SGD: one group per case (adam, adam_wd, sgd,
sgd_momentum, sgd_nesterov) with p0, given gradients g1..g3 and the parameter after each of the
three steps p1..p3; hyper-parameters (lr, beta1, beta2, eps, momentum, dampening, weight_decay,
nesterov) as float attributes.

tests/fixtures/r1.h5 -- the R1 penalty through a small conv discriminator (PyTorch default init):
        conv1 = Conv2d(3, 8, 3, 1, 1); LeakyReLU(0.2); conv2 = Conv2d(8, 16, 4, 2, 1);
        LeakyReLU(0.2); flatten; fc = Linear(16*4*4, 1)
        x (4, 3, 8, 8) requires grad; logits = D(x)
        g = torch.autograd.grad(logits.sum(), x, create_graph=True)[0]
        penalty = g.square().sum(dim=[1, 2, 3]).mean(); penalty.backward()
    /params/<name>   conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias
    /x (4, 3, 8, 8), /logits (4, 1), /grad_x (4, 3, 8, 8) = g, /penalty (1)
    /grad/<name>     d penalty / d param, same names as /params; the biases get zeros (g depends
                     on them only through LeakyReLU's piecewise-constant slope, on fc.bias not at
                     all; PyTorch leaves fc.bias.grad None)
"""
import os
import zlib

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from dcgan_reference import Discriminator, Generator, weights_init

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def seed_for(name):
    """A fixed seed per case or file, independent of the order they are written in."""
    torch.manual_seed(zlib.crc32(name.encode()))


def put(group, name, value):
    """Stores a tensor as float32 (int64 stays int64); a float scalar becomes shape (1)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    assert value.dtype != object and np.isfinite(value).all(), "%s/%s is not finite" % (group.name, name)
    if value.dtype != np.int64:
        value = value.astype(np.float32)
        if value.ndim == 0:
            value = value.reshape(1)
    # Compression pays (about 10%: float mantissas hardly compress) only on the larger arrays.
    packed = dict(shuffle=True, compression="gzip", compression_opts=9) if value.size >= 1024 else {}
    group.create_dataset(name, data=value, track_times=False, **packed)


def open_out(name):
    """A new file in the compact (latest) format, without the creation times HDF5 would record
    in every group's header, so that rerunning the script rewrites identical bytes."""
    os.makedirs(FIXTURES, exist_ok=True)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    path = os.path.join(FIXTURES, name).encode()
    f = h5py.File(h5py.h5f.create(path, h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))
    f.attrs["generator"] = "tools/make_fixtures.py, torch " + torch.__version__
    return f


def new_group(parent, name):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


# --- ops.h5 -----------------------------------------------------------------------------------

def op_case(f, name, expr, fn, inputs, needs_grad, attrs=None, extra=None):
    """inputs: tensors made after seed_for(name); fn(*inputs) -> y; gradients for needs_grad."""
    xs = [x.detach().clone().requires_grad_(g) for x, g in zip(inputs, needs_grad)]
    y = fn(*xs)
    gy = torch.randn(y.shape)
    wrt = [x for x in xs if x.requires_grad]
    grads = torch.autograd.grad(y, wrt, gy)
    g = new_group(f, name)
    g.attrs["expr"] = expr
    for k, v in (attrs or {}).items():
        g.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    for i, x in enumerate(xs):
        put(g, "x%d" % i, x)
    put(g, "y", y)
    put(g, "gy", gy)
    it = iter(grads)
    for i, x in enumerate(xs):
        if x.requires_grad:
            put(g, "gx%d" % i, next(it))
    for k, v in (extra or {}).items():
        put(g, k, v)


def conv_case(f, name, x_shape, w_shape, bias, stride, pad, groups):
    seed_for(name)
    x, w = torch.randn(x_shape), torch.randn(w_shape) * 0.3
    inputs = [x, w] + ([torch.randn(w_shape[0])] if bias else [])
    expr = "F.conv2d(x0, x1, %s, stride=%s, padding=%s, groups=%d)" % (
        "x2" if bias else "None", stride, pad, groups)
    op_case(f, name, expr,
            lambda x, w, b=None: F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups),
            inputs, [True] * len(inputs),
            dict(stride_h=stride[0], stride_w=stride[1], pad_h=pad[0], pad_w=pad[1], groups=groups))


def conv_transpose_case(f, name, x_shape, w_shape, bias, stride, pad, out_pad, groups):
    seed_for(name)
    x, w = torch.randn(x_shape), torch.randn(w_shape) * 0.3
    inputs = [x, w] + ([torch.randn(w_shape[1] * groups)] if bias else [])
    expr = "F.conv_transpose2d(x0, x1, %s, stride=%s, padding=%s, output_padding=%s, groups=%d)" % (
        "x2" if bias else "None", stride, pad, out_pad, groups)
    op_case(f, name, expr,
            lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride=stride, padding=pad,
                                                    output_padding=out_pad, groups=groups),
            inputs, [True] * len(inputs),
            dict(stride_h=stride[0], stride_w=stride[1], pad_h=pad[0], pad_w=pad[1],
                 out_pad_h=out_pad[0], out_pad_w=out_pad[1], groups=groups))


def batchnorm_train_case(f, name, shape):
    seed_for(name)
    c = shape[1]
    x = torch.randn(shape) * 2 + torch.randn(1, c, 1, 1)
    gamma, beta = torch.randn(c) * 0.5 + 1, torch.randn(c) * 0.5
    rm, rv = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    rm_after, rv_after = rm.clone(), rv.clone()
    op_case(f, name, "F.batch_norm(x0, rm, rv, x1, x2, training=True, momentum=0.1, eps=1e-5)",
            lambda x, g, b: F.batch_norm(x, rm_after, rv_after, g, b, True, 0.1, 1e-5),
            [x, gamma, beta], [True] * 3, dict(momentum=0.1, eps=1e-5),
            dict(running_mean_before=rm, running_var_before=rv,
                 running_mean_after=rm_after, running_var_after=rv_after))


def write_ops():
    f = open_out("ops.h5")
    conv_case(f, "conv2d_s1_p0_bias", (2, 3, 7, 6), (4, 3, 3, 3), True, (1, 1), (0, 0), 1)
    conv_case(f, "conv2d_s1_p1", (2, 3, 5, 5), (4, 3, 3, 3), False, (1, 1), (1, 1), 1)
    conv_case(f, "conv2d_s2_p1_bias", (2, 3, 9, 7), (5, 3, 3, 3), True, (2, 2), (1, 1), 1)
    conv_case(f, "conv2d_s2_p0", (2, 2, 7, 9), (3, 2, 3, 3), False, (2, 2), (0, 0), 1)
    conv_case(f, "conv2d_k4_s2_p1", (2, 3, 8, 8), (6, 3, 4, 4), False, (2, 2), (1, 1), 1)
    conv_case(f, "conv2d_k4_s1_p0", (2, 8, 4, 4), (1, 8, 4, 4), False, (1, 1), (0, 0), 1)
    conv_case(f, "conv2d_groups2", (2, 4, 6, 5), (6, 2, 3, 3), True, (1, 1), (1, 1), 2)
    conv_case(f, "conv2d_nonsquare", (2, 3, 8, 7), (4, 3, 2, 3), True, (2, 1), (1, 0), 1)

    conv_transpose_case(f, "conv_transpose2d_s2_p1", (2, 6, 4, 4), (6, 4, 4, 4), False,
                        (2, 2), (1, 1), (0, 0), 1)
    conv_transpose_case(f, "conv_transpose2d_1x1_s1_p0", (3, 8, 1, 1), (8, 6, 4, 4), False,
                        (1, 1), (0, 0), (0, 0), 1)
    conv_transpose_case(f, "conv_transpose2d_outpad1_bias", (2, 3, 3, 4), (3, 2, 3, 3), True,
                        (2, 2), (1, 1), (1, 1), 1)
    conv_transpose_case(f, "conv_transpose2d_groups2_bias", (2, 4, 3, 3), (4, 3, 3, 3), True,
                        (2, 2), (0, 0), (0, 0), 2)
    conv_transpose_case(f, "conv_transpose2d_nonsquare", (2, 3, 4, 3), (3, 2, 2, 3), False,
                        (2, 1), (0, 1), (1, 0), 1)

    batchnorm_train_case(f, "batchnorm2d_train", (4, 3, 3, 5))
    batchnorm_train_case(f, "batchnorm2d_train_4x4", (4, 6, 4, 4))
    seed_for("batchnorm2d_eval")
    rm, rv = torch.randn(3) * 0.5, torch.rand(3) + 0.5
    op_case(f, "batchnorm2d_eval", "F.batch_norm(x0, rm, rv, x1, x2, training=False, eps=1e-5)",
            lambda x, g, b: F.batch_norm(x, rm, rv, g, b, False, 0.1, 1e-5),
            [torch.randn(2, 3, 4, 5), torch.randn(3) * 0.5 + 1, torch.randn(3) * 0.5],
            [True] * 3, dict(eps=1e-5), dict(running_mean=rm, running_var=rv))

    seed_for("linear")
    op_case(f, "linear", "F.linear(x0, x1, x2)", F.linear,
            [torch.randn(3, 5), torch.randn(4, 5) * 0.5, torch.randn(4)], [True] * 3)
    seed_for("linear_nobias")
    op_case(f, "linear_nobias", "F.linear(x0, x1)", F.linear,
            [torch.randn(4, 7), torch.randn(2, 7) * 0.5], [True] * 2)

    unary = [("relu", F.relu, 1.0), ("tanh", torch.tanh, 1.5), ("sigmoid", torch.sigmoid, 3.0),
             ("softplus", F.softplus, 4.0)]
    for name, fn, scale in unary:
        seed_for(name)
        op_case(f, name, "%s(x0)" % name, fn, [torch.randn(3, 4, 5) * scale], [True])
    seed_for("leaky_relu")
    op_case(f, "leaky_relu", "F.leaky_relu(x0, 0.2)", lambda x: F.leaky_relu(x, 0.2),
            [torch.randn(3, 4, 5)], [True], dict(negative_slope=0.2))

    seed_for("bce")
    op_case(f, "bce", "F.binary_cross_entropy(x0, x1)", F.binary_cross_entropy,
            [torch.sigmoid(torch.randn(2, 5) * 2), torch.rand(2, 5)], [True, False])
    seed_for("bce_labels")
    op_case(f, "bce_labels", "F.binary_cross_entropy(x0, x1), x1 in {0, 1}",
            F.binary_cross_entropy,
            [torch.sigmoid(torch.randn(8) * 2), (torch.rand(8) > 0.5).float()], [True, False])
    seed_for("bce_with_logits")
    op_case(f, "bce_with_logits", "F.binary_cross_entropy_with_logits(x0, x1)",
            F.binary_cross_entropy_with_logits,
            [torch.randn(2, 5) * 3, torch.rand(2, 5)], [True, False])
    seed_for("bce_with_logits_labels")
    op_case(f, "bce_with_logits_labels", "F.binary_cross_entropy_with_logits(x0, x1), x1 in {0, 1}",
            F.binary_cross_entropy_with_logits,
            [torch.randn(8) * 6, (torch.rand(8) > 0.5).float()], [True, False])

    seed_for("upsample_nearest2x")
    op_case(f, "upsample_nearest2x", "F.interpolate(x0, scale_factor=2, mode='nearest')",
            lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
            [torch.randn(2, 3, 3, 4)], [True])
    seed_for("avg_pool2d")
    op_case(f, "avg_pool2d", "F.avg_pool2d(x0, 2)", lambda x: F.avg_pool2d(x, 2),
            [torch.randn(2, 3, 4, 6)], [True])

    reductions = [("sum_axis1", torch.sum, (1,), False), ("sum_axes023_keepdim", torch.sum, (0, 2, 3), True),
                  ("sum_axis_last", torch.sum, (-1,), False), ("sum_all", torch.sum, None, False),
                  ("mean_axes23", torch.mean, (2, 3), False), ("mean_axis0_keepdim", torch.mean, (0,), True),
                  ("mean_all", torch.mean, None, False)]
    for name, fn, axes, keepdim in reductions:
        seed_for(name)
        x = torch.randn(2, 3, 4, 5)
        if axes is None:
            op_case(f, name, "torch.%s(x0)" % fn.__name__, fn, [x], [True], dict(keepdim=0))
        else:
            op_case(f, name, "torch.%s(x0, dim=%s, keepdim=%s)" % (fn.__name__, axes, keepdim),
                    lambda x: fn(x, dim=axes, keepdim=keepdim), [x], [True],
                    dict(axes=list(axes), keepdim=int(keepdim)))

    for name, (top, bottom, left, right) in [("pad2d", (0, 3, 1, 2)), ("pad2d_crop", (1, -2, -1, 0))]:
        seed_for(name)
        op_case(f, name, "F.pad(x0, (%d, %d, %d, %d))" % (left, right, top, bottom),
                lambda x: F.pad(x, (left, right, top, bottom)), [torch.randn(2, 3, 4, 5)], [True],
                dict(top=top, bottom=bottom, left=left, right=right))

    matmuls = [("matmul", (3, 4), (4, 5), 0, 0), ("matmul_batched", (2, 3, 4), (2, 4, 5), 0, 0),
               ("matmul_ta", (4, 3), (4, 5), 1, 0), ("matmul_tb", (3, 4), (5, 4), 0, 1)]
    for name, sa, sb, ta, tb in matmuls:
        seed_for(name)
        op_case(f, name, "%s @ %s" % ("x0.mT" if ta else "x0", "x1.mT" if tb else "x1"),
                lambda a, b: torch.matmul(a.mT if ta else a, b.mT if tb else b),
                [torch.randn(sa), torch.randn(sb)], [True, True],
                dict(transpose_a=ta, transpose_b=tb))

    concats = [("concat_axis1", [(2, 1, 3, 2), (2, 2, 3, 2), (2, 3, 3, 2)], 1),
               ("concat_axis0", [(1, 4), (2, 4), (1, 4)], 0),
               ("concat_axis3", [(2, 2, 2, 3), (2, 2, 2, 1)], 3)]
    for name, shapes, axis in concats:
        seed_for(name)
        op_case(f, name, "torch.cat([x0, ...], dim=%d)" % axis,
                lambda *xs: torch.cat(xs, dim=axis), [torch.randn(s) for s in shapes],
                [True] * len(shapes), dict(axis=axis))

    for name, scale, offset in [("log_softmax", 2.0, 0.0), ("log_softmax_offset", 3.0, 100.0)]:
        seed_for(name)
        x = torch.randn(4, 7) * scale + torch.randn(4, 1) * offset
        op_case(f, name, "torch.log_softmax(x0, dim=1)", lambda x: torch.log_softmax(x, dim=1), [x], [True])

    seed_for("cross_entropy")
    op_case(f, "cross_entropy", "F.cross_entropy(x0, x1), x1 probabilities", F.cross_entropy,
            [torch.randn(5, 6) * 2, torch.softmax(torch.randn(5, 6), dim=1)], [True, False])
    seed_for("cross_entropy_labels")
    logits, labels = torch.randn(6, 4) * 2, torch.randint(0, 4, (6,))
    onehot = F.one_hot(labels, 4).float()
    assert torch.allclose(F.cross_entropy(logits, labels), F.cross_entropy(logits, onehot))
    op_case(f, "cross_entropy_labels", "F.cross_entropy(x0, x1.argmax(1)), x1 one-hot",
            lambda x, t: F.cross_entropy(x, t.argmax(1)), [logits, onehot], [True, False])

    pools = [("max_pool2d_k3_s2_p0", (2, 3, 9, 8), 3, 2, 0),   # InceptionV3's stem, reductions
             ("max_pool2d_k3_s1_p1", (2, 3, 6, 7), 3, 1, 1),   # InceptionV3's pooling branches
             ("max_pool2d_k2_s2_p0", (2, 2, 7, 6), 2, 2, 0),
             ("max_pool2d_k3_s2_p1", (1, 3, 8, 9), 3, 2, 1),
             ("max_pool2d_k2_s1_p1", (2, 2, 5, 4), 2, 1, 1)]
    for name, shape, kernel, stride, pad in pools:
        seed_for(name)
        x = torch.randn(shape)
        assert x.flatten().unique().numel() == x.numel(), "%s: ties in the input" % name
        op_case(f, name, "F.max_pool2d(x0, %d, %d, %d)" % (kernel, stride, pad),
                lambda x: F.max_pool2d(x, kernel, stride, pad), [x], [True],
                dict(kernel=kernel, stride=stride, pad=pad))
    f.close()


# --- dcgan32.h5, dcgan64.h5 ---------------------------------------------------------------------

NZ, NGF, NDF, BATCH = 16, 8, 8, 4


def put_state(f, prefix, module, skip=None):
    """Every state_dict entry of module into the new group f/prefix, but those whose names end
    with skip."""
    g = new_group(f, prefix)
    for name, t in module.state_dict().items():
        if skip is None or not name.endswith(skip):
            put(g, name, t)


def write_dcgan(size, nc):
    name = "dcgan%d.h5" % size
    seed_for(name)
    netG, netD = Generator(size, NZ, NGF, nc), Discriminator(size, NDF, nc)
    netG.apply(weights_init)
    netD.apply(weights_init)
    noise = torch.randn(BATCH, NZ, 1, 1)
    real = torch.rand(BATCH, nc, size, size) * 2 - 1
    f = open_out(name)
    put_state(f, "G", netG)
    put_state(f, "D", netD)
    put(f, "noise", noise)
    put(f, "real", real)

    crit = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.full((BATCH,), 1.0), torch.full((BATCH,), 0.0)

    netD.zero_grad()
    d_real = netD(real).view(-1)
    errD_real = crit(d_real, ones)
    errD_real.backward()
    fake = netG(noise)
    d_fake1 = netD(fake.detach()).view(-1)
    errD_fake = crit(d_fake1, zeros)
    errD_fake.backward()
    grad_D = {n: p.grad.clone() for n, p in netD.named_parameters()}
    optD.step()
    netG.zero_grad()
    d_fake2 = netD(fake).view(-1)
    errG = crit(d_fake2, ones)
    errG.backward()
    grad_G = {n: p.grad.clone() for n, p in netG.named_parameters()}
    optG.step()

    for key, value in [("fake", fake), ("d_real", d_real), ("d_fake1", d_fake1),
                       ("d_fake2", d_fake2), ("errD_real", errD_real),
                       ("errD_fake", errD_fake), ("errG", errG)]:
        put(f, key, value)
    for prefix, grads in [("grad_D", grad_D), ("grad_G", grad_G)]:
        g = new_group(f, prefix)
        for n, t in grads.items():
            put(g, n, t)
    put_state(f, "D_after", netD)
    put_state(f, "G_after", netG)
    f.close()


# --- r1.h5 --------------------------------------------------------------------------------------

class SmallD(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.conv2 = nn.Conv2d(8, 16, 4, 2, 1)
        self.fc = nn.Linear(16 * 4 * 4, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return self.fc(h.flatten(1))


def write_r1():
    seed_for("r1.h5")
    d = SmallD()
    x = torch.randn(4, 3, 8, 8).requires_grad_(True)
    logits = d(x)
    g = torch.autograd.grad(logits.sum(), x, create_graph=True)[0]
    penalty = g.square().sum(dim=[1, 2, 3]).mean()
    penalty.backward()
    f = open_out("r1.h5")
    params = new_group(f, "params")
    grads = new_group(f, "grad")
    for n, p in d.named_parameters():
        put(params, n, p)
        # g does not depend on fc.bias at all (PyTorch leaves its .grad None), and on the conv
        # biases only through the piecewise-constant LeakyReLU slopes: all zeros.
        put(grads, n, p.grad if p.grad is not None else torch.zeros_like(p))
    put(f, "x", x)
    put(f, "logits", logits)
    put(f, "grad_x", g)
    put(f, "penalty", penalty)
    f.close()


# --- optim.h5 ---------------------------------------------------------------------------------

OPTIM_CASES = [
    # name, constructor, attributes (all stored as float attributes of the group)
    ("adam", lambda p: torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8),
     dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)),
    ("adam_wd", lambda p: torch.optim.Adam([p], lr=1e-2, betas=(0.5, 0.999), eps=1e-6, weight_decay=0.1),
     dict(lr=1e-2, beta1=0.5, beta2=0.999, eps=1e-6, weight_decay=0.1)),
    ("sgd", lambda p: torch.optim.SGD([p], lr=0.1),
     dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=0.0)),
    ("sgd_momentum", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
     dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=0.0)),
    ("sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=1.0)),
]


def write_optim():
    """tests/fixtures/optim.h5: per optimizer case, p0 (5, 3), given gradients g1..g3 and the
    parameter after each step p1..p3 (hyper-parameters as float attributes)."""
    f = open_out("optim.h5")
    for name, make, attrs in OPTIM_CASES:
        seed_for("optim/" + name)
        p = torch.randn(5, 3).requires_grad_(True)
        grads = [torch.randn(5, 3) for _ in range(3)]
        g = new_group(f, name)
        put(g, "p0", p)
        opt = make(p)
        for k, grad in enumerate(grads, 1):
            p.grad = grad.clone()
            opt.step()
            put(g, "g%d" % k, grad)
            put(g, "p%d" % k, p)
        for key, value in attrs.items():
            g.attrs[key] = float(value)
    f.close()


def main():
    torch.set_num_threads(1)  # one summation order on every machine
    torch.set_default_dtype(torch.float32)
    write_ops()
    write_dcgan(32, 1)
    write_dcgan(64, 3)
    write_r1()
    write_optim()
    for name in sorted(os.listdir(FIXTURES)):
        print("%-12s %8d bytes" % (name, os.path.getsize(os.path.join(FIXTURES, name))))


if __name__ == "__main__":
    main()
