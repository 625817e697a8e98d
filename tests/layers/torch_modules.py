"""The authors' PyTorch modules for the blocks timm does not ship, written
out here from their public code (read, not copied) so the parity tests run
without installing their repositories:

- `SCSE`: segmentation_models_pytorch's `SCSEModule`;
- `GCT`: z-x-yang/GCT's `GCT`;
- `SGE`: implus/PytorchInsight's `SpatialGroupEnhance`;
- `FcaLayer`: cfzd/FcaNet's `MultiSpectralAttentionLayer` with its DCT
  layer and frequency tables;
- `ELA`: the ELA authors' module (one shared Conv1d and GroupNorm).

Each keeps its source's arithmetic (sums, unbiased std, adaptive pooling),
since that is what the Keras blocks must equal.
"""

import math

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class SCSE(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.cSE = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )
        self.sSE = nn.Sequential(nn.Conv2d(channels, 1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.cSE(x) + x * self.sSE(x)


class GCT(nn.Module):
    def __init__(self, channels, epsilon=1e-5, mode="l2", after_relu=False):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.epsilon, self.mode, self.after_relu = epsilon, mode, after_relu

    def forward(self, x):
        if self.mode == "l2":
            embedding = (x.pow(2).sum((2, 3), keepdim=True) + self.epsilon).pow(
                0.5
            ) * self.alpha
            norm = self.gamma / (
                embedding.pow(2).mean(dim=1, keepdim=True) + self.epsilon
            ).pow(0.5)
        else:
            magnitude = x if self.after_relu else torch.abs(x)
            embedding = magnitude.sum((2, 3), keepdim=True) * self.alpha
            norm = self.gamma / (
                torch.abs(embedding).mean(dim=1, keepdim=True) + self.epsilon
            )
        return x * (1.0 + torch.tanh(embedding * norm + self.beta))


class SGE(nn.Module):
    def __init__(self, groups=64):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x):
        b, c, h, w = x.size()
        x = x.view(b * self.groups, -1, h, w)
        xn = (x * F.adaptive_avg_pool2d(x, 1)).sum(dim=1, keepdim=True)
        t = xn.view(b * self.groups, -1)
        t = t - t.mean(dim=1, keepdim=True)
        t = t / (t.std(dim=1, keepdim=True) + 1e-5)
        t = t.view(b, self.groups, h, w) * self.weight + self.bias
        x = x * torch.sigmoid(t.view(b * self.groups, 1, h, w))
        return x.view(b, c, h, w)


FCA_TOP = (
    [0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2,
     4, 6, 3, 5, 5, 2, 6, 5, 5, 3, 3, 4, 2, 2, 6, 1],
    [0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2,
     6, 3, 3, 3, 5, 1, 1, 2, 4, 2, 1, 1, 3, 0, 5, 3],
)  # fmt: skip
FCA_LOW = (
    [0, 0, 1, 1, 0, 2, 2, 1, 2, 0, 3, 4, 0, 1, 3, 0,
     1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
    [0, 1, 0, 1, 2, 0, 1, 2, 2, 3, 0, 0, 4, 3, 1, 5,
     4, 3, 2, 1, 0, 6, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3],
)  # fmt: skip


class FcaLayer(nn.Module):
    def __init__(self, channels, dct_h, dct_w, reduction=16, method="top16"):
        super().__init__()
        table = {"top": FCA_TOP, "low": FCA_LOW}[method[:3]]
        count = int(method[3:])
        mapper_x = [u * (dct_h // 7) for u in table[0][:count]]
        mapper_y = [v * (dct_w // 7) for v in table[1][:count]]
        self.dct_h, self.dct_w = dct_h, dct_w
        weight = torch.zeros(channels, dct_h, dct_w)
        part = channels // count
        for i, (u, v) in enumerate(zip(mapper_x, mapper_y, strict=True)):
            for tx in range(dct_h):
                for ty in range(dct_w):
                    weight[i * part : (i + 1) * part, tx, ty] = self.basis(
                        tx, u, dct_h
                    ) * self.basis(ty, v, dct_w)
        self.register_buffer("weight", weight)
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False),
            nn.ReLU(),
            nn.Linear(channels // reduction, channels, bias=False),
            nn.Sigmoid(),
        )

    @staticmethod
    def basis(position, frequency, length):
        value = math.cos(math.pi * frequency * (position + 0.5) / length)
        value /= math.sqrt(length)
        return value if frequency == 0 else value * math.sqrt(2)

    def forward(self, x):
        n, c, h, w = x.shape
        pooled = x
        if h != self.dct_h or w != self.dct_w:
            pooled = F.adaptive_avg_pool2d(x, (self.dct_h, self.dct_w))
        y = torch.sum(pooled * self.weight, dim=[2, 3])
        return x * self.fc(y).view(n, c, 1, 1)


class ELA(nn.Module):
    def __init__(self, channels, kernel_size=7, groups=None, num_groups=16):
        super().__init__()
        self.conv = nn.Conv1d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=groups or channels,
            bias=False,
        )
        self.gn = nn.GroupNorm(num_groups, channels)

    def forward(self, x):
        b, c, h, w = x.size()
        x_h = torch.mean(x, dim=3, keepdim=True).view(b, c, h)
        x_w = torch.mean(x, dim=2, keepdim=True).view(b, c, w)
        x_h = torch.sigmoid(self.gn(self.conv(x_h))).view(b, c, h, 1)
        x_w = torch.sigmoid(self.gn(self.conv(x_w))).view(b, c, 1, w)
        return x * x_h * x_w
