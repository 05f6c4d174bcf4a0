"""``cnn_magic.check``: which answers are right, and in strict mode an AssertionError
that names the expected value and the derivation ``--explain`` gives."""

from __future__ import annotations

import pytest
from networks import LENET5

import cnn_magic
from cnn_magic.explain import explain_layer
from cnn_magic.grading import derivation, parse_answer

LENET_ANSWERS = {
    "C1.output": "28x28x6",
    "S2.output": "14×14×6",
    "C5.output": (1, 1, 120),
    "F7.output": 10,
    "C1.weights": 150,
    "C1.params": "156",
    "F6.params": "10,164",
    "total.weights": 61470,
    "total.params": "61 706",
    "total.flops": 833040,
    "total.macs": 416520,
    "C3.exact": 2 * 2400 * 10 * 10,  # [(k·k·n_c) + (k·k·n_c − 1) + 1]·H·W·K = 2·MACs
}


def test_right_answers_in_every_spelling() -> None:
    results = cnn_magic.check(LENET5, LENET_ANSWERS)
    assert results == dict.fromkeys(LENET_ANSWERS, True)
    assert list(results) == list(LENET_ANSWERS)


@pytest.mark.parametrize(
    ("key", "wrong"),
    [
        ("C1.output", "27x27x6"),  # ⌈⌉ instead of ⌊⌋ the other way round
        ("S2.output", (14, 14)),  # channels forgotten
        ("C1.params", 150),  # bias forgotten
        ("total.flops", 416520),  # MACs given for FLOPs
        ("F6.params", "10,164.5"),
        ("C1.weights", "150 weights"),
        ("C1.weights", True),
        ("C1.weights", None),
    ],
)
def test_wrong_answers_are_wrong(key: str, wrong: object) -> None:
    assert cnn_magic.check(LENET5, {key: wrong}) == {key: False}


def test_strict_raises_with_the_expected_value_and_the_derivation() -> None:
    answers = {"C1.output": "28x28x6", "C3.params": 2400, "S2.output": "15x15x6"}
    with pytest.raises(AssertionError) as error:
        cnn_magic.check(LENET5, answers, strict=True)
    message = str(error.value)
    assert "C1.output" not in message  # right answers are not reported
    assert "C3.params: expected 2,416, got 2400" in message
    assert "params = 5×5×6×16 + 16 = 2,416" in message
    assert "S2.output: expected 14×14×6, got 15x15x6" in message
    assert "H_out = W_out = ⌈(28 − 2 + 2·0) / 2⌉ + 1 = 14" in message
    cnn_magic.check(LENET5, {"C1.output": "28x28x6"}, strict=True)  # all right: no raise


def test_the_derivation_is_the_explain_line() -> None:
    """The quiz's worked formula is --explain's, not a second one."""
    net = cnn_magic.evaluate(LENET5)
    for index, layer in enumerate(net.layers):
        lines = {line.label_txt: line.text for line in explain_layer(layer, "macs")}
        if "params" in lines:
            assert derivation(net, index, "params").splitlines()[0] == lines["params"]
        if "MACs" in lines:
            assert derivation(net, index, "macs").splitlines()[0] == lines["MACs"]


def test_a_problem_counts_a_missing_answer_as_wrong() -> None:
    problem = cnn_magic.exercise("macs_flops", seed=5)
    solution = problem.solution()
    assert cnn_magic.check(problem, solution) == dict.fromkeys(solution, True)
    partial = dict(list(solution.items())[:1])
    results = cnn_magic.check(problem, partial)
    assert list(results.values()) == [True] + [False] * (len(solution) - 1)
    with pytest.raises(AssertionError, match="no answer; expected"):
        cnn_magic.check(problem, partial, strict=True)


def test_an_unknown_key_is_a_mistake_not_a_wrong_answer() -> None:
    problem = cnn_magic.exercise("fc", seed=1)
    with pytest.raises(cnn_magic.CNNError, match=r"no question 'F1\.param' in this problem"):
        cnn_magic.check(problem, {"F1.param": 1})
    with pytest.raises(cnn_magic.CNNError, match="unknown quantity 'flop'"):
        cnn_magic.check(LENET5, {"C1.flop": 1})


@pytest.mark.parametrize(
    ("text", "quantity", "value"),
    [
        ("28 x 28 x 6", "output", (28, 28, 6)),
        ("(28, 28, 6)", "output", (28, 28, 6)),
        ("28*28*6", "output", (28, 28, 6)),
        ("84", "output", (84,)),
        ("1,234,567", "params", 1234567),
        ("1_234", "params", 1234),
        ("12,34", "params", None),  # not thousands
        ("-3", "params", None),
        ("", "params", None),
        ("٣", "params", None),  # a digit, but not one a table prints
        ("2.0", "params", None),  # text: only whole numbers
    ],
)
def test_how_answers_are_read(text: str, quantity: str, value: object) -> None:
    assert parse_answer(text, quantity) == value
