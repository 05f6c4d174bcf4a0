"""Regression tests for inputs that once crashed, overflowed or were silently misread.

Each test is named after the defect it guards against.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import cnn_magic
from cnn_magic import CNNError


def refused(text: str) -> CNNError:
    with pytest.raises(CNNError) as info:
        cnn_magic.evaluate(text)
    return info.value


def test_derived_sizes_are_bounded_repeated_deconv() -> None:
    """Transposed convolutions in a repeat grow the map past 10³⁰⁰ pixels: refused at
    the layer where it passes 10^24, naming its line, before any formatter sees it."""
    err = refused("input 1000000000x1000000000x1000\nrepeat 1000:\n  deconv 1000 k1 s1000000000")
    assert err.line == 3 and "more than 10^24" in str(err)


def test_derived_sizes_are_bounded_concat_doubling_in_repeat() -> None:
    """``repeat 1100:`` over a concat of two identities doubles the channels each time."""
    text = (
        "input 8x8x1\nrepeat 1100:\n  concat:\n"
        "    branch:\n      identity\n    branch:\n      identity"
    )
    err = refused(text)
    assert err.line == 3 and "10^24" in str(err)


def test_derived_sizes_are_bounded_wide_fc() -> None:
    err = refused("input 1000000000x1000000000x1\nfc 1000000000\nfc 1000000000 relu")
    assert err.line == 2 and "about 2.0×10^27 operations (more than 10^24)" in str(err)


def test_derived_sizes_below_the_bound_still_format() -> None:
    net = cnn_magic.evaluate("input 100000x100000x1000\nconv 1000 k1")
    assert "20,000,000,000,000,000" in net.to_text()  # 2·10^16 FLOPs, exact


@pytest.mark.torch  # to_torch() imports torch
def test_to_torch_renames_a_layer_labelled_layer_modules() -> None:
    net = cnn_magic.evaluate("input 4x4x1\nlayer_modules: conv 2 k1\ntraining: relu\nforward: relu")
    model = net.to_torch()
    assert len(model.layer_modules) == 3
    assert "layer_modules" not in dict(model.named_children())


@pytest.mark.parametrize("line", ["leakyrelu 5x5", "elu 1x2", "dropout 0.5x2"])
def test_activation_numbers_are_one_number(line: str) -> None:
    """``leakyrelu 5x5`` once kept 5 and dropped the second number silently."""
    err = refused(f"input 4x4x1\n{line}")
    assert err.column == len(line.split()[0]) + 2


def test_numbers_are_judged_by_value_not_digit_count() -> None:
    """``conv 0000000000006 k3`` is 6 filters, not 'too large'."""
    net = cnn_magic.evaluate("input 8x8x1\nconv 0000000000006 k0003")
    assert net.output_shape == (6, 6, 6)
    assert "too large" in str(refused("input 8x8x1\nconv 0001000000001 k3"))


# a fuzzer for the class: sizes that grow, drawn to pass the bound somewhere or not
GROWERS = [
    "deconv {n} k{k} s{s}",
    "upsample {s}",
    "conv {n} k1 p{p}",
    "fc {n}",
    "concat:\n{pad}  branch:\n{pad}    identity\n{pad}  branch:\n{pad}    identity",
]


@st.composite
def growing(draw) -> str:
    numbers = st.sampled_from([1, 2, 7, 1000, 10**6, 10**9])
    lines = [f"input {draw(numbers)}x{draw(numbers)}x{draw(numbers)}"]
    for _ in range(draw(st.integers(1, 3))):
        count = draw(st.sampled_from([1, 2, 50, 1100]))
        body = draw(st.sampled_from(GROWERS)).format(
            n=draw(numbers), k=draw(numbers), s=draw(numbers), p=draw(numbers), pad="  "
        )
        lines.append(f"repeat {count}:\n  " + body)
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(growing())
def test_growing_sizes_are_refused_or_printable(text: str) -> None:
    try:
        net = cnn_magic.evaluate(text)
    except CNNError as err:
        event("refused")
        assert err.line is not None
        return
    event("accepted")
    for layer in net.layers:
        assert max(layer.elements, layer.params, layer.exact, layer.ops) <= 10**24
    net.to_text(units=True)
    net.to_text()


def test_an_error_in_a_line_written_like_an_earlier_one_names_its_own_line() -> None:
    """Statements written alike share their reading; the error still points at the line
    being evaluated, not at the first one written that way."""
    err = refused("input 8x8x1\nconv 1 k3\nconv 1 k3\nconv 1 k3\nconv 1 k3")
    assert err.line == 5
    again = refused("input 8x8x1\nconv 1 k3\nconv 1 k3\nconv 1 k3\nconv 1 k3")
    assert again.line == 5  # and again, with everything remembered


def test_evaluating_again_gives_equal_results() -> None:
    text = "input 32x32x3\nrepeat 3:\n  conv 8 k3 p1 relu\n  maxpool k2\nfc 10"
    first = cnn_magic.evaluate(text)
    assert cnn_magic.evaluate(text) == first
    assert cnn_magic.evaluate(text, "ceil") != first
