"""PyTorch habits: a pasted layer line is translated, and a second bare number is named.

Every translation is checked against PyTorch itself: the pasted module and the
translated statement, on the same input, give the same output shape and parameters.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.pytorch_lines import translate

# (pasted line, the input as our text writes it, the same input for torch (N, C, ...))
PASTED = [
    ("nn.Conv2d(1, 6, kernel_size=5)", "32x32x1", (1, 1, 32, 32)),
    ("    self.conv1 = nn.Conv2d(1, 6, 5)", "32x32x1", (1, 1, 32, 32)),
    (
        "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),",
        "224x224x3",
        (1, 3, 224, 224),
    ),
    (
        "nn.Conv2d(16, 32, (3, 1), stride=(2, 1), padding=(1, 0), groups=4)",
        "20x20x16",
        (1, 16, 20, 20),
    ),
    ("nn.Conv2d(8, 8, 3, padding='same', dilation=2)", "15x15x8", (1, 8, 15, 15)),
    ("nn.Conv1d(4, 8, 3, stride=2)", "4@50", (1, 4, 50)),
    ("nn.MaxPool2d(2, 2)", "28x28x6", (1, 6, 28, 28)),
    ("nn.MaxPool2d(kernel_size=3, stride=2, padding=1)", "112x112x64", (1, 64, 112, 112)),
    ("nn.MaxPool2d(3)", "13x13x1", (1, 1, 13, 13)),
    ("nn.MaxPool2d(3, stride=2, ceil_mode=True)", "12x12x2", (1, 2, 12, 12)),
    ("nn.AvgPool2d(2)", "10x10x3", (1, 3, 10, 10)),
    ("torch.nn.ConvTranspose2d(16, 8, 4, 2, 1)", "7x7x16", (1, 16, 7, 7)),
    ("nn.Linear(120, 84)", "120", (1, 120)),
    ("nn.Linear(in_features=84, out_features=10, bias=False)", "84", (1, 84)),
]


@pytest.mark.parametrize(("line", "shape", "torch_shape"), PASTED)
def test_a_pasted_line_gets_a_translation_that_pytorch_agrees_with(line, shape, torch_shape):
    with pytest.raises(CNNError, match="is PyTorch, not the layer language") as caught:
        cnn_magic.evaluate(f"input {shape}\n{line}")
    statement = translate(line)
    assert statement is not None and f"write: {statement}" in str(caught.value)
    net = cnn_magic.evaluate(f"input {shape}\n{statement}", rounding="floor")
    module = eval(
        line.split("=", 1)[1] if "self." in line else line.rstrip(","), {"nn": nn, "torch": torch}
    )
    out = module(torch.zeros(torch_shape))
    theirs = tuple(out.shape[1:])
    theirs = (*theirs[1:], theirs[0]) if len(theirs) > 1 else theirs
    assert net.output_shape == theirs, (line, statement)
    assert net.params == sum(p.numel() for p in module.parameters()), (line, statement)


def test_lines_that_are_not_pytorch_calls_have_no_translation():
    for line in ("conv 6 k5", "nn.Conv2d(1, 6, kernel_size=k)", "nn.Sequential(", "print(x)"):
        assert translate(line) is None


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("input 8x8x1\nconv 6 5", "conv takes one bare number ('6': conv N", "conv 6 k5"),
        ("input 8x8x1\nmaxpool 2 2", "maxpool takes no number '2'", "maxpool k2 (k kernel"),
        ("input 8\nfc 4 5", "fc takes one bare number ('4')", "fc N: N output features"),
    ],
)
def test_a_second_bare_number_says_what_each_would_mean(text, message, hint):
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    assert message in str(caught.value) and hint in str(caught.value)
