"""``upsample S [mode]``: one rule in layers.py, checked here against ``nn.Upsample``.

Shape ``H·S`` per spatial dimension, no parameters, no operations for ``nearest`` and
``2^(d+1) − 1`` per output element for linear interpolation (all ops), an explanation
that adds up, and a PyTorch twin that agrees, in 1-D, 2-D and 3-D.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import cnn_magic
from cnn_magic import torch_export
from cnn_magic.explain import explain_layer

LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


@st.composite
def cases(draw) -> tuple[str, tuple[int, ...], tuple[int, ...], str]:
    dims = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(dims))
    channels = draw(st.integers(1, 3))
    scale = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    if draw(st.booleans()):
        scale = (scale[0],) * dims
    mode = draw(st.sampled_from(["", "nearest", "mode=nearest", LINEAR[dims]]))
    written = str(scale[0]) if len(set(scale)) == 1 else "x".join(map(str, scale))
    text = f"input {channels}@{'x'.join(map(str, spatial))}\nupsample {written} {mode}"
    return text, (channels, *spatial), scale, mode.removeprefix("mode=") or "nearest"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cases())
def test_upsample_agrees_with_pytorch(case) -> None:
    text, torch_shape, scale, mode = case
    net = cnn_magic.evaluate(text)
    layer = net.layers[0]
    upsample = nn.Upsample(scale_factor=tuple(float(s) for s in scale), mode=mode)
    with torch.no_grad():
        theirs = upsample(torch.zeros(1, *torch_shape)).shape
    assert net.output_shape == (*theirs[2:], theirs[1])
    assert (layer.params, layer.macs, layer.exact) == (0, 0, 0)
    dims = len(scale)
    per_output = 0 if mode == "nearest" else 2 ** (dims + 1) - 1
    assert layer.ops == per_output * layer.elements
    assert layer.args is not None and layer.args.scale == scale and layer.args.mode == mode
    model = net.to_torch()
    assert isinstance(model.layer_modules[0], nn.Upsample)
    assert torch_export.compare(net, model) == []
    for convention in ("flops", "macs", "exact"):
        assert all(line.checks for line in explain_layer(layer, convention, all_ops=True))


def test_upsample_explained() -> None:
    layer = cnn_magic.evaluate("input 4x6x3\nupsample 2x3 bilinear").layers[0]
    lines = {line.label_txt: line.text for line in explain_layer(layer, all_ops=True)}
    assert lines["H_out"] == "H_out = 4×2 = 8"
    assert lines["W_out"] == "W_out = 6×3 = 18"
    assert lines["params"] == "params = 0"
    assert lines["other ops"] == "other ops = (4 + 3)×8×18×3 = 3,024"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("upsample", "upsample needs a scale factor"),
        ("upsample 0", "upsample's scale must be whole numbers ≥ 1"),
        ("upsample 1.5", "upsample's scale must be whole numbers ≥ 1"),
        ("upsample 2 linear", "linear interpolation needs a 1-D map"),
        ("upsample 2 bilinaer", "did you mean 'bilinear'?"),
        ("upsample 2 mode=cubic", "unknown upsampling mode 'cubic'"),
        ("upsample 2x2x2", "gives 3 numbers but the input has 2 spatial dimensions"),
        ("upsample 2 k3", "upsample takes no 'k3' (kernel)"),
    ],
)
def test_upsample_mistakes(line: str, words: str) -> None:
    with pytest.raises(cnn_magic.CNNError) as info:
        cnn_magic.evaluate(f"input 4x4x3\n{line}")
    assert words in str(info.value)
