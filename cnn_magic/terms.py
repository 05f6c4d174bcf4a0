"""Arithmetic written twice, as LaTeX and as plain text, with its value.

A rule states the terms of its explanation with these (``times(num(5), num(5))``);
``explain.py`` typesets them and checks each worked formula against the computed count.

>>> t = plus(times(num(5), num(5), num(1), num(6)), num(6))
>>> t.txt, t.value
('5×5×1×6 + 6', 156)
"""

from __future__ import annotations

import functools
import math
from typing import Literal, NamedTuple


class Term(NamedTuple):
    """A piece of arithmetic written twice (LaTeX and plain text) with its value."""

    tex: str
    txt: str
    value: int
    loose: bool = False  # a sum or difference: needs brackets inside a product


@functools.lru_cache(maxsize=4096)  # networks repeat their numbers; terms are immutable
def num(value: int) -> Term:
    """A whole number; thousands separated as the notes typeset them.

    >>> num(235200).tex, num(235200).txt
    ('235{,}200', '235,200')
    """
    return Term(f"{value:,}".replace(",", "{,}"), f"{value:,}", value)


def _tight(term: Term) -> Term:
    return Term(rf"\left({term.tex}\right)", f"({term.txt})", term.value) if term.loose else term


def times(*factors: Term) -> Term:
    """``5\\times5\\times1\\times6``: a product, bracketing sums."""
    parts = [_tight(f) for f in factors]
    return Term(
        r"\times".join(p.tex for p in parts),
        "×".join(p.txt for p in parts),
        math.prod(p.value for p in parts),
    )


def cdot(a: Term, b: Term) -> Term:
    """``2\\cdot 0``: a coefficient times a quantity, as in ``2P``."""
    a, b = _tight(a), _tight(b)
    return Term(rf"{a.tex}\cdot {b.tex}", f"{a.txt}·{b.txt}", a.value * b.value)


def plus(*terms: Term) -> Term:
    """``a + b + …``."""
    out = terms[0]
    for t in terms[1:]:
        out = Term(f"{out.tex} + {t.tex}", f"{out.txt} + {t.txt}", out.value + t.value, True)
    return out


def minus(a: Term, b: Term) -> Term:
    """``a − b``."""
    b = _tight(b)
    return Term(f"{a.tex} - {b.tex}", f"{a.txt} − {b.txt}", a.value - b.value, True)


def bracket(term: Term) -> Term:
    """Square brackets, as the notes write ``[(k×k×n_c) + (k×k×n_c − 1) + 1]``."""
    return Term(rf"\left[{term.tex}\right]", f"[{term.txt}]", term.value)


def paren(term: Term) -> Term:
    """Round brackets."""
    return Term(rf"\left({term.tex}\right)", f"({term.txt})", term.value)


def rounded(top: Term, bottom: Term, how: Literal["floor", "ceil"]) -> Term:
    """``\\left\\lfloor\\frac{a}{b}\\right\\rfloor`` (or ⌈ ⌉), with the rounded value."""
    left, right, lo, hi = {
        "floor": (r"\lfloor", r"\rfloor", "⌊", "⌋"),
        "ceil": (r"\lceil", r"\rceil", "⌈", "⌉"),
    }[how]
    top_txt = f"({top.txt})" if top.loose else top.txt
    value = top.value // bottom.value if how == "floor" else -(-top.value // bottom.value)
    return Term(
        rf"\left{left}\frac{{{top.tex}}}{{{bottom.tex}}}\right{right}",
        f"{lo}{top_txt} / {bottom.txt}{hi}",
        value,
    )


def product_of(values: tuple[int, ...]) -> Term:
    """The product of a shape's numbers: ``28×28×6``."""
    return times(*(num(v) for v in values))
