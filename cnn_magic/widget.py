"""The ``%%cnn`` view: every table of a cell, switched in the browser; an ipywidgets
widget while a kernel runs, plain HTML that survives saving and exporting.

:class:`CNNView` evaluates the cell's text under the three roundings once and renders
one HTML fragment (:mod:`cnn_magic.view_html`) holding all nine tables; CSS toggles
switch between them, so a click needs no kernel. Displayed, the view gives two outputs:

1. ``text/html`` (the fragment) and ``text/plain`` (the aligned table): what a saved
   notebook, nbconvert, GitHub, nbval and terminal IPython show;
2. the live ipywidgets view (an ``HTML`` widget in a ``VBox``, core controls only),
   with an empty ``text/html`` fallback.

Both fragments carry the same pictures (a layer's windows, the network's picture, the
cost charts, within :data:`~cnn_magic.pictures.panels.BUDGET`), drawn once: they are
switched by CSS too, so a saved notebook or an export keeps them working.

Each output's CSS hides the other where both are rendered in one page (JupyterLab,
Notebook 7): while the widget lives, it hides the static twin; once its model is gone (a
reopened notebook), the static output hides the widget's "model not found". So a
reopened notebook shows the table, never an error (docs/decisions.md explains why).

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

from typing import TYPE_CHECKING, Any

from .conventions import (
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
from .table import acyclic, header_lines, to_text
from .view_html import Options, Variant, ViewRow, fragment, fragment_key, variant_rows

if TYPE_CHECKING:
    from .pictures.panels import ViewPictures

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_TEXT_ROWS = 2000
"""Rows of the view's plain-text table (``text/plain``); the exports print them all."""

# Where both outputs share a page, the live view hides its static twin; JupyterLab and
# Notebook 7 wrap each output in a .jp-OutputArea-child (nbconvert's HTML too).
_HIDE_STATIC = (
    '.cnn-magic-static[data-key="{key}"],'
    '.jp-OutputArea-child:has(.cnn-magic-static[data-key="{key}"]){{display:none}}'
)
# ... and the static output hides the widget output after it unless a live view is in it.
_HIDE_DEAD_WIDGET = (
    '.jp-OutputArea-child:has(.cnn-magic-static[data-key="{key}"])'
    "+.jp-OutputArea-child:not(:has(.cnn-magic-view)){{display:none}}"
)


def rounding_free(net: Network) -> bool:
    """Whether every window fits its padded input exactly, so that floor, ceil and
    textbook rounding give the same network: (H + P_before + P_after − d·(k − 1) − 1)
    divisible by S along every axis that rounds. Transposed convolutions and adaptive
    pools do not round; ``same`` padding is trusted only at stride 1.

    >>> from cnn_magic import evaluate
    >>> rounding_free(evaluate("input 8x8x1; conv 2 k3 p1; maxpool k2 s2"))
    True
    >>> rounding_free(evaluate("input 9x9x1; maxpool k2 s2"))
    False
    """
    for layer in net.layers:
        for axis in layer.axes or ():
            if axis.rule in ("deconv", "adaptive") or axis.stride == 1:
                continue
            if axis.rule not in ("floor", "ceil"):
                return False
            span = axis.size + axis.pad_before + axis.pad_after - axis.dilation * (axis.kernel - 1)
            if (span - 1) % axis.stride:
                return False
    return True


def outputs_in_frames() -> bool:
    """Whether the front end draws each output in a frame of its own (Colab does), where
    the two outputs cannot hide each other: there the static output, whose toggles work
    in the browser anyway, is shown alone."""
    import sys

    return "google.colab" in sys.modules


def _check(convention: str | None = None, rounding: str | None = None) -> None:
    if convention is not None:
        check_convention(convention)
    if rounding is not None:
        check_rounding(rounding)


class CNNView:
    """One network and the options it is shown with; displayable, with toggles.

    ``rounding`` is the cell's own rounding: the baseline that changed rows are
    compared against. ``depth`` is how many levels of blocks start expanded.
    ``static=True`` leaves the widget out; ``pictures=False`` leaves the pictures out of
    both fragments (the sliders draw their own). Raises :class:`~cnn_magic.CNNError` if the
    text is wrong under that rounding.
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
        depth: int | None = None,
        pictures: bool = True,
    ) -> None:
        if depth is not None and depth < 1:
            raise CNNError(f"depth {depth} shows nothing", hint="depth counts levels: 1 or more")
        self.text = text
        self.input = input
        self.all_ops = check_flag("all_ops", all_ops)
        self.dtype = check_dtype(dtype)
        self.static = check_flag("static", static)
        self.pictures = check_flag("pictures", pictures)
        self.depth = depth
        self.convention: Convention = check_convention(convention)
        self.rounding: Rounding = check_rounding(rounding)
        self.baseline: Rounding = self.rounding
        self._results: dict[str, Network | CNNError] = {}
        network = self._evaluate(self.rounding)
        if isinstance(network, CNNError):
            raise network
        self.network: Network = network
        self.key = fragment_key(text, rounding, convention, all_ops, input, dtype, depth)
        self._widget: Any = None
        self._drawn: ViewPictures | None = None
        self._variants: tuple[list[Variant], dict[int, list[ViewRow]]] | None = None

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
        """Start the view with another convention and/or rounding (the toggles' state)."""
        _check(convention, rounding)
        self.convention = check_convention(convention or self.convention)
        self.rounding = check_rounding(rounding or self.rounding)
        self._drawn = None  # the pictures start from the new toggles too
        if isinstance(self.result, Network):
            self.network = self.result
        if self._widget is not None:
            self._widget.children[0].value = self.live_html()

    def changed(self, rounding: str | None = None) -> frozenset[int]:
        """Indices of the layers whose input or output shape under ``rounding`` (the
        current one by default) differs from the cell's own rounding."""
        base, now = self._evaluate(self.baseline), self._evaluate(rounding or self.rounding)
        if not isinstance(now, Network) or not isinstance(base, Network):
            return frozenset()
        if len(now.layers) != len(base.layers):
            return frozenset()
        return frozenset(
            i
            for i, (a, b) in enumerate(zip(base.layers, now.layers, strict=True))
            if a.in_shape != b.in_shape or a.out_shape != b.out_shape
        )

    def variants(self) -> list[Variant]:
        """The distinct tables over the three roundings: roundings that give the same
        shapes share one (most networks need only one or two)."""
        return self._tables()[0]

    @acyclic
    def _tables(self) -> tuple[list[Variant], dict[int, list[ViewRow]]]:
        """The variants and their rows, worked out once for both outputs."""
        if self._variants is None:
            variants = self._group()
            self._variants = variants, variant_rows(variants, self.all_ops)
        return self._variants

    def _group(self) -> list[Variant]:
        base = self._evaluate(self.baseline)
        if isinstance(base, Network) and rounding_free(base):
            # every window fits exactly: the other roundings give the same table
            return [Variant(ROUNDINGS, base)]
        groups: dict[object, list[str]] = {}
        for rounding in ROUNDINGS:
            result = self._evaluate(rounding)
            if isinstance(result, Network):
                shapes: object = tuple((x.in_shape, x.out_shape) for x in result.layers)
            else:
                shapes = ("error", rounding)
            groups.setdefault(shapes, []).append(rounding)
        return [
            Variant(tuple(names), self._evaluate(names[0]), self.changed(names[0]))
            for names in groups.values()
        ]

    # -------------------------------------------------------------- rendering

    def _options(self, live: bool) -> Options:
        if live:
            css, prefix, kind = _HIDE_STATIC.format(key=self.key), f"cm{self.key}w", "live"
        else:
            css = "" if self.static else _HIDE_DEAD_WIDGET.format(key=self.key)
            prefix, kind = f"cm{self.key}s", "static"
        return Options(
            self.convention,
            self.rounding,
            self.baseline,
            self.all_ops,
            self.dtype,
            self.depth,
            prefix=prefix,
            extra_css=css,
            classes=(f"cnn-magic-{kind}",),
            key=self.key,
            # both outputs carry the same pictures, so a saved or exported notebook keeps them
            pictures=self._pictures().with_prefix(prefix) if self.pictures else None,
        )

    def _pictures(self) -> ViewPictures:
        """The pictures under the tables, drawn once for both outputs and the redraws."""
        if self._drawn is None:
            from .pictures.panels import PLACEHOLDER, view_pictures

            self._drawn = view_pictures(
                [(v.roundings, v.result) for v in self.variants() if isinstance(v.result, Network)],
                PLACEHOLDER,
                all_ops=self.all_ops,
                dtype=self.dtype,
                rounding=self.rounding,
                convention=self.convention,
            )
        return self._drawn

    @acyclic
    def to_html(self) -> str:
        """The fragment with every table: the ``text/html`` output."""
        return fragment(*self._with_rows(live=False))

    @acyclic
    def live_html(self) -> str:
        """The same fragment for the widget, which hides its static twin."""
        return fragment(*self._with_rows(live=True))

    def _with_rows(self, live: bool) -> tuple[list[Variant], Options, dict[int, list[ViewRow]]]:
        variants, rows = self._tables()
        return variants, self._options(live), rows

    def to_text(self) -> str:
        """The totals, the conventions in one line and the aligned table: ``text/plain``."""
        result = self.result
        if isinstance(result, CNNError):
            return str(result)
        lines = header_lines(result, self.convention, self.all_ops, self.dtype)
        table = to_text(result, self.convention, self.all_ops, notes=False, max_rows=MAX_TEXT_ROWS)
        return "\n".join([*lines, "", table])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The static output (the live one follows it when the view is displayed)."""
        return {"text/plain": self.to_text(), "text/html": self.to_html()}

    def _ipython_display_(self) -> None:
        from IPython import display as ipython_display

        show: Any = ipython_display.display  # untyped in IPython
        show(self._repr_mimebundle_(), raw=True)
        if not self.static and not outputs_in_frames():
            show(self.live_bundle(), raw=True)

    def live_bundle(self) -> dict[str, Any]:
        """The widget's output: its view, and an empty HTML fallback (the static output
        above already shows the table wherever the widget cannot)."""
        return {WIDGET_VIEW: self.widget._repr_mimebundle_()[WIDGET_VIEW], "text/html": ""}

    def __repr__(self) -> str:
        return f"<CNNView {self.convention}, {self.rounding} rounding: {self.result!r}>"

    # ----------------------------------------------------------------- widget

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use): an ``HTML`` widget in a ``VBox``."""
        if self._widget is None:
            import ipywidgets

            box = ipywidgets.VBox([ipywidgets.HTML(self.live_html())])
            box.add_class("cnn-magic-view")
            self._widget = box
        return self._widget
