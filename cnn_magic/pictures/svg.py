"""A few lines of SVG writing shared by the pictures: elements, text, the theme.

Every picture is a plain string. Colours come from CSS classes whose values read
JupyterLab's variables (``var(--jp-…)``) with fallbacks of their own, so a picture
follows the notebook's light or dark theme, and outside JupyterLab (GitHub, a file
opened in a browser) follows ``prefers-color-scheme``. Text stays text: selectable
and searchable. Nothing is fetched.

>>> print(element("rect", x=1, y=2.5, width=3, height=4, cls="cnnm-cell"))
<rect x="1" y="2.5" width="3" height="4" class="cnnm-cell"/>
>>> print(text(10, 20, "a < b", cls="cnnm-label"))
<text x="10" y="20" class="cnnm-label">a &lt; b</text>
"""

from __future__ import annotations

import html

# The palette: --cnnm-* hold the fallback colours (light, or dark when the page asks);
# each class prefers JupyterLab's variable when it is defined.
STYLE = """
.cnnm{--cnnm-ink:#1f2328;--cnnm-muted:#59636e;--cnnm-paper:#ffffff;--cnnm-line:#8c959f;
font-family:var(--jp-ui-font-family,system-ui,-apple-system,"Segoe UI",sans-serif);font-size:11px}
@media (prefers-color-scheme:dark){.cnnm{--cnnm-ink:#e6edf3;--cnnm-muted:#9198a1;
--cnnm-paper:#0d1117;--cnnm-line:#6e7681}}
.cnnm text{fill:var(--jp-ui-font-color1,var(--cnnm-ink))}
.cnnm .cnnm-muted{fill:var(--jp-ui-font-color2,var(--cnnm-muted))}
.cnnm .cnnm-title{font-weight:600;font-size:12px}
.cnnm .cnnm-small{font-size:9px}
.cnnm .cnnm-bg{fill:var(--jp-layout-color0,var(--cnnm-paper))}
.cnnm .cnnm-edge{stroke:var(--jp-ui-font-color2,var(--cnnm-muted));stroke-width:1;fill:none}
.cnnm .cnnm-flow{stroke:var(--jp-ui-font-color2,var(--cnnm-muted));stroke-width:1.2;fill:none}
.cnnm .cnnm-input{fill:#9aa4b1;fill-opacity:.35;stroke:var(--jp-ui-font-color2,var(--cnnm-line))}
.cnnm .cnnm-pad{fill:#9aa4b1;fill-opacity:.08;stroke:var(--jp-ui-font-color3,var(--cnnm-line));stroke-dasharray:2 2}
.cnnm .cnnm-extra{fill:#d4a72c;fill-opacity:.35;stroke:var(--jp-ui-font-color3,var(--cnnm-line));stroke-dasharray:2 2}
.cnnm .cnnm-uncovered{fill:#cf222e;fill-opacity:.45;stroke:#cf222e}
.cnnm .cnnm-overhang{fill:none;stroke:#cf222e;stroke-dasharray:3 2}
.cnnm .cnnm-cropped{fill:#9aa4b1;fill-opacity:.08;stroke:var(--jp-ui-font-color3,var(--cnnm-line));stroke-dasharray:2 2}
.cnnm .cnnm-window{stroke:#3b82f6;stroke-width:1.5;fill:none}
.cnnm .cnnm-window.cnnm-beyond{stroke:#cf222e}
.cnnm .cnnm-tap{fill:#3b82f6}
.cnnm .cnnm-dropped{stroke:#cf222e;stroke-width:1.2;fill:none;stroke-dasharray:4 3}
.cnnm .cnnm-conv{fill:#2f81f7;fill-opacity:.30;stroke:var(--jp-ui-font-color1,var(--cnnm-ink));stroke-width:.8}
.cnnm .cnnm-pool{fill:#e3872d;fill-opacity:.35;stroke:var(--jp-ui-font-color1,var(--cnnm-ink));stroke-width:.8}
.cnnm .cnnm-map{fill:#9aa4b1;fill-opacity:.35;stroke:var(--jp-ui-font-color1,var(--cnnm-ink));stroke-width:.8}
.cnnm .cnnm-fc{fill:#2da44e;fill-opacity:.40;stroke:var(--jp-ui-font-color1,var(--cnnm-ink));stroke-width:.8}
.cnnm .cnnm-shade{fill:#000;fill-opacity:.10}
.cnnm .cnnm-merge{fill:var(--jp-layout-color0,var(--cnnm-paper));stroke:var(--jp-ui-font-color1,var(--cnnm-ink));stroke-width:1}
.cnnm .cnnm-block{fill:#8250df;fill-opacity:.05;stroke:#8250df;stroke-opacity:.6;stroke-dasharray:4 3}
.cnnm .cnnm-bar{fill:#2f81f7;fill-opacity:.65}
.cnnm .cnnm-bar.cnnm-params{fill:#2da44e}
.cnnm .cnnm-bar.cnnm-memory{fill:#e3872d}
.cnnm .cnnm-cumulative{stroke:#cf222e;stroke-width:1.5;fill:none}
.cnnm .cnnm-dot{fill:#cf222e}
.cnnm .cnnm-grid{stroke:var(--jp-border-color2,var(--cnnm-line));stroke-opacity:.5;stroke-width:.6}
"""


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
    """An empty element: ``<tag a="1"/>``; ``cls`` is written ``class``, ``_`` as ``-``."""
    return f"<{tag}{_attrs(attrs)}/>"


def text(x: float, y: float, content: str, **attrs: object) -> str:
    """A text element, its content escaped."""
    return f"<text{_attrs({'x': x, 'y': y, **attrs})}>{html.escape(content, quote=False)}</text>"


def group(parts: list[str], **attrs: object) -> str:
    return f"<g{_attrs(attrs)}>{''.join(parts)}</g>"


def path(points: list[tuple[float, float]], **attrs: object) -> str:
    """An open polyline through ``points`` as a path."""
    d = " ".join(f"{'M' if i == 0 else 'L'}{fmt(x)} {fmt(y)}" for i, (x, y) in enumerate(points))
    return element("path", d=d, **attrs)


def document(width: float, height: float, parts: list[str], title: str, **attrs: object) -> str:
    """A whole ``<svg>``: its size, a ``<title>`` (the accessible name), the style."""
    width, height = float(round(width + 0.5)), float(round(height + 0.5))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cnnm" width="{fmt(width)}" '
        f'height="{fmt(height)}" viewBox="0 0 {fmt(width)} {fmt(height)}" role="img"'
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
            "text/html": f'<div class="cnnm-picture">{self}</div>',
            "text/plain": self.alt or "<SVG picture>",
        }

    def save(self, path: str) -> None:
        """Write the picture to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(str(self))
