"""The network's picture: feature maps as boxes, vectors as bars, blocks as branches.

A feature map ``H×W×C`` is a box whose height follows ``H``, whose receding side
follows ``W`` and whose thickness follows ``C``, all on log scales so that LeNet-5's
32×32×1 and ResNet-50's 7×7×2048 both read; a vector (and a 1×1×C map) is a bar whose
height follows its length. Every box is labelled with its layer's name and its shape,
written as the table writes it. Element-wise layers (activations, batch norm, dropout)
keep the shape and are not drawn.

Blocks: a ``residual:`` splits into its body and its shortcut (the input itself when
there is none) and merges at ``+``; ``concat:`` and ``add:`` stack their branches and
merge at ``∥`` or ``+``; a ``repeat N:`` is drawn once, framed, with ``×N``. A long
network wraps onto several rows.

>>> import cnn_magic
>>> svg = network_svg(cnn_magic.example("lenet5"))
>>> svg.count('class="cnnm-node"'), "5×5×16" in svg
(8, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from ..i18n import _, display_width
from ..results import Block, Layer, Network
from ..shapes import format_shape
from .svg import document, element, group, path, text

Draw = Callable[[float, float], list[str]]  # (left x, y of the flow line) → parts

ROW_WIDTH = 1000.0  # a row wraps beyond this
MERGES = ("residual", "concat", "add")  # blocks whose branches meet in a merge layer
ARROW = 22.0  # between two pieces
CHAR = 6.0  # an 11 px character, about
SMALL_CHAR = 6.2
LABEL = 14.0  # a text line


@dataclass(frozen=True, slots=True)
class Piece:
    """Something drawn on the flow line: ``up`` above it, ``down`` below it."""

    width: float
    up: float
    down: float
    draw: Draw


# ----------------------------------------------------------------------------- scales


def size_scale(n: int) -> float:
    """Pixels for a spatial size or a vector's length: ``10 + 14·log₂ n``, at most 150.

    >>> size_scale(1), size_scale(32), round(size_scale(224), 1)
    (10.0, 80.0, 119.3)
    """
    return min(150.0, 10.0 + 14.0 * math.log2(max(n, 1)))


def depth_scale(channels: int) -> float:
    """Pixels for a channel count: ``3 + 5·log₂ C``.

    >>> depth_scale(1), depth_scale(64), depth_scale(2048)
    (3.0, 33.0, 58.0)
    """
    return 3.0 + 5.0 * math.log2(max(channels, 1))


def _plane(shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(H, W, C) of a feature map (the last two spatial sizes), or None for a vector."""
    if len(shape) < 2 or math.prod(shape[:-1]) == 1:
        return None
    spatial = shape[:-1]
    height = spatial[-2] if len(spatial) >= 2 else spatial[0]
    width = spatial[-1] if len(spatial) >= 2 else 1
    return height, width, shape[-1]


def _kind(layer: Layer | None) -> str:
    if layer is None:
        return "map"
    if layer.macs:
        return "conv" if _plane(layer.out_shape) else "fc"
    return (
        "pool" if layer.axes or layer.op.endswith("pool") or layer.op in ("gap", "gmp") else "map"
    )


def drawn(layer: Layer) -> bool:
    """Whether a layer gets a box: it computes (MACs), slides windows or reshapes."""
    return bool(layer.macs) or layer.axes is not None or layer.out_shape != layer.in_shape


# ----------------------------------------------------------------------------- pieces


def node(name: str, shape: tuple[int, ...], kind: str, op: str) -> Piece:
    """A box (feature map) or a bar (vector), its name above and its shape below."""
    label = format_shape(shape)
    plane = _plane(shape)
    if plane is None:
        bar_width, height, skew = 9.0, size_scale(math.prod(shape)), 0.0
        body_width = bar_width
        css = "cnnm-fc" if kind in ("fc", "conv") else f"cnnm-{kind}"
    else:
        h, w, c = plane
        bar_width, height, skew = depth_scale(c), size_scale(h), size_scale(w) * 0.22
        body_width = bar_width + skew
        css = f"cnnm-{kind}"
    width = max(body_width, CHAR * display_width(name), SMALL_CHAR * len(label)) + 4
    up = down = (height + skew) / 2 + LABEL

    def draw(x: float, y: float) -> list[str]:
        left = x + (width - body_width) / 2
        top = y - (height + skew) / 2 + skew  # front face's top
        parts = [
            element("rect", x=left, y=top, width=bar_width, height=height, cls=f"cnnm-front {css}")
        ]
        if skew:
            right = left + bar_width
            top_face = _points(
                (left, top), (left + skew, top - skew), (right + skew, top - skew), (right, top)
            )
            side_face = _points(
                (right, top),
                (right + skew, top - skew),
                (right + skew, top - skew + height),
                (right, top + height),
            )
            # the side face is drawn twice: its colour, then a shade over it
            parts += [
                element("polygon", points=top_face, cls=css),
                element("polygon", points=side_face, cls=css),
                element("polygon", points=side_face, cls="cnnm-shade"),
            ]
        mid = x + width / 2
        parts.append(text(mid, top - skew - 4, name, text_anchor="middle"))
        parts.append(
            text(mid, top + height + 11, label, text_anchor="middle", cls="cnnm-small cnnm-muted")
        )
        return [
            group(
                parts,
                cls="cnnm-node",
                data_layer=name,
                data_op=op,
                data_shape=label,
                data_height=height,
                data_depth=bar_width,
            )
        ]

    return Piece(width, up, down, draw)


def _points(*points: tuple[float, float]) -> str:
    from .svg import fmt

    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)


def _arrow(x0: float, x1: float, y: float) -> list[str]:
    return [
        path([(x0 + 2, y), (x1 - 3, y)], cls="cnnm-flow"),
        element(
            "polygon",
            points=_points((x1 - 2, y), (x1 - 7, y - 3), (x1 - 7, y + 3)),
            cls="cnnm-arrowhead",
        ),
    ]


def sequence(pieces: list[Piece]) -> Piece:
    """Pieces side by side on one flow line, arrows between them."""
    if not pieces:
        return Piece(12.0, 2.0, 2.0, lambda x, y: [path([(x, y), (x + 12, y)], cls="cnnm-flow")])
    width = sum(p.width for p in pieces) + ARROW * (len(pieces) - 1)
    up = max(p.up for p in pieces)
    down = max(p.down for p in pieces)

    def draw(x: float, y: float) -> list[str]:
        parts: list[str] = []
        for i, piece in enumerate(pieces):
            if i:
                parts += _arrow(x - ARROW, x, y)
            parts += piece.draw(x, y)
            x += piece.width
        return parts

    return Piece(width, up, down, draw)


def branches(paths: list[Piece], merge: str, names: list[str]) -> Piece:
    """Paths stacked under each other between a split and a merge node (``+`` or
    ``∥``): the first on the flow line."""
    gap, lead = 16.0, 16.0
    inner = max(p.width for p in paths)
    width = lead + inner + lead + 14
    offsets = [0.0]
    for above, below in itertools.pairwise(paths):
        offsets.append(offsets[-1] + above.down + gap + below.up)
    up = paths[0].up
    down = offsets[-1] + paths[-1].down

    def draw(x: float, y: float) -> list[str]:
        parts: list[str] = []
        merge_x = x + lead + inner + lead + 7
        for piece, offset, name in zip(paths, offsets, names, strict=True):
            yy = y + offset
            start = x + lead + (inner - piece.width) / 2
            parts.append(path([(x, y), (x + 6, yy), (start, yy)], cls="cnnm-flow"))
            parts += piece.draw(start, yy)
            parts.append(
                path([(start + piece.width, yy), (merge_x - 8, yy), (merge_x, y)], cls="cnnm-flow")
            )
            if name and offset:
                parts.append(text(x + 9, yy + 10, name, cls="cnnm-small cnnm-muted"))
        parts.append(element("circle", cx=merge_x, cy=y, r=7, cls="cnnm-merge"))
        parts.append(text(merge_x, y + 4, merge, text_anchor="middle", cls="cnnm-small"))
        return parts

    return Piece(width + 7, up, down, draw)


def framed(piece: Piece, label: str, kind: str, name: str, repeat: int = 1) -> Piece:
    """A block's dashed frame around ``piece``, its name (and ×N) on top."""
    pad = 6.0
    width = max(piece.width, CHAR * display_width(label)) + 2 * pad
    up, down = piece.up + pad + LABEL, piece.down + pad

    def draw(x: float, y: float) -> list[str]:
        parts = [
            element(
                "rect",
                x=x,
                y=y - up + LABEL,
                width=width,
                height=up + down - LABEL,
                rx=6,
                cls="cnnm-block",
            ),
            text(x + 4, y - up + LABEL - 3, label, cls="cnnm-small cnnm-muted"),
            path([(x, y), (x + pad + (width - 2 * pad - piece.width) / 2, y)], cls="cnnm-flow"),
            path(
                [(x + width - pad - (width - 2 * pad - piece.width) / 2, y), (x + width, y)],
                cls="cnnm-flow",
            ),
        ]
        parts += piece.draw(x + pad + (width - 2 * pad - piece.width) / 2, y)
        return [
            group(parts, cls="cnnm-blockbox", data_block=name, data_kind=kind, data_repeat=repeat)
        ]

    return Piece(width, up, down, draw)


# ------------------------------------------------------------------------------ tree


def period(lines: list[int]) -> int:
    """The length of one pass of a repeat: the shortest prefix whose copies make up
    the layers' source lines (each pass runs the same statements).

    >>> period([3, 4, 5, 3, 4, 5]), period([7, 7, 7]), period([1, 2])
    (3, 1, 2)
    """
    n = len(lines)
    for p in range(1, n + 1):
        if n % p == 0 and all(lines[i] == lines[i % p] for i in range(n)):
            return p
    return n


class _Builder:
    """Turns the flat layers and block spans into nested pieces."""

    def __init__(self, net: Network) -> None:
        self.layers = net.layers
        self.blocks = {(b.first, b.depth): b for b in net.blocks}

    def items(self, lo: int, hi: int, depth: int) -> list[tuple[str, Piece | None, Block | None]]:
        """(enclosing path, piece, block) of each layer and block between ``lo`` and
        ``hi`` at ``depth``; a layer that is not drawn gives no piece."""
        out: list[tuple[str, Piece | None, Block | None]] = []
        i = lo
        while i < hi:
            block = self.blocks.get((i, depth))
            if block is not None and block.stop <= hi:
                out.append((block.block, self.block(block), block))
                i = block.stop
                continue
            layer = self.layers[i]
            out.append((layer.block, self.leaf(layer) if drawn(layer) else None, None))
            i += 1
        return out

    def leaf(self, layer: Layer) -> Piece:
        return node(layer.name, layer.out_shape, _kind(layer), layer.op)

    def seq(self, lo: int, hi: int, depth: int) -> Piece:
        return sequence([p for _, p, _ in self.items(lo, hi, depth) if p is not None])

    def block(self, block: Block, repeat: int = 1) -> Piece:
        times = f" ×{repeat}" if repeat > 1 else ""
        if block.kind == "repeat":
            lines = [layer.line for layer in self.layers[block.first : block.stop]]
            one = period(lines)
            count = repeat * (block.stop - block.first) // one
            items = self.items(block.first, block.first + one, block.depth + 1)
            shown = [(p, b) for _, p, b in items if p is not None]
            if len(shown) == 1 and shown[0][1] is not None:
                return self.block(shown[0][1], count)  # one block repeated: one frame, ×N
            body = sequence([p for p, _ in shown])
            return framed(body, f"{block.name} ×{count}", block.kind, block.name, count)
        if block.kind not in MERGES:  # a named group of lines: its sequence, framed
            body = self.seq(block.first, block.stop, block.depth + 1)
            return framed(body, f"{block.name}{times}", block.kind, block.name, repeat)
        inner = f"{block.block}/{block.name}" if block.block else block.name
        merge = self.layers[block.stop - 1]
        found: dict[str, list[Piece]] = {}
        for where, piece, _block in self.items(block.first, block.stop - 1, block.depth + 1):
            key = where[len(inner) + 1 :] if where.startswith(inner + "/") else ""
            found.setdefault(key, [])
            if piece is not None:
                found[key].append(piece)
        if block.kind == "residual":
            keys = ["", "shortcut"]
            names = ["", "shortcut" if "shortcut" in found else "identity"]
        else:
            keys = [f"branch{i + 1}" for i in range(len(merge.branches))]
            names = ["" if found.get(key) else "identity" for key in keys]
        paths = [sequence(found.get(key, [])) for key in keys]
        symbol = "∥" if merge.op == "concat" else "+"
        label = f"{block.name}{times}"
        return framed(branches(paths, symbol, names), label, block.kind, block.name, repeat)


# ----------------------------------------------------------------------------- rows


def rows(pieces: list[Piece], limit: float = ROW_WIDTH) -> list[list[Piece]]:
    """Pieces in rows of about equal width, none much wider than ``limit`` (a piece
    wider than it gets a row alone)."""
    total = sum(p.width + ARROW for p in pieces)
    target = total / math.ceil(total / limit) if total > limit else limit
    out: list[list[Piece]] = [[]]
    width = 0.0
    for piece in pieces:
        if out[-1] and width + ARROW + piece.width / 2 > target:
            out.append([])
            width = 0.0
        width += piece.width + (ARROW if out[-1] else 0.0)
        out[-1].append(piece)
    if len(out) > 1 and width < limit / 4:  # a short tail joins the row above
        tail = out.pop()
        out[-1] += tail
    return out


def network_svg(net: Network, title: str = "") -> str:
    """The picture of ``net`` as an SVG string."""
    build = _Builder(net)
    pieces = [node(_("input"), net.input_shape, "map", "input")]
    pieces += [p for _, p, _ in build.items(0, len(net.layers), 0) if p is not None]
    parts: list[str] = []
    y = 4.0
    if title:
        parts.append(text(4, 14, title, cls="cnnm-title"))
        y = 22.0
    width = 0.0
    for i, row in enumerate(rows(pieces)):
        line = sequence(row)
        x = 8.0 + (ARROW if i else 0.0)
        flow = y + line.up
        if i:  # the row continues the one above
            parts += _arrow(2.0, x, flow)
        parts += line.draw(x, flow)
        width = max(width, x + line.width + 8)
        y = flow + line.down + 12
    words = title or _("network: input {shape}").format(shape=format_shape(net.input_shape))
    # a small network (LeNet-5) is drawn larger, up to half a row's width
    zoom = min(1.5, max(1.0, ROW_WIDTH / 2 / width))
    return document(width, y, parts, title=words, zoom=zoom)
