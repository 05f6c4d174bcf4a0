"""The README tells the truth: every layer and alias is documented, and its numbers hold."""

import re
from pathlib import Path

import pytest

import cnn_magic
from cnn_magic.layers import ACTIVATIONS, ALIASES, RULES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("word", sorted({*RULES, *ALIASES}))
def test_every_layer_and_alias_is_in_the_readme(word):
    assert f"`{word}`" in README or f"`{word} " in README, word


def test_readme_cost_table_matches_the_code():
    for name, rule in ACTIVATIONS.items():
        if name != "softmax":
            assert f"{name} {rule.cost}" in README, name


def test_first_screen_has_the_two_setup_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && cnn-magic --example lenet5")
    assert commands[1].startswith("bash .ci/run")


def test_readme_lenet_numbers():
    text = re.search(r"%%cnn\n(.*?)```", README, re.S).group(1)
    net = cnn_magic.evaluate(text)
    assert (net.params, net.flops, net.macs) == (61_706, 833_040, 416_520)
    assert "61,706" in README and "833,040" in README and "416,520" in README


def test_readme_table_of_layers_is_the_generated_one():
    from cnn_magic.layers import readme_table

    table = re.search(
        r"<!-- the table of layers: .*? -->\n(.*?)\n<!-- end of the table of layers -->",
        README,
        re.S,
    )
    assert table is not None and table.group(1) == readme_table()
