"""Frozen layers: the word ``frozen`` on a layer or a block, read from and written to
PyTorch's ``requires_grad``, and counted as torchinfo and Keras count them."""

from __future__ import annotations

import pytest
import torch
import torch_zoo
import torchinfo
from test_memory import saved_bytes

import cnn_magic
from cnn_magic import CNNError, frozen
from cnn_magic.torch_export import input_tensor

TEXT = """\
input 16x16x3
stem: conv 8 k3 p1 frozen
bn
relu
repeat 2 frozen:
  conv 8 k3 p1
  bn relu
residual:
  conv 8 k1
gap
fc 10
"""


def test_layers_and_blocks_are_frozen() -> None:
    net = cnn_magic.evaluate(TEXT)
    marked = [layer.name for layer in net.layers if frozen.is_frozen(layer)]
    assert marked == ["stem", "conv2", "bn2", "conv3", "bn3"]
    assert frozen.trainable(net) + frozen.non_trainable(net) == net.params


def test_torchinfo_agrees_on_trainable_parameters() -> None:
    net = cnn_magic.evaluate(TEXT)
    model = net.to_torch()
    summary = torchinfo.summary(model, input_size=tuple(input_tensor(net).shape), verbose=0)
    assert summary.trainable_params == frozen.trainable(net)
    assert summary.total_params - summary.trainable_params == frozen.non_trainable(net)
    table = net.compare_tools()
    assert f"trainable: {summary.trainable_params:,}" in str(table)


def test_frozen_layers_have_no_gradients_or_optimizer_state() -> None:
    net = cnn_magic.evaluate(TEXT)
    report = net.memory(optimizer="momentum")
    assert report.grads == 4 * frozen.trainable(net)
    assert report.optimizer_state == 4 * frozen.trainable(net)
    # and autograd keeps nothing for the frozen stem (its input needs no gradient)
    assert report.activations == saved_bytes(net.to_torch(), input_tensor(net))


def test_from_torch_reads_requires_grad() -> None:
    model = torch_zoo.resnet18()
    for module in (model.conv1, model.bn1, model.layer1):
        module.requires_grad_(False)
    net = cnn_magic.from_torch(model, (3, 224, 224))
    assert "conv1: conv 64 k7 s2 p3 nobias frozen\n" in net.text
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert frozen.trainable(net) == trainable
    again = net.to_torch()
    assert sum(p.numel() for p in again.parameters() if p.requires_grad) == trainable


def test_partly_frozen_module_is_noted() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    model[0].bias.requires_grad_(False)
    net = cnn_magic.from_torch(model, (3, 8, 8))
    assert "only some parameters require grad: 0" in net.text


def test_frozen_needs_parameters() -> None:
    with pytest.raises(CNNError, match="relu takes no 'frozen'"):
        cnn_magic.evaluate("input 8x8x3\nrelu frozen")


def test_tables_say_what_is_frozen() -> None:
    net = cnn_magic.evaluate(TEXT)
    trained, fixed = frozen.trainable(net), frozen.non_trainable(net)
    assert f"trainable parameters {trained:,}, non-trainable (frozen) {fixed:,}" in net.to_text()
    assert "non-trainable" not in cnn_magic.example("resnet18").to_text()
