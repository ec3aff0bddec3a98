"""The DCGAN of pytorch/examples/dcgan (main.py) in PyTorch, at 32x32 or 64x64, grey-scale or RGB:
the one definition that tools/make_fixtures.py (tests/fixtures/dcgan*.h5), tools/torch_interop.py
(a checkpoint's generator in PyTorch) and tools/bench/torch_dcgan.py (the PyTorch side of the
benchmark) build. A module, not a script: `import dcgan_reference` with tools/ on sys.path.

64x64 is exactly the reference architecture; 32x32 drops one block from each network
(G: ngf*4 -> ngf*2 -> ngf -> nc; D: nc -> ndf -> ndf*2 -> ndf*4 -> 1), as gan.c does. Each
network is an nn.Sequential `main`, so the state_dict names (main.0.weight, main.1.running_mean,
...) are those of gan.c's checkpoints (docs/checkpoints.md). Layers are created in forward
order, so under a fixed seed the default initialisation draws the same numbers as the reference.
"""
import torch.nn as nn


def weights_init(m):
    """The reference's initialisation, for module.apply: conv N(0, 0.02), BN weight N(1, 0.02),
    BN bias 0."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """(N, nz, 1, 1) -> (N, nc, res, res) in [-1, 1]: ConvT(4,1,0) BN ReLU, ConvT(4,2,1) BN ReLU
    blocks halving the width down to ngf, then ConvT(4,2,1) Tanh."""

    def __init__(self, res, nz, ngf, nc):
        super().__init__()
        mult = 8 if res == 64 else 4
        layers = [nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False),
                  nn.BatchNorm2d(ngf * mult), nn.ReLU(True)]
        while mult > 1:
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ngf * mult // 2), nn.ReLU(True)]
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """(N, nc, res, res) -> (N, 1, 1, 1) probabilities: Conv(4,2,1) LeakyReLU(0.2), Conv(4,2,1)
    BN LeakyReLU blocks doubling the width up to ndf*8 (ndf*4 at 32x32), then Conv(4,1,0)
    Sigmoid."""

    def __init__(self, res, ndf, nc):
        super().__init__()
        top = 8 if res == 64 else 4
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        while mult < top:
            layers += [nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ndf * mult * 2), nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        layers += [nn.Conv2d(ndf * top, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)
