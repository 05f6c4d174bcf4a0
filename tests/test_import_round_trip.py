"""Round trips of the other suites' networks and the documentation's examples:
``from_torch(net.to_torch())`` gives the same shapes, parameters and counts layer by
layer, and its text evaluates to the same network again.

The texts are collected, not copied: every string of the named test modules that
evaluates to a network, and every example of the README and docs/language.md that
writes references, products, splits, side outputs or shared weights (a fragment without
an ``input`` line is tried on a few inputs, statement group by statement group).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch
import torch_zoo_modern
from test_from_torch import assert_same_network, round_trip
from test_new_blocks import SIAMESE

import cnn_magic
from cnn_magic import CNNError

ROOT = Path(__file__).parent.parent
SUITES = ("test_new_blocks.py", "test_rounding_statement.py", "test_groups.py")
DOCS = ("README.md", "docs/language.md")

CONSTRUCTS = re.compile(r"\b(scale:|split [\d ]+:|side:|reuse |from=|(concat|add|mul) \w+,)")
HEADS = ("", "input 56x56x64\n", "input 28x28x116\n", "input 14x14x512\n", "input 32x32x128\n")


def suite_texts() -> dict[str, str]:
    """Every string of the suites that evaluates to a network."""
    found: dict[str, str] = {}
    for name in SUITES:
        tree = ast.parse((ROOT / "tests" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if "input" not in node.value:
                continue
            try:
                cnn_magic.evaluate(node.value)
            except CNNError:
                continue  # the suites' mistakes
            found[f"{name}:{node.lineno}"] = node.value
    return found


def doc_texts() -> dict[str, str]:
    """The documentation's examples of references and the blocks they came with."""
    found: dict[str, str] = {}
    for name in DOCS:
        document = (ROOT / name).read_text(encoding="utf-8")
        for number, block in enumerate(re.findall(r"```[a-z]*\n(.*?)```", document, re.S)):
            if not CONSTRUCTS.search(block):
                continue
            for index, text in enumerate(_runnable(block)):
                found[f"{name}:{number}.{index}"] = text
    return found


def _runnable(block: str) -> list[str]:
    """The block as a network, on the first input it fits; else each group of
    statements (a line at the left margin and what is indented under it) alone."""
    whole = _on_some_input(block)
    if whole is not None:
        return [whole]
    groups: list[list[str]] = []
    for line in block.splitlines():
        if line.strip() and not line[0].isspace():
            groups.append([])
        if groups:
            groups[-1].append(line)
    texts = [_on_some_input("\n".join(group) + "\n") for group in groups]
    return [text for text in texts if text is not None]


def _on_some_input(text: str) -> str | None:
    for head in HEADS:
        try:
            cnn_magic.evaluate(head + text)
        except CNNError:
            continue
        return head + text
    return None


SUITE_TEXTS = suite_texts()
DOC_TEXTS = doc_texts()


def test_the_collections_find_the_networks() -> None:
    """The collections are not empty by accident: the SE, ShuffleNet and U-Net texts of
    the suites, the docs' SE and split examples, the README's block examples."""
    assert len(SUITE_TEXTS) >= 10
    assert any("scale:" in text for text in DOC_TEXTS.values())
    assert any("split 2:" in text for text in DOC_TEXTS.values())
    assert any("side:" in text for text in DOC_TEXTS.values())
    texts = [*SUITE_TEXTS.values(), *DOC_TEXTS.values()]
    assert any("from=" in text for text in texts)
    assert any("reuse" in text for text in texts)
    assert any("crop" in text and "from=" in text for text in texts)  # U-Net's skips


@pytest.mark.parametrize("name", sorted({**SUITE_TEXTS, **DOC_TEXTS}))
def test_round_trip(name: str) -> None:
    text = {**SUITE_TEXTS, **DOC_TEXTS}[name]
    net = cnn_magic.evaluate(text)
    assert_same_network(net, round_trip(net))


CONSTRUCT_TEXTS = {
    "references into a block": "x: input 8x8x4\na: conv 4 k1\nb: conv 4 k1 from=x\n"
    "concat x, a, b\nresidual:\n  conv 12 k3 p1\nidentity from=a\nresidual:\n  conv 4 k1\n"
    "add a, b\n",
    "a side output inside a branch": "input 8x8x4\nconcat:\n  branch:\n    conv 4 k1\n"
    "    aux: side:\n      gap\n      fc 3\n  branch:\n    identity\nconv 2 k1\n",
    "reuse of a layer and of a group": "input 8x8x4\nt: group:\n  conv 4 k3 p1 relu\n"
    "  conv 4 k1\nreuse t\nr: conv 4 k1\nreuse r\nreuse t\n",
    "reuse from a label": "x: input 8x8x4\nc: conv 4 k3 p1\nrelu\nd: reuse c from=x\nmul c, d\n",
    "a gate and a product": "x: input 8x8x4\ng: gap\nconv 4 k1 sigmoid\nmul x, g\n",
    "x + x, x * x and a broadcast sum": "x: input 6x6x3\nadd x, x\ny: mul x, x\ns: gap\nadd y, s\n",
    "nested splits and scales": "input 8x8x16\nsplit 4 12:\n  branch:\n    scale:\n"
    "      gap\n      conv 4 k1 sigmoid\n  branch:\n    conv 12 k1\n    split 3:\n"
    "      branch:\n        identity\n      branch:\n        conv 4 k1\n      branch:\n"
    "        relu\n",
}


@pytest.mark.parametrize("name", list(CONSTRUCT_TEXTS))
def test_round_trip_of_each_construct(name: str) -> None:
    net = cnn_magic.evaluate(CONSTRUCT_TEXTS[name], "floor")
    assert_same_network(net, round_trip(net))


MODERN = [
    name
    for name in cnn_magic.example_names()
    if name not in ("lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2")
]


def test_the_modern_zoo_is_all_there() -> None:
    """The zoo's newer files, U-Net's skips (crops read by reference) included."""
    assert MODERN == [
        "convnext_tiny",
        "densenet121",
        "efficientnet_b0",
        "googlenet",
        "mobilenet_v3_large",
        "regnet_y_400mf",
        "shufflenet_v2_x1_0",
        "squeezenet1_0",
        "unet",
    ]


@pytest.mark.parametrize("name", MODERN)
def test_round_trip_of_the_modern_zoo(name: str) -> None:
    net = cnn_magic.example(name)
    assert_same_network(net, round_trip(net))


@pytest.mark.parametrize("name", [n for n in MODERN if n != "googlenet"])
def test_modern_twins_import_to_the_example(name: str) -> None:
    """The plain-PyTorch twins (torchvision's module structure) import to the example
    files' numbers, layer by layer."""
    imported = cnn_magic.from_torch(
        torch_zoo_modern.BUILDERS[name](), torch_zoo_modern.INPUTS[name]
    )
    assert_same_network(cnn_magic.example(name), imported)


def test_a_shared_tower_reads_each_input() -> None:
    """A Siamese network: the tower on the left image, the same tower (its weights
    shared) on the right one, the two outputs joined. Imported from to_torch(), each
    pass reads its own input and the join reads both passes."""
    net = cnn_magic.evaluate(SIAMESE)
    imported = round_trip(net)
    assert_same_network(net, imported)
    text = imported.text
    assert "x1: input 1@32x32\nx2: input 1@32x32\n" in text
    # labelled with the text's own names, not the words of to_torch()'s containers
    assert "tower.conv1.0: conv 16 k3 from=x1\n" in text
    assert "reuse tower.conv1.0 from=x2\n" in text
    # both passes end in the tower's gap: each output gets a label of its own
    assert "tower.pool2_2: gap\n" in text and "tower.pool2_3: gap\n" in text
    assert "concat tower.pool2_2, tower.pool2_3\n" in text


class TwoImages(torch.nn.Module):
    """Two inputs, one convolution applied to each."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(left), self.conv(right)], 1)


def test_several_inputs_are_labelled_by_forwards_names() -> None:
    imported = cnn_magic.from_torch(TwoImages(), [(3, 8, 8), "8x8x3"])
    assert imported.text.splitlines()[1:] == [
        "left: input 3@8x8",
        "right: input 3@8x8",
        "conv: conv 4 k3 from=left",
        "conv_2: reuse conv from=right",
        "cat: concat conv, conv_2",
    ]
    assert imported.params == 3 * 3 * 3 * 4 + 4
    assert [shape for _, shape in imported.inputs] == [(8, 8, 3), (8, 8, 3)]


def test_googlenet_twin_at_inference_imports_to_the_main_network() -> None:
    """In eval mode the twin runs no auxiliary head: the example without its side
    outputs (torchvision's 6,624,904 parameters)."""
    model = torch_zoo_modern.googlenet()
    imported = cnn_magic.from_torch(model, (3, 224, 224))
    assert imported.params == 6_624_904
    assert "6,379,984 parameters of the model are not used by its forward" in imported.text
    assert_same_network(cnn_magic.example("googlenet").main, imported)
