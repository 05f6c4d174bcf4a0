"""A line of PyTorch pasted into a network, and its translation into the layer language.

Students copy ``nn.Conv2d(1, 6, kernel_size=5)`` from a model; the error for such a
line says what to write instead (``conv 6 k5``). Only what a translation needs is read:
``nn.Conv1d/2d/3d``, ``nn.ConvTranspose1d/2d/3d``, ``nn.MaxPool*d``, ``nn.AvgPool*d`` and
``nn.Linear``, with their arguments as PyTorch orders and names them. Nothing is
executed: the arguments are read as literals (ints, tuples, ``True``/``False``,
strings).

>>> translate("    self.conv1 = nn.Conv2d(1, 6, kernel_size=5)")
'conv 6 k5'
>>> translate("nn.MaxPool2d(2, 2),")
'maxpool k2 s2'
>>> translate("nn.Linear(120, 84, bias=False)")
'fc 84 nobias'
>>> translate("conv 6 k5") is None
True
"""

from __future__ import annotations

import re

_CALL = re.compile(
    r"(?:\btorch\.)?(?:\bnn\.)?\b(?P<name>Conv[123]d|ConvTranspose[123]d|MaxPool[123]d|"
    r"AvgPool[123]d|Linear)\s*\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)"
)

# PyTorch's positional order of each constructor's arguments
_ORDER = {
    "Conv": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
             "groups", "bias"),
    "ConvTranspose": ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                      "output_padding", "groups", "bias", "dilation"),
    "MaxPool": ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
    "AvgPool": ("kernel_size", "stride", "padding", "ceil_mode"),
    "Linear": ("in_features", "out_features", "bias"),
}  # fmt: skip
_WORD = {"Conv": "conv", "ConvTranspose": "deconv", "MaxPool": "maxpool", "AvgPool": "avgpool"}
_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "output_padding": 0}
_LETTER = {"stride": "s", "padding": "p", "dilation": "d", "groups": "g", "output_padding": "op"}


def message(word: str) -> str:
    """The error's first line for a pasted PyTorch ``word``."""
    return f"'{word}' is PyTorch, not the layer language"


def hint(translation: str) -> str:
    """What to write instead."""
    return (
        f"write: {translation}  (each layer takes its input from the one before, so "
        "in_channels and in_features are not written)"
    )


def translate(line: str) -> str | None:
    """The layer-language statement for the first PyTorch layer call in ``line``, or
    ``None`` if there is none or its arguments are not plain literals."""
    match = _CALL.search(line)
    if match is None:
        return None
    import ast  # only on the error path: keeps the import of cnn_magic light

    name = match.group("name")
    family = name.rstrip("123d") if name != "Linear" else name
    try:
        call = ast.parse(f"f({match.group('args')})", mode="eval").body
        assert isinstance(call, ast.Call)
        positional = [ast.literal_eval(a) for a in call.args]
        keyed = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (SyntaxError, ValueError, AssertionError):
        return None
    order = _ORDER[family]
    if len(positional) > len(order):
        return None
    given = dict(zip(order, positional, strict=False)) | keyed
    if family == "Linear":
        out = given.get("out_features")
        if not isinstance(out, int):
            return None
        return f"fc {out}" + ("" if given.get("bias", True) else " nobias")
    kernel = given.get("kernel_size")
    if kernel is None:
        return None
    parts = [_WORD[family]]
    if family in ("Conv", "ConvTranspose"):
        out = given.get("out_channels")
        if not isinstance(out, int):
            return None
        parts.append(str(out))
    parts.append("k" + _sizes(kernel))
    stride = given.get("stride")
    if family in ("MaxPool", "AvgPool"):  # PyTorch's pooling stride defaults to the kernel
        parts.append("s" + _sizes(kernel if stride is None else stride))
    for key in ("stride", "padding", "dilation", "groups", "output_padding"):
        value = given.get(key)
        if key == "stride" and family in ("MaxPool", "AvgPool"):
            continue
        if value is None or value == _DEFAULTS[key] or _all_equal(value, _DEFAULTS[key]):
            continue
        if value in ("same", "valid"):
            parts.append(str(value))
        else:
            parts.append(_LETTER[key] + _sizes(value))
    if family in ("Conv", "ConvTranspose") and given.get("bias", True) is False:
        parts.append("nobias")
    if given.get("ceil_mode"):
        parts.append("ceil")
    return " ".join(parts)


def _sizes(value: object) -> str:
    """``5`` → ``5``; ``(3, 1)`` → ``3x1``; ``(2, 2)`` → ``2``."""
    if isinstance(value, (tuple, list)):
        items = [str(v) for v in value]
        return items[0] if len(set(items)) == 1 else "x".join(items)
    return str(value)


def _all_equal(value: object, default: int) -> bool:
    return isinstance(value, (tuple, list)) and all(v == default for v in value)
