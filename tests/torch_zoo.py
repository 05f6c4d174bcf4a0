"""Plain-PyTorch twins of the networks in ``cnn_magic/examples``.

Each builder follows torchvision's model code module by module (torchvision itself
is not a dependency): ``alexnet.py``, ``vgg.py`` (configuration "D"), ``resnet.py``
(``BasicBlock``/``Bottleneck``, stride on the 3×3 conv as in ResNet v1.5) and
``mobilenetv2.py``. LeNet-5 is the course notes' version: ReLU, average pooling and
a softmax output.

The one liberty taken: torchvision's ``MobileNetV2`` pools with the functional
``adaptive_avg_pool2d``; here that pooling is an ``nn.AdaptiveAvgPool2d`` module so a
forward hook can see it. Parameters, MACs and outputs are unchanged.

``trace`` runs a model on zeros with forward hooks and reports the leaf modules that
change the shape or carry weights, with their MACs counted the way torchvision's
published "GFLOPS" are (conv and linear only, one multiply-add = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

# Modules whose output shape the layer-language files must reproduce, in order.
TRACED = (
    nn.Conv2d,
    nn.Linear,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
)


# --------------------------------------------------------------------------- LeNet-5


def lenet5() -> nn.Module:
    """LeNet-5 as in the course notes: 32×32×1 input, ReLU, average pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5),  # C1: 28×28×6
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # S2: 14×14×6
        nn.Conv2d(6, 16, kernel_size=5),  # C3: 10×10×16
        nn.ReLU(),
        nn.AvgPool2d(kernel_size=2, stride=2),  # S4: 5×5×16
        nn.Conv2d(16, 120, kernel_size=5),  # C5: 1×1×120
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(120, 84),  # F6
        nn.ReLU(),
        nn.Linear(84, 10),  # F7
        nn.Softmax(dim=1),
    )


# --------------------------------------------------------------------------- AlexNet


class AlexNet(nn.Module):
    """torchvision.models.AlexNet (Krizhevsky's 2014 "one weird trick" variant)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def alexnet() -> nn.Module:
    return AlexNet()


# --------------------------------------------------------------------------- VGG

VGG16_CFG: list[int | str] = [
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
]  # fmt: skip


class VGG(nn.Module):
    """torchvision.models.VGG without batch norm."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def make_vgg_layers(cfg: list[int | str]) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            assert isinstance(v, int)
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def vgg16() -> nn.Module:
    return VGG(make_vgg_layers(VGG16_CFG))


# --------------------------------------------------------------------------- ResNet


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        # As in torchvision, the shortcut runs after the main path: hooks see the
        # block's layers in the order a `residual:` block lists them.
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.ResNet with groups=1, width 64, no dilation."""

    def __init__(
        self, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int = 1000
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(
        self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> nn.Module:
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet50() -> nn.Module:
    return ResNet(Bottleneck, [3, 4, 6, 3])


# --------------------------------------------------------------------------- MobileNetV2


def conv_bn_relu6(inp: int, oup: int, kernel_size: int = 3, stride: int = 1, groups: int = 1):
    """torchvision.ops.misc.Conv2dNormActivation with BatchNorm2d and ReLU6."""
    padding = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel_size, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden_dim = inp * expand_ratio  # torchvision: int(round(...)) of a float ratio
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(inp, hidden_dim, kernel_size=1))  # pw
        layers += [
            conv_bn_relu6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),  # dw
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),  # pw-linear
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# t (expansion), c (output channels), n (blocks), s (first block's stride)
MOBILENET_V2_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


class MobileNetV2(nn.Module):
    """torchvision.models.MobileNetV2 at width 1.0 (all channels already multiples of 8)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        input_channel, last_channel = 32, 1280
        features: list[nn.Module] = [conv_bn_relu6(3, input_channel, stride=2)]
        for t, c, n, s in MOBILENET_V2_SETTING:
            for i in range(n):
                features.append(InvertedResidual(input_channel, c, s if i == 0 else 1, t))
                input_channel = c
        features.append(conv_bn_relu6(input_channel, last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # functional in torchvision
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last_channel, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2() -> nn.Module:
    return MobileNetV2()


# --------------------------------------------------------------------------- the zoo

BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenet_v2": mobilenet_v2,
}

# NCHW input of batch 1 for each network.
INPUTS: dict[str, tuple[int, int, int, int]] = {
    name: (1, 1, 32, 32) if name == "lenet5" else (1, 3, 224, 224) for name in BUILDERS
}


@dataclass(frozen=True, slots=True)
class Traced:
    """One traced leaf module: its class, output shape without the batch axis, counts."""

    module: type[nn.Module]
    out_shape: tuple[int, ...]
    params: int
    macs: int


def conv_macs(module: nn.Conv2d, out: torch.Tensor) -> int:
    """MACs of a convolution: out.numel() · C_in/groups · k_h · k_w."""
    kh, kw = module.kernel_size
    return out.numel() * (module.in_channels // module.groups) * kh * kw


def macs_of(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """Multiply-adds of a traced module, as torchvision's published "GFLOPS" count them."""
    if isinstance(module, nn.Conv2d):
        return conv_macs(module, out)
    if isinstance(module, nn.ConvTranspose2d):
        # every input pixel meets every weight once: H_in·W_in·C_in·(C_out/g)·k_h·k_w
        kh, kw = module.kernel_size
        in_pixels = inp.numel() // module.in_channels
        return in_pixels * module.in_channels * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features * (out.numel() // out.shape[-1])
    return 0


def trace(
    model: nn.Module,
    input_shape: tuple[int, ...],
    training: bool = False,
    kinds: tuple[type[nn.Module], ...] = TRACED,
) -> list[Traced]:
    """Run ``model`` on zeros and list the traced leaf modules (of ``kinds``) in
    execution order.

    Output shapes are reported as PyTorch's (C, H, W) or (N,) without the batch axis;
    a linear layer applied per pixel (ConvNeXt's NHWC blocks) is reported as (C, H, W)
    like the 1×1 convolution it equals.
    """
    rows: list[Traced] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        shape = tuple(out.shape[1:])
        if isinstance(module, nn.Linear) and out.dim() == 4:
            shape = (shape[2], shape[0], shape[1])
        rows.append(
            Traced(type(module), shape, count_params(module), macs_of(module, inputs[0], out))
        )

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    try:
        model.train(training)
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def residual_adds(model: nn.Module) -> int:
    """How many blocks add a shortcut to their output (``out + identity``)."""
    return sum(
        isinstance(m, BasicBlock | Bottleneck)
        or (isinstance(m, InvertedResidual) and m.use_res_connect)
        for m in model.modules()
    )


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
