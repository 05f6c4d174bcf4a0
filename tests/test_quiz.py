"""``%%cnn --quiz``: blanks, answers checked at once, hints, derivations, the score, the
toggles, and answers that survive re-rendering; through the API, the real widgets (a
typed value and a click, as the browser sends them) and the magic."""

from __future__ import annotations

from typing import Any

import pytest
from networks import LENET5, POOL9

import cnn_magic
from cnn_magic.quiz import DEFAULT_HIDE, WIDGET_VIEW, QuizView, parse_hide


@pytest.fixture(autouse=True)
def fresh_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no answers kept from another."""
    monkeypatch.setattr("cnn_magic.quiz._SAVED", {})


def test_the_default_hides_what_the_notes_teach() -> None:
    view = QuizView(LENET5)
    assert DEFAULT_HIDE == ("output", "weights", "params", "count")
    keys = [blank.key for blank in view.blanks]
    assert keys[:4] == ["C1.output", "C1.weights", "C1.params", "C1.count"]
    assert keys[-3:] == ["total.weights", "total.params", "total.count"]
    assert len(keys) == 7 * 4 + 3
    assert not any(key.endswith(".biases") for key in keys)


def test_answers_are_checked_and_scored() -> None:
    view = QuizView(LENET5, hide=parse_hide("sizes"))
    assert view.score() == (0, 7)
    view.answer("C1.output", "28x28x6")
    view.answer("S2.output", "15x15x6")
    assert (view.right("C1.output"), view.right("S2.output"), view.right("C3.output")) == (
        True,
        False,
        None,
    )
    assert view.score() == (1, 7)
    assert "Score: 1 of 7 right" in view.to_text()


def test_a_hint_is_the_formula_and_the_derivation_the_layers_values() -> None:
    view = QuizView(LENET5)
    hint = view.hint("S2.output")
    assert hint.startswith("H_out = ⌈(H_in − k + 2P) / S⌉ + 1 (round up")
    assert "28" not in hint  # symbols, not values
    worked = view.derivation("S2.output")
    assert worked.splitlines()[0] == "H_out = W_out = ⌈(28 − 2 + 2·0) / 2⌉ + 1 = 14"
    assert view.hint("C1.count") == "FLOPs = 2 × k × k × (n_c / g) × H_out × W_out × K"
    assert view.derivation("C1.count") == "FLOPs = 2×5×5×1×28×28×6 = 235,200"
    assert view.hint("F6.params") == "weights + biases: N_in × N_out + N_out"
    assert view.hint("S2.params").startswith("0: this layer has no parameters")


def test_the_toggles_change_the_expected_answers_and_say_so() -> None:
    view = QuizView(POOL9 + "\nfc 10", hide=("output", "count"))
    view.answer("pool1.output", "5x5x1")
    view.answer("fc1.count", "500")
    assert view.score() == (2, 5)
    view.set(rounding="floor")
    assert view.expected("pool1.output") == (4, 4, 1)
    assert view.answers["pool1.output"] == "5x5x1"  # the typed answer stays
    assert view.right("pool1.output") is False
    assert "floor rounding" in view.notice
    assert "pool1.output, fc1.count, total.count changed" in view.notice
    view.set(convention="macs")
    assert view.expected("fc1.count") == 160
    assert "MACs" in view.notice and "fc1.count, total.count changed" in view.notice
    view.set(rounding="textbook", convention="flops")
    assert view.score()[0] == 1  # pool1 right again; fc1's 500 never was (textbook: 250)


def test_answers_survive_rerunning_the_cell() -> None:
    first = QuizView(LENET5)
    first.answer("C1.output", "28x28x6")
    again = QuizView(LENET5)
    assert again.answers == {"C1.output": "28x28x6"} and again.score()[0] == 1
    other = QuizView(LENET5, hide=("output",))
    assert other.answers == {}  # another quiz on the same network keeps its own


def test_the_static_outputs_show_the_blanks_not_the_answers() -> None:
    view = QuizView(LENET5)
    text, page = view.to_text(), view.to_html()
    for answer in ("28×28×6", "14×14×6", "156", "61,706", "833,040", "61,470"):
        assert answer not in text and answer not in page, answer
    assert "32×32×1" in text  # the network's input is given
    assert text.count("?") == len(view.blanks) and page.count(">?<") == len(view.blanks)


def test_the_widget_checks_a_typed_answer_and_shows_the_derivation_on_request() -> None:
    view = QuizView(LENET5, hide=("output",))
    box = view.widget
    _intro, toggles, _grid, notice, feedback, score = box.children
    text_box, mark = view._cells["C1.output"].children
    text_box.value = "27x27x6"  # what the browser sends on Enter
    assert "✗" in mark.value
    [item] = feedback.children
    assert "C1.output: 27x27x6 is not right." in item.children[0].value
    assert "Hint: H_out = ⌊(H_in − k + 2P) / S⌋ + 1" in item.children[0].value
    item.children[1].click()  # "show the derivation"
    [item] = feedback.children
    assert "⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28" in item.children[1].value
    text_box.value = "28x28x6"
    assert "✓" in mark.value and feedback.children == ()
    assert "Score: 1 of 7 right" in score.value

    _convention, rounding = toggles.children
    rounding.value = "ceil"
    assert "ceil rounding" in notice.value
    assert text_box.value == "28x28x6"  # typed answers survive the toggle


def test_the_magic_shows_the_quiz(shell: Any) -> None:
    shell.run_line_magic("load_ext", "cnn_magic")
    shell.run_cell_magic("cnn", "--quiz output,params --static", LENET5)
    [output] = shell.display_pub.outputs
    text = output["data"]["text/plain"]
    assert "Score: 0 of 15 right" in text and "28×28×6" not in text
    assert WIDGET_VIEW not in output["data"]
    # --quiz's value is optional: an option after it is not its value
    shell.run_cell_magic("cnn", "--quiz --lang zh --static", LENET5)
    assert "得分：31 题答对 0 题" in shell.display_pub.outputs[-1]["data"]["text/plain"]
    with pytest.raises(cnn_magic.CNNError, match="--quiz cannot hide 'sise'"):
        shell.run_cell_magic("cnn", "--quiz sise", LENET5)


def test_a_problem_as_a_quiz() -> None:
    problem = cnn_magic.exercise("macs_flops", seed=4)
    view = problem.quiz()
    assert [b.key for b in view.blanks] == [q.key for q in problem.questions]
    assert view.headers()[-2:] == ["MACs", "FLOPs"]
    for key, value in problem.solution().items():
        view.answer(key, str(value) if isinstance(value, int) else "x".join(map(str, value)))
    assert view.score() == (3, 3)
    # a one-layer network's totals are its layer's numbers: they must not give them away
    shown = view.to_text()
    for value in problem.solution().values():
        if isinstance(value, int):
            assert f"{value:,}" not in shown
