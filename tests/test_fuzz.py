"""Fuzzing ``cnn_magic.evaluate``: for any string it returns a sane result or raises
``CNNError`` pointing inside the text, never anything else, and always within a second.

Three kinds of input: (a) random text over the language's alphabet plus some unicode
(line separators included); (b) mutations of a corpus of valid networks that between
them use every layer, alias, argument form and block kind of the language; (c) soups of
valid words in random order. Hypothesis runs derandomized, so CI sees the same inputs
on every run.
"""

from __future__ import annotations

import builtins
import keyword
import math
import os
import re
import string
import time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from networks import LENET5

import cnn_magic

SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# seconds per call: a guard against hangs and blow-ups, which take far longer, not a
# speed goal (those live in benchmarks/); generous, since CI machines are shared
BUDGET = 5.0
ROUNDINGS = ("textbook", "floor", "ceil")

# --------------------------------------------------------------------------- corpus

CORPUS = [
    # 0 LeNet-5 as in the notes: labels, comments, activations after layers
    LENET5,
    # 1 the paper's input form, "=" and comma forms, HxW arguments, rounding flags
    """\
input 1@64x64
conv2d 6, k=5, s=1, p=0
max k2 ceil
avg k=2 s=2 floor
maxpool2d k3x1 s2x1 p=1x0
avgpool2d k = 2, s = 1
CONV 8 K3 P1 RELU
conv 16 k=3x1 p=1x0 d2x1 bias=no
conv 16 k3 p=valid bias=yes
""",
    # 2 the README's block example: repeat, residual with shortcut, concat, add
    """\
input 56x56x64
repeat 2:                 # the body twice, in sequence
  conv 64 k3 p1 relu
residual:                 # output = body(x) + shortcut(x)
  conv 128 k3 s2 p1 nobias
  bn relu
  conv 128 k3 p1 nobias
  bn
  shortcut:               # optional; identity when absent
    conv 128 k1 s2 nobias
    bn
relu
concat:                   # channel concatenation of parallel branches
  branch:
    conv 64 k1 relu
  branch:
    conv 96 k1 relu
    conv 128 k3 p1 relu
  branch:
    identity              # a branch may pass its input through
add:                      # element-wise sum of branches
  branch:
    conv 320 k3 p1
  branch:
    identity
""",
    # 3 MobileNet-like: depthwise, same padding, batch norm aliases, global pools
    """\
input 224x224x3
conv 32 k3 s2 same nobias
batchnorm relu6
dwconv k3 same
depthwise k3 s2 p=same 2
dwconv2d k3 p1 d1 nobias hardswish
batchnorm2d swish
conv 64 k1 silu
globalavgpool
gap
globalmaxpool
gmp
flatten
dense 10 softmax
""",
    # 4 transposed convolutions, groups, dilation, output padding
    """\
input 7x7x64
deconv 32 k4 s2 p1
convtranspose 16 k3 s2 p1 op=1
tconv 8 k3 d2 g2 op1
convtranspose2d 8 k=3x2 s=2x1 p=1x0 output_padding=1x0 nobias
conv 8 k3 g=4 d=2 p=2
conv 8 k1 groups=2
""",
    # 1-D signals: C@L input, every 1-D word
    """\
input 2@64
conv1d 8 k5 p2 relu
bn1d
batchnorm1d
dwconv1d k3 p1
maxpool1d k2
avgpool1d k2 s1
deconv1d 4 k2 s2
convtranspose1d 4 k3 p1
adaptiveavgpool1d 8
adaptivemaxpool1d 4
conv 4 k3 p1
flatten
fc 3
""",
    # 3-D volumes: C@DxHxW input, every 3-D word
    """\
input 3@8x16x16
conv3d 4 k3 p1 relu
bn3d
batchnorm3d
dwconv3d k3 p1
maxpool3d k2
avgpool3d k1x2x2
deconv3d 4 k2 s2
convtranspose3d 4 k1
adaptiveavgpool3d 2x4x4
adaptivemaxpool3d 2
upsample 2 trilinear
upsample 1x2x2
gap
""",
    # 2-D words that name their dimensions
    """\
input 8x8x4
bn2d
deconv2d 4 k1
""",
    # 5 adaptive pools in both forms, label characters
    """\
input 13x17x8
adaptiveavgpool 6
adaptivemaxpool 3x5
a_1.b-2: adaptiveavgpool2d 7
adaptivemaxpool2d 20
fc 4 bias=no
""",
    # 6 an MLP on a vector: every activation on its own line, dropout
    """\
input 784
linear 256 relu
dropout 0.5
fc 128 gelu
dropout
dropout .25
bn
fc 64 leakyrelu
leakyrelu 0.1
prelu
elu
elu 1.0
selu_is_not_here: identity
sigmoid
tanh
relu6
silu
swish
hardswish
gelu
softmax
""",
    # 7 a whole network on one line with semicolons (a line magic)
    "input 28x28x1; conv 8 k3 p=same relu; maxpool k2; flatten; fc 10 softmax",
    # 8 nesting, tabs and labels on blocks
    "input 32x32x16\n"
    "R1: repeat 2:\n"
    "\tresidual:\n"
    "\t\tconv 16 k3 p1\n"
    "\t\tadd:\n"
    "\t\t\tbranch:\n"
    "\t\t\t\tconv 16 k1\n"
    "\t\t\tbranch:\n"
    "\t\t\t\tidentity\n"
    "\tconcat:\n"
    "\t\tbranch:\n"
    "\t\t\trepeat 3:\n"
    "\t\t\t\tconv 4 k3 p1 prelu\n"
    "\t\tbranch:\n"
    "\t\t\tmaxpool k3 s1 p1\n"
    "\tconv 16 kernel_size=1 stride=1 padding=0 dilation=1\n",
    # 9 more argument spellings; lrn and identity on maps; kernel larger than stride
    """\
input 32x32x3
C1:conv 96 kernel=11 stride=4 pad=2 relu
lrn
maxpool k=3 s=2 d=1
identity
conv 256 k5 p2 g2 relu
elu
maxpool k3 s2 ceil
""",
    # 10 the rounding statement and the layers of networks taught today
    """rounding floor
input 24x20x8
LN: layernorm
ln
groupnorm 4
instancenorm affine
instancenorm2d
layerscale
channelshuffle 2
pixelshuffle 2
pad top=1 bottom=0 left=2 right=1 reflect
pad 1x2 replicate
pad 1 circular
crop 40x36
crop top=1 bottom=1 left=0 right=2
pixelunshuffle 2
upsample 2 bilinear
upsample 1x2 nearest
conv 8 k1 hardsigmoid
""",
    # 11 1-D and 3-D maps through the same layers
    "input 3@16\ninstancenorm1d\nupsample 2\npad 1\ncrop 30\ngroupnorm 1\n",
    "input 2@4x6x6\ninstancenorm3d affine\nupsample 2x1x1\npad 1\ncrop 8x6x6\n",
    # 13 an SE block, a ShuffleNetV2 unit and an auxiliary head
    """\
input 28x28x16
se: scale:
  gap
  conv 4 k1 relu
  conv 16 k1 hardsigmoid
unit: split 2:
  branch:
    identity
  branch:
    conv 8 k1 nobias
    bn relu
split 6 10:
  branch:
    conv 6 k3 p1
  branch:
    scale:
      gap
      conv 10 k1 sigmoid
channelshuffle 4
aux: side:
  gap
  fc 10
conv 8 k3 s2
""",
    # 14 references: from=, merges of labelled outputs, the input's label, a U-Net step
    """\
x: input 32x32x4
enc: conv 8 k3 relu
q: maxpool k2
conv 8 k1
maxunpool q
maxpool k2
mid: conv 16 k3 p1 relu
up: deconv 8 k2 s2
skip: crop 30x30 from=enc
cat: concat skip, up
b: conv 8 k1 from=x
g: gap from=b
s: add b, b
mul s, g
repeat 2:
  c: conv 8 k3 p1
  add c, c
concat c, c.1
""",
    # 15 several inputs, group:, shared weights
    """\
left: input 32x32x1
right: input 32x32x1
tower: group from=left:
  conv 8 k3 relu
  maxpool k2
  gap
b: reuse tower from=right
concat tower, b
r: group:
  fc 16 relu
repeat 2:
  reuse r
fc 1 sigmoid
""",
    # 16 a group line names a stage; an explicit group: too
    """\
input 16x16x3
stage1:
  conv 8 k3 p1 relu
  inner: group:
    maxpool k2 s2
""",
    # 17 parts of an imported model with no word: opaque, shape kept or given
    """input 16x16x3
conv 8 k3 p1 relu
opaque
opaque 4x4x32
flatten
opaque 100
fc 10
""",
]

# Every word of the language, for token soups and token mutations.
WORDS = sorted(
    {
        "input",
        "conv",
        "conv2d",
        "dwconv",
        "depthwise",
        "dwconv2d",
        "deconv",
        "convtranspose",
        "convtranspose2d",
        "tconv",
        "maxpool",
        "max",
        "maxpool2d",
        "avgpool",
        "avg",
        "avgpool2d",
        "gap",
        "globalavgpool",
        "gmp",
        "globalmaxpool",
        "adaptiveavgpool",
        "adaptivemaxpool",
        "adaptiveavgpool2d",
        "adaptivemaxpool2d",
        "fc",
        "linear",
        "dense",
        "flatten",
        "bn",
        "batchnorm",
        "batchnorm2d",
        "dropout",
        "lrn",
        "identity",
        "relu",
        "relu6",
        "leakyrelu",
        "prelu",
        "elu",
        "gelu",
        "silu",
        "swish",
        "hardswish",
        "sigmoid",
        "tanh",
        "softmax",
        "hardsigmoid",
        "layernorm",
        "ln",
        "groupnorm",
        "instancenorm",
        "affine",
        "layerscale",
        "channelshuffle",
        "pixelshuffle",
        "pixelunshuffle",
        "upsample",
        "bilinear",
        "nearest",
        "pad",
        "crop",
        "top=1",
        "bottom=0",
        "left=2",
        "right=-1",
        "reflect",
        "replicate",
        "circular",
        "rounding",
        "rounding floor",
        "scale",
        "scale:",
        "split",
        "split 2:",
        "split 6 10:",
        "side",
        "side:",
        "from=x",
        "group:",
        "reuse",
        "maxunpool",
        "maxunpool q",
        "reuse tower",
        "tower:",
        "right: input 8x8x1",
        "from=enc",
        "from=nowhere",
        "concat a, b",
        "add x, x",
        "mul x",
        "x:",
        "enc:",
        "repeat",
        "residual",
        "concat",
        "add",
        "shortcut",
        "branch",
        "repeat 2:",
        "residual:",
        "concat:",
        "add:",
        "shortcut:",
        "branch:",
        "same",
        "valid",
        "nobias",
        "floor",
        "ceil",
        "bias=no",
        "bias=yes",
        "bias=maybe",
        "k3",
        "k=5",
        "k3x1",
        "k0",
        "s2",
        "s=2x1",
        "p1",
        "p=1x2",
        "p=same",
        "d2",
        "g2",
        "g=3x3",
        "op=1",
        "op2",
        "kernel=3",
        "stride=2",
        "padding=valid",
        "q=1",
        "k=",
        "=3",
        "k==3",
        "0",
        "1",
        "2",
        "6",
        "64",
        "0.5",
        ".5",
        "1.5",
        "3x5",
        "32x32x3",
        "1@32x32",
        "784",
        "-1",
        "1e3",
        "999999999999",
        "1000000000",
        "x",
        "@",
        ":",
        ";",
        ",",
        "#",
        "=",
        "C1:",
        "_lbl:",
        "9bad:",
        "::",
        "×",
        "３",
    }
)

# --------------------------------------------------------------------------- known bugs

# Statements made only of commas (commas count as spaces) once raised IndexError.
ONCE_BUGS = [",", "input 8x8x3\n,", "input 8x8x3; , ; relu", "input 8x8x3\n  ,, # c"]


@pytest.mark.parametrize("text", ONCE_BUGS)
def test_once_bugs(text: str) -> None:
    check(text)


# --------------------------------------------------------------------------- the property


def check(text: str, rounding: str = "textbook") -> str:
    """Evaluate ``text``; assert the contract; return "result" or "error"."""
    start = time.perf_counter()
    try:
        net = cnn_magic.evaluate(text, rounding=rounding)
    except cnn_magic.CNNError as err:
        assert time.perf_counter() - start < BUDGET, f"{text!r} took too long"
        check_error(text, err)
        return "error"
    assert time.perf_counter() - start < BUDGET, f"{text!r} took too long"
    check_result(net)
    return "result"


def check_error(text: str, err: cnn_magic.CNNError) -> None:
    assert isinstance(err, ValueError)
    assert str(err).strip(), repr(text)
    assert all(line.isprintable() for line in str(err).split("\n")), str(err)
    lines = physical_lines(text)
    if err.line is None:
        assert err.column is None, (text, err.column)
        return
    assert type(err.line) is int and 1 <= err.line <= len(lines), (text, err.line)
    line = lines[err.line - 1]
    if err.source is not None:  # the quoted line is the one named
        assert err.source == line, (text, err.line, err.source)
    if err.column is not None:  # the caret lies on the line
        assert type(err.column) is int and 1 <= err.column <= len(line), (text, err.column)
        assert err.column + err.width - 1 <= len(line), (text, err.column, err.width)


def physical_lines(text: str) -> list[str]:
    """The lines as Python and Jupyter see them: broken at \\n, \\r\\n and \\r only."""
    return re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))


def check_result(net: cnn_magic.Network) -> None:
    totals = (net.params, net.weights, net.biases, net.macs, net.flops, net.exact, net.ops)
    assert all(type(v) is int and v >= 0 for v in totals), totals
    assert net.params == net.weights + net.biases
    assert net.flops == 2 * net.macs
    assert positive(net.input_shape) and positive(net.output_shape)
    for layer in net.layers:
        counts = (
            layer.weights,
            layer.biases,
            layer.params,
            layer.macs,
            layer.flops,
            layer.exact,
            layer.ops,
        )
        assert all(type(v) is int and v >= 0 for v in counts), (layer.name, counts)
        assert layer.params == layer.weights + layer.biases
        assert layer.flops == 2 * layer.macs
        assert positive(layer.in_shape) and positive(layer.out_shape), layer
        assert layer.elements == math.prod(layer.out_shape)


def positive(shape: tuple) -> bool:
    return len(shape) in (1, 2, 3, 4) and all(type(v) is int and v >= 1 for v in shape)


@pytest.mark.parametrize("number", range(len(CORPUS)))
@pytest.mark.parametrize("rounding", ["textbook", "floor"])
def test_corpus_is_valid(number: int, rounding: str) -> None:
    """The mutation corpus is made of valid networks, so mutants start close to valid.
    (Not all of them under "ceil", which rounds convolutions up and breaks residuals.)"""
    net = cnn_magic.evaluate(CORPUS[number], rounding=rounding)
    check_result(net)
    assert net.layers


def test_corpus_covers_the_language() -> None:
    """Every word of the layer table and every block kind appears in the corpus."""
    from cnn_magic.layers import ALIASES, BLOCKS, RULES

    words = set(re.findall(r"[a-z_0-9]+", "\n".join(CORPUS).lower()))
    layer_words = {op for op, rule in RULES.items() if not rule.merge}  # mul is no word
    missing = (layer_words | set(ALIASES) | set(BLOCKS) | {"shortcut", "branch"}) - words
    assert not missing


# --------------------------------------------------------------------------- (a) random text

ALPHABET = (
    string.ascii_letters
    + string.digits
    + "x@=:;,#.- \t\n"
    + "×éß中文٣３\u00a0\u2028\u2029\u0085\x0c\x0b\x1c\x1d\x1e\x1f\ufeff\r\x00\x1b\x07"
    + "\u202e\U0001f600"
)
HEADS = st.sampled_from(["", "input 8x8x3\n", "input 32x32x1; ", "input 10\n"])


@settings(SETTINGS, max_examples=600)
@given(HEADS, st.text(alphabet=ALPHABET, max_size=80), st.sampled_from(ROUNDINGS))
def test_random_text(head: str, text: str, rounding: str) -> None:
    event(check(head + text, rounding))


# --------------------------------------------------------------------------- (b) mutations

TOKEN = re.compile(r"[^\s]+")


@st.composite
def mutants(draw) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def insert_char(draw, text: str) -> str:
    i = draw(st.integers(0, len(text)))
    return text[:i] + draw(st.sampled_from(ALPHABET)) + text[i:]


def delete_char(draw, text: str) -> str:
    if not text:
        return text
    i = draw(st.integers(0, len(text) - 1))
    return text[:i] + text[i + 1 :]


def replace_char(draw, text: str) -> str:
    if not text:
        return text
    i = draw(st.integers(0, len(text) - 1))
    return text[:i] + draw(st.sampled_from(ALPHABET)) + text[i + 1 :]


def tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text))


def replace_token(draw, text: str) -> str:
    found = tokens(text)
    if not found:
        return text
    m = draw(st.sampled_from(found))
    return text[: m.start()] + draw(st.sampled_from(WORDS)) + text[m.end() :]


def delete_token(draw, text: str) -> str:
    found = tokens(text)
    if not found:
        return text
    m = draw(st.sampled_from(found))
    return text[: m.start()] + text[m.end() :]


def insert_token(draw, text: str) -> str:
    found = tokens(text)
    at = draw(st.sampled_from([0, len(text), *(m.end() for m in found)]))
    return text[:at] + " " + draw(st.sampled_from(WORDS)) + " " + text[at:]


def numbers(draw, text: str) -> str:
    """Change one number: to 0, 1, huge, or a neighbour."""
    found = list(re.finditer(r"\d+", text))
    if not found:
        return text
    m = draw(st.sampled_from(found))
    new = draw(
        st.sampled_from(
            [
                "0",
                "1",
                "2",
                "7",
                "1000000000",
                "1000000001",
                str(int(m.group()) + 1),
                str(max(0, int(m.group()) - 1)),
            ]
        )
    )
    return text[: m.start()] + new + text[m.end() :]


def shuffle_lines(draw, text: str) -> str:
    return "\n".join(draw(st.permutations(text.split("\n"))))


def move_line(draw, text: str) -> str:
    lines = text.split("\n")
    line = lines.pop(draw(st.integers(0, len(lines) - 1)))
    lines.insert(draw(st.integers(0, len(lines))), line)
    return "\n".join(lines)


def duplicate_line(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    return "\n".join([*lines[: i + 1], *lines[i:]])


def delete_line(draw, text: str) -> str:
    lines = text.split("\n")
    del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines)


def indent(draw, text: str) -> str:
    """Indent or dedent one line by spaces, a tab or a form feed."""
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()):
        lines[i] = draw(st.sampled_from([" ", "  ", "\t", "    ", "\x0c", " \t"])) + lines[i]
    else:
        lines[i] = lines[i][draw(st.integers(1, 4)) :]
    return "\n".join(lines)


def swap_separators(draw, text: str) -> str:
    """Newlines to semicolons (losing the indentation), or commas to spaces."""
    old, new = draw(
        st.sampled_from([("\n", "; "), (" ", ","), (";", "\n"), ("\n", "\r\n"), ("\n", "\r")])
    )
    return text.replace(old, new)


def crlf(draw, text: str) -> str:
    return text.replace("\n", draw(st.sampled_from(["\r\n", "\r", "\u2028", "\x0c"])))


MUTATIONS = [
    insert_char,
    delete_char,
    replace_char,
    replace_token,
    delete_token,
    insert_token,
    numbers,
    shuffle_lines,
    move_line,
    duplicate_line,
    delete_line,
    indent,
    swap_separators,
    crlf,
]


@settings(SETTINGS, max_examples=800)
@given(mutants(), st.sampled_from(ROUNDINGS))
def test_mutated_networks(text: str, rounding: str) -> None:
    event(check(text, rounding))


# --------------------------------------------------------------------------- (c) token soup

SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n  ", "\n    ", "; ", ", ", "\t"])


@st.composite
def soups(draw) -> str:
    parts = [draw(st.sampled_from(["", "input 16x16x4\n", "input 64\n", "input 1@8x8\n"]))]
    for word in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=24)):
        parts += [word, draw(SEPARATORS)]
    return "".join(parts)


@settings(SETTINGS, max_examples=600)
@given(soups(), st.sampled_from(ROUNDINGS))
def test_token_soup(text: str, rounding: str) -> None:
    event(check(text, rounding))


# --------------------------------------------------------------------------- edges


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\n",
        "# only a comment",
        ";;;",
        ":",
        "input",
        "input 0x0x0",
        "input 8x8x3\nrepeat 0:\n  relu",
        "input 8x8x3\nrepeat 1000000000:\n  repeat 1000000000:\n    relu",
        "input 8x8x3\n" + "".join(" " * i + "repeat 1:\n" for i in range(150)) + " " * 150 + "relu",
        "input 8x8x3\n" + "residual:\n" * 3,
        "input 1000000000x1000000000x1000000000\nconv 1000000000 k1\nfc 1000000000",
        "input 1000000000x1000000000x1000000000\nadaptiveavgpool 999999937x999999929",
        "input 8x8x3\ndwconv k3 g3",
        "input 8x8x3\x00conv 4 k3",
        "input 8x8x3\n\u2028conv 4 k3",
        "input 8x8x3\nconv 4 k3 p=" + "9" * 5000,
        "input " + "9" * 5000 + "x8x3",
        "input 8x8x3\n" + "conv 4 k1 " * 2000,
        "input 8x8x3\n" + "x" * 100_000,
    ],
)
def test_edges(text: str) -> None:
    check(text)


def test_not_a_string_is_a_type_error() -> None:
    """The one documented exception that is not a CNNError: a non-str argument."""
    with pytest.raises(TypeError):
        cnn_magic.evaluate(None)  # type: ignore[arg-type]


def test_bad_rounding_is_a_cnn_error_without_position() -> None:
    with pytest.raises(cnn_magic.CNNError) as caught:
        cnn_magic.evaluate("input 8x8x3", rounding="round")
    assert caught.value.line is None and caught.value.column is None
    assert str(caught.value)


# ============================================================ hostile surroundings
# Classes of input found by attacking the files, the magic and the command line rather than
# the language: each runs a fixed, derandomized set of cases.

# --------------------------------------------------------------------------- file types


def read_checked(path: str, pipes: bool) -> str:
    """read_file() and evaluate() on what it read: a result or a CNNError, within budget."""
    from cnn_magic.sources import read_file

    start = time.perf_counter()
    try:
        text = read_file(path, pipes=pipes)
    except cnn_magic.CNNError as err:
        assert str(err).startswith(f"cannot read {path!r}: "), str(err)
        assert str(err).isprintable() or "\n" in str(err)
        outcome = "refused"
    else:
        outcome = check(text)
    assert time.perf_counter() - start < BUDGET, path
    return outcome


DEVICES = ["/dev/zero", "/dev/urandom", "/dev/null", "/dev/full", "/dev/random"]


FILE_KINDS = [*DEVICES, "fifo", "directory", "socket", "huge", "symlink"]


# the command line waits on a FIFO for its writer, as cat does (tests/test_cli.py)
@pytest.mark.parametrize(
    ("kind", "pipes"),
    [
        (kind, pipes)
        for kind in FILE_KINDS
        for pipes in (False, True)
        if (kind, pipes) != ("fifo", True)
    ],
)
def test_file_types(tmp_path, kind: str, pipes: bool) -> None:
    """Every kind of file the OS has: each refused at once by kind or size (a FIFO only
    where nothing waits for a writer: the magic)."""
    import socket

    path = str(tmp_path / kind)
    if kind in DEVICES:
        path = kind
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        try:
            assert read_checked(path, pipes) == "refused"
        finally:
            server.close()
        return
    elif kind == "huge":
        with open(path, "wb") as file:
            file.truncate(2**40)  # sparse: a terabyte that takes no disk
    elif kind == "symlink":
        os.symlink("/dev/zero", path)
    assert read_checked(path, pipes) == "refused"


@settings(SETTINGS, max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00", b""]).flatmap(
            lambda head: st.binary(max_size=200).map(lambda tail: head + tail)
        ),
        st.sampled_from(CORPUS).flatmap(
            lambda text: st.binary(max_size=8).map(lambda noise: text.encode() + noise)
        ),
    )
)
def test_binary_files(data: bytes) -> None:
    """Random bytes, text with a byte-order mark, valid networks with a few bad bytes."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".cnn", delete=False) as file:
        file.write(data)
    try:
        event(read_checked(file.name, pipes=False))
    finally:
        os.unlink(file.name)


# --------------------------------------------------------------------------- -o names

DANGEROUS_NAMES = sorted(
    {*keyword.kwlist, *keyword.softkwlist, *dir(builtins)}
    | {"get_ipython", "exit", "quit", "In", "Out", "_", "__", "___", "_i", "_ii", "_iii"}
    | {"_ih", "_oh", "_dh", "_i1", "_1", "_42", "_exit_code", "__builtins__", "__name__"}
    | {"__spec__", "__loader__", "__package__", "__doc__", "__builtin__", "__x", "__x__"}
)
NAME_CHARS = string.ascii_letters + string.digits + "_.-+$@é中\u00b7\u0300"


@pytest.fixture(scope="module")
def magic_shell(ipython_shell):
    ipython_shell.extension_manager.load_extension("cnn_magic")
    return ipython_shell


@settings(
    SETTINGS,
    max_examples=400,
    suppress_health_check=[*SETTINGS.suppress_health_check, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(st.sampled_from(DANGEROUS_NAMES), st.text(NAME_CHARS, min_size=1, max_size=8)))
def test_output_names(magic_shell, name: str) -> None:
    """Any -o name: refused with one short message, or stored without harming the shell."""
    shell = magic_shell
    keep = {k: shell.user_ns[k] for k in ("get_ipython", "In", "Out", "exit", "quit", "open")}
    had = name in shell.user_ns
    result = shell.run_cell(f"%cnn -o {name} input 4x4x1; conv 2 k3", store_history=False)
    try:
        if result.error_in_exec is not None:
            err = result.error_in_exec
            assert isinstance(err, cnn_magic.CNNError), repr(err)
            # a name like -a reads as an option: argparse's usage message then
            assert str(err).startswith((f"-o cannot use {name!r}: ", "%cnn: ")), str(err)
            event("refused")
        else:
            assert name.isidentifier() and not keyword.iskeyword(name)
            assert not name.startswith("__") and name not in keep
            assert isinstance(shell.user_ns[name], cnn_magic.Network)
            event("stored")
        assert all(shell.user_ns[k] is v for k, v in keep.items())
        assert shell.run_cell("_probe = 1 + 1", store_history=False).success
    finally:
        if not had and result.error_in_exec is None:
            del shell.user_ns[name]
        shell.user_ns.pop("_probe", None)


# --------------------------------------------------------------- options on the %cnn line

LINE_NETWORK_WORDS = [
    "input",
    "8x8x1",
    ";",
    "bn",
    ";",
    "relu",
    ";",
    "conv",
    "4",
    "k3",
    "p1",
    ";",
    "maxpool",
    "k2",
    ";",
    "fc",
    "3",
    "-1",
]
LINE_OPTIONS = [
    ("--flops", "macs", "flops"),
    ("--rounding", "floor", "rounding"),
    ("--static", None, "static"),
    ("--all-ops", None, "all_ops"),
    ("--dtype", "float16", "dtype"),
    ("-o", "_line_net", "output"),
    ("--input", "6x6x2", "input"),
]


@st.composite
def magic_lines(draw):
    """A %cnn line: the network's words with options spliced in anywhere, values plain,
    quoted or after '='; sometimes a comment holding more options."""
    words = draw(st.lists(st.sampled_from(LINE_NETWORK_WORDS), min_size=1, max_size=10))
    options = draw(st.lists(st.sampled_from(LINE_OPTIONS), unique=True, max_size=4))
    pieces = list(words)
    expected = {}
    for flag, value, dest in options:
        quote = draw(st.sampled_from(["", "'", '"']))
        if value is None:
            spliced = [flag]
            expected[dest] = True
        elif draw(st.booleans()):
            spliced = [f"{flag}={quote}{value}{quote}"] if flag != "-o" else [f"-o{value}"]
            expected[dest] = value
        else:
            spliced = [flag, f"{quote}{value}{quote}"]
            expected[dest] = value
        at = draw(st.integers(0, len(pieces)))
        pieces[at:at] = [" ".join(spliced)]
    comment = draw(st.sampled_from(["", "  # --flops exact", " #--rounding ceil", "# c"]))
    spaces = draw(st.sampled_from([" ", "  ", "\t"]))
    return spaces.join(pieces) + comment, " ".join(words), expected


@settings(SETTINGS, max_examples=600)
@given(magic_lines())
def test_option_positions(case) -> None:
    """Every option is read wherever it stands, none after '#', and the network keeps every
    one of its words in order."""
    from cnn_magic.magic import _parse_line

    line, network, expected = case
    args, text = _parse_line(line)
    assert text.split() == network.split(), (line, text)
    for _, _, dest in LINE_OPTIONS:
        got = getattr(args, dest)
        assert got == expected.get(dest), (line, dest, got)  # absent: argparse's None
    event(f"{len(expected)} options")


# --------------------------------------------------------------------------- sizes that grow

GROWTH = [
    "deconv {c} k{k} s{s}",
    "convtranspose {c} k{k} s{s} p1 op1",
    "conv {c} k1",
    "conv {c} k{k} p{p}",
    "maxpool k{k} s1 p{q}",
    "fc {c}",
    "adaptiveavgpool {n}",
    "repeat {r}:\n  concat:\n    branch:\n      identity\n    branch:\n      identity",
    "repeat {r}:\n  deconv {c} k{k} s{s}",
    "repeat {r}:\n  conv {c} k1 p{p}",
]
BIG = st.sampled_from([1, 2, 7, 64, 1000, 65_535, 10**6, 10**9 - 1, 10**9])


@st.composite
def growing(draw) -> str:
    """A few statements whose derived sizes multiply: transposed convolutions, padding,
    concatenations repeated, wide layers, all with literals inside the 10⁹ limit."""
    head = draw(st.sampled_from(["input 1x1x1", "input 8x8x3", "input 1000000000x1x1", "input 7"]))
    lines = [head]
    for _ in range(draw(st.integers(1, 6))):
        template = draw(st.sampled_from(GROWTH))
        lines.append(
            template.format(
                c=draw(BIG),
                k=draw(st.sampled_from([1, 2, 3, 1000])),
                s=draw(st.sampled_from([1, 2, 1000, 10**9])),
                p=draw(BIG),
                q=draw(st.sampled_from([0, 1])),
                n=draw(BIG),
                r=draw(st.sampled_from([1, 2, 10, 1100])),
            )
        )
    return "\n".join(lines)


# Before the evaluator bounded derived sizes, 10^360-pixel maps reached the renderers:
# ValueError from int-to-str, OverflowError, megabytes of digits.
@settings(SETTINGS, max_examples=400)
@given(growing(), st.booleans())
def test_sizes_that_grow(text: str, units: bool) -> None:
    """Only a CNNError ever comes out, from evaluate or from any rendering, and what is
    rendered stays proportional to the rows it shows."""
    outcome = check(text)
    event(outcome)
    if outcome == "error":
        return
    net = cnn_magic.evaluate(text)
    rows = len(net.layers) + 1
    for render in (net.to_text, net.to_markdown, net.to_csv, net.to_latex, net.to_json):
        start = time.perf_counter()
        try:
            shown = render("flops", all_ops=True, units=units)
        except cnn_magic.CNNError:
            continue
        took = time.perf_counter() - start
        assert took < BUDGET + rows / 10_000, (text, render.__name__, took)
        assert len(shown) < 4000 + 1000 * rows, (text, render.__name__, len(shown))


# --------------------------------------------------------------------------- line breaks

WHITESPACE_BREAKS = ["\x0b", "\x0c"]  # whitespace inside a line
REAL_BREAKS = ["\n", "\r\n", "\r"]
HIDDEN_BREAKS = ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029"]


@st.composite
def broken_texts(draw):
    """A corpus network with one kind of line-break character put in place of spaces
    between words, or of newlines, or after a comment (where a layer could hide)."""
    text = draw(st.sampled_from(CORPUS[:8]))  # 8 and 9 are indented with tabs
    char = draw(st.sampled_from(WHITESPACE_BREAKS + REAL_BREAKS + HIDDEN_BREAKS))
    where = draw(st.sampled_from(["between words", "newlines", "after a comment"]))
    if where == "between words":
        spots = [m.start() for m in re.finditer(r"(?<=\S) (?=\S)", text)]
        chosen = draw(st.lists(st.sampled_from(spots), min_size=1, max_size=4, unique=True))
        broken = "".join(char if i in chosen else c for i, c in enumerate(text))
        plain = "".join(" " if i in chosen else c for i, c in enumerate(text))
    elif where == "newlines":
        broken, plain = text.replace("\n", char), text.replace("\n", " ")
    else:
        broken = text.rstrip("\n") + f"  # a note{char}conv 1000 k1\n"
        plain = text.rstrip("\n") + "  # a note conv 1000 k1\n"
    return broken, plain, char, where


@settings(SETTINGS, max_examples=500)
@given(broken_texts())
def test_line_break_characters(case) -> None:
    """Whitespace stays whitespace, the three real breaks break, every other line-break
    character is refused by name on its own line: the same network either way, never one
    with a layer the editor did not show."""
    broken, plain, char, where = case
    if char not in broken:  # a one-line network has no newline to replace
        event("unchanged")
        return
    outcome = check(broken)
    if char in HIDDEN_BREAKS:
        with pytest.raises(cnn_magic.CNNError) as caught:
            cnn_magic.evaluate(broken)
        assert caught.value.message.endswith("in the text"), str(caught.value)
        assert physical_lines(broken)[caught.value.line - 1][caught.value.column - 1] == char
        event(f"refused ({where})")
        return
    if char in REAL_BREAKS and where != "between words":
        plain = broken.replace(char, "\n")
    elif char in REAL_BREAKS:  # a statement split over two lines: anything but a crash
        event(f"{outcome} (split)")
        return
    assert outcome == check(plain), (broken, plain)
    if outcome == "result":
        assert cnn_magic.evaluate(broken) == cnn_magic.evaluate(plain) or (
            cnn_magic.evaluate(broken).text != cnn_magic.evaluate(plain).text
            and cnn_magic.evaluate(broken).layers == cnn_magic.evaluate(plain).layers
        )
    event(f"{outcome} ({where})")


# --------------------------------------------------------------------------- indentation

UNITS = ["    ", "\t", "  ", "        ", " \t", "\t ", " "]


@st.composite
def indented(draw):
    """Blocks of repeats and layers nested as a text may nest them, each level indented by
    one unit for the whole text, or by a unit drawn afresh for every line (tabs and spaces
    mixed): the network text, and the same shape as Python source."""
    same_unit = draw(st.booleans())
    unit = draw(st.sampled_from(UNITS))
    lines, python, depth, opens = ["input 8x8x1"], ["x"], 0, False
    count = draw(st.integers(1, 10))
    for number in range(count):
        if not opens:  # after an opener the body follows, one level deeper
            depth = draw(st.integers(0, depth))
        units = [unit if same_unit else draw(st.sampled_from(UNITS)) for _ in range(depth)]
        margin = "".join(units)
        opens = number < count - 1 and draw(st.booleans())
        lines.append(margin + ("repeat 2:" if opens else "relu"))
        python.append(margin + ("if 1:" if opens else "x"))
        depth += opens
    return "\n".join(lines), "\n".join(python)


def python_layers(body: list) -> int:
    """Layers the network has if Python reads the same shape: an if is a repeat 2."""
    import ast

    return sum(2 * python_layers(node.body) if isinstance(node, ast.If) else 1 for node in body)


@settings(SETTINGS, max_examples=800)
@given(indented())
def test_indentation_against_python(case) -> None:
    """Python's compiler is the oracle: where it raises TabError we refuse the tabs, where
    it accepts we accept the same blocks, where it refuses the indentation so do we."""
    import ast

    text, python = case
    try:
        tree = ast.parse(python)
    except TabError:
        with pytest.raises(cnn_magic.CNNError, match="inconsistent use of tabs and spaces"):
            cnn_magic.evaluate(text)
        event("TabError")
        return
    except SyntaxError:  # IndentationError, or a block with nothing in it
        assert check(text) == "error", text
        event("IndentationError")
        return
    net = cnn_magic.evaluate(text)
    assert len(net.layers) == python_layers(tree.body[1:]), text
    event("accepted")
