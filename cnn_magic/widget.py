"""The ``%%cnn`` view: a header, two rows of toggles and the layer table, redrawn in place.

:class:`CNNView` holds the cell's text and options. Displayed, it gives a mimebundle
with the ipywidgets view *and* a stable ``text/html`` and ``text/plain`` (the same
table, static), so terminal IPython, nbconvert, GitHub and nbval show the numbers.
A toggle re-evaluates the text under the chosen rounding (or re-counts under the
chosen convention) and sets the ``HTML`` widget's value; rows whose shapes differ
from the cell's own rounding are marked. ipywidgets is imported only when the view
is first displayed; everything else here is plain Python.

>>> view = CNNView("input 9x9x1; maxpool k2 s2")
>>> view.network.output_shape
(5, 5, 1)
>>> view.set(rounding="floor")
>>> view.network.output_shape, sorted(view.changed())
((4, 4, 1), [0])
>>> print(view.to_text().splitlines()[0])
input 9×9×1 → output 4×4×1 · 0 params · 0 FLOPs · activations 64 B as float32
"""

from __future__ import annotations

import html
from typing import Any

from .conventions import (
    CONVENTION_BUTTON,
    CONVENTION_TEXT,
    CONVENTIONS,
    ROUNDING_SHORT,
    ROUNDING_TEXT,
    ROUNDINGS,
    Convention,
    Rounding,
    check_convention,
    check_dtype,
    check_flag,
    check_rounding,
)
from .errors import CNNError
from .evaluate import evaluate
from .results import Network
from .table import header_lines, to_html, to_text

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

_HEADER_STYLE = "font-size:12px;line-height:1.5"
_TOGGLE_STYLE = {"button_width": "auto", "description_width": "5em"}
# ipywidgets 8 lays a ToggleButtons' description above its buttons; flex puts it beside
_TOGGLE_LAYOUT = {"display": "flex", "align_items": "center"}


def _check(convention: str | None = None, rounding: str | None = None) -> None:
    if convention is not None:
        check_convention(convention)
    if rounding is not None:
        check_rounding(rounding)


class CNNView:
    """One network and the options it is shown with; displayable, with toggles.

    ``rounding`` is the cell's own rounding: the baseline that changed rows are
    compared against. ``static=True`` leaves the widget out of the mimebundle.
    Raises :class:`~cnn_magic.CNNError` if the text is wrong under that rounding.
    """

    def __init__(
        self,
        text: str,
        *,
        rounding: str = "textbook",
        convention: str = "flops",
        all_ops: bool = False,
        input: str | None = None,
        dtype: str = "float32",
        static: bool = False,
    ) -> None:
        self.text = text
        self.input = input
        self.all_ops = check_flag("all_ops", all_ops)
        self.dtype = check_dtype(dtype)
        self.static = check_flag("static", static)
        self.convention: Convention = check_convention(convention)
        self.rounding: Rounding = check_rounding(rounding)
        self.baseline: Rounding = self.rounding
        self._results: dict[str, Network | CNNError] = {}
        network = self._evaluate(self.rounding)
        if isinstance(network, CNNError):
            raise network
        self.network: Network = network
        self._widget: Any = None

    # ------------------------------------------------------------------ state

    def _evaluate(self, rounding: str) -> Network | CNNError:
        """The network under ``rounding``, or the error it gives; kept per rounding."""
        if rounding not in self._results:
            try:
                self._results[rounding] = evaluate(self.text, rounding, input=self.input)
            except CNNError as error:
                self._results[rounding] = error
        return self._results[rounding]

    @property
    def result(self) -> Network | CNNError:
        """The network under the current rounding, or the error it gives there."""
        return self._evaluate(self.rounding)

    def set(self, convention: str | None = None, rounding: str | None = None) -> None:
        """Switch the convention and/or rounding, as a click on a toggle does."""
        _check(convention, rounding)
        if self._widget is None:
            self._apply(convention, rounding)
            return
        # the toggles' observers apply the change and redraw, as for a click
        convention_buttons, rounding_buttons = self._widget.children[1:3]
        convention_buttons.value = convention or self.convention
        rounding_buttons.value = rounding or self.rounding

    def _apply(self, convention: str | None = None, rounding: str | None = None) -> None:
        self.convention = check_convention(convention or self.convention)
        self.rounding = check_rounding(rounding or self.rounding)
        result = self.result
        if isinstance(result, Network):
            self.network = result
        if self._widget is not None:
            header, *_, table = self._widget.children
            header.value = self.header_html()
            table.value = self._widget_table()

    def changed(self) -> frozenset[int]:
        """Indices of the layers whose input or output shape differs from the cell's
        own rounding (none when the current rounding gives an error)."""
        base, now = self._evaluate(self.baseline), self.result
        if not isinstance(now, Network) or not isinstance(base, Network):
            return frozenset()
        if len(now.layers) != len(base.layers):
            return frozenset()
        return frozenset(
            i
            for i, (a, b) in enumerate(zip(base.layers, now.layers, strict=True))
            if a.in_shape != b.in_shape or a.out_shape != b.out_shape
        )

    # -------------------------------------------------------------- rendering

    def header_html(self) -> str:
        result = self.result
        if isinstance(result, CNNError):
            lines = [
                f"no network under {self.rounding} rounding: see below",
                ROUNDING_SHORT[self.rounding],
            ]
        else:
            lines = header_lines(result, self.convention, self.all_ops, self.dtype)
        first, *rest = (html.escape(line) for line in lines)
        body = "<br>".join([f"<b>{first}</b>", *rest])
        return f'<div class="cnn-magic-header" style="{_HEADER_STYLE}">{body}</div>'

    def table_html(self) -> str:
        """The table under the current options, changed rows marked."""
        result = self.result
        if isinstance(result, CNNError):
            return (
                f'<pre class="cnn-magic-error" style="color:#b00020">'
                f"{html.escape(str(result))}</pre>"
            )
        changed = self.changed()
        caption = None
        if self.rounding != self.baseline:
            caption = (
                f"{len(changed)} layer{'s' * (len(changed) != 1)} with shapes that differ "
                f"from {self.baseline} rounding (the cell's): marked"
                if changed
                else f"no shape differs from {self.baseline} rounding"
            )
        return to_html(result, self.convention, self.all_ops, changed=changed, caption=caption)

    def to_html(self) -> str:
        """The static table with its header: the ``text/html`` fallback."""
        return self.header_html() + self.table_html()

    def to_text(self) -> str:
        """The aligned text table with its header: the ``text/plain`` fallback."""
        result = self.result
        if isinstance(result, CNNError):
            return str(result)
        lines = header_lines(result, self.convention, self.all_ops, self.dtype)
        return "\n".join([*lines, "", to_text(result, self.convention, self.all_ops)])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if not self.static:
            bundle[WIDGET_VIEW] = self.widget._repr_mimebundle_()[WIDGET_VIEW]
        return bundle

    def __repr__(self) -> str:
        return f"<CNNView {self.convention}, {self.rounding} rounding: {self.result!r}>"

    # ----------------------------------------------------------------- widget

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use): header, toggles, table."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        convention = w.ToggleButtons(
            options=[(CONVENTION_BUTTON[c], c) for c in CONVENTIONS],
            value=self.convention,
            description="count",
            tooltips=[CONVENTION_TEXT[c] for c in CONVENTIONS],
            style=_TOGGLE_STYLE,
            layout=_TOGGLE_LAYOUT,
        )
        rounding = w.ToggleButtons(
            options=list(ROUNDINGS),
            value=self.rounding,
            description="rounding",
            tooltips=[ROUNDING_TEXT[r] for r in ROUNDINGS],
            style=_TOGGLE_STYLE,
            layout=_TOGGLE_LAYOUT,
        )
        box = w.VBox(
            [w.HTML(self.header_html()), convention, rounding, w.HTML(self._widget_table())]
        )
        box.add_class("cnn-magic-view")
        convention.observe(lambda change: self._apply(convention=change["new"]), names="value")
        rounding.observe(lambda change: self._apply(rounding=change["new"]), names="value")
        return box

    def _widget_table(self) -> str:
        # the HTML widget sets a one-control line height (28 px) on its content
        return f'<div style="line-height:1.4">{self.table_html()}</div>'
