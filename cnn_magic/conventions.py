"""Counting conventions and rounding modes, in one place, with the words the tables print.

A FLOP count is only meaningful with its convention stated, so every table and export
takes its wording from here.
"""

from __future__ import annotations

ROUNDINGS = ("textbook", "floor", "ceil")
"""Rounding modes for output sizes (see :func:`rounding_for`)."""

ROUNDING_TEXT = {
    "textbook": "textbook rounding: convolutions round down, pooling rounds up "
    "(the course notes' rule, and Caffe's)",
    "floor": "floor rounding: everything rounds down (PyTorch and TensorFlow defaults)",
    "ceil": "ceil rounding: everything rounds up (pooling as PyTorch's ceil_mode=True); "
    "a last window that would start in the right padding is dropped",
}

CONVENTIONS = ("flops", "macs", "exact")
"""What one operation is: FLOPs (2 per multiply-add), MACs (1), or exact mults + adds."""

CONVENTION_LABEL = {"flops": "FLOPs", "macs": "MACs", "exact": "exact FLOPs"}

CONVENTION_TEXT = {
    "flops": "FLOPs = 2 × MACs: one multiplication or one addition is one operation; "
    "for conv 2·k_h·k_w·(C_in/g)·H_out·W_out·C_out, for fc 2·N_in·N_out "
    "(the bias add fills the one addition short, as in the notes)",
    "macs": "MACs: one multiply-add is one operation; conv k_h·k_w·(C_in/g)·H_out·W_out·C_out, "
    "fc N_in·N_out, deconv k_h·k_w·C_in·(C_out/g)·H_in·W_in "
    "(what torchvision and fvcore call FLOPs)",
    "exact": "exact: multiplications + additions as the notes derive them; "
    "conv and fc: 2·MACs − outputs, + outputs for the bias add where there is a bias; "
    "deconv: 2·MACs (every product is accumulated into the output) + outputs for bias",
}

SCOPE_TEXT = {
    False: "totals count conv, deconv and fc layers only (the notes', fvcore's and "
    "torchvision's scope)",
    True: "all ops: also pooling, activations, batch norm, residual adds and softmax, "
    "one operation per elementary step (see the cost table)",
}

# Elementary operations per output element of the layers counted by "all ops".
# exp, erf and tanh count as one operation each; these are conventions, and the
# documentation prints this table so a reader can redo any figure.
ACTIVATION_COST = {
    "relu": 1,  # max(0, x)
    "relu6": 2,  # min(max(0, x), 6)
    "leakyrelu": 2,  # compare, multiply
    "prelu": 2,  # compare, multiply
    "elu": 4,  # compare, exp, subtract, multiply
    "gelu": 5,  # x·½·(1 + erf(x/√2)): divide, erf, add, multiply, multiply
    "silu": 4,  # x / (1 + exp(−x)): negate, exp, add, divide
    "hardswish": 5,  # x · min(max(x + 3, 0), 6) / 6: add, max, min, multiply, divide
    "sigmoid": 4,  # 1 / (1 + exp(−x)): negate, exp, add, divide
    "tanh": 1,  # one transcendental
    "softmax": 3,  # exp, share of the sum, divide; minus one add per normalised vector
}

OTHER_COST_TEXT = {
    "maxpool": "k_h·k_w − 1 comparisons per output element",
    "avgpool": "k_h·k_w − 1 additions and 1 division per output element",
    "gap": "H·W − 1 additions and 1 division per channel",
    "gmp": "H·W − 1 comparisons per channel",
    "adaptiveavgpool": "window − 1 additions and 1 division per output element (PyTorch's windows)",
    "adaptivemaxpool": "window − 1 comparisons per output element (PyTorch's windows)",
    "bn": "2 per element (inference: multiply by the folded scale, add the shift)",
    "lrn": "13 per element (5 squares, 4 additions, multiply, add, power, divide)",
    "add": "branches − 1 additions per output element (residual and add blocks)",
    "softmax": "3 per element − 1 per normalised vector (exp, sum, divide)",
}

DTYPE_BYTES = {
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float64": 8,
    "int8": 1,
    "uint8": 1,
    "int32": 4,
}


def rounding_for(op_kind: str, mode: str) -> str:
    """The rounding a window layer uses under ``mode``: ``"floor"`` or ``"ceil"``.

    >>> rounding_for("conv", "textbook"), rounding_for("pool", "textbook")
    ('floor', 'ceil')
    >>> rounding_for("pool", "floor")
    'floor'
    """
    if mode == "textbook":
        return "ceil" if op_kind == "pool" else "floor"
    return mode
