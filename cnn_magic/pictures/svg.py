"""A few lines of SVG writing shared by the pictures: elements, text, the theme.

Every picture is a plain string. Colours come from CSS classes whose values read
JupyterLab's variables (``var(--jp-…)``) with fallbacks of their own, so a picture
follows the notebook's light or dark theme, and outside JupyterLab (GitHub, a file
opened in a browser) follows ``prefers-color-scheme``. Text stays text: selectable
and searchable. Nothing is fetched.

>>> print(element("rect", x=1, y=2.5, width=3, height=4, cls="cnnm-cell cnnm-tap"))
<rect x="1" y="2.5" width="3" height="4" class="cnnm-cell cnnm-tap" fill="#3b82f6"/>
>>> print(text(10, 20, "a < b", cls="cnnm-small"))
<text x="10" y="20" class="cnnm-small" fill="currentColor" font-size="9">a &lt; b</text>
"""

from __future__ import annotations

import html

from ..i18n import _

# The palette: --cnnm-* hold the fallback colours (light, or dark when the page asks);
# each rule prefers JupyterLab's variable when the page defines it.
INK = "var(--jp-ui-font-color1,var(--cnnm-ink))"
MUTED = "var(--jp-ui-font-color2,var(--cnnm-muted))"
FAINT = "var(--jp-ui-font-color3,var(--cnnm-line))"
PAPER = "var(--jp-layout-color0,var(--cnnm-paper))"
BLUE, RED, GREEN, ORANGE, GREY, PURPLE = (
    "#3b82f6", "#cf222e", "#2da44e", "#e3872d", "#9aa4b1", "#8250df",
)  # fmt: skip
_FACE = f"stroke:{INK};stroke-width:.8"
_DASHED = f"stroke:{FAINT};stroke-dasharray:2 2"
RULES = {
    "text": f"fill:{INK}",
    ".cnnm-muted": f"fill:{MUTED}",
    ".cnnm-title": "font-weight:600;font-size:12px",
    ".cnnm-small": "font-size:9px",
    ".cnnm-edge": f"stroke:{MUTED};stroke-width:1;fill:none",
    ".cnnm-flow": f"stroke:{MUTED};stroke-width:1.2;fill:none",
    ".cnnm-arrowhead": f"fill:{MUTED}",
    ".cnnm-input": f"fill:{GREY};fill-opacity:.35;stroke:{MUTED}",
    ".cnnm-pad": f"fill:{GREY};fill-opacity:.08;{_DASHED}",
    ".cnnm-cropped": f"fill:{GREY};fill-opacity:.08;{_DASHED}",
    ".cnnm-extra": f"fill:#d4a72c;fill-opacity:.35;{_DASHED}",
    ".cnnm-uncovered": f"fill:{RED};fill-opacity:.45;stroke:{RED}",
    ".cnnm-overhang": f"fill:none;stroke:{RED};stroke-dasharray:3 2",
    ".cnnm-window": f"stroke:{BLUE};stroke-width:1.5;fill:none",
    ".cnnm-window.cnnm-beyond": f"stroke:{RED}",
    ".cnnm-tap": f"fill:{BLUE}",
    ".cnnm-dropped": f"stroke:{RED};stroke-width:1.2;fill:none;stroke-dasharray:4 3",
    ".cnnm-conv": f"fill:{BLUE};fill-opacity:.30;{_FACE}",
    ".cnnm-pool": f"fill:{ORANGE};fill-opacity:.35;{_FACE}",
    ".cnnm-map": f"fill:{GREY};fill-opacity:.35;{_FACE}",
    ".cnnm-fc": f"fill:{GREEN};fill-opacity:.40;{_FACE}",
    ".cnnm-shade": "fill:#000;fill-opacity:.12;stroke:none",
    ".cnnm-merge": f"fill:{PAPER};stroke:{INK};stroke-width:1",
    ".cnnm-block": f"fill:{PURPLE};fill-opacity:.05;stroke:{PURPLE};stroke-opacity:.6;"
    "stroke-dasharray:4 3",
    ".cnnm-bar": f"fill:{BLUE};fill-opacity:.65",
    ".cnnm-bar.cnnm-params": f"fill:{GREEN}",
    ".cnnm-bar.cnnm-memory": f"fill:{ORANGE}",
    ".cnnm-cumulative": f"stroke:{RED};stroke-width:1.5;fill:none",
    ".cnnm-dot": f"fill:{RED}",
    ".cnnm-grid": f"stroke:{FAINT};stroke-opacity:.5;stroke-width:.6",
}
STYLE = (
    ".cnnm{--cnnm-ink:#1f2328;--cnnm-muted:#59636e;--cnnm-paper:#fff;--cnnm-line:#8c959f;"
    "font-family:var(--jp-ui-font-family,system-ui,-apple-system,'Segoe UI',sans-serif);"
    "font-size:11px}"
    "@media (prefers-color-scheme:dark){.cnnm{--cnnm-ink:#e6edf3;--cnnm-muted:#9198a1;"
    "--cnnm-paper:#0d1117;--cnnm-line:#6e7681}}"
    + "".join(f".cnnm {selector}{{{rule}}}" for selector, rule in RULES.items())
)


# Presentation attributes under the CSS: where a page drops the <style> (a sanitiser),
# the picture keeps readable colours; wherever the style applies, it wins over them.
_FILL = {"fill_opacity": ".35", "stroke": "currentColor", "stroke_width": ".8"}
FALLBACK: dict[str, dict[str, str]] = {
    "cnnm-conv": {"fill": BLUE, **_FILL},
    "cnnm-pool": {"fill": ORANGE, **_FILL},
    "cnnm-map": {"fill": GREY, **_FILL},
    "cnnm-fc": {"fill": GREEN, **_FILL},
    "cnnm-input": {"fill": GREY, **_FILL},
    "cnnm-uncovered": {"fill": RED, **_FILL},
    "cnnm-pad": {"fill": "none", "stroke": GREY, "stroke_dasharray": "2 2"},
    "cnnm-cropped": {"fill": "none", "stroke": GREY, "stroke_dasharray": "2 2"},
    "cnnm-extra": {"fill": "#d4a72c", **_FILL},
    "cnnm-overhang": {"fill": "none", "stroke": RED, "stroke_dasharray": "3 2"},
    "cnnm-window": {"fill": "none", "stroke": BLUE, "stroke_width": "1.5"},
    "cnnm-beyond": {"fill": "none", "stroke": RED, "stroke_width": "1.5"},
    "cnnm-dropped": {"fill": "none", "stroke": RED, "stroke_dasharray": "4 3"},
    "cnnm-tap": {"fill": BLUE},
    "cnnm-shade": {"fill": "#000", "fill_opacity": ".12"},
    "cnnm-flow": {"fill": "none", "stroke": GREY},
    "cnnm-arrowhead": {"fill": GREY},
    "cnnm-merge": {"fill": "none", "stroke": "currentColor"},
    "cnnm-block": {"fill": "none", "stroke": PURPLE, "stroke_dasharray": "4 3"},
    "cnnm-bar": {"fill": BLUE},
    "cnnm-ops": {"fill": BLUE},
    "cnnm-params": {"fill": GREEN},
    "cnnm-memory": {"fill": ORANGE},
    "cnnm-cumulative": {"fill": "none", "stroke": RED, "stroke_width": "1.5"},
    "cnnm-dot": {"fill": RED},
    "cnnm-grid": {"stroke": GREY, "stroke_width": ".6"},
}


def fmt(value: float) -> str:
    """A coordinate, without a trailing ``.0`` and with at most two decimals.

    >>> fmt(3.0), fmt(2.456), fmt(-0.004)
    ('3', '2.46', '0')
    """
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(attrs: dict[str, object]) -> str:
    out = []
    for name, value in attrs.items():
        if value is None:
            continue
        key = "class" if name == "cls" else name.replace("_", "-")
        shown = fmt(value) if isinstance(value, float) else str(value)
        out.append(f' {key}="{html.escape(shown, quote=True)}"')
    return "".join(out)


def element(tag: str, **attrs: object) -> str:
    """An empty element: ``<tag a="1"/>``; ``cls`` is written ``class``, ``_`` as ``-``;
    its class's fallback colours follow its own attributes."""
    css = attrs.get("cls")
    if isinstance(css, str):
        attrs = {**attrs, **FALLBACK.get(css.split()[-1], {})}
    return f"<{tag}{_attrs(attrs)}/>"


def text(x: float, y: float, content: str, **attrs: object) -> str:
    """A text element, its content escaped."""
    attrs = {"x": x, "y": y, **attrs, "fill": "currentColor"}
    if "cnnm-small" in str(attrs.get("cls", "")):
        attrs["font_size"] = 9
    return f"<text{_attrs(attrs)}>{html.escape(content, quote=False)}</text>"


def group(parts: list[str], **attrs: object) -> str:
    return f"<g{_attrs(attrs)}>{''.join(parts)}</g>"


def path(points: list[tuple[float, float]], **attrs: object) -> str:
    """An open polyline through ``points`` as a path."""
    d = " ".join(f"{'M' if i == 0 else 'L'}{fmt(x)} {fmt(y)}" for i, (x, y) in enumerate(points))
    return element("path", d=d, **attrs)


def document(
    width: float, height: float, parts: list[str], title: str, zoom: float = 1.0, **attrs: object
) -> str:
    """A whole ``<svg>``: its size (``zoom`` times its drawing's), a ``<title>`` (the
    accessible name), the style."""
    width, height = float(round(width + 0.5)), float(round(height + 0.5))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cnnm" width="{fmt(width * zoom)}" '
        f'height="{fmt(height * zoom)}" viewBox="0 0 {fmt(width)} {fmt(height)}" role="img" '
        'font-family="sans-serif" font-size="11"'
        f"{_attrs(attrs)}>"
    )
    return (
        head
        + f"<title>{html.escape(title, quote=False)}</title>"
        + f"<style>{STYLE}</style>"
        + "".join(parts)
        + "</svg>"
    )


class Svg(str):
    """An SVG picture: a ``str`` (save it, embed it, compare it) that a notebook shows.

    ``alt`` is the words a terminal, a screen reader or a text comparison gets.
    """

    alt: str

    def __new__(cls, svg: str, alt: str = "") -> Svg:
        self = super().__new__(cls, svg)
        self.alt = alt
        return self

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {
            "image/svg+xml": str(self),
            # a wide picture scrolls inside the output instead of widening it
            "text/html": f'<div class="cnnm-picture" style="max-width:100%;overflow-x:auto">'
            f"{self}</div>",
            "text/plain": self.alt or _("<SVG picture>"),
        }

    def save(self, path: str) -> None:
        """Write the picture to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(str(self))
