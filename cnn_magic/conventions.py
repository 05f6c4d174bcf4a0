"""The vocabulary of options, enumerated once: counting conventions, rounding modes and
data types, each with its words as data.

A FLOP count is only meaningful with its convention stated, so every table and export
takes its wording from here, and every public function checks an option with the
``check_*`` functions below (a :class:`~cnn_magic.CNNError` with a did-you-mean, never a
``KeyError``).

>>> check_convention("macs"), check_rounding("floor"), check_dtype("float16")
('macs', 'floor', 'float16')
>>> check_convention("mac")
Traceback (most recent call last):
...
cnn_magic.errors.CNNError: unknown FLOPs convention 'mac'
did you mean 'macs'?
"""

from __future__ import annotations

from typing import Literal

from .errors import CNNError, did_you_mean

Convention = Literal["flops", "macs", "exact"]
CONVENTIONS: tuple[Convention, ...] = ("flops", "macs", "exact")
"""What one operation is: FLOPs (2 per multiply-add), MACs (1), or exact mults + adds."""

Rounding = Literal["textbook", "floor", "ceil"]
ROUNDINGS: tuple[Rounding, ...] = ("textbook", "floor", "ceil")
"""Rounding modes for output sizes (see :func:`rounding_for`)."""

Dtype = Literal["float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32"]
DTYPE_BYTES: dict[Dtype, int] = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "int32": 4,
}
"""Bytes per value of each data type the activation memory can be counted in."""
DTYPES: tuple[Dtype, ...] = tuple(DTYPE_BYTES)

CONVENTION_LABEL: dict[Convention, str] = {
    "flops": "FLOPs",
    "macs": "MACs",
    "exact": "exact FLOPs",
}
"""The header of the operations column."""

CONVENTION_BUTTON: dict[Convention, str] = {"flops": "FLOPs", "macs": "MACs", "exact": "exact"}
"""The widget's toggle labels."""

CONVENTION_SHORT: dict[Convention, str] = {
    "flops": "FLOPs = 2 × MACs: one multiplication or one addition is one operation",
    "macs": "MACs: one multiply-add is one operation",
    "exact": "exact: multiplications + additions as the notes derive them",
}
"""One clause per convention, for the line above a table."""

CONVENTION_TEXT: dict[Convention, str] = {
    "flops": CONVENTION_SHORT["flops"]
    + "; for conv 2·k_h·k_w·(C_in/g)·H_out·W_out·C_out, for fc 2·N_in·N_out "
    "(the bias add fills the one addition short, as in the notes)",
    "macs": CONVENTION_SHORT["macs"] + "; conv k_h·k_w·(C_in/g)·H_out·W_out·C_out, fc N_in·N_out, "
    "deconv k_h·k_w·C_in·(C_out/g)·H_in·W_in (what torchvision and fvcore call FLOPs)",
    "exact": CONVENTION_SHORT["exact"]
    + "; conv and fc: 2·MACs − outputs, + outputs for the bias add where there is a bias; "
    "deconv: 2·MACs (every product is accumulated into the output) + outputs for bias",
}
"""The sentence under every table: what one operation is, with the formulas."""

ROUNDING_SHORT: dict[Rounding, str] = {
    "textbook": "textbook rounding: convolutions round down, pooling rounds up",
    "floor": "floor rounding: everything rounds down",
    "ceil": "ceil rounding: everything rounds up",
}
"""One clause per rounding mode."""

ROUNDING_TEXT: dict[Rounding, str] = {
    "textbook": ROUNDING_SHORT["textbook"] + " (the course notes' rule, and Caffe's)",
    "floor": ROUNDING_SHORT["floor"] + " (PyTorch and TensorFlow defaults)",
    "ceil": ROUNDING_SHORT["ceil"] + " (pooling as PyTorch's ceil_mode=True); "
    "a last window that would start in the right padding is dropped",
}

ROUNDING_NAME: dict[Rounding, str] = {
    "textbook": "textbook rounding",
    "floor": "floor rounding",
    "ceil": "ceil rounding",
}
"""How an explanation's heading names the mode."""

SCOPE_SHORT: dict[bool, str] = {
    False: "totals count conv, deconv and fc layers only",
    True: "all ops: also pooling, activations, batch norm, residual adds and softmax, "
    "one operation per elementary step",
}
SCOPE_TEXT: dict[bool, str] = {
    False: SCOPE_SHORT[False] + " (the notes', fvcore's and torchvision's scope)",
    True: SCOPE_SHORT[True] + " (see the cost table)",
}


def _check(value: object, choices: tuple[str, ...], what: str) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise CNNError(f"unknown {what} {value!r}", hint=did_you_mean(str(value), choices))


def check_convention(value: object) -> Convention:
    """``value`` if it names a counting convention, else a CNNError with a did-you-mean."""
    return _check(value, CONVENTIONS, "FLOPs convention")  # type: ignore[return-value]


def check_rounding(value: object) -> Rounding:
    """``value`` if it names a rounding mode, else a CNNError with a did-you-mean."""
    return _check(value, ROUNDINGS, "rounding")  # type: ignore[return-value]


def check_dtype(value: object) -> Dtype:
    """``value`` if it names a data type, else a CNNError with a did-you-mean."""
    return _check(value, DTYPES, "dtype")  # type: ignore[return-value]


def check_flag(name: str, value: object) -> bool:
    """A yes/no option: only ``True`` or ``False`` (``None``, ``"yes"`` or 1 are refused,
    so a mistyped call never counts silently differently).

    >>> check_flag("all_ops", True)
    True
    """
    if value is True or value is False:
        return value
    raise CNNError(f"{name} must be True or False, not {value!r}")


def rounding_for(kind: str, mode: Rounding) -> Literal["floor", "ceil"]:
    """The rounding a window layer of ``kind`` ("conv" or "pool") uses under ``mode``.

    >>> rounding_for("conv", "textbook"), rounding_for("pool", "textbook")
    ('floor', 'ceil')
    >>> rounding_for("pool", "floor")
    'floor'
    """
    if mode == "textbook":
        return "ceil" if kind == "pool" else "floor"
    return mode
