"""--explain: each number worked out with the layer's own values, as the notes write it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from networks import LENET5

import cnn_magic
from cnn_magic.explain import Explanation, axis_term, explain, explain_layer
from cnn_magic.layers import Axis


def lines(text: str, index: int = 0, convention: str = "flops", **options) -> dict[str, str]:
    """label (plain) → the LaTeX of each worked line of one layer."""
    layer = cnn_magic.evaluate(text, options.pop("rounding", "textbook")).layers[index]
    return {line.label_txt: line.tex for line in explain_layer(layer, convention, **options)}


# ----------------------------------------------------------- the notes' numbers


def test_lenet_c1_as_the_notes_write_it():
    c1 = lines(LENET5, 0)
    assert c1["H_out = W_out"] == (
        r"H_{out} = W_{out} = \left\lfloor\frac{32 - 5 + 2\cdot 0}{1}\right\rfloor + 1 = 28"
    )
    assert c1["params"] == r"\text{params} = 5\times5\times1\times6 + 6 = 156"
    assert c1["FLOPs"] == (
        r"\text{FLOPs} = 2\times5\times5\times1\times28\times28\times6 = 235{,}200"
    )


@pytest.mark.parametrize(
    ("index", "label", "tex"),
    [
        (1, "H_out = W_out", r"\left\lceil\frac{28 - 2 + 2\cdot 0}{2}\right\rceil + 1 = 14"),
        (2, "params", r"5\times5\times6\times16 + 16 = 2{,}416"),
        (3, "H_out = W_out", r"\left\lceil\frac{10 - 2 + 2\cdot 0}{2}\right\rceil + 1 = 5"),
        (4, "params", r"5\times5\times16\times120 + 120 = 48{,}120"),
        (4, "H_out = W_out", r"\left\lfloor\frac{5 - 5 + 2\cdot 0}{1}\right\rfloor + 1 = 1"),
        (5, "N_in", r"1\times1\times120 = 120"),
        (5, "params", r"120\times84 + 84 = 10{,}164"),
        (5, "FLOPs", r"2\times120\times84 = 20{,}160"),
        (6, "params", r"84\times10 + 10 = 850"),
    ],
)
def test_lenet_every_layer(index, label, tex):
    assert lines(LENET5, index)[label].endswith(tex)


@pytest.mark.parametrize(
    ("text", "label", "tex"),
    [
        # the notes' kernel example: 2×2×3 kernels, 16 of them, plus the biases
        ("input 8x8x3\nconv 16 k2", "params", r"2\times2\times3\times16 + 16 = 208"),
        # the notes' fully connected example
        ("input 16\nfc 133", "params", r"16\times133 + 133 = 2{,}261"),
    ],
)
def test_the_notes_small_examples(text, label, tex):
    assert lines(text)[label].endswith(tex)


def test_conventions():
    macs = lines(LENET5, 0, "macs")
    assert macs["MACs"] == r"\text{MACs} = 5\times5\times1\times28\times28\times6 = 117{,}600"
    exact = lines(LENET5, 0, "exact")
    assert exact["exact FLOPs"].endswith(
        r"\left[\left(5\times5\times1\right) + \left(5\times5\times1 - 1\right) + 1\right]"
        r"\times28\times28\times6 = 235{,}200"
    )
    nobias = lines("input 32x32x1\nconv 6 k5 nobias", 0, "exact")
    assert nobias["exact FLOPs"].endswith(
        r"\left[\left(5\times5\times1\right) + \left(5\times5\times1 - 1\right)\right]"
        r"\times28\times28\times6 = 230{,}496"
    )
    fc = lines(LENET5, 5, "exact")
    assert fc["exact FLOPs"].endswith(
        r"\left[120 + \left(120 - 1\right) + 1\right]\times84"
        r" = 20{,}160"
    )


# ------------------------------------------------------------------- the rules


def test_ceil_last_window_correction_is_said_in_words():
    layer = cnn_magic.evaluate("input 5x5x1\nmaxpool k2 s2 p1 ceil").layers[0]
    assert layer.out_shape == (3, 3, 1)  # PyTorch: MaxPool2d(2, 2, 1, ceil_mode=True)
    (shape, *_) = explain_layer(layer)
    assert shape.tex.endswith(r"\left\lceil\frac{5 - 2 + 2\cdot 1}{2}\right\rceil + 1 - 1 = 3")
    assert "last-window correction" in shape.note
    assert "(4 − 1)·2 = 6 ≥ H + P = 5 + 1 = 6" in shape.note
    plain = explain_layer(cnn_magic.evaluate("input 9x9x1\nmaxpool k2 s2").layers[0])[0]
    assert plain.note == ""  # no correction, nothing said


def test_same_padding_and_dilation_and_groups():
    same = explain_layer(cnn_magic.evaluate("input 10x10x2\nconv 4 k3 s2 same g2").layers[0])
    assert same[0].tex.endswith(r"\left\lceil\frac{10}{2}\right\rceil = 5")
    assert "0 before, 1 after (the odd pixel after, as TensorFlow)" in same[0].note
    assert same[1].tex.endswith(r"3\times3\times1\times4 + 4 = 40")
    assert "groups 2: each filter sees 2/2 = 1 input channel" in same[1].note
    dilated = explain_layer(cnn_magic.evaluate("input 9x9x1\nconv 1 k3 d2").layers[0])
    assert dilated[0].tex.endswith(
        r"\left\lfloor\frac{9 - \left(2\cdot \left(3 - 1\right) + 1\right) + 2\cdot 0}{1}"
        r"\right\rfloor + 1 = 5"
    )


def test_deconv_and_unequal_axes():
    deconv = explain_layer(cnn_magic.evaluate("input 14x14x8\ndeconv 4 k4 s2 p1").layers[0])
    assert deconv[0].tex.endswith(
        r"\left(14 - 1\right)\cdot 2 - 2\cdot 1 + 1\cdot \left(4 - 1\right) + 0 + 1 = 28"
    )
    assert deconv[2].tex.endswith(r"2\times4\times4\times8\times4\times14\times14 = 200{,}704")
    rect = explain_layer(cnn_magic.evaluate("input 32x20x1\nconv 2 k3x1").layers[0])
    assert [line.label_txt for line in rect[:2]] == ["H_out", "W_out"]
    assert rect[1].tex.endswith(r"\left\lfloor\frac{20 - 1 + 2\cdot 0}{1}\right\rfloor + 1 = 20")


def test_axis_term_values():
    term, note = axis_term(Axis(9, 2, 2, 0, 0, 1, 4, "floor"))
    assert (term.value, term.txt, note) == (4, "⌊(9 − 2 + 2·0) / 2⌋ + 1", "")


def test_bn_concat_and_all_ops():
    text = (
        "input 8x8x4\nbn\nconcat:\n  branch:\n    conv 2 k1\n  branch:\n    identity\n"
        "maxpool k2\nrelu"
    )
    net = cnn_magic.evaluate(text)
    bn, _, _, cat, pool, relu = (explain_layer(layer, all_ops=True) for layer in net.layers)
    assert bn[0].tex == r"\text{params} = 2\times4 = 8" and "buffers" in bn[0].note
    assert bn[1].tex == r"\text{other ops} = 2\times8\times8\times4 = 512"
    assert cat[0].tex == r"C_{out} = 2 + 4 = 6"
    assert pool[2].tex == (
        r"\text{other ops} = \left(2\times2 - 1\right)\times4\times4\times6"
        " = 288"
    )
    assert relu[1].tex == r"\text{other ops} = 1\times4\times4\times6 = 96"


def test_memory_follows_the_dtype():
    (*_, memory) = explain_layer(cnn_magic.evaluate(LENET5).layers[0], dtype="float16")
    assert memory.text == "activations = 28×28×6 = 4,704 values × 2 B (float16) = 9,408 B"


# ------------------------------------------------------------- every network

NETWORKS = [
    LENET5,
    "input 19x19x2\nmaxpool k3 s3 p1 ceil\nconv 4 k3 s2 same nobias g2\ndwconv k3 d2 p2\n"
    "deconv 4 k4 s2 p1 g2\nconcat:\n branch:\n  conv 2 k1\n branch:\n  identity\n"
    "bn prelu\nadaptiveavgpool 3\nfc 10 prelu\nsoftmax",
    "input 224x224x3\nconv 64 k7 s2 p3 nobias\nbn relu\nmaxpool k3 s2 p1\nresidual:\n"
    "  conv 64 k3 p1 nobias\n  bn relu\n  conv 64 k3 p1 nobias\n  bn\nrelu\ngap\nfc 1000",
    "input 7x7x3\nmaxpool k3 s3 p1 ceil\nconv 2 k2 s1 d1 p1x0 relu6\ngelu\nlrn\ndropout 0.2\n"
    "flatten\nfc 4 nobias tanh\nsigmoid",
]


@pytest.mark.parametrize("text", NETWORKS)
@pytest.mark.parametrize("rounding", ["textbook", "floor", "ceil"])
@pytest.mark.parametrize("convention", ["flops", "macs", "exact"])
def test_every_written_formula_adds_up(text, rounding, convention):
    net = cnn_magic.evaluate(text, rounding)
    for layer in net.layers:
        for line in explain_layer(layer, convention, all_ops=True):
            assert line.checks, (layer.name, line.text)
        counted = [
            line
            for line in explain_layer(layer, convention)
            if line.label_txt == cnn_magic.explain.CONVENTION_LABEL[convention]
        ]
        assert [line.value for line in counted] == ([layer.count(convention)] if layer.macs else [])


EXAMPLES = sorted((Path(cnn_magic.__file__).parent / "examples").glob("*.cnn"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_networks_add_up(path):
    text = path.read_text(encoding="utf-8")
    nets = []
    for rounding in ("textbook", "floor", "ceil"):
        # a residual's branches may disagree under some rounding: that one is skipped
        with contextlib.suppress(cnn_magic.CNNError):
            nets.append(cnn_magic.evaluate(text, rounding))
    assert nets
    for net in nets:
        for layer in net.layers:
            for convention in ("flops", "macs", "exact"):
                for line in explain_layer(layer, convention, all_ops=True):
                    assert line.checks, (path.stem, layer.name, line.text)


def test_explanation_renders_deterministically():
    net = cnn_magic.evaluate(LENET5)
    first, second = explain(net)._repr_mimebundle_(), explain(net)._repr_mimebundle_()
    assert first == second and set(first) == {"text/markdown", "text/plain"}
    markdown = first["text/markdown"]
    assert markdown.startswith("Worked with textbook rounding; operations as FLOPs")
    assert "**C1** · <code>conv 6 k5 relu</code> · 32×32×1 → 28×28×6" in markdown
    assert (
        "H_{out} = W_{out} &= \\left\\lfloor\\frac{32 - 5 + 2\\cdot 0}{1}\\right\\rfloor"
        " + 1 = 28\\\\\n"
    ) in markdown
    assert markdown.count("\\begin{aligned}") == len(net.layers)
    plain = first["text/plain"]
    assert "C1: conv 6 k5 relu   32×32×1 → 28×28×6" in plain
    assert "  params = 5×5×1×6 + 6 = 156" in plain


def test_user_text_is_escaped_in_markdown():
    net = cnn_magic.evaluate(LENET5)
    layer = net.layers[0]._replace(name="<img src=x>", text="conv <b>")
    tampered = type(net)(net.text, net.rounding, net.input_shape, (layer, *net.layers[1:]))
    markdown = Explanation(tampered).to_markdown()
    assert "<img" not in markdown and "&lt;img src=x&gt;" in markdown
    assert "conv &lt;b&gt;" in markdown


def test_windows_pictures_stay_within_their_budget() -> None:
    """A deep network's explanation carries a bounded amount of pictures, then says how to
    draw the rest; before the budget, 10,000 layers gave 83 MB of Markdown."""
    from cnn_magic.explain import WINDOWS_BUDGET

    net = cnn_magic.evaluate("input 64x64x8\n" + "conv 8 k3 p1 relu\n" * 2_000)
    markdown = explain(net).to_markdown()
    pictures = markdown.count("<svg")
    assert 0 < pictures < 2_000
    assert markdown.count("windows_svg()") == 1  # said once, where the pictures stop
    svg_chars = sum(len(part.split("</svg>")[0]) for part in markdown.split("<svg")[1:])
    assert svg_chars <= WINDOWS_BUDGET
