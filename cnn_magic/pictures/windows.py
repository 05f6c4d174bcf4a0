"""The windows of a layer, one picture per spatial dimension.

For a convolution or a pooling layer, :func:`plan` lays out one dimension as cells and
windows (pure arithmetic, tested on its own), and :func:`axis_svg` draws it:

* the input cells (numbered from 0) and the padding cells around them;
* every window as a bracket under the cells, numbered by the output it produces;
  a dilated kernel shows its taps, ``d`` cells apart;
* floor's input cells no window reads (red), ceil's extra window hanging over the
  edge (dashed cells beyond the padding), and the window the last-window rule drops
  because it would start in the right padding (dashed, struck out);
* ``same`` padding's odd extra cell at the end;
* for a transposed convolution, the output row: input ``i`` scatters its kernel to
  outputs ``i·S − P … i·S − P + k_eff − 1``; the ``P`` cells at each end are cropped
  and the output padding adds cells at the end.

A long dimension is drawn with a gap in the middle: the first and the last windows
are drawn exactly, with their true cell numbers, and the gap says what it hides.

Window ``i`` starts at padded cell ``i·S`` and covers ``k_eff = d·(k − 1) + 1`` cells;
adaptive pooling's window ``i`` covers ``⌊i·H/S⌋ … ⌈(i+1)·H/S⌉ − 1``.

>>> from cnn_magic.layers import Axis
>>> p = plan(Axis(13, 2, 2, 0, 0, 1, 6, "floor"))
>>> [w.start for w in p.windows], p.uncovered
([0, 2, 4, 6, 8, 10], (12,))
>>> p = plan(Axis(13, 2, 2, 0, 0, 1, 7, "ceil"))
>>> p.windows[-1], p.beyond
(Window(number=6, start=12, stop=14, taps=(12, 13), beyond=1), 1)
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import CNNError
from ..i18n import N_, _, _n, display_width
from ..shapes import SPATIAL_NAMES, Axis
from .svg import document, element, group, path, text

# cell kinds, also the CSS classes the cells are drawn with
INPUT, PAD, EXTRA, UNCOVERED, OVERHANG, CROPPED = (
    "input",
    "pad",
    "extra",
    "uncovered",
    "overhang",
    "cropped",
)


class Window(NamedTuple):
    """One window: cells ``start … stop − 1`` of the row (padded coordinates), the
    cells it reads (its taps), and how many cells it hangs beyond the padding."""

    number: int  # the output it produces (deconv: the input it scatters from)
    start: int
    stop: int
    taps: tuple[int, ...]
    beyond: int = 0


class Plan(NamedTuple):
    """One dimension laid out: cell kinds along a row, the windows over it.

    Cell 0 is the first cell of the row: the first padding cell for a convolution
    or pooling, the first cell of the uncropped output for a transposed convolution.
    """

    rule: str
    cells: tuple[str, ...]
    windows: tuple[Window, ...]
    first_input: int  # row position of input (or output) cell 0
    dropped: Window | None = None  # the window the last-window rule removed
    uncovered: tuple[int, ...] = ()  # input cells (numbered from 0) no window reads
    beyond: int = 0  # cells the last window hangs over the end of the padding
    extra_pad: int = 0  # same: the odd padding cell after


def k_eff(axis: Axis) -> int:
    """The cells a kernel spans: ``d·(k − 1) + 1``."""
    return axis.dilation * (axis.kernel - 1) + 1


SLIDING = ("floor", "ceil", "same")
SCATTERING = ("deconv", "upsample")  # drawn from the input's side: what each input writes
RULES = (*SLIDING, *SCATTERING, "adaptive")


def plan(axis: Axis) -> Plan:
    """Cells and windows of one dimension of a conv, pooling, transposed conv or
    upsampling layer (an upsampling by S writes each input to S outputs)."""
    if axis.rule == "deconv":
        return _scatter(axis)
    if axis.rule == "upsample":
        copies = axis.out // max(axis.size, 1)
        return _scatter(axis._replace(kernel=copies, stride=copies, dilation=1, pad_before=0))
    if axis.rule == "adaptive":
        return _adaptive(axis)
    if axis.rule in SLIDING:
        return _slide(axis)
    raise CNNError(
        _("no windows picture for the {rule!r} rule").format(rule=axis.rule),
        hint=_("valid: {choices}").format(choices=", ".join(RULES)),
    )


def _slide(axis: Axis) -> Plan:
    span, stride, padded = k_eff(axis), axis.stride, axis.pad_before + axis.size + axis.pad_after
    windows = []
    for i in range(axis.out):
        start = i * stride
        taps = tuple(range(start, start + span, axis.dilation))
        windows.append(Window(i, start, start + span, taps, max(0, start + span - padded)))
    end = max([padded, *(w.stop for w in windows)])
    read = {tap for w in windows for tap in w.taps}
    cells = []
    for cell in range(end):
        if cell >= padded:
            cells.append(OVERHANG)
        elif cell < axis.pad_before or cell >= axis.pad_before + axis.size:
            cells.append(PAD)
        else:
            cells.append(INPUT if cell in read else UNCOVERED)
    extra = axis.pad_after - axis.pad_before if axis.rule == "same" else 0
    for cell in range(padded - max(extra, 0), padded):
        cells[cell] = EXTRA
    dropped = None
    if axis.dropped_last:
        start = axis.out * stride
        dropped = Window(axis.out, start, start + span, tuple(range(start, start + span)))
    return Plan(
        axis.rule,
        tuple(cells),
        tuple(windows),
        axis.pad_before,
        dropped,
        tuple(c - axis.pad_before for c, kind in enumerate(cells) if kind == UNCOVERED),
        windows[-1].beyond if windows else 0,
        max(extra, 0),
    )


def _adaptive(axis: Axis) -> Plan:
    windows = []
    for i in range(axis.out):
        start = i * axis.size // axis.out
        stop = -(-(i + 1) * axis.size // axis.out)
        windows.append(Window(i, start, stop, tuple(range(start, stop))))
    return Plan(axis.rule, (INPUT,) * axis.size, tuple(windows), 0)


def _scatter(axis: Axis) -> Plan:
    """Transposed convolution: input ``i`` writes output cells ``i·S … i·S + k_eff − 1``
    of the uncropped row (``(H − 1)·S + k_eff`` cells); the output is its cells
    ``P … P + H_out − 1``: ``P`` cropped at each end, the output padding added after."""
    span = k_eff(axis)
    windows = []
    for i in range(axis.size):
        start = i * axis.stride
        windows.append(
            Window(i, start, start + span, tuple(range(start, start + span, axis.dilation)))
        )
    full = (axis.size - 1) * axis.stride + span
    end = max(full, axis.pad_before + axis.out)
    cells = []
    for cell in range(end):
        inside = axis.pad_before <= cell < axis.pad_before + axis.out
        # an output padding cell past the uncropped row: no input writes it
        cells.append(EXTRA if inside and cell >= full else INPUT if inside else CROPPED)
    return Plan(axis.rule, tuple(cells), tuple(windows), axis.pad_before)


# ---------------------------------------------------------------------------- drawing

LEFT = 64  # the column of row names
CELL_MAX, CELL_MIN = 20.0, 3.0
WIDTH = 760.0  # of the cells' area, at most
GAP = 26.0  # the elision's width
LANE = 17.0  # one row of brackets
CELL_H = 18.0
KEEP = 3  # windows kept at each end of a long row


class _Row(NamedTuple):
    """Which cells are drawn: ``[0, left)`` and ``[right, n)``; no gap when equal."""

    left: int
    right: int
    n: int
    cell: float  # cell width

    def x(self, cell: float) -> float:
        """The x of a cell edge (``cell`` may be fractional or ``n``)."""
        if cell <= self.left:
            return LEFT + cell * self.cell
        return LEFT + self.left * self.cell + self.gap + (cell - self.right) * self.cell

    @property
    def gap(self) -> float:
        return GAP if self.right > self.left else 0.0

    def shown(self, start: int, stop: int) -> bool:
        return stop <= self.left or start >= self.right

    @property
    def width(self) -> float:
        return self.x(self.n) - LEFT


def _row(p: Plan) -> _Row:
    n = len(p.cells)
    windows = p.windows
    if len(windows) > 2 * KEEP:
        left = max(windows[KEEP - 1].stop, p.first_input + 1)
        right = windows[-KEEP].start
        if p.dropped is not None:
            right = min(right, p.dropped.start)
        if right - left > 4:
            visible = left + n - right
            return _Row(left, right, n, max(CELL_MIN, min(CELL_MAX, (WIDTH - GAP) / visible)))
    return _Row(n, n, n, max(CELL_MIN, min(CELL_MAX, WIDTH / max(n, 1))))


def _lanes(windows: list[Window]) -> list[int]:
    """A lane per window, so that brackets in one lane never touch."""
    ends: list[int] = []
    out = []
    for w in windows:
        for lane, end in enumerate(ends):
            if w.start >= end:
                ends[lane] = w.stop
                out.append(lane)
                break
        else:
            ends.append(w.stop)
            out.append(len(ends) - 1)
    return out


def axis_svg(axis: Axis, name: str = "H") -> str:
    """The picture of one dimension (``name`` is its label: H, W, D)."""
    return document(*_axis_parts(axis, name, 0.0), title=_caption(axis, name))


# One sentence per rule, so that a translation words each as a whole.
_CAPTIONS = {
    "floor": N_("{name}: {size} cells, {bits}, floor → {out} outputs"),
    "ceil": N_("{name}: {size} cells, {bits}, ceil → {out} outputs"),
    "same": N_("{name}: {size} cells, {bits}, same padding → {out} outputs"),
    "deconv": N_("{name}: {size} cells, {bits}, transposed → {out} outputs"),
}


def _caption(axis: Axis, name: str) -> str:
    """``H: 13 cells, k2 s2, ceil → 7 outputs`` and what the picture shows."""
    if axis.rule == "adaptive":
        return _("{name}: {size} cells, adaptive pooling → {out} outputs").format(
            name=name, size=axis.size, out=axis.out
        )
    bits = [f"k{axis.kernel}"]
    if axis.stride != 1:
        bits.append(f"s{axis.stride}")
    if axis.pad_before or axis.pad_after:
        pads = (axis.pad_before, axis.pad_after)
        bits.append(f"p{pads[0]}" if pads[0] == pads[1] else f"p{pads[0]}+{pads[1]}")
    if axis.dilation != 1:
        bits.append(f"d{axis.dilation}")
    if axis.out_pad:
        bits.append(f"op{axis.out_pad}")
    if axis.rule == "upsample":
        times = axis.out // max(axis.size, 1)
        return _("{name}: {size} cells, upsampled ×{times} → {out} outputs").format(
            name=name, size=axis.size, times=times, out=axis.out
        )
    caption = _CAPTIONS.get(axis.rule, N_("{name}: {size} cells, {bits}, {rule} → {out} outputs"))
    return _(caption).format(
        name=name, size=axis.size, bits=" ".join(bits), rule=axis.rule, out=axis.out
    )


def _axis_parts(axis: Axis, name: str, top: float) -> tuple[float, float, list[str]]:
    """(width, height, parts) of one dimension's picture, drawn from y = ``top``."""
    p = plan(axis)
    row = _row(p)
    parts = [text(0, top + 12, _caption(axis, name), cls="cnnm-title")]
    y = top + 22
    deconv = p.rule in SCATTERING
    if deconv:
        y = _input_row(axis, row, y, parts)
    parts += _cells(p, row, y, _("output") if deconv else _("input"))
    y += CELL_H + 4
    drawn = [w for w in p.windows if row.shown(w.start, w.stop)]
    lanes = _lanes(drawn)
    first, second = (_("scattered"), _("from input")) if deconv else (_("window"), _("→ output"))
    parts.append(text(0, y + 7, first, cls="cnnm-small cnnm-muted"))
    parts.append(text(0, y + 17, second, cls="cnnm-small cnnm-muted"))
    for w, lane in zip(drawn, lanes, strict=True):
        parts.append(_bracket(w, row, y + lane * LANE, p.rule))
    count = (max(lanes) + 1) if lanes else 0
    if p.dropped is not None:
        parts.append(_dropped(p.dropped, row, y + count * LANE))
        count += 1
    y += count * LANE + 8
    hidden = len(p.windows) - len(drawn)
    notes = _notes(axis, p, hidden)
    for line in notes:
        parts.append(text(0, y + 11, line, cls="cnnm-muted"))
        y += 14
    # a Chinese character is about as wide as two Latin ones
    width = max(
        LEFT + row.width + 8,
        8 + 6.5 * display_width(_caption(axis, name)),
        *(8 + 5.6 * display_width(line) for line in notes),
    )
    if p.dropped is not None:
        width = max(width, row.x(p.dropped.stop) + 8 + 5 * display_width(_(_DROPPED)) + 20)
    return width, y + 4, parts


def _input_row(axis: Axis, row: _Row, y: float, parts: list[str]) -> float:
    """Transposed convolution: the input cells above the output row."""
    parts.append(text(0, y + 13, _("input"), cls="cnnm-muted"))
    cells = []
    for i in range(axis.size):
        x = row.x(i * axis.stride)
        if not row.shown(i * axis.stride, i * axis.stride + 1):
            continue
        cells.append(element("rect", x=x, y=y, width=row.cell, height=CELL_H, cls="cnnm-input"))
        if row.cell >= 12:
            cells.append(
                text(x + row.cell / 2, y + 13, str(i), cls="cnnm-small", text_anchor="middle")
            )
    parts.append(group(cells, data_row="input"))
    return y + CELL_H + 6


def _cells(p: Plan, row: _Row, y: float, label: str) -> list[str]:
    parts = [text(0, y + 13, label, cls="cnnm-muted")]
    cells = []
    for c, kind in enumerate(p.cells):
        if not row.shown(c, c + 1):
            continue
        x = row.x(c)
        cells.append(
            element(
                "rect",
                x=x,
                y=y,
                width=row.cell,
                height=CELL_H,
                cls=f"cnnm-cell cnnm-{kind}",
                data_cell=c - p.first_input,
            )
        )
        number = c - p.first_input
        if row.cell >= 12 and kind in (INPUT, UNCOVERED):
            cells.append(
                text(x + row.cell / 2, y + 13, str(number), cls="cnnm-small", text_anchor="middle")
            )
    parts.append(group(cells, data_row="cells"))
    if row.gap:
        mid = row.x(row.left) + GAP / 2
        parts.append(text(mid, y + 13, "…", text_anchor="middle", cls="cnnm-gap"))
    return parts


def _bracket(w: Window, row: _Row, y: float, rule: str) -> str:
    x0, x1 = row.x(w.start) + 2, row.x(w.stop) - 2
    foot = y + 6
    parts = [
        path(
            [(x0, y), (x0, foot), (x1, foot), (x1, y)],
            cls="cnnm-window" + (" cnnm-beyond" if w.beyond else ""),
        ),
    ]
    if len(w.taps) != w.stop - w.start:  # dilated: show which cells it reads
        for tap in w.taps:
            parts.append(element("circle", cx=row.x(tap + 0.5), cy=foot, r=2.2, cls="cnnm-tap"))
    parts.append(
        text((x0 + x1) / 2, foot + 10, str(w.number), cls="cnnm-small", text_anchor="middle")
    )
    return group(
        parts,
        cls="cnnm-win",
        data_index=w.number,
        data_start=w.start,
        data_stop=w.stop,
        data_rule=rule,
    )


_DROPPED = N_("dropped, it would start in the padding")


def _dropped(w: Window, row: _Row, y: float) -> str:
    x0, x1 = row.x(w.start) + 2, row.x(w.stop) - 2
    foot = y + 6
    return group(
        [
            path([(x0, y), (x0, foot), (x1, foot), (x1, y)], cls="cnnm-dropped"),
            text(x1 + 6, foot + 3, f"{w.number}: {_(_DROPPED)}", cls="cnnm-small"),
        ],
        cls="cnnm-dropped-window",
        data_index=w.number,
        data_start=w.start,
        data_stop=w.stop,
    )


def _notes(axis: Axis, p: Plan, hidden: int) -> list[str]:
    """The words under the picture: what the marked cells mean."""
    notes = []
    if hidden:
        notes.append(
            _n(
                "… {count} window in the gap not drawn; both ends are exact",
                "… {count} windows in the gap not drawn; both ends are exact",
                hidden,
            ).format(count=hidden)
        )
    if p.uncovered:
        cells = ", ".join(map(str, p.uncovered[:8])) + (" …" if len(p.uncovered) > 8 else "")
        notes.append(
            _n(
                "red: input cell {cells} read by no window",
                "red: input cells {cells} read by no window",
                len(p.uncovered),
            ).format(cells=cells)
        )
    if p.beyond:
        notes.append(
            _n(
                "ceil: the last window hangs {count} cell over the edge; "
                "it reads only what lies inside",
                "ceil: the last window hangs {count} cells over the edge; "
                "it reads only what lies inside",
                p.beyond,
            ).format(count=p.beyond)
        )
    if p.dropped is not None:
        n, start = p.dropped.number, p.dropped.start
        notes.append(
            _(
                "last-window rule: window {n} would start at padded cell {n}·{stride} = "
                "{start} ≥ H + P = {reach}, in the right padding: dropped"
            ).format(n=n, stride=axis.stride, start=start, reach=axis.size + axis.pad_before)
        )
    if p.extra_pad:
        notes.append(_("same: the odd padding cell goes after (bottom/right), as TensorFlow"))
    if p.rule in SCATTERING:
        if axis.pad_before:
            notes.append(
                _n(
                    "padding {pad} crops {pad} cell at each end of the scattered row",
                    "padding {pad} crops {pad} cells at each end of the scattered row",
                    axis.pad_before,
                ).format(pad=axis.pad_before)
            )
        if axis.out_pad:
            notes.append(
                _n(
                    "output padding adds {count} cell at the end",
                    "output padding adds {count} cells at the end",
                    axis.out_pad,
                ).format(count=axis.out_pad)
            )
    return notes


# ------------------------------------------------------------------------ a layer


def layer_axes(axes: tuple[Axis, ...]) -> list[tuple[str, Axis]]:
    """(name, axis) per spatial dimension; dimensions computed alike share one picture
    (``H = W``), as the worked formulas share one line.

    >>> a, b = Axis(16, 3, 1, 1, 1, 1, 16, "floor"), Axis(32, 3, 1, 1, 1, 1, 32, "floor")
    >>> [name for name, _ in layer_axes((a, b, b))]
    ['D', 'H = W']
    """
    names = SPATIAL_NAMES.get(len(axes), tuple(f"dim{i}" for i in range(len(axes))))
    alike: dict[Axis, list[str]] = {}
    for name, axis in zip(names, axes, strict=True):
        alike.setdefault(axis, []).append(name)
    return [(" = ".join(group), axis) for axis, group in alike.items()]


def windows_svg(axes: tuple[Axis, ...], title: str = "") -> str:
    """One picture of every spatial dimension of a layer, stacked."""
    parts: list[str] = []
    width, y = 0.0, 0.0
    if title:
        parts.append(text(0, 13, title, cls="cnnm-title"))
        y = 20.0
    for name, axis in layer_axes(axes):
        w, h, drawn = _axis_parts(axis, name, y)
        parts.append(group(drawn, cls="cnnm-axis", data_dim=name))
        width, y = max(width, w), h + 6
    label = title or "; ".join(_caption(axis, name) for name, axis in layer_axes(axes))
    return document(width, y, parts, title=label)
