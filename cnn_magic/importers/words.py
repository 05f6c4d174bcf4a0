"""Statements of the layer language from a framework's layer settings: the words both
importers write, in one place.

>>> conv_words(3, 64, (7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1), 1, False, (224, 224))
'conv 64 k7 s2 p3 nobias'
>>> conv_words(32, 32, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 32, False, (112, 112))
'dwconv k3 p1 nobias'
>>> pool_words("maxpool", (3, 3), (2, 2), ((0, 1), (0, 1)), (1, 1), False, (112, 112))
'maxpool k3 s2 ceil'
>>> conv_words(2, 8, (5,), (2,), ((2, 2),), (1,), 1, True, (128,))
'conv 8 k5 s2 p2'
"""

from __future__ import annotations

from ..i18n import _

Dims = tuple[int, ...]  # one number per spatial dimension: (L,), (H, W) or (D, H, W)
Pads = tuple[tuple[int, int], ...]  # (before, after) per spatial dimension
Pair = Dims  # the name the 2-D callers use


class Unwritable(Exception):
    """A setting the language cannot express; the message says which."""


def words(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def arg(prefix: str, value: Dims, default: int | None) -> str | None:
    """``k3``, ``s2``, ``k3x1``; None when every number equals ``default``."""
    if default is not None and all(v == default for v in value):
        return None
    if len(set(value)) == 1:
        return f"{prefix}{value[0]}"
    return prefix + "x".join(map(str, value))


def number(value: float) -> str:
    """``0.5``, ``0.2``, ``1``: the shortest text of a float."""
    return str(int(value)) if value == int(value) else repr(float(value))


def padding_words(
    pads: Pads, kernel: Pair, stride: Pair, dilation: Pair, size: Pair, *, conv: bool
) -> tuple[str | None, bool]:
    """(the padding word, whether to round up) for padding ``before, after`` per axis.

    Equal sides: ``p1``. Unequal sides: ``same`` for a convolution where TensorFlow's
    rule (``⌈H/S⌉`` outputs, the odd pixel after) gives exactly these sides; otherwise
    the padding before, rounded up, which gives the same output size whenever the extra
    padding after only completes the last window (the caller checks the shape)."""
    before = tuple(b for b, _ in pads)
    after = tuple(a for _, a in pads)
    if before == after:
        return arg("p", before, 0), False
    if conv:
        same = True
        for (first, last), k, s, d, n in zip(pads, kernel, stride, dilation, size, strict=True):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            same = same and (first, last) == (total // 2, total - total // 2)
        if same:
            return "same", False
    if any(a < b for b, a in pads):
        raise Unwritable(_("more padding before than after ({pads})").format(pads=pads))
    return arg("p", before, 0), True


def conv_words(
    c_in: int,
    n: int,
    kernel: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    groups: int,
    bias: bool,
    size: Pair,
) -> str:
    """``conv N k.. s.. p.. d.. g..`` (``dwconv`` when groups = input channels)."""
    pad, ceil = padding_words(pads, kernel, stride, dilation, size, conv=True)
    common = (arg("k", kernel, None), arg("s", stride, 1), pad, arg("d", dilation, 1))
    tail = (None if bias else "nobias", "ceil" if ceil else None)
    if groups > 1 and groups == c_in and n % c_in == 0:
        return words("dwconv", *common, str(n // c_in) if n != c_in else None, *tail)
    return words(f"conv {n}", *common, f"g{groups}" if groups > 1 else None, *tail)


def deconv_words(
    n: int,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    out_pad: Pair,
    dilation: Pair,
    groups: int,
    bias: bool,
) -> str:
    """``deconv N k.. s.. p.. op.. d.. g..``."""
    return words(
        f"deconv {n}",
        arg("k", kernel, None),
        arg("s", stride, 1),
        arg("p", padding, 0),
        arg("op", out_pad, 0),
        arg("d", dilation, 1),
        f"g{groups}" if groups > 1 else None,
        None if bias else "nobias",
    )


def pool_words(
    op: str, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, ceil: bool, size: Pair
) -> str:
    """``maxpool k.. s.. p.. d.. [ceil]`` or ``avgpool k.. s.. p.. [ceil]``; the stride is
    left out where it equals the kernel (the language's default)."""
    pad, padded_ceil = padding_words(pads, kernel, stride, dilation, size, conv=False)
    if op == "avgpool" and any(d != 1 for d in dilation):
        raise Unwritable(_("average pooling with dilation"))
    if any(before > k // 2 for (before, _), k in zip(pads, kernel, strict=True)):
        # PyTorch's pooling (and the language's) pads at most half the kernel
        raise Unwritable(
            _("padding {pads} of more than half the kernel {kernel}").format(
                pads=pads, kernel=kernel
            )
        )
    return words(
        op,
        arg("k", kernel, None),
        None if stride == kernel else arg("s", stride, None),
        pad,
        arg("d", dilation, 1) if op == "maxpool" else None,
        "ceil" if ceil or padded_ceil else None,
    )


def adaptive_words(kind: str, out: Dims) -> str:
    """``gap``/``gmp`` to all ones, else ``adaptiveavgpool S`` or ``H×W`` (``kind`` "avg"
    or "max")."""
    if all(v == 1 for v in out):
        return "gap" if kind == "avg" else "gmp"
    size = str(out[0]) if len(set(out)) == 1 else "x".join(map(str, out))
    return f"adaptive{kind}pool {size}"


def upsample_words(in_size: tuple[int, ...], out_size: tuple[int, ...], mode: str) -> str:
    """``upsample 2`` (or ``2x3``, ``bilinear``) from the spatial sizes before and after;
    ``mode``: "nearest" or "linear" (written as PyTorch names it in 1, 2 or 3-D)."""
    scales = []
    for before, after in zip(in_size, out_size, strict=True):
        if after % before:
            raise Unwritable(
                _("scales {before} to {after}: upsample scales by whole factors").format(
                    before=before, after=after
                )
            )
        scales.append(after // before)
    if mode not in ("nearest", "linear"):
        raise Unwritable(
            _("mode {mode!r}: upsample is nearest or (bi/tri)linear").format(mode=mode)
        )
    word = None
    if mode == "linear":
        word = ("linear", "bilinear", "trilinear")[len(scales) - 1]
    factor = str(scales[0]) if len(set(scales)) == 1 else "x".join(map(str, scales))
    return words(f"upsample {factor}", word)


_SIDES = {1: ("left", "right"), 2: ("top", "bottom", "left", "right")}


def pad_words(sides: Pads, mode: str = "zeros") -> str:
    """``pad 1``, ``pad 2x1`` or ``pad top=1 right=2`` (``reflect``, ``replicate``,
    ``circular``) for (before, after) per spatial axis; the language names the sides of
    1-D and 2-D maps only.

    >>> pad_words(((1, 1), (2, 2)), "reflect"), pad_words(((0, 1), (0, 1)))
    ('pad 1x2 reflect', 'pad bottom=1 right=1')
    """
    tail = None if mode == "zeros" else mode
    if all(b == a for b, a in sides):
        return words(arg("pad ", tuple(b for b, _ in sides), None), tail)
    if len(sides) not in _SIDES:
        raise Unwritable(_("unequal sides of a volume: pad takes one number per axis there"))
    flat = (v for pair in sides for v in pair)
    keyed = (f"{k}={v}" for k, v in zip(_SIDES[len(sides)], flat, strict=True) if v)
    return words("pad", *keyed, tail)


def crop_words(sides: Pads, size: Dims) -> str:
    """``crop HxW`` where (before, after) per axis keep the centre of ``size`` (the
    language's rule: before = ⌊(size − kept)/2⌋), else ``crop top= bottom= left= right=``.

    >>> crop_words(((2, 2), (1, 2)), (9, 9)), crop_words(((1, 0), (0, 2)), (9, 9))
    ('crop 5x6', 'crop top=1 right=2')
    """
    kept = tuple(n - b - a for n, (b, a) in zip(size, sides, strict=True))
    if all(b == (b + a) // 2 for b, a in sides):
        return f"crop {'x'.join(map(str, kept))}"
    if len(sides) not in _SIDES:
        raise Unwritable(_("crops a volume off-centre: crop of three dimensions keeps the centre"))
    flat = (v for pair in sides for v in pair)
    return words("crop", *(f"{k}={v}" for k, v in zip(_SIDES[len(sides)], flat, strict=True) if v))


def label(path: str) -> str:
    """A path as a label: ``layer1.0.conv1``; other characters become ``_``, and a
    leading digit (a Sequential's child ``0``) gets a ``_`` in front."""
    text = "".join(c if c.isalnum() or c in "._-" else "_" for c in path).strip(".")
    return f"_{text}" if text and not (text[0].isalpha() or text[0] == "_") else text
