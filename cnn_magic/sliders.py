"""What-if sliders: ``%%cnn --vary k=1:7 s=1:3`` turns the text's variables into
sliders; moving one re-evaluates the network with the new value and redraws the
table, the windows of the layers that use it and the network's picture.

A value that makes the network impossible (a kernel larger than its input, say) shows
the error, with its line and caret, where the table was; the sliders stay, and the
next good value brings the table back. Only core ipywidgets controls are used
(``IntSlider``, ``HTML``, ``VBox``), and the display carries a static ``text/html``
and ``text/plain`` for the values the text sets. The view speaks the language in force
when it is made (``--lang zh``), also when a slider moves later.

>>> view = SliderView("input 32x32x1\\nk = 5\\nconv 6 k{k}", {"k": Range(1, 7)})
>>> view.network.output_shape
(28, 28, 6)
>>> view.set(k=3)
>>> view.network.output_shape
(30, 30, 6)
>>> view.set(k=7); view.network.output_shape
(26, 26, 6)
"""

from __future__ import annotations

import html
import re
from typing import Any, NamedTuple

from .errors import CNNError, did_you_mean
from .evaluate import evaluate
from .i18n import _, check_language, current_language, language
from .results import Network
from .variables import MAX_VALUE, expand_lines, variables

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_RANGE = re.compile(r"([A-Za-z_]\w*)=(\d+):(\d+)(?::(\d+))?\Z", re.ASCII)


class Range(NamedTuple):
    """A slider's values: ``low`` to ``high`` (both included) in steps of ``step``."""

    low: int
    high: int
    step: int = 1


def is_range(word: str) -> bool:
    """Whether a word of the magic line is a ``NAME=FROM:TO[:STEP]``."""
    return _RANGE.match(word) is not None


def parse_ranges(words: list[str]) -> dict[str, Range]:
    """``["k=1:7", "s=1:3:1"]`` → ``{"k": Range(1, 7), "s": Range(1, 3)}``.

    >>> parse_ranges(["k=1:7", "s=2:8:2"])
    {'k': Range(low=1, high=7, step=1), 's': Range(low=2, high=8, step=2)}
    """
    out: dict[str, Range] = {}
    for word in words:
        match = _RANGE.match(word)
        if match is None:
            raise CNNError(
                _("--vary {word!r}: not a range").format(word=word),
                hint=_("write NAME=FROM:TO (or NAME=FROM:TO:STEP), e.g. --vary k=1:7 s=1:3"),
            )
        name, low, high, step = match.groups()
        bounds = Range(int(low), int(high), int(step or 1))
        if bounds.low > bounds.high or bounds.step < 1 or bounds.high > MAX_VALUE:
            raise CNNError(
                _("--vary {word}: the range is empty").format(word=word),
                hint=_(
                    "FROM must be at most TO, and STEP at least 1 (and TO at most {most:,})"
                ).format(most=MAX_VALUE),
            )
        if name in out:
            raise CNNError(
                _("--vary names {name!r} twice").format(name=name),
                hint=_("one range per variable"),
            )
        out[name] = bounds
    return out


def _starting_values(text: str, ranges: dict[str, Range]) -> dict[str, int]:
    """The values the text sets for the varied variables, each inside its range."""
    written = variables(text)
    for name, bounds in ranges.items():
        if name not in written:
            raise CNNError(
                _("--vary {name}: the network sets no variable {name!r}").format(name=name),
                hint=did_you_mean(name, written)
                if written
                else _("set it in the text ({name} = {low}) and use it as {use}").format(
                    name=name, low=bounds.low, use="{" + name + "}"
                ),
            )
        if not bounds.low <= written[name] <= bounds.high:
            raise CNNError(
                _(
                    "--vary {name}={low}:{high}: the text sets {name} = {value}, outside the range"
                ).format(name=name, low=bounds.low, high=bounds.high, value=written[name]),
                hint=_("widen the range or change the value in the text"),
            )
    return {name: written[name] for name in ranges}


class SliderView:
    """A network text with variables, shown for the values the sliders hold; ``lang``
    is the view's language (default: the one in force when it is made)."""

    def __init__(
        self,
        text: str,
        ranges: dict[str, Range],
        *,
        rounding: str = "textbook",
        convention: str = "flops",
        all_ops: bool = False,
        input: str | None = None,
        dtype: str = "float32",
        static: bool = False,
        lang: str | None = None,
    ) -> None:
        self.lang = check_language(lang) if lang is not None else current_language()
        self.text = text
        self.ranges = ranges
        self.options: dict[str, Any] = {
            "rounding": rounding,
            "convention": convention,
            "all_ops": all_ops,
            "input": input,
            "dtype": dtype,
        }
        self.static = static
        with language(self.lang):  # its mistakes in the view's language
            self.values = _starting_values(text, ranges)
            self.result: Network | CNNError = self._evaluate()
        if isinstance(self.result, CNNError):
            raise self.result
        self.network: Network = self.result
        self._widget: Any = None

    # ------------------------------------------------------------------ state

    def _evaluate(self) -> Network | CNNError:
        try:
            return evaluate(
                self.text,
                self.options["rounding"],
                input=self.options["input"],
                variables=self.values,
            )
        except CNNError as error:
            return error

    def set(self, **values: int) -> None:
        """Give variables new values, as a slider move does, and redraw."""
        for name in values:
            if name not in self.ranges:
                with language(self.lang):
                    raise CNNError(
                        _("no slider {name!r}").format(name=name),
                        hint=did_you_mean(name, self.ranges),
                    )
        if self._widget is not None:
            sliders = self._widget.children[0].children
            for slider in sliders:
                if slider.description in values:
                    slider.value = values[slider.description]  # its observer redraws
            return
        self._apply(values)

    def _apply(self, values: dict[str, int]) -> None:
        self.values = {**self.values, **values}
        with language(self.lang):  # a slider moves long after the cell ran
            self.result = self._evaluate()
        if isinstance(self.result, Network):
            self.network = self.result
        if self._widget is not None:
            self._widget.children[1].value = self.to_html()

    # -------------------------------------------------------------- rendering

    def _words(self) -> str:
        return ", ".join(f"{name} = {value}" for name, value in self.values.items())

    def to_html(self) -> str:
        """The table (or the error) for the current values, and the pictures."""
        from .widget import CNNView

        with language(self.lang):
            result = self.result
            if isinstance(result, CNNError):
                words = _("no network with {values}").format(values=self._words())
                return (
                    f'<div class="cnn-magic-header"><b>{html.escape(words)}</b></div>'
                    f'<pre class="cnn-magic-error" style="color:#cf222e">'
                    f"{html.escape(str(result))}</pre>"
                )
            expanded, _changed = expand_lines(self.text, self.values)
            view = CNNView(expanded, static=True, pictures=False, **self.options)
            return view.to_html() + self.pictures_html(result)

    def used_lines(self) -> frozenset[int]:
        """The lines whose words use a varied variable."""
        _expanded, changed = expand_lines(self.text, self.values)
        names = set(self.ranges)
        return frozenset(
            number
            for number, line in changed.items()
            if any("{" + name + "}" in line.written.replace(" ", "") for name in names)
        )

    def pictures_html(self, net: Network) -> str:
        """The windows of the layers using a varied variable, and the network's picture."""
        with language(self.lang):
            lines = self.used_lines()
            windows = "".join(
                str(layer.windows_svg())
                for layer in net.layers
                if layer.axes and layer.line in lines
            )
            parts = []
            if windows:
                summary = html.escape(_("windows with {values}").format(values=self._words()))
                parts.append(
                    f'<details open class="cnnm-panel-windows"><summary>{summary}</summary>'
                    f"{windows}</details>"
                )
            summary = html.escape(_("the network"))
            parts.append(
                f'<details open class="cnnm-panel-network"><summary>{summary}</summary>'
                f"{net.to_svg()}</details>"
            )
            return "".join(parts)

    def to_text(self) -> str:
        from .widget import CNNView

        with language(self.lang):
            if isinstance(self.result, CNNError):
                return _("no network with {values}").format(values=self._words()) + (
                    f"\n{self.result}"
                )
            expanded, _changed = expand_lines(self.text, self.values)
            view = CNNView(expanded, static=True, **self.options)
            return _("with {values}").format(values=self._words()) + "\n" + view.to_text()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if not self.static:
            bundle[WIDGET_VIEW] = self.widget._repr_mimebundle_()[WIDGET_VIEW]
        return bundle

    # ----------------------------------------------------------------- widget

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use): one slider per variable, then the
        table and the pictures."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w  # type: ignore[import-untyped,unused-ignore]  # no stubs

        sliders = []
        for name, bounds in self.ranges.items():
            slider = w.IntSlider(
                value=self.values[name],
                min=bounds.low,
                max=bounds.high,
                step=bounds.step,
                description=name,
                continuous_update=True,
            )
            slider.observe(
                lambda change, name=name: self._apply({name: change["new"]}), names="value"
            )
            sliders.append(slider)
        box = w.VBox([w.VBox(sliders), w.HTML(self.to_html())])
        box.add_class("cnn-magic-view")
        box.add_class("cnn-magic-sliders")
        return box
