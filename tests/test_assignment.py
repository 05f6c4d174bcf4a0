"""The sample assignment (notebooks/assignment/lenet5_homework.ipynb) grades as nbgrader
would: full marks with the teacher's solutions (nbval also re-runs it as committed),
and each autograded cell fails, naming the expected value and the derivation, when the
answers are wrong or missing.

nbgrader's autograder runs the notebook and gives a grading cell its points when it
raises nothing; these tests do the same with nbclient, so nbgrader need not be
installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.notebook  # runs the notebook in kernels, as nbval does

ASSIGNMENT = (
    Path(__file__).resolve().parents[1] / "notebooks" / "assignment" / "lenet5_homework.ipynb"
)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n.*?### END SOLUTION", re.S)

# What a student might answer, per solution cell: a typical slip in each.
WRONG = {
    "q1_answer": 'c1_output = "27x27x6"\nc3_output = "10x10x16"',  # C1 rounded the wrong way
    "q2_answer": "s2_output = (15, 15, 6)\ns2_params = 12",  # pooling has no parameters
    "q3_answer": "total_weights = 61470\ntotal_params = 61470",  # biases forgotten
    "q4_answer": "c1_flops = 117600\nc1_macs = 117600",  # MACs given as FLOPs
    "q5_answer": 'own_answers = {"C1.weights": 1024, "C1.params": 1040, "C1.macs": 200704}',
}
# What each failing grading cell must say: the expected value, and the derivation.
EXPECTED = {
    "q1_check": ("C1.output: expected 28×28×6, got 27x27x6", "⌊(32 − 5 + 2·0) / 1⌋ + 1 = 28"),
    "q2_check": ("S2.output: expected 14×14×6, got (15, 15, 6)", "S2.params: expected 0, got 12"),
    "q3_check": ("total.params: expected 61,706, got 61470", "params = 156 + 2,416 + "),
    "q4_check": ("C1.flops: expected 235,200, got 117600", "FLOPs = 2×5×5×1×28×28×6 = 235,200"),
    "q5_check": ("C1.weights: expected 128, got 1024", "groups 8: each filter sees 64/8 = 8"),
}


Errors = dict[str, list[Any]]  # grade id → the error outputs of its cell


def read() -> Any:
    return nbformat.read(ASSIGNMENT, as_version=4)  # type: ignore[no-untyped-call]


def grade_id(cell: Any) -> str:
    return str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))


def run(replace: dict[str, str]) -> Errors:
    """Run the assignment with the solution regions of the named cells replaced, as the
    autograder would; each graded cell's error outputs, by grade id."""
    nb = read()
    for cell in nb.cells:
        if grade_id(cell) in replace:
            cell.source = SOLUTION.sub(replace[grade_id(cell)], cell.source)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return {
        grade_id(cell): [o for o in cell.outputs if o.output_type == "error"]
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
    }


def points(errors: Errors) -> int:
    nb = read()
    return sum(
        cell.metadata["nbgrader"]["points"]
        for cell in nb.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and not errors[grade_id(cell)]
    )


def test_the_assignment_is_an_nbgrader_source_notebook() -> None:
    nb = read()
    graded = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    solutions = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert [grade_id(c) for c in graded] == list(EXPECTED)
    assert [grade_id(c) for c in solutions] == list(WRONG)
    assert all(SOLUTION.search(c.source) for c in solutions)
    assert all("strict=True" in c.source and c.metadata.nbgrader.locked for c in graded)


def test_full_marks_with_the_solutions() -> None:
    errors = run({})
    assert not any(errors.values()), errors
    assert points(errors) == 10


def test_wrong_answers_fail_every_check_with_the_expected_value_and_derivation() -> None:
    errors = run(WRONG)
    assert points(errors) == 0
    for grade, says in EXPECTED.items():
        [error] = errors[grade]
        assert error.ename == "AssertionError", (grade, error.ename)
        for words in says:
            assert words in error.evalue, (grade, words, error.evalue)
    assert "C3.output" not in errors["q1_check"][0].evalue  # the right one is not blamed


def test_the_students_copy_fails_until_answered() -> None:
    """nbgrader's student version: the solution replaced by NotImplementedError."""
    errors = run(dict.fromkeys(WRONG, "raise NotImplementedError()"))
    assert points(errors) == 0
    assert all(errors[g] for g in EXPECTED)
