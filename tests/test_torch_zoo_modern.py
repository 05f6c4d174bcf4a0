"""The plain-torch twins of the networks courses teach today against published figures.

torchvision's model docs publish, per network, the parameter count and "GFLOPS" (which
are multiply-adds of convolutions and linear layers, at 224×224×3) to three decimals.
Each twin in ``torch_zoo_modern`` must reproduce the count exactly and the MACs, counted
by forward hooks, to the published decimals. The U-Net has no published table: its
counts are derived here from the paper's figure, layer by layer, and the twin must
agree with the derivation.
"""

from __future__ import annotations

import functools

import pytest
import torch
import torch_zoo_modern as zoo
from torch_zoo import Traced, count_params

# name: (parameters, GMACs as published, to three decimals), torchvision's model docs
PUBLISHED: dict[str, tuple[int, float]] = {
    "googlenet": (6_624_904, 1.498),  # inference: without the auxiliary heads
    "densenet121": (7_978_856, 2.834),
    "squeezenet1_0": (1_248_424, 0.819),
    "shufflenet_v2_x1_0": (2_278_604, 0.145),
    "mobilenet_v3_large": (5_483_032, 0.217),
    "efficientnet_b0": (5_288_548, 0.386),
    "regnet_y_400mf": (4_344_144, 0.402),
    "convnext_tiny": (28_589_128, 4.456),
}
GOOGLENET_TRAINING_PARAMS = 13_004_888  # with aux1 and aux2, as torchvision builds it to train


@functools.cache
def twin(name: str) -> torch.nn.Module:
    return zoo.BUILDERS[name]()


@functools.cache
def traced(name: str, training: bool = False) -> list[Traced]:
    return zoo.trace(twin(name), zoo.INPUTS[name], training)


def test_every_twin_has_a_reference() -> None:
    assert sorted(zoo.BUILDERS) == sorted([*PUBLISHED, "unet"])


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_parameters_and_macs(name: str) -> None:
    params, gmacs = PUBLISHED[name]
    rows = traced(name)
    model = twin(name)
    heads = [m for m in model.modules() if isinstance(m, zoo.InceptionAux)]
    assert count_params(model) - sum(count_params(m) for m in heads) == params
    assert round(sum(r.macs for r in rows) / 1e9, 3) == gmacs
    # the last traced layer gives the 1000 class scores (SqueezeNet's as a 1×1×1000 map)
    assert rows[-1].out_shape in {(1000,), (1000, 1, 1)}


def test_googlenet_in_training_mode_counts_its_auxiliary_heads() -> None:
    assert count_params(twin("googlenet")) == GOOGLENET_TRAINING_PARAMS
    rows, inference = traced("googlenet", training=True), traced("googlenet")
    # each head: 4×4 pooling, 1×1 conv to 128, fc 2048 → 1024, fc 1024 → 1000
    assert [r.out_shape for r in rows if r.out_shape in {(1024,), (1000,)}] == [
        (1024,),
        (1000,),
        (1024,),
        (1000,),
        (1000,),
    ]
    head_macs = sum(r.macs for r in rows) - sum(r.macs for r in inference)
    expected = sum(
        4 * 4 * c_in * 128 + 2048 * 1024 + 1024 * 1000 for c_in in (512, 528)
    )  # conv + fc1 + fc2 of aux1 (after inception 4a) and aux2 (after 4d)
    assert head_macs == expected
    assert len(rows) - len(inference) == 2 * 4


def test_mobilenet_v3_squeeze_widths() -> None:
    """torchvision rounds a quarter of the expanded width to a multiple of 8."""
    assert [zoo.make_divisible(c // 4) for c in (72, 120, 480, 672, 960)] == [24, 32, 120, 168, 240]


def test_channel_shuffle_interleaves_the_groups() -> None:
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert zoo.channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]


# --------------------------------------------------------------------------- U-Net

UNET_WIDTHS = (64, 128, 256, 512, 1024)


def unet_derivation() -> list[tuple[str, tuple[int, int, int], int, int]]:
    """(kind, (C, H, W), params, MACs) of every layer of the paper's Fig. 1, from the
    formulas: a valid 3×3 conv takes 2 pixels off each side length and has
    9·C_in·C_out + C_out parameters and 9·C_in·C_out·H_out·W_out MACs; 2×2 pooling
    halves; a 2×2 stride-2 up-convolution doubles, 4·C_in·C_out + C_out parameters,
    4·C_in·C_out·H_in·W_in MACs; the skip is cropped to the decoder's size."""
    rows: list[tuple[str, tuple[int, int, int], int, int]] = []
    size, channels = 572, 1
    skips = []

    def conv(out: int, k: int = 3) -> None:
        nonlocal size, channels
        size -= k - 1
        weights = k * k * channels * out
        rows.append(("conv", (out, size, size), weights + out, weights * size * size))
        channels = out

    for level, width in enumerate(UNET_WIDTHS):
        if level:
            size //= 2
            rows.append(("pool", (channels, size, size), 0, 0))
        conv(width)
        conv(width)
        skips.append(channels)
    skips.pop()
    for width in reversed(UNET_WIDTHS[:-1]):
        weights = 4 * channels * width
        rows.append(("up", (width, 2 * size, 2 * size), weights + width, weights * size * size))
        size, channels = 2 * size, width + skips.pop()  # crop the skip, concatenate
        conv(width)
        conv(width)
    conv(2, k=1)
    return rows


def test_unet_matches_the_papers_figure() -> None:
    derived = unet_derivation()
    assert derived[-1][1] == (2, 388, 388)  # Fig. 1: 572×572 in, 388×388 out
    rows = traced("unet")
    kinds = {
        torch.nn.Conv2d: "conv",
        torch.nn.MaxPool2d: "pool",
        torch.nn.ConvTranspose2d: "up",
    }
    assert [(kinds[r.module], r.out_shape, r.params, r.macs) for r in rows] == derived
    assert count_params(twin("unet")) == sum(params for _, _, params, _ in derived) == 31_030_658
