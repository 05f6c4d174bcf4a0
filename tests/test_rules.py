"""The rule table is the one home of every layer: each rule has every facet, and nothing
downstream (explain, to_torch, the help, the README) falls back to a generic branch.

Adding a layer kind means adding its rule and a sample here; these tests then check its
explanation adds up under every convention, its PyTorch twin agrees, and its help line
and README row exist.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnn_magic
from cnn_magic import torch_export
from cnn_magic.evaluate import clear_caches
from cnn_magic.explain import ExplanationError, explain, explain_layer
from cnn_magic.layers import ACTIVATIONS, RULES, BatchNorm, Conv, Rule, help_lines, readme_table

# one text per layer kind; the layer under test is the last one of the text
SAMPLES = {
    "conv": "input 9x9x4\nconv 6 k3 s2 p1 g2 relu",
    "dwconv": "input 9x9x4\ndwconv k3 2 nobias",
    "deconv": "input 5x5x4\ndeconv 2 k3 s2 p1 op=1 g2",
    "maxpool": "input 9x9x2\nmaxpool k3 s2 p1 ceil",
    "avgpool": "input 9x9x2\navgpool k2",
    "gap": "input 5x7x3\ngap",
    "gmp": "input 5x7x3\ngmp",
    "adaptiveavgpool": "input 7x9x2\nadaptiveavgpool 3x4",
    "adaptivemaxpool": "input 7x9x2\nadaptivemaxpool 3",
    "fc": "input 3x3x2\nfc 5 prelu",
    "flatten": "input 3x3x2\nflatten",
    "bn": "input 4x4x3\nbn relu",
    "dropout": "input 4x4x3\ndropout 0.3",
    "lrn": "input 4x4x6\nlrn",
    "identity": "input 4x4x3\nidentity",
    "upsample": "input 4x4x3\nupsample 2 bilinear",
    "add": "input 4x4x3\nadd:\n  branch:\n    relu\n  branch:\n    identity",
    "concat": "input 4x4x3\nconcat:\n  branch:\n    conv 2 k1\n  branch:\n    identity",
    "mul": "input 4x4x3\nscale:\n  gap\n  conv 3 k1 sigmoid",
    "layernorm": "input 4x4x6\nlayernorm",
    "groupnorm": "input 4x4x6\ngroupnorm 3",
    "instancenorm": "input 4x4x6\ninstancenorm affine",
    "layerscale": "input 4x4x6\nlayerscale",
    "channelshuffle": "input 4x4x6\nchannelshuffle 3",
    "pixelshuffle": "input 4x4x8\npixelshuffle 2",
    "pixelunshuffle": "input 4x6x2\npixelunshuffle 2",
    "pad": "input 4x5x2\npad top=0 bottom=1 left=2 right=1 reflect",
    "crop": "input 9x8x2\ncrop 5x4",
    "maxunpool": "input 9x8x2\np: maxpool k2 s2 ceil\nrelu\nmaxunpool p",
    "opaque": "input 6x6x4\nconv 4 k3\nopaque 2x2x8",
    **{name: f"input 4x4x3\n{name}" for name in ACTIVATIONS},
    "leakyrelu": "input 4x4x3\nleakyrelu 0.2",
    "elu": "input 4x4x3\nelu 0.5",
}
FACETS = ("name", "family", "usage", "meaning", "params_text")


def test_every_rule_has_a_sample() -> None:
    assert set(SAMPLES) == set(RULES)


@pytest.mark.parametrize("op", sorted(RULES))
def test_every_rule_has_every_facet(op: str) -> None:
    rule = RULES[op]
    assert rule.name == op
    for facet in FACETS:
        assert getattr(rule, facet), (op, facet)
    if rule.merge:
        return
    overridden = {
        name for name in ("apply", "torch") if getattr(type(rule), name) is getattr(Rule, name)
    }
    assert not overridden, (op, overridden)
    assert any(line.startswith(rule.usage) for line in help_lines())
    assert f"| `{rule.usage}`" in readme_table()


@pytest.mark.parametrize("op", sorted(RULES))
@pytest.mark.parametrize("convention", ["flops", "macs", "exact"])
def test_every_explanation_adds_up(op: str, convention: str) -> None:
    """Every number of the layer is worked from its rule's terms (explain raises when a
    count has no formula or a formula does not add up)."""
    net = cnn_magic.evaluate(SAMPLES[op])
    layer = net.layers[-1]
    assert layer.op == op
    lines = explain_layer(layer, convention, all_ops=True)
    assert all(line.checks for line in lines)
    if layer.ops:
        assert any(line.label_txt == "other ops" and line.formula for line in lines)
    if layer.params:
        assert any(line.label_txt == "params" and line.formula for line in lines)


NO_TWIN = {"opaque"}
"""Rules with no PyTorch twin: an opaque row stands for a part of an imported model."""


@pytest.mark.parametrize("op", sorted(NO_TWIN))
def test_a_rule_without_a_twin_says_so(op: str) -> None:
    net = cnn_magic.evaluate(SAMPLES[op])
    with pytest.raises(cnn_magic.CNNError, match="has no PyTorch twin") as info:
        net.to_torch()
    assert info.value.hint


@pytest.mark.parametrize("op", sorted(set(RULES) - NO_TWIN))
def test_every_rule_builds_its_pytorch_twin(op: str) -> None:
    net = cnn_magic.evaluate(SAMPLES[op])
    model = net.to_torch()
    assert torch_export.compare(net, model) == []
    if not RULES[op].merge:
        modules = RULES[op].torch(nn, net.layers[-1])
        assert modules and all(isinstance(m, nn.Module) for m in modules)
    with torch.no_grad():
        out = model(torch_export.input_tensor(net))
    assert torch_export._hwc(out.shape) == net.output_shape


def test_layers_keep_their_typed_arguments() -> None:
    layer = cnn_magic.evaluate("input 9x9x4\nconv 6 k3x1 s2 p1 g2 nobias relu").layers[0]
    args = layer.args
    assert args is not None
    assert (args.n, args.kernel, args.stride, args.padding, args.dilation) == (
        6,
        (3, 1),
        (2, 2),
        (1, 1),
        (1, 1),
    )
    assert (args.groups, args.bias, args.activation) == (2, False, "relu")
    pool = cnn_magic.evaluate("input 8x8x1\nmaxpool k2").layers[0].args
    assert pool is not None and pool.stride == (2, 2)  # the default, filled in


# ------------------------------------------------- an explanation that can be wrong fails


@pytest.fixture(autouse=True)
def fresh_steps():
    """The evaluator remembers steps by value; a mutated rule must really run."""
    clear_caches()
    yield
    clear_caches()


def test_an_activation_cost_off_by_one_fails_the_explanation(monkeypatch) -> None:
    relu = ACTIVATIONS["relu"]
    right = type(relu).ops
    monkeypatch.setattr(relu, "ops", lambda shape: right(relu, shape) + 1)
    net = cnn_magic.evaluate("input 4x4x2\nconv 2 k1 relu\nrelu")
    with pytest.raises(ExplanationError, match="other ops"):
        explain(net, all_ops=True).to_text()
    monkeypatch.undo()
    clear_caches()
    assert "other ops" in explain(cnn_magic.evaluate("input 4x4x2\nrelu"), all_ops=True).to_text()


def test_a_parameter_count_off_by_one_fails_the_explanation(monkeypatch) -> None:
    right = BatchNorm.apply

    def wrong(self, site, args, shape, rounding):  # type: ignore[no-untyped-def]
        step = right(self, site, args, shape, rounding)
        return step._replace(weights=step.weights + 1)

    monkeypatch.setattr(BatchNorm, "apply", wrong)
    with pytest.raises(ExplanationError, match="params"):
        explain(cnn_magic.evaluate("input 4x4x2\nbn")).to_text()


def test_a_mac_count_off_by_one_fails_the_explanation(monkeypatch) -> None:
    right = Conv.apply

    def wrong(self, site, args, shape, rounding):  # type: ignore[no-untyped-def]
        step = right(self, site, args, shape, rounding)
        return step._replace(macs=step.macs + 1)

    monkeypatch.setattr(Conv, "apply", wrong)
    with pytest.raises(ExplanationError, match="MACs"):
        explain(cnn_magic.evaluate("input 4x4x2\nconv 2 k3"), "macs").to_text()


@pytest.mark.parametrize("op", sorted(op for op, rule in RULES.items() if not rule.merge))
def test_every_rule_takes_the_dimensions_it_declares(op: str) -> None:
    """``rule.dims`` is what the rule accepts: a vector (0) or 1-, 2-, 3-D maps."""
    rule = RULES[op]
    text = SAMPLES[op].split("\n", 1)[1]
    text = {
        "adaptiveavgpool": "adaptiveavgpool 3",
        "upsample": "upsample 2",
        "channelshuffle": "channelshuffle 2",
        "groupnorm": "groupnorm 2",
        "pixelunshuffle": "pixelunshuffle 3",
        "crop": "crop 5",
        "pad": "pad 1 reflect",
        "opaque": "opaque",
    }.get(op, text)
    for dims, head in ((0, "input 12"), (1, "input 4@9"), (2, "input 4@9x9"), (3, "input 4@9x9x9")):
        if dims in rule.dims:
            assert cnn_magic.evaluate(f"{head}\n{text}").layers
        else:
            with pytest.raises(cnn_magic.CNNError, match="needs a feature map"):
                cnn_magic.evaluate(f"{head}\n{text}")
