"""The ``rounding`` statement: a text sets its own rounding, and every door honours it.

A zoo file used to declare its rounding in a comment that only ``example()`` read, so
the same file gave 2,047,266,816 MACs through ``cnn-magic FILE`` and 1,814,073,344
through ``cnn-magic --example``. Now the statement is part of the text: ``evaluate``,
``%%cnn``, ``%cnn -f``, ``%cnn --example``, the command line (file, stdin, example)
and ``example()`` all give the same network; an explicit option still wins, and the
table says so.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import cnn_magic
from cnn_magic import CNNError, cli

RESNET18 = Path(cnn_magic.__file__).parent / "examples" / "resnet18.cnn"
FLOOR_MACS = 1_814_073_344  # torchvision's 1.814 GMACs, under the file's floor rounding
TEXTBOOK_MACS = 2_047_266_816  # the same text when its rounding is ignored
POOL = "rounding floor\ninput 9x9x1\nmaxpool k2\n"  # floor 4×4, textbook and ceil 5×5


def cli_json(capsys, monkeypatch, *argv: str, stdin: str | None = None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = cli.main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, ""), err
    return out


def test_every_door_gives_the_file_its_own_rounding(capsys, monkeypatch, shell) -> None:
    text = RESNET18.read_text(encoding="utf-8")
    assert cnn_magic.evaluate(text).macs == FLOOR_MACS
    assert cnn_magic.example("resnet18").macs == FLOOR_MACS
    assert cnn_magic.evaluate(text, "textbook").macs == TEXTBOOK_MACS  # the bug, on purpose

    for argv, stdin in (([str(RESNET18)], None), (["--example", "resnet18"], None), ([], text)):
        out = cli_json(capsys, monkeypatch, *argv, stdin=stdin)
        assert json.loads(out)["totals"]["macs"] == FLOOR_MACS, argv or "stdin"

    shell.extension_manager.load_extension("cnn_magic")
    shell.run_cell("%config CnnMagic.rounding = 'ceil'", store_history=False)  # weaker
    try:
        for line in (f"%cnn -o _net -f {RESNET18}", "%cnn -o _net --example resnet18"):
            shell.run_cell(line, store_history=False).raise_error()
            net = shell.user_ns.pop("_net")
            assert (net.rounding, net.macs) == ("floor", FLOOR_MACS), line
        shell.run_cell(f"%%cnn -o _net\n{POOL}", store_history=False).raise_error()
        assert shell.user_ns.pop("_net").output_shape == (4, 4, 1)
        shell.run_cell("%cnn -o _net input 9x9x1; maxpool k2", store_history=False)
        assert shell.user_ns.pop("_net").output_shape == (5, 5, 1)  # no statement: the default
    finally:
        shell.run_cell("%config CnnMagic.rounding = 'textbook'", store_history=False)


def test_an_explicit_option_wins_and_the_table_says_so(capsys, shell) -> None:
    net = cnn_magic.evaluate(POOL, "ceil")
    assert (net.rounding, net.declared_rounding, net.output_shape) == ("ceil", "floor", (5, 5, 1))
    assert "ceil rounding (an option; the text says floor): everything rounds up" in net.to_text()
    same = cnn_magic.evaluate(POOL, "floor")
    assert "the text says" not in same.to_text()  # the option agrees with the text

    status = cli.main([str(RESNET18), "--rounding", "textbook"])
    out = capsys.readouterr().out
    assert status == 0 and "(an option; the text says floor)" in out
    assert cnn_magic.example("resnet18", rounding="textbook").macs == TEXTBOOK_MACS

    shell.extension_manager.load_extension("cnn_magic")
    shell.run_cell(f"%%cnn -o _net --rounding ceil\n{POOL}", store_history=False).raise_error()
    assert shell.user_ns.pop("_net").output_shape == (5, 5, 1)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("input 9x9x1\nconv 2 k3\nrounding floor", "put it before the first layer", 3, 1),
        ("rounding floor\ninput 9x9x1\nrounding ceil", "already set on line 1", 3, 1),
        ("input 9x9x1\nrepeat 2:\n  rounding floor\n  conv 2 k3", "not to a block", 3, 3),
        ("rounding flor\ninput 9x9x1", "one mode: textbook, floor or ceil", 1, 10),
        ("rounding\ninput 9x9x1", "one mode", 1, 1),
        ("rounding floor ceil\ninput 9x9x1", "one mode", 1, 16),
        ("r: rounding floor\ninput 9x9x1", "takes no label", 1, 1),
    ],
)
def test_mistakes(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)


def test_did_you_mean_for_a_misspelt_mode() -> None:
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate("rounding flor; input 9x9x1")
    assert caught.value.hint == "did you mean 'floor'?"


def test_every_zoo_file_sets_its_rounding_with_the_statement() -> None:
    for name in cnn_magic.example_names():
        text = cnn_magic.example_text(name)
        assert "# rounding:" not in text, name
        assert cnn_magic.example(name).declared_rounding in ("textbook", "floor"), name
