"""How a text becomes lines: the line breaks of Python and Jupyter, and nothing else.

Lines end at ``\\n``, ``\\r\\n`` and ``\\r``; vertical tab and form feed are whitespace;
characters that some editors break at and others do not are refused by name, comments
included, so nothing can hide behind them; tabs and spaces must agree as Python demands;
a byte-order mark at the start is dropped.
"""

from __future__ import annotations

from typing import Any

import pytest
from networks import LENET5

import cnn_magic
from cnn_magic import CNNError, evaluate
from cnn_magic.dsl import lines

BASE = "input 8x8x1\n"


def error_of(text: str) -> CNNError:
    with pytest.raises(CNNError) as caught:
        evaluate(text)
    return caught.value


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\u2028", "a line separator (U+2028)"),
        ("\u2029", "a paragraph separator (U+2029)"),
        ("\x85", "a next-line character (U+0085)"),
        ("\x1c", "a file separator (U+001C)"),
        ("\x1d", "a group separator (U+001D)"),
        ("\x1e", "a record separator (U+001E)"),
        ("\x1f", "a unit separator (U+001F)"),
    ],
)
def test_a_comment_cannot_hide_a_layer_behind_a_hidden_line_break(char: str, name: str) -> None:
    """`relu # a note<U+2028>conv 1000 k1` once added 2,000 parameters."""
    err = error_of(BASE + f"relu # a note{char}conv 1000 k1\n")
    assert (err.message, err.line, err.column) == (f"{name} in the text", 2, 14)
    assert err.source == f"relu # a note{char}conv 1000 k1"
    shown = str(err).splitlines()
    assert shown[1].startswith("    relu # a note\\")
    assert shown[2] == "    " + " " * 13 + "^" * (
        len(shown[1]) - len("    relu # a noteconv 1000 k1")
    )


@pytest.mark.parametrize("char", ["\f", "\v"])
def test_form_feed_and_vertical_tab_are_whitespace(char: str) -> None:
    net = evaluate(BASE + f"conv 6{char}k3{char}relu\n")
    assert net.params == evaluate(BASE + "conv 6 k3 relu").params == 60
    assert len(net.layers) == 1


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_the_three_line_breaks(newline: str) -> None:
    net = evaluate(LENET5.replace("\n", newline))
    assert (net.params, net.macs) == (61_706, 416_520)


def test_error_lines_count_real_lines_only() -> None:
    """Line numbers follow \\n, \\r\\n and \\r; a form feed does not add a line."""
    err = error_of("input 8x8x1\f# a page\r\nconv 6 k3\rcnov 2 k3")
    assert (err.line, err.source) == (3, "cnov 2 k3")
    err = error_of("input 8x8x1\n\x0c\nrelu\vcnov")
    assert (err.line, err.column, err.source) == (3, 6, "relu\vcnov")


def test_a_byte_order_mark_at_the_start_is_ignored() -> None:
    assert evaluate("\ufeff" + LENET5).params == 61_706
    assert lines("\ufeffinput 8x8x1\nrelu") == ["input 8x8x1", "relu"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BASE + "repeat 2:\n\tconv 4 k3 p1\n        relu", 4),  # tab, then 8 spaces
        (BASE + "repeat 2:\n    conv 4 k3 p1\n\trelu", 4),  # 4 spaces, then a tab
        (BASE + "repeat 2:\n  \tconv 4 k3 p1\n\t  relu", 4),
        (BASE + "repeat 2:\n\trepeat 2:\n\t\trelu\n        relu", 5),
    ],
)
def test_inconsistent_tabs_and_spaces_are_refused_as_python_does(text: str, line: int) -> None:
    err = error_of(text)
    assert err.message == "inconsistent use of tabs and spaces in indentation"
    assert err.line == line and "tabs only" in (err.hint or "")
    with pytest.raises(TabError):  # Python agrees, on the same shape of text
        compile(to_python(text), "<net>", "exec")


@pytest.mark.parametrize(
    "text",
    [
        BASE + "repeat 2:\n\tconv 4 k3 p1\n\trelu",
        BASE + "repeat 2:\n    conv 4 k3 p1\n    relu",
        BASE + "repeat 2:\n\trepeat 2:\n\t\trelu\n\trelu",
        BASE + "repeat 2:\n\t relu\n\t relu",
    ],
)
def test_consistent_indentation_is_accepted(text: str) -> None:
    evaluate(text)
    compile(to_python(text), "<net>", "exec")


def to_python(text: str) -> str:
    """The same indentation with Python statements: a block opener becomes ``if 1:``."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + ("if 1:" if line.rstrip().endswith(":") else "x")
        for line in text.split("\n")
    )


def test_the_line_magic_and_the_cell_agree(shell: Any) -> None:
    shell.extension_manager.load_extension("cnn_magic")
    result = shell.run_cell("%%cnn\ninput 8x8x1\nrelu # note\u2028conv 1000 k1")
    err = result.error_in_exec
    assert isinstance(err, cnn_magic.CNNError)
    assert (err.line, err.message) == (3, "a line separator (U+2028) in the text")


def test_plain_lines_past_the_limit_are_not_blamed_on_a_repeat() -> None:
    """100,001 plain lines: the message says the real limit, and no repeat is suspected."""
    err = error_of(BASE + "relu\n" * 100_001)
    assert "100,000 layers" in str(err)
    assert "repeat" not in (err.hint or "")


def test_a_repeat_past_the_limit_is_named_as_the_likely_cause() -> None:
    """The repeat hint appears when a repeat multiplied the layers, and only then."""
    err = error_of(BASE + "repeat 400:\n  repeat 400:\n    relu")
    assert "100,000 layers" in str(err)
    assert err.hint == "is a repeat count too large?"
