"""Variables in the language: ``k = 5`` sets, ``{k}`` uses; nothing is ever evaluated."""

from __future__ import annotations

import pytest

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.variables import expand, settings, variables

LENET_K = """input 32x32x1
k = 5
C1: conv 6 k{k} relu
S2: avgpool k2 s2
"""


@pytest.mark.parametrize(
    ("text", "values", "shape"),
    [
        (LENET_K, None, (14, 14, 6)),
        (LENET_K, {"k": 3}, (15, 15, 6)),
        (LENET_K, {"k": 1}, (16, 16, 6)),
        ("n = 8; c = 3\ninput {n}x{n}x{c}\nconv 4 k3", None, (6, 6, 4)),
        ("input 8x8x1\nr = 3\nrepeat {r}:\n  conv 2 k3 p1", None, (8, 8, 2)),
        ("input 9x9x1; s = 2; maxpool k2 s{s}", {"s": 3}, (3, 3, 1)),
        ("input 8x8x1\nk = 3  # the kernel\nconv 2 k{k}  # uses {k}", None, (6, 6, 2)),
    ],
)
def test_values_reach_the_layers(text, values, shape) -> None:
    assert cnn_magic.evaluate(text, variables=values).output_shape == shape


def test_the_text_reads_as_if_written_with_the_values() -> None:
    with_k = cnn_magic.evaluate(LENET_K, variables={"k": 3})
    written = cnn_magic.evaluate(LENET_K.replace("k = 5\n", "\n").replace("k{k}", "k3"))
    assert with_k.layers == written.layers
    assert with_k.text == LENET_K  # the text as written
    repeated = cnn_magic.evaluate("input 8x8x1\nr = 3\nrepeat {r}:\n  conv 2 k3 p1")
    assert len(repeated.layers) == 3


def test_layer_arguments_with_equals_are_not_settings() -> None:
    net = cnn_magic.evaluate("input 8x8x1\nconv 2 k = 3\nconv 2 kernel=3 stride = 1")
    assert net.output_shape == (4, 4, 2)
    assert variables("input 8x8x1\nconv 2 k = 3") == {}


def test_lines_stay_where_they_are() -> None:
    text = "input 8x8x1\nk = 3\n\nconv 2 k{k}\ncnov 2"
    assert expand(text).split("\n")[3:] == ["conv 2 k3", "cnov 2"]
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    assert caught.value.line == 5


def test_settings_say_where() -> None:
    found = settings("input 8x8x1\n  k = 3 ; s=2")
    assert [(s.name, s.value, s.line, s.column) for s in found] == [
        ("k", 3, 2, 3),
        ("s", 2, 2, 11),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input 8x8x1\nconv 2 k{k}",
            "line 2: unknown variable 'k'\n    conv 2 k{k}\n            ^^^\n"
            "set it first: NAME = 5",
        ),
        (
            "input 8x8x1\nk = 3\nconv 2 k{kk}",
            "line 3: unknown variable 'kk'\n    conv 2 k{kk}\n            ^^^^\ndid you mean 'k'?",
        ),
        (
            "input 8x8x1\nk = 3\nk = 5",
            "line 3: variable 'k' is set twice (first on line 2)\n    k = 5\n    ^\n"
            "set each variable once; --vary changes it without editing",
        ),
        (
            "input 8x8x1\nk = __import__('os')",
            "line 2: variable 'k' needs a whole number, not \"__import__('os')\"\n"
            "    k = __import__('os')\n        ^^^^^^^^^^^^^^^^\n"
            "for example k = 5 (a whole number from 0 to 1,000,000,000)",
        ),
        (
            "input 8x8x1\nk = 2.5",
            "line 2: variable 'k' needs a whole number, not '2.5'\n    k = 2.5\n        ^^^\n"
            "for example k = 5 (a whole number from 0 to 1,000,000,000)",
        ),
        (
            "input 8x8x1\nconv 2 k{k}\nk = 3",
            "line 2: variable 'k' is used before it is set (line 3)\n    conv 2 k{k}\n"
            "            ^^^\ndid you mean 'k'?",
        ),
        (
            "input 8x8x1\nk = 3\nconv 2 k{k + 1}",
            "line 3: '{k + 1}' is not a variable\n    conv 2 k{k + 1}\n            ^^^^^^^\n"
            "valid: k",
        ),
        (
            "input 8x8x1\nk = 3\nconv 2 k{k",
            "line 3: a '{' or '}' without its partner\n    conv 2 k{k\n            ^\n"
            "a variable is used as {NAME}",
        ),
        (
            "input 4x4x1\nk = 5\nconv 2 k{k}",
            "line 3: kernel 5 is larger than the padded input height 4 + 2·0 = 4\n"
            "    conv 2 k{k}\n           ^^^^\n"
            "with k = 5; use a smaller kernel, more padding, or a larger input",
        ),
        (
            "input 8x8x1; k = 3; conv 2 k{k} s{k} pp",
            "line 1: unknown argument 'pp'\n"
            "    input 8x8x1; k = 3; conv 2 k{k} s{k} pp\n"
            "                                         ^^\n"
            "with k = 3; did you mean 'p'?",
        ),
        (
            "input 8x8x1\nstride=2\nconv 2 k3",
            "line 2: variable 'stride' is set but never used\n    stride=2\n    ^^^^^^\n"
            "use it as {stride} (k{stride}, say), or remove the line; "
            "a layer needs its name first: conv 6 k=5",
        ),
    ],
)
def test_mistakes_point_at_the_variable(text: str, message: str) -> None:
    with pytest.raises(CNNError) as caught:
        cnn_magic.evaluate(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"s": 2}, "the network sets no variable 's'"),
        ({"kk": 2}, "the network sets no variable 'kk'"),
        ({"k": -1}, "variable 'k' needs a whole number, not -1"),
        ({"k": True}, "variable 'k' needs a whole number, not True"),
        ({"k": "3"}, "variable 'k' needs a whole number, not '3'"),
    ],
)
def test_new_values_must_fit(values, message: str) -> None:
    with pytest.raises(CNNError, match="^" + message.replace("(", r"\(")) as caught:
        cnn_magic.evaluate(LENET_K, variables=values)
    if "kk" in values:
        assert caught.value.hint == "did you mean 'k'?"


def test_a_text_without_variables_is_untouched() -> None:
    text = cnn_magic.example_text("resnet50")
    assert expand(text) is text
