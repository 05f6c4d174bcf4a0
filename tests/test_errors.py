"""Bad input: a CNNError that names the line, points at the token and says what is valid."""

import pickle

import pytest

import cnn_magic
from cnn_magic import CNNError, evaluate

M = "input 8x8x3\n"  # a map to build on


def error_of(text, **kw) -> CNNError:
    with pytest.raises(CNNError) as info:
        evaluate(text, **kw)
    return info.value


# (text, line, column, words the message must contain)
CASES = [
    (M + "cnov 6 k5", 2, 1, ["unknown layer 'cnov'", "did you mean 'conv'?"]),
    (M + "maxpol k2", 2, 1, ["unknown layer 'maxpol'", "did you mean 'maxpool'?"]),
    (M + "conv 6 k3 rleu", 2, 11, ["unknown argument 'rleu'", "did you mean 'relu'?"]),
    (M + "conv 6 k3 flor", 2, 11, ["did you mean 'floor'?"]),
    (M + "conv 6 k3 sx2", 2, 11, ["unknown argument 'sx2'", "stride is written s2"]),
    (M + "conv 6 k3 q=2", 2, 11, ["unknown argument 'q='"]),
    (M + "conv k3", 2, 1, ["conv needs a size", "conv 6 k5"]),
    (M + "conv 6", 2, 1, ["conv needs a kernel size"]),
    (M + "conv 6.5 k3", 2, 6, ["must be a whole number"]),
    (M + "conv 0 k3", 2, 6, ["at least 1"]),
    (M + "conv 6 k0", 2, 8, ["kernel must be at least 1"]),
    (M + "conv 6 k3 s0", 2, 11, ["stride must be at least 1"]),
    (M + "conv 6 k3 s-1", 2, 11, ["unknown argument 's-1'", "stride is written s2"]),
    (M + "conv 6 k=abc", 2, 8, ["kernel must be a whole number or HxW", "k5 or k=3x1"]),
    (M + "conv 6 k3 k5", 2, 11, ["given twice"]),
    (M + "fc 10 k3", 2, 7, ["fc takes no 'k3' (kernel)", "fc takes:"]),
    (M + "maxpool k2 op=1", 2, 12, ["maxpool takes no"]),
    (M + "dropout 1.5", 2, 9, ["dropout probability 1.5 is not in [0, 1]"]),
    (M + "dropout 2", 2, 9, ["not in [0, 1]"]),
    (M + "conv 6 k11", 2, 8, ["kernel 11 is larger than the padded input height 8 + 2·0 = 8"]),
    (M + "conv 6 k3 d5", 2, 8, ["effective 11 with dilation 5", "8 + 2·0 = 8"]),
    (M + "conv 6 k3 g2", 2, 11, ["groups 2 does not divide the 3 input channels"]),
    ("input 8x8x4\nconv 6 k3 g4", 2, 11, ["groups 4 does not divide the 6 output channels"]),
    (M + "maxpool k2 p2", 2, 12, ["padding 2 is more than half the kernel 2", "PyTorch"]),
    (M + "maxpool k3 p2 d2", 2, 12, ["padding 2 is more than half the kernel 3"]),
    (M + "avgpool k3 d2", 2, 12, ["avgpool takes no dilation"]),
    (M + "deconv 4 k2 s2 op=2", 2, 16, ["output padding 2 must be smaller than the stride 2"]),
    (M + "deconv 4 k3 p=same", 2, 13, ["deconv takes numeric padding"]),
    (M + "deconv 4 k1 p5", 2, 13, ["output size -2 < 1", "(8 − 1)·1 − 2·5"]),
    (M + "adaptiveavgpool", 2, 1, ["needs an output size"]),
    (M + "adaptiveavgpool 0", 2, 17, ["output size must be whole numbers ≥ 1"]),
    ("conv 6 k5", 1, 1, ["needs an input shape first", "input HxWxC"]),
    ("input 32x32\nconv 6 k5", 1, 7, ["'32x32' has no channel count", "32x32x1"]),
    ("input 32x32x0", 1, 7, ["at least 1"]),
    ("input\nconv 6 k5", 1, 1, ["input needs a shape"]),
    ("input cat", 1, 7, ["'cat' is not a shape"]),
    (M + "input 8x8x3", 2, 1, ["several inputs names each: a label before every input line"]),
    ("input 784\nconv 6 k3", 2, 1, ["conv needs a feature map", "vector of 784"]),
    ("input 784\ngap", 2, 1, ["gap needs a feature map"]),
    (M + "  conv 6 k3", 2, 1, ["unexpected indentation"]),
    (M + "residual:\nconv 6 k3", 2, 1, ["opens a block with nothing in it"]),
    (M + "repeat 2:", 2, 1, ["opens a block with nothing in it"]),
    (M + "shortcut:\n  conv 3 k1", 2, 1, ["'shortcut:' belongs directly inside residual:"]),
    (M + "branch:\n  conv 3 k1", 2, 1, ["'branch:' belongs directly inside concat:, add:"]),
    (M + "concat:\n  conv 3 k1", 3, 3, ["only branch: blocks go directly inside concat:"]),
    (M + "residual:\n  shortcut:\n    conv 3 k1", 2, 1, ["needs layers besides its shortcut"]),
    (
        M + "residual:\n  conv 3 k1\n  shortcut:\n    identity\n  shortcut:\n    identity",
        6,
        3,
        ["one shortcut"],
    ),
    (M + "repeat:\n  relu", 2, 1, ["repeat needs one whole number"]),
    (M + "repeat 0:\n  relu", 2, 8, ["at least 1"]),
    (M + "reapet 2:\n  relu", 2, 1, ["unknown block 'reapet:'", "did you mean 'repeat'?"]),
    (M + "residual\n  relu", 3, 1, ["unexpected indentation"]),
    (M + "residual 2:\n  relu", 2, 10, ["residual: takes no arguments"]),
    (M + "conv 6 k3:", 2, 1, ["unknown block 'conv:'"]),
    (M + "C1:", 2, 1, ["'C1:' opens a group with nothing in it", "a label goes before a layer"]),
    (M + "1x: conv 6 k3", 2, 1, ["'1x' is not a valid label"]),
    (M + "conv 6 k3 a:b", 2, 11, ["unexpected 'a:b'"]),
    (
        M + "residual:\n  conv 6 k3 p1",
        2,
        1,
        ["residual: the body gives 8×8×6 but shortcut gives 8×8×3", "must agree in shape"],
    ),
    (
        M + "add:\n  branch:\n    conv 6 k1\n  branch:\n    identity",
        2,
        1,
        ["add: branch1 gives 8×8×6 but branch2 gives 8×8×3"],
    ),
    (
        M + "concat:\n  branch:\n    maxpool k2\n  branch:\n    identity",
        2,
        1,
        ["4×4×3 but branch2 gives 8×8×3", "height and width"],
    ),
    (M + "repeat 400:\n  repeat 400:\n    relu", 2, 1, ["more than 100,000 layers"]),
    (M + "conv 99999999999 k3", 2, 6, ["too large"]),
    (M + "relu 3", 2, 6, ["relu takes no number"]),
    (M + "relu softmax", 2, 6, ["relu takes no activation 'softmax'"]),
    (M + "conv 6 k3 bias=maybe", 2, 11, ["bias=maybe is not yes or no"]),
    (M + "conv 6 k3 g=2x2", 2, 11, ["groups is one whole number"]),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"), CASES, ids=[c[0].replace("\n", "⏎")[12:40] for c in CASES]
)
def test_error_points_at_the_token(text, line, column, words):
    err = error_of(text)
    assert isinstance(err, ValueError)
    assert (err.line, err.column) == (line, column), str(err)
    message = str(err)
    for word in words:
        assert word in message
    source = text.splitlines()[line - 1]
    lines = message.splitlines()
    # the message quotes the line and draws a caret under the token
    assert lines[0].startswith(f"line {line}: ")
    assert lines[1] == "    " + source.expandtabs(1)
    caret = lines[2]
    assert caret.index("^") == 4 + column - 1
    assert set(caret.strip()) == {"^"}


def test_the_layer_count_is_refused_without_expanding():
    import time

    start = time.perf_counter()
    error_of(M + "repeat 1000000000:\n  repeat 1000000000:\n    conv 3 k1")
    # expanding 10^18 layers would never end: seconds tell the two apart on any machine
    assert time.perf_counter() - start < 5.0


def test_ceil_rule_needs_no_window_in_the_padding():
    # PyTorch's ceil_mode: 5 → (5 + 2·1 − 2)/2 = 2.5 → 4 windows, but the 4th would start at
    # 6 ≥ 5 + 1, in the right padding, so 3.
    layer = evaluate("input 5x5x1\nmaxpool k2 s2 p1 ceil").layers[0]
    assert layer.out_shape == (3, 3, 1)
    assert layer.axes[0].dropped_last


def test_bad_option_values_are_cnn_errors():
    err = error_of(M + "relu", rounding="flor")
    assert err.line is None and "did you mean 'floor'?" in str(err)
    with pytest.raises(CNNError, match="unknown FLOPs convention"):
        evaluate(M + "relu").total("gflops")
    err = error_of("relu", input="32x32")  # an option, not a line: no line, no caret
    assert err.line is None and str(err).startswith("input shape '32x32': ")


def test_empty_text():
    assert "empty" in str(error_of("# nothing but a comment\n\n"))


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError):
        evaluate(None)


def test_errors_pickle_and_keep_their_fields():
    err = error_of(M + "cnov 6 k3")
    again = pickle.loads(pickle.dumps(err))
    assert (again.line, again.column, str(again)) == (err.line, err.column, str(err))
    assert isinstance(again, cnn_magic.CNNError)


@pytest.mark.parametrize(
    ("source", "column", "width", "shown", "caret"),
    [
        # ESC ] 0 ; title BEL ESC [ 2 J: would retitle and clear the terminal
        ("conv \x1b]0;x\x07\x1b[2J", 6, 11, "conv \\x1b]0;x\\x07\\x1b[2J", "     " + "^" * 20),
        ("\x1b[2Jcnov 6", 5, 4, "\\x1b[2Jcnov 6", "       ^^^^"),
        ("relu\x85 cnov", 7, 4, "relu\\x85 cnov", "         ^^^^"),
        ("a\u2028b \u202ecnov", 5, 5, "a\\u2028b \\u202ecnov", "         ^^^^^^^^^^"),
        ("a\tb\x7f cnov", 6, 4, "a b\\x7f cnov", "        ^^^^"),
        ("conv 6 k5", 1, 4, "conv 6 k5", "^^^^"),
    ],
)
def test_control_characters_are_escaped_and_the_caret_follows(source, column, width, shown, caret):
    token = source[column - 1 : column - 1 + width]
    err = CNNError(
        f"bad {token}", line=1, column=column, source=source, width=width, hint="valid: \x1b[31mred"
    )
    lines = str(err).split("\n")
    assert lines[1:3] == ["    " + shown, "    " + caret]
    assert all(line.isprintable() for line in lines)
    assert lines[3] == "valid: \\x1b[31mred"
    assert (err.source, err.column, err.width) == (source, column, width)  # fields stay raw


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("input 32x32x1\n卷积1: conv 6 k5 s0\n", "s0"),  # after a Chinese label
        ("input 32x32x1\n卷积1: 卷积 6 k5\n", "卷积"),  # the token itself is wide
        ("input 32x32x1\nconv 6 k5  # 第一层\nfc 10 s2\n", "s2"),
    ],
)
def test_the_caret_counts_chinese_characters_as_two_columns(text, token):
    """A terminal or a monospaced notebook cell draws a Chinese character two columns
    wide: the caret sits under the token as the line is shown."""
    with pytest.raises(CNNError) as caught:
        evaluate(text)
    _, shown, caret, *_ = str(caught.value).split("\n")
    start = shown.rindex(token)
    columns = [2 if "\u4e00" <= c <= "\u9fff" else 1 for c in shown]
    assert caret.rstrip() == " " * sum(columns[:start]) + "^" * sum(
        columns[start : start + len(token)]
    )


def test_labels_may_be_chinese():
    net = evaluate("input 32x32x1\n卷积1: conv 6 k5\n池化1: avgpool k2\nfc 10\n")
    assert [layer.name for layer in net.layers] == ["卷积1", "池化1", "fc1"]
    with pytest.raises(CNNError, match="not a valid label"):
        evaluate("input 32x32x1\n1卷积: conv 6 k5\n")


@pytest.mark.parametrize(
    ("term", "word"), [("卷积", "conv"), ("全连接", "fc"), ("池化", "maxpool / avgpool")]
)
def test_the_course_names_of_layers_are_answered_with_their_word(term, word):
    with pytest.raises(CNNError) as caught:
        evaluate(f"input 32x32x1\n{term} 6\n")
    assert caught.value.hint == f"'{term}' is written {word} in the layer language"
