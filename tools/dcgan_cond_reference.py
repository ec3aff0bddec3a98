"""Class-conditional DCGAN in PyTorch (docs/variants.md, "Conditioning"): the networks of
dcgan_reference.py with each BatchNorm2d of G replaced by a conditional batchnorm and a
projection added to D, under the state_dict names of gan.c's checkpoints. A module, not a
script: tools/make_fixtures_conditional.py (tests/fixtures/conditional.h5) and
tools/torch_interop.py (a conditional checkpoint's generator in PyTorch) build it.

  CondBN           BatchNorm2d(affine=False) (buffers main.<i>.running_mean, ...) with two
                   nn.Embedding(K, C), main.<i>.gain.weight and main.<i>.bias.weight:
                   y = bn(x) * gain(label) + bias(label)
  CondGenerator    (z, labels) -> images; DCGAN's G with CondBN, every row of the tables
                   initialised as the reference initialises BN (gain N(1, 0.02), bias 0)
  ProjDiscriminator  (x, labels) -> raw scores (N): phi = the feature map entering the last
                   conv, conv(phi).view(-1) + sum(embed(label) * phi.flatten(1), 1), with
                   embed.weight (K, C * 16) N(0, 0.02); no Sigmoid (bce applies it)
"""
import torch.nn as nn
import torch.nn.functional as F

from dcgan_reference import Discriminator, Generator, weights_init


class CondBN(nn.BatchNorm2d):
    def __init__(self, channels, classes):
        super().__init__(channels, affine=False)
        del self.weight, self.bias  # the None parameters of affine=False: the tables take the names
        self.gain = nn.Embedding(classes, channels)
        self.bias = nn.Embedding(classes, channels)

    def forward(self, x, y):
        if self.training:
            self.num_batches_tracked += 1
        h = F.batch_norm(x, self.running_mean, self.running_var, None, None, self.training, self.momentum, self.eps)
        return h * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class CondGenerator(nn.Module):
    def __init__(self, res, nz, ngf, nc, classes):
        super().__init__()
        ref = Generator(res, nz, ngf, nc)
        ref.apply(weights_init)
        layers = list(ref.main)
        for i, m in enumerate(layers):
            if isinstance(m, nn.BatchNorm2d):
                cbn = CondBN(m.num_features, classes)
                nn.init.normal_(cbn.gain.weight, 1.0, 0.02)
                nn.init.zeros_(cbn.bias.weight)
                layers[i] = cbn
        self.main = nn.Sequential(*layers)

    def forward(self, z, y):
        h = z
        for m in self.main:
            h = m(h, y) if isinstance(m, CondBN) else m(h)
        return h


class ProjDiscriminator(nn.Module):
    def __init__(self, res, ndf, nc, classes):
        super().__init__()
        ref = Discriminator(res, ndf, nc)
        ref.apply(weights_init)
        self.main = nn.Sequential(*list(ref.main)[:-1])  # without the Sigmoid
        top = 8 if res == 64 else 4
        self.embed = nn.Embedding(classes, ndf * top * 16)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x, y):
        phi = self.main[:-1](x)
        return self.main[-1](phi).view(-1) + (self.embed(y) * phi.flatten(1)).sum(1)
