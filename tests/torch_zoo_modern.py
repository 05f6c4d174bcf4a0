"""Plain-PyTorch twins of the networks courses teach today, for the zoo's next files.

Each builder follows torchvision's model code module by module (torchvision itself is
not a dependency) and reproduces torchvision's published parameter count exactly:
``googlenet.py`` (with its two auxiliary heads, as built for training), ``densenet.py``,
``squeezenet.py``, ``shufflenetv2.py``, ``mobilenetv3.py``, ``efficientnet.py``,
``regnet.py`` and ``convnext.py``. ``unet`` is the network of Ronneberger et al. (2015):
unpadded 3×3 convolutions, 2×2 max pooling, 2×2 up-convolutions (transposed, stride 2)
that halve the channels, the skip connection centre-cropped to the decoder's size.

Liberties, none of which changes a parameter, a MAC or an output:

- poolings that torchvision calls as functions (``adaptive_avg_pool2d`` in GoogLeNet's
  auxiliary heads and DenseNet, ``mean([2, 3])`` in ShuffleNetV2) are
  ``nn.AdaptiveAvgPool2d`` modules here, so a forward hook sees them;
- RegNet's block computes its main path before its projection shortcut
  (torchvision: ``proj(x) + f(x)``), so hooks see the layers in the order a
  ``residual:`` block lists them, as ``torch_zoo.ResNet`` already does;
- U-Net's crop is a small module (``CenterCrop``) rather than slicing in ``forward``.

``trace`` runs a model on zeros with forward hooks and lists the leaf modules that
carry weights or change the shape, with MACs counted the way torchvision's published
"GFLOPS" are (convolution, transposed convolution and linear only; one multiply-add
is 1). Stochastic depth and dropout are identities at inference and left out.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch_zoo
from torch import nn
from torch_zoo import Traced

# Modules whose output the layer-language files will reproduce, in execution order.
TRACED = (
    nn.Conv2d,
    nn.ConvTranspose2d,
    nn.Linear,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: the nearest multiple of ``divisor``, never
    more than 10 % below ``value``."""
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    groups: int = 1,
    activation: type[nn.Module] | None = nn.ReLU,
    eps: float = 1e-5,
) -> nn.Sequential:
    """torchvision.ops.misc.Conv2dNormActivation: conv (no bias, 'same'-style padding
    (k − 1)/2), batch norm, then the activation if any."""
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            (kernel_size - 1) // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels, eps=eps),
    ]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: x · gate(x), the gate a 1×1×C vector from
    global pooling, a 1×1 squeeze, an activation, a 1×1 excitation and a sigmoid."""

    def __init__(
        self,
        channels: int,
        squeeze: int,
        activation: type[nn.Module] = nn.ReLU,
        scale: type[nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.activation = activation()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.scale = scale()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        scale: torch.Tensor = self.scale(gate)
        return x * scale


# --------------------------------------------------------------------------- GoogLeNet


def basic_conv(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> nn.Sequential:
    """GoogLeNet's BasicConv2d: conv without bias, batch norm (eps 0.001), ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels, eps=0.001),
        nn.ReLU(inplace=True),
    )


class Inception(nn.Module):
    """Four parallel branches concatenated. As in torchvision (and its ported weights),
    the third branch uses a 3×3 convolution where the paper has 5×5."""

    def __init__(
        self, inp: int, ch1: int, ch3red: int, ch3: int, ch5red: int, ch5: int, pool: int
    ) -> None:
        super().__init__()
        self.branch1 = basic_conv(inp, ch1, kernel_size=1)
        self.branch2 = nn.Sequential(
            basic_conv(inp, ch3red, kernel_size=1),
            basic_conv(ch3red, ch3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            basic_conv(inp, ch5red, kernel_size=1),
            basic_conv(ch5red, ch5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            basic_conv(inp, pool, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier: 4×4 average pooling, 1×1 conv to 128, two linear layers."""

    def __init__(self, inp: int, num_classes: int = 1000, dropout: float = 0.7) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((4, 4))  # functional in torchvision
        self.conv = basic_conv(inp, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        scores: torch.Tensor = self.fc2(self.dropout(self.relu(self.fc1(x))))
        return scores


class GoogLeNet(nn.Module):
    """torchvision.models.GoogLeNet with aux_logits=True; the auxiliary heads run in
    training mode only, as in torchvision."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = basic_conv(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = basic_conv(64, 64, kernel_size=1)
        self.conv3 = basic_conv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = InceptionAux(512, num_classes)
        self.aux2 = InceptionAux(528, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return tuple(out for out in (x, aux2, aux1) if out is not None)


def googlenet() -> nn.Module:
    return GoogLeNet()


# --------------------------------------------------------------------------- DenseNet


class DenseLayer(nn.Module):
    """BN-ReLU-1×1 conv (bn_size·growth) - BN-ReLU-3×3 conv (growth); the output is
    concatenated to the input."""

    def __init__(self, inp: int, growth: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(inp)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(inp, bn_size * growth, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv1(self.relu1(self.norm1(x)))
        new = self.conv2(self.relu2(self.norm2(new)))
        return torch.cat([x, new], 1)


def transition(inp: int, out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.BatchNorm2d(inp),
        nn.ReLU(inplace=True),
        nn.Conv2d(inp, out, kernel_size=1, bias=False),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


class DenseNet(nn.Module):
    """torchvision.models.DenseNet (growth 32, bn_size 4, 64 initial features)."""

    def __init__(
        self, block_config: tuple[int, ...] = (6, 12, 24, 16), growth: int = 32, bn_size: int = 4
    ) -> None:
        super().__init__()
        features: list[nn.Module] = [
            nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        ]
        channels = 64
        for i, layers in enumerate(block_config):
            for _ in range(layers):
                features.append(DenseLayer(channels, growth, bn_size))
                channels += growth
            if i != len(block_config) - 1:
                features.append(transition(channels, channels // 2))
                channels //= 2
        features += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # functional in torchvision
        self.classifier = nn.Linear(channels, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores: torch.Tensor = self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
        return scores


def densenet121() -> nn.Module:
    return DenseNet()


# --------------------------------------------------------------------------- SqueezeNet


class Fire(nn.Module):
    """Squeeze (1×1) then expand: 1×1 and 3×3 in parallel, concatenated."""

    def __init__(self, inp: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(inp, squeeze, kernel_size=1), nn.ReLU(inplace=True))
        self.expand1x1 = nn.Sequential(
            nn.Conv2d(squeeze, expand1x1, kernel_size=1), nn.ReLU(inplace=True)
        )
        self.expand3x3 = nn.Sequential(
            nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1), nn.ReLU(inplace=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat([self.expand1x1(x), self.expand3x3(x)], 1)


def squeezenet1_0() -> nn.Module:
    """torchvision.models.squeezenet1_0: the classifier is a 1×1 conv to 1000 channels."""
    return nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=7, stride=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(96, 16, 64, 64),
        Fire(128, 16, 64, 64),
        Fire(128, 32, 128, 128),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(256, 32, 128, 128),
        Fire(256, 48, 192, 192),
        Fire(384, 48, 192, 192),
        Fire(384, 64, 256, 256),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(512, 64, 256, 256),
        nn.Dropout(p=0.5),
        nn.Conv2d(512, 1000, kernel_size=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


# --------------------------------------------------------------------------- ShuffleNetV2


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(N, g·c, H, W) → (N, c·g, H, W): channel i of group j moves to position i·g + j."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's unit. Stride 1: split the channels in two halves, transform one,
    concatenate, shuffle. Stride 2: both branches see the whole input and halve the map."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, half, 1, bias=False),
                nn.BatchNorm2d(half),
                nn.ReLU(inplace=True),
            )
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else half, half, 1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, stride, 1, groups=half, bias=False),
            nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, transformed = x.chunk(2, dim=1)
            out = torch.cat((kept, self.branch2(transformed)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


def shufflenet_v2_x1_0() -> nn.Module:
    """torchvision.models.shufflenet_v2_x1_0: stages of 4, 8, 4 units, 116/232/464 channels."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 24, 3, 2, 1, bias=False),
        nn.BatchNorm2d(24),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    ]
    channels = 24
    for repeats, out in zip((4, 8, 4), (116, 232, 464), strict=True):
        layers.append(ShuffleUnit(channels, out, 2))
        layers += [ShuffleUnit(out, out, 1) for _ in range(repeats - 1)]
        channels = out
    layers += [
        nn.Conv2d(channels, 1024, 1, bias=False),
        nn.BatchNorm2d(1024),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d((1, 1)),  # torchvision: x.mean([2, 3])
        nn.Flatten(),
        nn.Linear(1024, 1000),
    ]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- MobileNetV3


class MobileBlock(nn.Module):
    """The inverted residual of MobileNetV3 and EfficientNet: optional 1×1 expansion,
    k×k depthwise, optional squeeze-and-excitation, 1×1 linear projection; the input
    is added back where stride is 1 and the channels are kept."""

    def __init__(
        self,
        inp: int,
        kernel: int,
        expanded: int,
        out: int,
        stride: int,
        activation: type[nn.Module],
        se: SqueezeExcitation | None,
        eps: float,
    ) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and inp == out
        layers: list[nn.Module] = []
        if expanded != inp:
            layers.append(conv_norm_act(inp, expanded, 1, activation=activation, eps=eps))
        layers.append(
            conv_norm_act(
                expanded, expanded, kernel, stride, expanded, activation=activation, eps=eps
            )
        )
        if se is not None:
            layers.append(se)
        layers.append(conv_norm_act(expanded, out, 1, activation=None, eps=eps))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.block(x)
        return x + out if self.use_res_connect else out


# input, kernel, expanded, output, squeeze-and-excitation, activation, stride
MOBILENET_V3_LARGE_SETTING = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]


def mobilenet_v3_large() -> nn.Module:
    """torchvision.models.mobilenet_v3_large at width 1.0 (batch norm eps 0.001)."""
    eps = 0.001
    layers: list[nn.Module] = [conv_norm_act(3, 16, 3, 2, activation=nn.Hardswish, eps=eps)]
    for inp, kernel, expanded, out, use_se, act, stride in MOBILENET_V3_LARGE_SETTING:
        activation = nn.Hardswish if act == "HS" else nn.ReLU
        se = (
            SqueezeExcitation(expanded, make_divisible(expanded // 4), scale=nn.Hardsigmoid)
            if use_se
            else None
        )
        layers.append(MobileBlock(inp, kernel, expanded, out, stride, activation, se, eps))
    layers += [
        conv_norm_act(160, 960, 1, activation=nn.Hardswish, eps=eps),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(960, 1280),
        nn.Hardswish(inplace=True),
        nn.Dropout(p=0.2),
        nn.Linear(1280, 1000),
    ]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- EfficientNet

# expand ratio, kernel, stride, input, output, layers (B0: width and depth 1.0)
EFFICIENTNET_B0_SETTING = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def efficientnet_b0() -> nn.Module:
    """torchvision.models.efficientnet_b0: MBConv blocks with SiLU; the squeeze width
    is a quarter of the block's input channels (not of its expanded channels)."""
    layers: list[nn.Module] = [conv_norm_act(3, 32, 3, 2, activation=nn.SiLU)]
    for expand, kernel, stride, inp, out, repeats in EFFICIENTNET_B0_SETTING:
        for i in range(repeats):
            block_in = inp if i == 0 else out
            expanded = make_divisible(block_in * expand)
            se = SqueezeExcitation(expanded, max(1, block_in // 4), activation=nn.SiLU)
            block_stride = stride if i == 0 else 1
            layers.append(
                MobileBlock(block_in, kernel, expanded, out, block_stride, nn.SiLU, se, 1e-5)
            )
    layers += [
        conv_norm_act(320, 1280, 1, activation=nn.SiLU),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(p=0.2),
        nn.Linear(1280, 1000),
    ]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- RegNetY


class RegNetBlock(nn.Module):
    """RegNet's ResBottleneckBlock (bottleneck multiplier 1): 1×1, grouped 3×3 (groups
    of 8 channels), squeeze-and-excitation to a quarter of the block's input width, 1×1;
    a 1×1 projection shortcut where the width or the map changes; ReLU after the sum."""

    def __init__(self, inp: int, out: int, stride: int, group_width: int = 8) -> None:
        super().__init__()
        self.f = nn.Sequential(
            conv_norm_act(inp, out, 1),
            conv_norm_act(out, out, 3, stride, groups=out // group_width),
            SqueezeExcitation(out, round(0.25 * inp)),
            conv_norm_act(out, out, 1, activation=None),
        )
        self.proj = (
            conv_norm_act(inp, out, 1, stride, activation=None)
            if inp != out or stride != 1
            else None
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.f(x)  # before the projection: see the module docstring
        out: torch.Tensor = self.relu(main + (x if self.proj is None else self.proj(x)))
        return out


# RegNetY-400MF: depth 16, w0 48, wa 27.89, wm 2.09, group width 8 quantise to these
REGNET_Y_400MF_STAGES = [(48, 1), (104, 3), (208, 6), (440, 6)]


def regnet_y_400mf() -> nn.Module:
    """torchvision.models.regnet_y_400mf: a 32-channel stem, four stages that each
    halve the map in their first block, global pooling, one linear layer."""
    layers: list[nn.Module] = [conv_norm_act(3, 32, 3, 2)]
    channels = 32
    for width, depth in REGNET_Y_400MF_STAGES:
        for i in range(depth):
            layers.append(RegNetBlock(channels, width, 2 if i == 0 else 1))
            channels = width
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, 1000)]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- ConvNeXt


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (torchvision's convnext.LayerNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """7×7 depthwise conv, LayerNorm over channels, linear 4C, GELU, linear C, a
    learned per-channel scale (layer scale, 10⁻⁶ at start), plus the input."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.layer_scale = nn.Parameter(torch.full((dim, 1, 1), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)  # NHWC: the linear layers act per pixel
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y)))).permute(0, 3, 1, 2)
        out: torch.Tensor = x + self.layer_scale * y
        return out


def convnext_tiny() -> nn.Module:
    """torchvision.models.convnext_tiny: a 4×4 stride-4 patch stem, stages of 3, 3, 9, 3
    blocks at 96, 192, 384, 768 channels, LayerNorm + 2×2 stride-2 conv between stages."""
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    layers: list[nn.Module] = [
        nn.Conv2d(3, dims[0], kernel_size=4, stride=4),
        LayerNorm2d(dims[0], eps=1e-6),
    ]
    for i, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
        layers += [CNBlock(dim) for _ in range(depth)]
        if i + 1 < len(dims):
            layers += [LayerNorm2d(dim, eps=1e-6), nn.Conv2d(dim, dims[i + 1], 2, stride=2)]
    layers += [
        nn.AdaptiveAvgPool2d(1),
        LayerNorm2d(dims[-1], eps=1e-6),
        nn.Flatten(),
        nn.Linear(dims[-1], 1000),
    ]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- U-Net


class CenterCrop(nn.Module):
    """Crop an NCHW map to the height and width of another, keeping the centre."""

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        top = (x.shape[2] - like.shape[2]) // 2
        left = (x.shape[3] - like.shape[3]) // 2
        return x[:, :, top : top + like.shape[2], left : left + like.shape[3]]


def double_conv(inp: int, out: int) -> nn.Sequential:
    """Two unpadded 3×3 convolutions with ReLU: each takes 2 pixels off H and W."""
    return nn.Sequential(
        nn.Conv2d(inp, out, 3), nn.ReLU(inplace=True), nn.Conv2d(out, out, 3), nn.ReLU(inplace=True)
    )


class UNet(nn.Module):
    """Ronneberger, Fischer and Brox (2015), Fig. 1: 572×572×1 in, 388×388×2 out."""

    def __init__(self, in_channels: int = 1, classes: int = 2) -> None:
        super().__init__()
        widths = (64, 128, 256, 512, 1024)
        self.down = nn.ModuleList()
        channels = in_channels
        for width in widths:
            self.down.append(double_conv(channels, width))
            channels = width
        self.pool = nn.MaxPool2d(2, 2)
        self.up = nn.ModuleList()
        self.after = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(channels, width, 2, stride=2))
            self.after.append(double_conv(2 * width, width))
            channels = width
        self.crop = CenterCrop()
        self.head = nn.Conv2d(channels, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        skips.pop()  # the bottom of the U feeds the decoder directly
        for up, after in zip(self.up, self.after, strict=True):
            x = up(x)
            x = after(torch.cat([self.crop(skips.pop(), x), x], 1))
        out: torch.Tensor = self.head(x)
        return out


def unet() -> nn.Module:
    return UNet()


# --------------------------------------------------------------------------- the zoo

BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "googlenet": googlenet,
    "densenet121": densenet121,
    "squeezenet1_0": squeezenet1_0,
    "shufflenet_v2_x1_0": shufflenet_v2_x1_0,
    "mobilenet_v3_large": mobilenet_v3_large,
    "efficientnet_b0": efficientnet_b0,
    "regnet_y_400mf": regnet_y_400mf,
    "convnext_tiny": convnext_tiny,
    "unet": unet,
}

# NCHW input of batch 1 for each network.
INPUTS: dict[str, tuple[int, int, int, int]] = {
    name: (1, 1, 572, 572) if name == "unet" else (1, 3, 224, 224) for name in BUILDERS
}

# Networks whose published figures describe the model in training mode.
TRAINING_MODE = frozenset({"googlenet"})


def residual_adds(model: nn.Module) -> int:
    """How many blocks add their input (or its projection) to their output."""
    return sum(
        isinstance(m, RegNetBlock | CNBlock) or (isinstance(m, MobileBlock) and m.use_res_connect)
        for m in model.modules()
    )


def trace(model: nn.Module, input_shape: tuple[int, ...], training: bool = False) -> list[Traced]:
    """The traced leaf modules (:data:`TRACED`) in execution order: see
    :func:`torch_zoo.trace`."""
    return torch_zoo.trace(model, input_shape, training, TRACED)
