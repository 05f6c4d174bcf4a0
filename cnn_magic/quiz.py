"""``%%cnn --quiz``: the layer table with some cells left blank for the student.

:class:`QuizView` holds the network, which cells are blanks, and what was typed in them.
Each answer is checked at once (:mod:`cnn_magic.grading`): a wrong one brings a hint
(the formula in the layer's symbols) and a button for the worked derivation (the
lines ``--explain`` gives); a score line counts what is right. The rounding and
convention toggles re-evaluate the network: the expected answers follow, the typed ones
stay, and the view says which expected answers changed.

Typed answers are kept per cell text, so re-running the cell, or displaying the view
again, keeps them. Displayed, the view also gives a static ``text/html`` and
``text/plain`` (the table with ``?`` in the blanks, never the answers), which a saved
notebook, nbconvert and GitHub show. ipywidgets (core controls only) is imported when
the widget is first built.

>>> view = QuizView("input 32x32x1\\nC1: conv 6 k5\\nS2: maxpool k2 s2", hide=("output",))
>>> [blank.key for blank in view.blanks]
['C1.output', 'S2.output']
>>> view.answer("C1.output", "28x28x6"); view.answer("S2.output", "15x15x6")
>>> view.score()
(1, 2)
>>> print(view.hint("S2.output"))  # doctest: +ELLIPSIS
H_out = ⌈(H_in − k + 2P) / S⌉ + 1 (round up; ...); W_out likewise; C_out = C_in: ...
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, NamedTuple

from .conventions import CONVENTION_LABEL, CONVENTION_TEXT, CONVENTIONS, ROUNDING_TEXT, ROUNDINGS
from .errors import CNNError, did_you_mean
from .evaluate import evaluate, format_shape
from .grading import derivation, expected, hint, is_right, parse_answer, show
from .i18n import N_, _, check_language, current_language, display_width, language, pad

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_LABELS: dict[str, str] = {str(k): v for k, v in CONVENTION_LABEL.items()}
_TOGGLE_STYLE = {"button_width": "auto", "description_width": "5em"}
# ipywidgets 8 lays a ToggleButtons' description above its buttons; flex puts it beside
_TOGGLE_LAYOUT = {"display": "flex", "align_items": "center"}

COLUMNS = ("output", "weights", "biases", "params", "count")
"""What ``--quiz`` can hide; ``count`` is the operations column (FLOPs, MACs or exact)."""

DEFAULT_HIDE = ("output", "weights", "params", "count")
"""What the notes teach: the feature-map size (特征图), the weights and all parameters
(权重, 参数量 = 权重 + 偏置) and the FLOPs (浮点运算次数); biases (one per kernel) stay
visible."""

_ALIASES = {
    "outputs": "output",
    "size": "output",
    "sizes": "output",
    "shape": "output",
    "shapes": "output",
    "weight": "weights",
    "bias": "biases",
    "param": "params",
    "parameters": "params",
    "flops": "count",
    "macs": "count",
    "ops": "count",
    "counts": "count",
}

RULE_NAMES = {
    "textbook": N_("textbook rounding (convolutions down, pooling up)"),
    "floor": N_("floor rounding (everything down)"),
    "ceil": N_("ceil rounding (everything up)"),
}

HEADERS = {
    "name": N_("name"),
    "layer": N_("layer"),
    "input": N_("input"),
    "output": N_("output"),
    "weights": N_("weights"),
    "biases": N_("biases"),
    "params": N_("params"),
}


def parse_hide(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """The columns to hide from ``--quiz``'s argument: ``None`` or ``"default"`` for
    :data:`DEFAULT_HIDE`, ``"all"``, or names separated by commas or spaces.

    >>> parse_hide("sizes, flops"), parse_hide(None)
    (('output', 'count'), ('output', 'weights', 'params', 'count'))
    """
    if text is None:
        return DEFAULT_HIDE
    words = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    if words in (["default"], []):
        return DEFAULT_HIDE
    if words == ["all"]:
        return COLUMNS
    out: list[str] = []
    for word in words:
        column = _ALIASES.get(word.lower(), word.lower())
        if column not in COLUMNS:
            raise CNNError(
                _("--quiz cannot hide {word!r}").format(word=word),
                hint=did_you_mean(word, [*COLUMNS, "sizes", "flops", "macs", "all", "default"]),
            )
        if column not in out:
            out.append(column)
    return tuple(column for column in COLUMNS if column in out)


class Blank(NamedTuple):
    """A cell to fill: its row (a layer's index, ``None`` for the totals), the row's
    name and the column."""

    position: int | None
    row: str
    column: str

    @property
    def key(self) -> str:
        return f"{self.row}.{self.column}"


# Answers typed so far, per view content: re-running a cell (or displaying the view
# again) finds its answers here. Bounded by the number of distinct quiz cells a session runs.
_SAVED: dict[tuple[object, ...], dict[str, str]] = {}


class QuizView:
    """A network shown as a table with blanks; displayable, with toggles.

    ``hide``: the columns whose cells are blanks (see :data:`COLUMNS`); ``blanks``, when
    given, names the exact cells instead (``("C1", "output")`` pairs, as a problem asks).
    ``lang`` is the view's language (default: the one in force when it is made).
    """

    def __init__(
        self,
        text: str,
        *,
        hide: Iterable[str] = DEFAULT_HIDE,
        rounding: str = "textbook",
        convention: str = "flops",
        input: str | None = None,
        lang: str | None = None,
        blanks: Iterable[tuple[str, str]] | None = None,
        columns: Iterable[str] = COLUMNS,
    ) -> None:
        self.lang = check_language(lang) if lang is not None else current_language()
        for value, choices, what in (
            (convention, CONVENTIONS, N_("FLOPs convention")),
            (rounding, ROUNDINGS, N_("rounding")),
        ):
            if value not in choices:
                with language(self.lang):
                    raise CNNError(
                        _("unknown {what} {value!r}").format(what=_(what), value=value),
                        hint=did_you_mean(str(value), choices),
                    )
        self.text = text
        self.input = input
        self.convention = convention
        self.rounding = rounding
        self.baseline = rounding
        self.columns = tuple(columns)
        self.network = evaluate(text, rounding, input=input)
        self.blanks = self._blanks(parse_hide(list(hide)), blanks)
        state = (text, input, self.columns, tuple(self.blanks))
        self.answers = _SAVED.setdefault(state, {})
        self.revealed: set[str] = set()
        self.notice = ""
        self._widget: Any = None
        self._cells: dict[str, Any] = {}

    @classmethod
    def for_problem(
        cls, problem: Any, *, convention: str = "flops", lang: str | None = None
    ) -> QuizView:
        """An :func:`~cnn_magic.exercise` problem as a quiz: its questions are the blanks,
        its count questions columns of their own (MACs and FLOPs side by side)."""
        counts = [q.quantity for q in problem.questions if q.quantity in CONVENTIONS]
        columns = ("output", "weights", "biases", "params", *dict.fromkeys(counts))
        if not counts:
            columns = (*columns, "count")
        return cls(
            problem.text,
            rounding=problem.rounding,
            convention=convention,
            lang=lang,
            blanks=[(q.layer, q.quantity) for q in problem.questions],
            columns=columns,
        )

    def _blanks(
        self, hide: tuple[str, ...], chosen: Iterable[tuple[str, str]] | None
    ) -> list[Blank]:
        rows: list[tuple[int | None, str]] = [
            (i, layer.name) for i, layer in enumerate(self.network.layers)
        ]
        rows.append((None, "total"))
        if chosen is not None:
            wanted = set(chosen)
            return [
                Blank(i, name, column)
                for i, name in rows
                for column in self.columns
                if (name, column) in wanted
            ]
        return [
            Blank(i, name, column)
            for i, name in rows
            for column in self.columns
            if column in hide and not (i is None and column == "output")
        ]

    # ------------------------------------------------------------------ state

    def quantity(self, column: str) -> str:
        """What a column counts: the convention in force for ``count``."""
        return self.convention if column == "count" else column

    def blank(self, key: str) -> Blank:
        for blank in self.blanks:
            if blank.key == key:
                return blank
        with language(self.lang):
            raise CNNError(
                _("no blank {key!r} in this quiz").format(key=key),
                hint=did_you_mean(str(key), [b.key for b in self.blanks]),
            )

    def expected(self, key: str) -> int | tuple[int, ...]:
        blank = self.blank(key)
        return expected(self.network, blank.position, self.quantity(blank.column))

    def right(self, key: str) -> bool | None:
        """``True``/``False`` for an answered blank, ``None`` when it is still empty."""
        typed = self.answers.get(key, "").strip()
        return is_right(typed, self.expected(key)) if typed else None

    def answer(self, key: str, text: str) -> None:
        """Type ``text`` into the blank ``key``, as the student does."""
        self.blank(key)
        if self._widget is not None:
            self._cells[key].children[0].value = text  # its observer records and redraws
            return
        self._record(key, text)

    def _record(self, key: str, text: str) -> None:
        self.answers[key] = text
        self._redraw()

    def reveal(self, key: str) -> None:
        """Show the worked derivation of ``key`` (the "derivation" button)."""
        self.blank(key)
        self.revealed.add(key)
        self._redraw()

    def score(self) -> tuple[int, int]:
        """(right answers, blanks)."""
        return sum(self.right(b.key) is True for b in self.blanks), len(self.blanks)

    def hint(self, key: str) -> str:
        """The formula for ``key`` in the layer's symbols, in the view's language."""
        blank = self.blank(key)
        with language(self.lang):
            return hint(self.network, blank.position, self.quantity(blank.column))

    def derivation(self, key: str) -> str:
        """The worked arithmetic for ``key`` with the layer's values (``--explain``'s)."""
        blank = self.blank(key)
        with language(self.lang):
            return derivation(self.network, blank.position, self.quantity(blank.column))

    def set(self, convention: str | None = None, rounding: str | None = None) -> None:
        """Switch the convention and/or rounding, as a click on a toggle does."""
        if self._widget is not None:
            # the toggles' observers apply the change and redraw, as for a click
            for toggle in self._toggles():
                choice = convention if toggle.options[0][1] == CONVENTIONS[0] else rounding
                if choice:
                    toggle.value = choice
            return
        self._apply(convention, rounding)

    def _apply(self, convention: str | None = None, rounding: str | None = None) -> None:
        before = {b.key: self.expected(b.key) for b in self.blanks}
        if rounding and rounding != self.rounding:
            network = evaluate(self.text, rounding, input=self.input)
            if len(network.layers) != len(self.network.layers):
                raise AssertionError("a rounding changed the layers")  # never: same text
            self.rounding, self.network = rounding, network
        elif convention and convention != self.convention:
            self.convention = convention
        else:
            return
        changed = [key for key, value in before.items() if self.expected(key) != value]
        with language(self.lang):
            self.notice = self._notice(changed)
        self._redraw()

    def _notice(self, changed: list[str]) -> str:
        rule = self._rule_words()
        if not changed:
            return _("Now {rule}: no expected answer changed.").format(rule=rule)
        return _("Now {rule}: the expected answers of {cells} changed.").format(
            rule=rule, cells=", ".join(changed)
        )

    def _rule_words(self) -> str:
        return f"{_(RULE_NAMES[self.rounding])}, {_(self._count_label())}"

    def _count_label(self) -> str:
        return _LABELS[self.convention]

    # -------------------------------------------------------------- rendering

    def headers(self) -> list[str]:
        """The column titles, in the view's language."""
        with language(self.lang):
            out = [_(HEADERS[c]) for c in ("name", "layer", "input")]
            for column in self.columns:
                label = _LABELS.get(self.quantity(column))
                out.append(_(label) if label else _(HEADERS[column]))
            return out

    def _rows(self) -> list[tuple[int | None, str, str, str]]:
        """(index, name, layer text, input) for every layer, then the totals. An input
        that is a blank's answer (the output of the layer before) is left empty."""
        net = self.network
        rows: list[tuple[int | None, str, str, str]] = []
        for i, layer in enumerate(net.layers):
            given = i == 0 or not self._is_blank(net.layers[i - 1].name, "output")
            rows.append((i, layer.name, layer.text, format_shape(layer.in_shape) if given else ""))
        rows.append((None, "total", "", format_shape(net.input_shape)))
        return rows

    def _row_title(self, name: str) -> str:
        return _("total") if name == "total" else name

    def _value(self, index: int | None, column: str) -> str:
        """A shown cell; a total left empty when it would give a blank's answer away."""
        if index is None and any(b.column == column and b.row != "total" for b in self.blanks):
            return ""
        if index is None and column == "output":
            return format_shape(self.network.output_shape)
        return show(expected(self.network, index, self.quantity(column)))

    def _is_blank(self, row: str, column: str) -> bool:
        return any(b.row == row and b.column == column for b in self.blanks)

    def score_line(self) -> str:
        right, total = self.score()
        with language(self.lang):
            return _("Score: {right} of {total} right").format(right=right, total=total)

    def intro(self) -> str:
        with language(self.lang):
            return _(
                "Fill in the blanks (press Enter to check); {rule}. "
                "Output sizes as H×W×C, counts as whole numbers."
            ).format(rule=self._rule_words())

    def to_text(self) -> str:
        """The problem as text: the table with ``?`` in the blanks (never the answers)."""
        with language(self.lang):
            table = [self.headers()]
            for index, name, text, shape in self._rows():
                cells = [self._row_title(name), text, shape]
                for column in self.columns:
                    blank = self._is_blank(name, column)
                    cells.append("?" if blank else self._value(index, column))
                table.append(cells)
        widths = [max(display_width(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [
            "  ".join(
                pad(c, w, right=i > 3) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in table
        ]
        return "\n".join([self.intro(), "", *lines, "", self.score_line()])

    def to_html(self) -> str:
        """The static table, blanks shown as ``?``: the ``text/html`` fallback."""
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.headers())
        body = []
        for index, name, text, shape in self._rows():
            with language(self.lang):
                cells = [self._row_title(name), text, shape]
            tds = "".join(f"<td>{esc(c)}</td>" for c in cells)
            for column in self.columns:
                if self._is_blank(name, column):
                    tds += '<td class="blank" style="background:#eef3fb">?</td>'
                else:
                    tds += f'<td class="n">{esc(self._value(index, column))}</td>'
            body.append(f"<tr>{tds}</tr>")
        return (
            f'<div class="cnn-magic-quiz-static"><div>{esc(self.intro())}</div>'
            f'<table style="border-collapse:collapse;font-size:12px"><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<div>{esc(self.score_line())}</div></div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": self.to_text(),
            "text/html": self.to_html(),
            WIDGET_VIEW: self.widget._repr_mimebundle_()[WIDGET_VIEW],
        }

    def __repr__(self) -> str:
        right, total = self.score()
        return f"<QuizView {right}/{total} right, {self.rounding}, {self.convention}>"

    # ----------------------------------------------------------------- widget

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            with language(self.lang):
                self._widget = self._build()
            self._redraw()
        return self._widget

    def _toggles(self) -> list[Any]:
        return list(self._widget.children[1].children)

    def _build(self) -> Any:
        import ipywidgets as w

        toggles = []
        if "count" in self.columns:
            convention = w.ToggleButtons(
                options=[(CONVENTION_LABEL[c].split()[0], c) for c in CONVENTIONS],
                value=self.convention,
                description=_("count"),
                tooltips=[_(CONVENTION_TEXT[c]) for c in CONVENTIONS],
                style=_TOGGLE_STYLE,
                layout=_TOGGLE_LAYOUT,
            )
            convention.observe(lambda ch: self._apply(convention=ch["new"]), names="value")
            toggles.append(convention)
        rounding = w.ToggleButtons(
            options=[(r, r) for r in ROUNDINGS],
            value=self.rounding,
            description=_("rounding"),
            tooltips=[_(ROUNDING_TEXT[r]) for r in ROUNDINGS],
            style=_TOGGLE_STYLE,
            layout=_TOGGLE_LAYOUT,
        )
        rounding.observe(lambda ch: self._apply(rounding=ch["new"]), names="value")
        toggles.append(rounding)

        grid = []
        for title, column in zip(self.headers(), ("", "", "", *self.columns), strict=True):
            typed = any(b.column == column for b in self.blanks)  # over input boxes: left
            grid.append(w.HTML(_numeric(title, "" if typed else column, bold=True)))
        for _index, name, text, shape in self._rows():
            grid += [w.HTML(html.escape(c)) for c in (self._row_title(name), text, shape)]
            for column in self.columns:
                key = f"{name}.{column}"
                if self._is_blank(name, column):
                    box = w.Text(
                        value=self.answers.get(key, ""),
                        placeholder="?",
                        continuous_update=False,
                        layout=w.Layout(width="9em"),
                    )
                    box.add_class("cnn-magic-blank")
                    box.observe(lambda ch, key=key: self._record(key, ch["new"]), names="value")
                    cell = w.HBox([box, w.HTML("")])
                else:
                    cell = w.HTML()
                self._cells[key] = cell
                grid.append(cell)
        table = w.GridBox(
            grid,
            layout=w.Layout(
                grid_template_columns=f"repeat({3 + len(self.columns)}, max-content)",
                grid_gap="2px 12px",
                align_items="center",
            ),
        )
        box = w.VBox(
            [w.HTML(), w.VBox(toggles), table, w.HTML(), w.VBox(), w.HTML()],
        )
        box.add_class("cnn-magic-quiz")
        return box

    def _redraw(self) -> None:
        if self._widget is None:
            return
        with language(self.lang):
            intro, _toggles, _table, notice, feedback, score = self._widget.children
            intro.value = f"<b>{html.escape(self.intro())}</b>"
            notice.value = (
                f'<div class="cnn-magic-notice">{html.escape(self.notice)}</div>'
                if self.notice
                else ""
            )
            for index, name, _text, _shape in self._rows():
                for column in self.columns:
                    cell = self._cells[f"{name}.{column}"]
                    if self._is_blank(name, column):
                        cell.children[1].value = self._mark(f"{name}.{column}")
                    else:
                        cell.value = _numeric(self._value(index, column), column)
            feedback.children = self._feedback()
            score.value = f'<b class="cnn-magic-score">{html.escape(self.score_line())}</b>'

    def _mark(self, key: str) -> str:
        state = self.right(key)
        if state is None:
            return ""
        if state:
            return '<span class="cnn-magic-right" style="color:#1a7f37">✓</span>'
        return '<span class="cnn-magic-wrong" style="color:#b00020">✗</span>'

    def _feedback(self) -> tuple[Any, ...]:
        """For each wrong answer: what was typed, the hint, and the derivation button
        (or, once pressed, the derivation)."""
        import ipywidgets as w

        out = []
        for blank in self.blanks:
            key = blank.key
            if self.right(key) is not False:
                continue
            typed = self.answers[key].strip()
            readable = parse_answer(typed, self.quantity(blank.column)) is not None
            said = (
                _("{key}: {typed} is not right.")
                if readable
                else _("{key}: {typed} is not a number.")
            ).format(key=key, typed=typed)
            line = "✗ " + said + " " + _("Hint: {hint}").format(hint=self.hint(key))
            parts: list[Any] = [w.HTML(f'<div class="cnn-magic-hint">{html.escape(line)}</div>')]
            if key in self.revealed:
                worked = html.escape(self.derivation(key))
                parts.append(w.HTML(f'<pre class="cnn-magic-derivation">{worked}</pre>'))
            else:
                button = w.Button(description=_("show the derivation"))
                button.add_class("cnn-magic-show")
                button.on_click(lambda _b, key=key: self.reveal(key))
                parts.append(button)
            out.append(w.VBox(parts))
        return tuple(out)


def _numeric(text: str, column: str, bold: bool = False) -> str:
    """A grid cell's HTML: counts right-aligned, as the tables print them."""
    body = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
    if column in ("", "output"):
        return body
    return f'<div style="text-align:right">{body}</div>'
