"""Differential tests of the layers that networks taught today need, against PyTorch.

As in ``test_against_torch.py`` (whose machinery this reuses): Hypothesis draws a
configuration, writes it as layer-language text and as ``torch.nn`` modules, and the two
must agree exactly on the output shape and the parameters (weights and biases apart),
or both refuse. Layers PyTorch has no module for are written here the way the papers
define them (a per-channel scale for layer scale, slicing for crop), independently of
``cnn_magic.torch_export``; the ``to_torch()`` twin of every accepted case is then
checked too (``compare`` is empty).
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_against_torch import SETTINGS, Case, Leaf, assert_agree, pairs, statement
from torch import nn

import cnn_magic
from cnn_magic.torch_export import compare

MAPS = st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 8))


def agree_and_export(case: Case) -> None:
    net = assert_agree(case)
    if net is not None:
        assert compare(net) == [], case.text


class ChannelsLast(nn.Module):
    """Apply ``inner`` to an NCHW map with the channels last: LayerNorm over channels."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return self.inner(x)
        return self.inner(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Scale(nn.Module):
    """Layer scale: one learned factor per channel, γ · x."""

    def __init__(self, channels: int, dims: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones((channels,) + (1,) * dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


class Crop(nn.Module):
    """Keep rows top … H − bottom and columns left … W − right; nothing left is an error."""

    def __init__(self, top: int, bottom: int, left: int, right: int) -> None:
        super().__init__()
        self.sides = top, bottom, left, right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom, left, right = self.sides
        h, w = x.shape[2] - top - bottom, x.shape[3] - left - right
        if h < 1 or w < 1:
            raise RuntimeError(f"crop leaves {h}×{w}")
        return x[:, :, top : top + h, left : left + w]


# --------------------------------------------------------------------------- norms


@st.composite
def layernorm_cases(draw) -> Case:
    shape = draw(st.one_of(MAPS, st.tuples(st.integers(1, 40))))
    c = shape[-1]
    keyword = draw(st.sampled_from(["layernorm", "ln"]))
    return Case(
        shape,
        (Leaf(statement(draw, keyword, []), lambda s: ChannelsLast(nn.LayerNorm(c))),),
    )


@settings(SETTINGS, max_examples=60)
@given(layernorm_cases())
def test_layernorm(case: Case) -> None:
    agree_and_export(case)


@st.composite
def groupnorm_cases(draw) -> Case:
    h, w, c = draw(MAPS)
    groups = draw(st.integers(1, 8))
    return Case(
        (h, w, c),
        (Leaf(statement(draw, "groupnorm", [str(groups)]), lambda s: nn.GroupNorm(groups, c)),),
    )


@settings(SETTINGS, max_examples=100)
@given(groupnorm_cases())
def test_groupnorm(case: Case) -> None:
    agree_and_export(case)


@st.composite
def instancenorm_cases(draw) -> Case:
    h, w, c = draw(MAPS)
    affine = draw(st.booleans())
    words = ["affine"] if affine else []
    return Case(
        (h, w, c),
        (
            Leaf(
                statement(draw, "instancenorm", words),
                lambda s: nn.InstanceNorm2d(c, affine=affine),
            ),
        ),
    )


@settings(SETTINGS, max_examples=60)
@given(instancenorm_cases())
def test_instancenorm(case: Case) -> None:
    agree_and_export(case)


@st.composite
def layerscale_cases(draw) -> Case:
    shape = draw(st.one_of(MAPS, st.tuples(st.integers(1, 40))))
    dims = 2 if len(shape) == 3 else 0
    return Case(shape, (Leaf(statement(draw, "layerscale", []), lambda s: Scale(shape[-1], dims)),))


@settings(SETTINGS, max_examples=40)
@given(layerscale_cases())
def test_layerscale(case: Case) -> None:
    agree_and_export(case)


# --------------------------------------------------------------------------- rearranging


@st.composite
def channelshuffle_cases(draw) -> Case:
    h, w, c = draw(MAPS)
    groups = draw(st.integers(1, 6))
    return Case(
        (h, w, c),
        (
            Leaf(
                statement(draw, "channelshuffle", [str(groups)]),
                lambda s: nn.ChannelShuffle(groups),
            ),
        ),
    )


@settings(SETTINGS, max_examples=80)
@given(channelshuffle_cases())
def test_channelshuffle(case: Case) -> None:
    agree_and_export(case)


@st.composite
def pixelshuffle_cases(draw) -> Case:
    r = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    if draw(st.booleans()):
        c = draw(st.sampled_from([r * r, 2 * r * r, 3 * r * r, draw(st.integers(1, 12))]))
        return Case(
            (h, w, c),
            (Leaf(statement(draw, "pixelshuffle", [str(r)]), lambda s: nn.PixelShuffle(r)),),
        )
    c = draw(st.integers(1, 4))
    if draw(st.booleans()):
        h, w = h * r, w * r  # most drawn maps divide; some do not
    return Case(
        (h, w, c),
        (Leaf(statement(draw, "pixelunshuffle", [str(r)]), lambda s: nn.PixelUnshuffle(r)),),
    )


@settings(SETTINGS, max_examples=120)
@given(pixelshuffle_cases())
def test_pixelshuffle(case: Case) -> None:
    agree_and_export(case)


@st.composite
def upsample_cases(draw) -> Case:
    h, w, c = draw(MAPS)
    scale = draw(pairs(1, 4))
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    word = str(scale[0]) if scale[0] == scale[1] else f"{scale[0]}x{scale[1]}"
    words = [word] + ([mode] if mode == "bilinear" or draw(st.booleans()) else [])
    return Case(
        (h, w, c),
        (
            Leaf(
                statement(draw, "upsample", words),
                lambda s: nn.Upsample(scale_factor=tuple(float(v) for v in scale), mode=mode),
            ),
        ),
    )


@settings(SETTINGS, max_examples=80)
@given(upsample_cases())
def test_upsample(case: Case) -> None:
    agree_and_export(case)


# --------------------------------------------------------------------------- pad and crop

PAD_MODULES = {
    "zeros": nn.ZeroPad2d,
    "reflect": nn.ReflectionPad2d,
    "replicate": nn.ReplicationPad2d,
    "circular": nn.CircularPad2d,
}


@st.composite
def sides(draw, hi: int, forms: tuple[str, ...] = ("all", "hw", "sides")):
    """Padding or cropping written one of three ways, and (top, bottom, left, right)."""
    form = draw(st.sampled_from(forms))
    if form == "all":
        p = draw(st.integers(0, hi))
        return str(p), (p, p, p, p)
    if form == "hw":
        ph, pw = draw(st.integers(0, hi)), draw(st.integers(0, hi))
        return f"{ph}x{pw}", (ph, ph, pw, pw)
    top, bottom, left, right = (draw(st.integers(0, hi)) for _ in range(4))
    return f"top={top} bottom={bottom} left={left} right={right}", (top, bottom, left, right)


@st.composite
def pad_cases(draw) -> Case:
    h, w, c = draw(MAPS)
    written, (top, bottom, left, right) = draw(sides(6))
    mode = draw(st.sampled_from(sorted(PAD_MODULES)))
    words = written.split() + ([mode] if mode != "zeros" or draw(st.booleans()) else [])
    module = PAD_MODULES[mode]
    return Case(
        (h, w, c),
        (Leaf(statement(draw, "pad", words), lambda s: module((left, right, top, bottom))),),
    )


@settings(SETTINGS, max_examples=200)
@given(pad_cases())
def test_pad(case: Case) -> None:
    agree_and_export(case)


@st.composite
def crop_cases(draw) -> Case:
    h, w, c = draw(st.integers(4, 14)), draw(st.integers(4, 14)), draw(st.integers(1, 4))
    if draw(st.booleans()):  # centre crop to a size
        th, tw = draw(st.integers(1, 14)), draw(st.integers(1, 14))
        top, left = (h - th) // 2, (w - tw) // 2
        sides_ = (top, h - th - top, left, w - tw - left)
        written = [f"{th}x{tw}"]
        if th > h or tw > w:
            sides_ = (h, h, w, w)  # PyTorch cannot crop to a larger size: both refuse
    else:
        text, sides_ = draw(sides(4, ("sides",)))  # a bare number is crop's size
        written = text.split()
    return Case((h, w, c), (Leaf(statement(draw, "crop", written), lambda s: Crop(*sides_)),))


@settings(SETTINGS, max_examples=150)
@given(crop_cases())
def test_crop(case: Case) -> None:
    agree_and_export(case)


def test_layers_have_their_words() -> None:
    for word in (
        "layernorm",
        "groupnorm",
        "instancenorm",
        "layerscale",
        "channelshuffle",
        "pixelshuffle",
        "pixelunshuffle",
        "pad",
        "crop",
        "upsample",
        "maxunpool",
    ):
        assert word in cnn_magic.layers.RULES, word


class PoolUnpool(nn.Module):
    """Max pooling that keeps its indices, then max unpooling back to the input's size."""

    def __init__(self, kernel: int, stride: int, padding: int, ceil: bool) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil)
        self.unpool = nn.MaxUnpool2d(kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(x)  # traced like every pooling; the indices come from the same call
        pool = self.pool
        _, indices = torch.nn.functional.max_pool2d(
            x, pool.kernel_size, pool.stride, pool.padding, ceil_mode=pool.ceil_mode,
            return_indices=True,
        )  # fmt: skip
        return self.unpool(y, indices, output_size=x.shape[2:])


@st.composite
def maxunpool_cases(draw) -> Case:
    h, w, c = draw(st.integers(1, 16)), draw(st.integers(1, 16)), draw(st.integers(1, 3))
    k, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    p = draw(st.integers(0, 2))
    rounding = draw(st.sampled_from(["floor", "ceil"]))
    text = f"p: maxpool k{k} s{s} p{p}\nmaxunpool p"
    return Case(
        (h, w, c), (Leaf(text, lambda shape: PoolUnpool(k, s, p, rounding == "ceil")),), rounding
    )


@settings(SETTINGS, max_examples=150)
@given(maxunpool_cases())
def test_maxunpool(case: Case) -> None:
    agree_and_export(case)


STRATEGIES = {
    "layernorm": layernorm_cases,
    "groupnorm": groupnorm_cases,
    "instancenorm": instancenorm_cases,
    "layerscale": layerscale_cases,
    "channelshuffle": channelshuffle_cases,
    "pixelshuffle": pixelshuffle_cases,
    "upsample": upsample_cases,
    "pad": pad_cases,
    "crop": crop_cases,
    "maxunpool": maxunpool_cases,
}
"""Each newer layer kind's drawn cases, for the suites that reuse them."""
