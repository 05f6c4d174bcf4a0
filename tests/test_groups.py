"""Group lines: a name alone before ':' opens a block that names a stage, as torchvision
names ResNet's layer1 … layer4; its subtotals are torchinfo's at depth 1."""

from __future__ import annotations

import pytest
import torch
import torch_zoo
from torchinfo import summary

import cnn_magic
from cnn_magic import CNNError

STAGES = ("layer1", "layer2", "layer3", "layer4")


def torchinfo_stages(model: torch.nn.Module) -> dict[str, tuple[int, int]]:
    """(params, conv and linear mult-adds) of each top-level module, as torchinfo sums
    them: params from its depth-1 rows, mult-adds from the leaf layers under each."""
    stats = summary(model, input_size=(1, 3, 224, 224), depth=10, verbose=0)
    params: dict[str, int] = {}
    macs: dict[str, int] = {}
    top = ""
    for row in stats.summary_list:
        if row.depth == 1:
            top = row.var_name
            params[top] = row.num_params
        if row.is_leaf_layer and row.class_name in ("Conv2d", "Linear"):
            macs[top] = macs.get(top, 0) + row.macs
    return {name: (params[name], macs.get(name, 0)) for name in params}


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnet_stages_have_torchinfos_subtotals(name: str) -> None:
    net = cnn_magic.example(name)
    theirs = torchinfo_stages(getattr(torch_zoo, name)())
    groups = {b.name: b for b in net.blocks if b.depth == 0}
    assert tuple(groups) == STAGES
    for stage in STAGES:
        block = groups[stage]
        assert block.kind == "group"
        inside = net.layers[block.first : block.stop]
        ours = (sum(x.params for x in inside), sum(x.macs for x in inside))
        assert ours == theirs[stage], stage
    assert theirs["layer1"][0] == (215_808 if name == "resnet50" else 147_968)


def test_the_table_shows_a_stage_as_one_row_with_its_subtotals() -> None:
    net = cnn_magic.example("resnet50")
    lines = net.to_text().splitlines()
    [layer1] = [line for line in lines if line.startswith("layer1:")]
    assert "215,808" in layer1 and "1,335,885,824" in layer1  # params, FLOPs = 2 · MACs
    assert "group:" in layer1


def test_to_torch_nests_each_stage_as_torchvision_does() -> None:
    model = cnn_magic.example("resnet50").to_torch()
    twin = torch_zoo.resnet50()
    children = dict(model.named_children())
    for stage in STAGES:
        ours = sum(p.numel() for p in children[stage].parameters())
        assert ours == sum(p.numel() for p in getattr(twin, stage).parameters()), stage


def test_a_group_line_opens_a_named_block() -> None:
    net = cnn_magic.evaluate(
        "input 8x8x4\nstage:\n  conv 4 k3 p1\n  inner:\n    relu\nrepeat 2:\n  twice:\n    bn\n"
    )
    assert [(b.name, b.kind, b.depth) for b in net.blocks] == [
        ("inner", "group", 1),
        ("stage", "group", 0),
        ("twice.1", "group", 1),
        ("twice.2", "group", 1),
        ("repeat1", "repeat", 0),
    ]
    assert [x.block for x in net.layers] == [
        "stage",
        "stage/inner",
        "repeat1/twice.1",
        "repeat1/twice.2",
    ]
    assert len(net.layers) == 4  # a group adds no row of its own


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("residul:", "did you mean 'residual'?"),
        ("repet 2:", "did you mean 'repeat'?"),
        ("concta:", "did you mean 'concat'?"),
        ("shortcuts:", "did you mean 'shortcut'?"),
    ],
)
def test_a_misspelt_block_is_not_taken_for_a_group(text: str, hint: str) -> None:
    with pytest.raises(CNNError, match="unknown block") as caught:
        cnn_magic.evaluate(f"input 8x8x1\n{text}\n  relu\n")
    assert hint in str(caught.value)
