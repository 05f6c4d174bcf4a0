"""``from_torch(model, input)``: a PyTorch module as layer-language text.

How it reads the model: ``torch.fx.symbolic_trace`` gives the graph of module calls,
functions and tensor methods, and one run on zeros gives every value's shape. A model
that cannot be traced symbolically (Python control flow on tensor values) is run once
instead with forward hooks on its leaf modules and a ``TorchFunctionMode`` that sees the
functions called between them (``x + y``, ``torch.cat``, ``torch.flatten``). Either way
each leaf module or function becomes one statement labelled with its module path, and
:mod:`cnn_magic.importers.graph` rebuilds blocks and repeats and checks every layer's
shape, parameters and MACs against the model.

Which module (or function) becomes which word:

========================================  ===================================================
PyTorch                                   layer language
========================================  ===================================================
``nn.Conv1d/2d/3d``                       ``conv N k.. s.. p.. d.. g..`` (``nobias``);
                                          ``dwconv`` when ``groups`` = input channels
``nn.ConvTranspose1d/2d/3d``             ``deconv N k.. s.. p.. op.. d.. g..``
``nn.Linear`` (on a batch of vectors)     ``fc N``
``nn.MaxPool1d/2d/3d``, ``F.max_pool2d``  ``maxpool k.. s.. p.. d..`` (``ceil`` for ceil_mode)
``nn.AvgPool1d/2d/3d``, ``F.avg_pool2d``  ``avgpool k.. s.. p..`` (``ceil``)
``nn.AdaptiveAvgPool1d/2d/3d``,           ``gap`` (to 1×1) or ``adaptiveavgpool H×W``;
``F.adaptive_avg_pool2d``,                ``mean`` without keepdim adds ``flatten``
``x.mean((2, 3))``
``nn.AdaptiveMaxPool1d/2d/3d``            ``gmp`` or ``adaptivemaxpool H×W``
``nn.BatchNorm1d/2d/3d`` (affine)         ``bn``
``nn.ReLU`` … ``nn.Softmax(dim=1)``,      ``relu``, ``relu6``, ``leakyrelu S``, ``prelu``,
``F.relu``, ``torch.sigmoid``, …          ``elu A``, ``gelu``, ``silu``, ``hardswish``,
                                          ``sigmoid``, ``tanh``, ``softmax``
``nn.Dropout``, ``F.dropout``             ``dropout P``
``nn.Flatten``, ``torch.flatten(x, 1)``,  ``flatten``
``x.view(N, -1)``, ``x.reshape(N, -1)``
``nn.LocalResponseNorm(5)``               ``lrn``
``nn.Identity``, ``x.contiguous()``       nothing (a path of nothing: ``identity``)
``nn.Upsample``, ``F.interpolate``         ``upsample S`` (nearest) or ``upsample S bilinear``
(``scale_factor`` or ``size``)
``nn.LayerNorm`` on vectors, or on the     ``layernorm``
channels after ``x.permute(0, 2, 3, 1)``;
``F.layer_norm``
``nn.Linear`` with the channels last       ``conv N k1``
``nn.GroupNorm``, ``F.group_norm``         ``groupnorm G``
``nn.InstanceNorm1d/2d/3d``,              ``instancenorm`` (``affine``)
``F.instance_norm``
``x * gamma`` (one per channel)           ``layerscale``
``nn.ChannelShuffle``, ``view`` →          ``channelshuffle G``
``transpose(1, 2)`` → ``view``
``nn.PixelShuffle``, ``nn.PixelUnshuffle`` ``pixelshuffle R``, ``pixelunshuffle R``
``nn.Hardsigmoid``, ``F.hardsigmoid``      ``hardsigmoid``
``nn.ZeroPad1d/2d/3d``, ``F.pad`` before  folded into that layer's padding
a conv or pool
other padding (``ZeroPad``,               ``pad ..`` (``reflect``, ``replicate``, ``circular``)
``ReflectionPad``, ``ReplicationPad``,
``CircularPad``, ``F.pad``)
``x[:, :, a:b, c:d]``                     ``crop HxW`` or ``crop top= bottom= left= right=``
``DropPath``, ``StochasticDepth``         nothing (the identity at inference)
``nn.MaxUnpool1d/2d/3d`` reading a         ``maxunpool POOL`` (POOL: the pooling's label)
``return_indices`` pooling's indices
``x + y``, ``torch.add``                  the add of a ``residual:`` or ``add:`` block
``torch.cat([...], 1)``                   the join of a ``concat:`` block
========================================  ===================================================

A value whose axes a ``permute`` or ``view`` moved carries its layout (``_LAYOUTS``): the
channels last (ConvNeXt's blocks), or the channels viewed as groups (the steps of a
channel shuffle); only the layers listed above are understood on such a value.

Anything else — ``x * y`` of two paths, a channel split, upsampling by a fraction, a
subclass of a known module, a parameter used in another function — has no word yet:
:class:`CNNError` lists each one with its module path, type and why. With
``unknown="opaque"`` a shape-preserving unknown becomes an ``identity`` statement labelled
``PATH-opaque`` and counted as zero.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..dsl import parse_shape
from ..errors import CNNError, did_you_mean
from ..i18n import _
from ..results import Network
from .graph import Node, build
from .words import (
    Pads,
    Unwritable,
    adaptive_words,
    conv_words,
    crop_words,
    deconv_words,
    number,
    pad_words,
    pool_words,
    upsample_words,
    words,
)
from .words import label as word_label

UNKNOWN = ("error", "opaque")


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        from torch import nn
    except ImportError as err:  # pragma: no cover - torch is in the test extra
        raise ImportError("from_torch() needs PyTorch: pip install torch") from err
    return torch, nn


class Ref(NamedTuple):
    """A tensor argument: the call that produced it ("" for the model's input), and how
    its axes are laid out when a permute or view moved them (see ``_LAYOUTS``)."""

    name: str
    shape: tuple[int, ...]
    layout: str = ""


class Call(NamedTuple):
    """One module call, function call or tensor method, framework-neutral."""

    name: str
    path: str  # module path of a module call; enclosing module path for functions
    module: Any  # the nn.Module, or None
    function: str  # canonical function name ("add", "flatten", ...), "" for modules
    type_name: str  # what the user would call it: "nn.Conv2d", "torch.cat", "x.view"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: tuple[int, ...] | None  # NCHW shape with batch; None when not a tensor


# ----------------------------------------------------------------- entry point


def from_torch(model: Any, input: Any, *, unknown: str = "error", repeat: bool = True) -> Network:
    """The network of ``model`` on an input of shape ``input``: ``(1, 3, 224, 224)``,
    ``(3, 224, 224)``, or our notation ``"224x224x3"``; one statement per module,
    labelled with its path."""
    torch, nn = _torch()
    if not isinstance(model, nn.Module):
        raise CNNError(
            f"from_torch() takes a torch.nn.Module, not {type(model).__name__}",
            hint="pass the model object itself: from_torch(model, (3, 224, 224))",
        )
    if unknown not in UNKNOWN:
        raise CNNError(
            f"unknown={unknown!r} is not valid", hint=did_you_mean(str(unknown), UNKNOWN)
        )
    shape = torch_input_shape(input)
    parameter = next(model.parameters(), None)
    x = torch.zeros(
        shape,
        dtype=parameter.dtype if parameter is not None else torch.float32,
        device=parameter.device if parameter is not None else "cpu",
    )
    training = model.training
    model.train(False)
    try:
        calls, output = _record(model, x)
    finally:
        model.train(training)
    nodes, problems, notes = _convert(calls, output, unknown)
    if problems:
        listed = "\n".join(f"  {path} ({kind}): {why}" for path, kind, why in problems)
        raise CNNError(
            f"{len(problems)} part{'s' if len(problems) > 1 else ''} of the model "
            f"{'have' if len(problems) > 1 else 'has'} no word in the layer language:\n{listed}",
            hint='from_torch(..., unknown="opaque") counts shape-keeping ones as zero, marked',
        )
    partly = [
        path
        for path, module in model.named_modules()
        if len({p.requires_grad for p in module.parameters(recurse=False)}) > 1
    ]
    if partly:
        notes.append(
            "trained as a whole, though only some parameters require grad: " + ", ".join(partly)
        )
    used = sum(node.params for node in nodes if node.params > 0)
    total = sum(p.numel() for p in model.parameters())
    header = [f"{type(model).__name__}, imported from PyTorch", *notes]
    if total != used:
        header.append(f"{total - used:,} parameters of the model are not used by its forward")
    # a maxunpool names its pooling by label, which a repeat's relative labels would lose
    unpooled = any(node.statement.startswith("maxunpool ") for node in nodes)
    return build(nodes, _ours(shape[1:]), header, repeat=repeat and not unpooled)


def torch_input_shape(given: Any) -> tuple[int, ...]:
    """PyTorch's shape with a batch of 1: a tuple ``(1, 3, 224, 224)`` or ``(3, 224, 224)``
    (an image), ``(N, F)`` or ``(F,)`` (vectors), ``(N, C, L)`` or ``(N, C, D, H, W)``;
    or our notation, whose channels are unambiguous: ``"224x224x3"``, ``"3@224x224"``,
    ``"2@128"`` (1-D), ``"3@16x112x112"`` (3-D).

    >>> torch_input_shape((3, 224, 224)), torch_input_shape("32x32x1")
    ((1, 3, 224, 224), (1, 1, 32, 32))
    >>> torch_input_shape("2@128"), torch_input_shape((1, 3, 16, 112, 112))
    ((1, 2, 128), (1, 3, 16, 112, 112))
    """
    if isinstance(given, str):
        ours = parse_shape(given)
        return (1, ours[-1], *ours[:-1]) if len(ours) > 1 else (1, *ours)
    try:
        dims = tuple(int(d) for d in given)
    except (TypeError, ValueError):
        raise CNNError(f"input {given!r} is not a shape", hint=_SHAPE_HINT) from None
    if len(dims) in (1, 3):  # (F,) or (C, H, W): the batch is left out
        dims = (1, *dims)
    if len(dims) not in (2, 4, 5) or min(dims) < 1:
        raise CNNError(
            f"input {given!r} is not an image batch (N, C, H, W), vectors (N, F) or "
            "volumes (N, C, D, H, W)",
            hint=_SHAPE_HINT,
        )
    return (1, *dims[1:])


_SHAPE_HINT = "write (1, 3, 224, 224), (3, 224, 224), '224x224x3' or, in 1-D, '2@128'"


def _ours(shape: Sequence[int]) -> tuple[int, ...]:
    """Channels last: (C, H, W) → (H, W, C), (C, L) → (L, C); a vector (F,) stays."""
    shape = tuple(shape)
    return (*shape[1:], shape[0]) if len(shape) >= 2 else shape


# ----------------------------------------------------------------- recording


def _record(model: Any, x: Any) -> tuple[list[Call], Ref]:
    try:
        traced = _trace(model)
    except Exception as trace_error:  # any failure to trace sends us to the hooks
        try:
            return _record_by_hooks(model, x)
        except CNNError:
            raise
        except Exception as run_error:
            raise CNNError(
                f"{type(model).__name__} could neither be traced "
                f"({type(trace_error).__name__}: {_first_line(trace_error)}) nor run on "
                f"zeros of shape {tuple(x.shape)} ({type(run_error).__name__}: "
                f"{_first_line(run_error)})",
                hint="check the input shape: (C, H, W) in PyTorch's order",
            ) from None
    try:
        return _record_fx(model, traced, x)
    except CNNError:
        raise
    except Exception as run_error:
        raise CNNError(
            f"{type(model).__name__} failed on zeros of shape {tuple(x.shape)}: "
            f"{type(run_error).__name__}: {_first_line(run_error)}",
            hint="check the input shape: (C, H, W) in PyTorch's order",
        ) from None


def _trace(model: Any) -> Any:
    """``torch.fx.symbolic_trace``, with cnn_magic's own small modules (``to_torch()``'s
    LayerNorm over channels, layer scale and crop) kept whole, as PyTorch's are."""
    torch, _ = _torch()

    class Tracer(torch.fx.Tracer):  # type: ignore[misc,name-defined]
        def is_leaf_module(self, module: Any, name: str) -> bool:
            return _helper(module) != "" or bool(super().is_leaf_module(module, name))

    tracer = Tracer()
    graph = tracer.trace(model)
    return torch.fx.GraphModule(tracer.root, graph, type(model).__name__)


def _helper(module: Any) -> str:
    """ "ChannelsLast", "LayerScale" or "Crop" for cnn_magic's own modules, else ""."""
    _, nn = _torch()
    from ..layers import _torch_helpers

    helpers = _torch_helpers(nn)
    name = type(module).__name__
    return name if getattr(helpers, name, None) is type(module) else ""


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def _record_fx(model: Any, traced: Any, x: Any) -> tuple[list[Call], Ref]:
    torch, _ = _torch()
    values: dict[str, Any] = {}

    class Recorder(torch.fx.Interpreter):  # type: ignore[misc,name-defined]
        def run_node(self, node: Any) -> Any:
            result = super().run_node(node)
            values[node.name] = (
                Ref(node.name, tuple(result.shape)) if isinstance(result, torch.Tensor) else result
            )
            return result

    class Run(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.traced = traced

        def forward(self, x: Any) -> Any:
            return Recorder(self.traced).run(x)

    # Shapes without arithmetic: on the meta device every layer only computes its output
    # shape (ResNet-50: a tenth of the time); what the meta device cannot run runs on zeros.
    meta = {
        f"traced.{name}": torch.empty_like(tensor, device="meta")
        for name, tensor in (*traced.named_parameters(), *traced.named_buffers())
    }
    try:
        with torch.no_grad():
            torch.func.functional_call(Run(), meta, (x.to("meta"),))
    except Exception:
        values.clear()
        with torch.no_grad():
            Run()(x)
    modules = dict(model.named_modules())
    parameters = {name for name, _p in traced.named_parameters()}
    calls: list[Call] = []
    output: Ref | None = None
    for node in traced.graph.nodes:
        value = values.get(node.name)
        if node.op == "placeholder":
            values[node.name] = Ref("", tuple(value.shape)) if isinstance(value, Ref) else value
            continue
        args = torch.fx.node.map_arg(node.args, lambda n: values[n.name])
        kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: values[n.name])
        if node.op == "output":
            result = args[0]
            if isinstance(result, list | tuple) and len(result) == 1:
                result = result[0]  # a tuple of one output (GoogLeNet at inference)
            output = result if isinstance(result, Ref) else None
            continue
        if node.op == "call_module" and _with_indices(modules[node.target], value):
            # a max pooling that returns where its maxima were: the pooling, and a marker
            # for the indices that a max unpooling reads
            module, shape = modules[node.target], tuple(value[0].shape)  # type: ignore[index]
            kind = _type_name(module)
            calls.append(Call(node.name, node.target, module, "", kind, args, kwargs, shape))
            in_shape = args[0].shape if isinstance(args[0], Ref) else ()
            values[node.name] = (Ref(node.name, shape), _Indices(node.target, in_shape))
            continue
        if node.op == "call_function" and node.target is operator.getitem:
            items = args[0]
            if isinstance(items, tuple) and any(isinstance(v, _Indices) for v in items):
                values[node.name] = items[args[1]]  # y, indices = pool(x)
                continue
        if not isinstance(value, Ref):
            continue  # sizes and other Python values are substituted where they are used
        stack = node.meta.get("nn_module_stack") or {}
        enclosing = next(reversed(stack.values()))[0] if stack else ""
        if node.op == "get_attr":
            learned = node.target in parameters  # a buffer is no parameter
            values[node.name] = _Constant(node.target, value.shape, learned)
            continue
        if node.op == "call_module":
            module = modules[node.target]
            calls.append(
                Call(
                    node.name,
                    node.target,
                    module,
                    "",
                    _type_name(module),
                    args,
                    kwargs,
                    value.shape,
                )
            )
            continue
        function, type_name = _function_name(node.op, node.target)
        base = node.name.rstrip("0123456789").rstrip("_")
        path = f"{enclosing}.{base}" if enclosing else base
        if function in ("add", "concat"):
            path = enclosing or node.name
        calls.append(Call(node.name, path, None, function, type_name, args, kwargs, value.shape))
    if output is None:
        raise CNNError("the model's output is not one tensor", hint="return a single tensor")
    return calls, output


class _Indices(NamedTuple):
    """Where a max pooling found its maxima (``return_indices=True``): the pooling's
    module path and input shape, for the ``maxunpool`` that reads them."""

    path: str
    in_shape: tuple[int, ...]


def _with_indices(module: Any, value: Any) -> bool:
    """A max pooling module that returned (output, indices)."""
    return (
        _torch_class(module) in _MAXPOOL
        and bool(getattr(module, "return_indices", False))
        and isinstance(value, tuple)
        and len(value) == 2
    )


class _Constant(NamedTuple):
    """A parameter or buffer read by a function (fx ``get_attr``), with its shape."""

    target: str
    shape: tuple[int, ...] = ()
    parameter: bool = True  # False: a buffer, or a tensor made inside forward


def _record_by_hooks(model: Any, x: Any) -> tuple[list[Call], Ref]:
    """One run with hooks on the leaf modules and a TorchFunctionMode for the
    functions between them: works for models with Python control flow. The leaves are
    PyTorch's own modules without children (and cnn_magic's); a module of the user's
    is looked into, so the functions its forward calls are seen (a hand-written channel
    shuffle, ``x * self.gamma``, stochastic depth returning its input)."""
    torch, _ = _torch()
    from torch.overrides import TorchFunctionMode

    names: dict[int, str] = {id(x): ""}
    alive: list[Any] = [x]  # keep every tensor alive, so that no id is reused
    calls: list[Call] = []
    depth = [0]
    stack: list[str] = []  # the module paths being run, for the functions' labels
    paths = {module: path for path, module in model.named_modules()}
    parameters = {id(p): path for path, p in model.named_parameters()}
    indices: dict[int, _Indices] = {}  # the indices a max pooling returned

    def ref(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            if id(value) in indices:
                return indices[id(value)]
            name = names.get(id(value))
            if name is None and id(value) in parameters:
                return _Constant(parameters[id(value)], tuple(value.shape))
            if name is None:
                return _Constant("a tensor made inside forward", tuple(value.shape), False)
            return Ref(name, tuple(value.shape))
        if isinstance(value, list | tuple):
            return type(value)(ref(v) for v in value)
        if isinstance(value, dict):  # keyword arguments: F.layer_norm(x, s, weight=...)
            return {key: ref(v) for key, v in value.items()}
        return value

    def produced(name: str, out: Any) -> None:
        alive.append(out)
        names[id(out)] = name

    def before(module: Any, inputs: Any) -> None:
        stack.append(paths[module])
        depth[0] += module in leaves

    def after(module: Any, inputs: Any, out: Any) -> None:
        stack.pop()
        if module not in leaves:
            return
        depth[0] -= 1
        if depth[0] == 0 and _with_indices(module, out):
            pooled, where = out
            alive.append(where)
            indices[id(where)] = _Indices(paths[module], tuple(inputs[0].shape))
            out = pooled
        if depth[0] == 0 and isinstance(out, torch.Tensor):
            name = f"call{len(calls)}"
            calls.append(
                Call(
                    name,
                    paths[module],
                    module,
                    "",
                    _type_name(module),
                    ref(tuple(inputs)),
                    {},
                    tuple(out.shape),
                )
            )
            produced(name, out)

    class Functions(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if depth[0] == 0 and isinstance(out, torch.Tensor):
                function, type_name = _function_name("call_function", func)
                name = f"call{len(calls)}"
                enclosing = stack[-1] if stack else ""
                base = function or str(getattr(func, "__name__", "function")).strip("_")
                path = f"{enclosing}.{base}" if enclosing else base
                if function in ("add", "concat"):
                    path = enclosing or base
                calls.append(
                    Call(
                        name,
                        path,
                        None,
                        function,
                        type_name,
                        ref(args),
                        ref(kwargs),
                        tuple(out.shape),
                    )
                )
                produced(name, out)
            return out

    leaves = {m for m in model.modules() if _helper(m) or (_leaf(m) and not list(m.children()))}
    handles = [m.register_forward_pre_hook(before) for m in paths]
    handles += [m.register_forward_hook(after) for m in paths]
    try:
        with torch.no_grad(), Functions():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
    result = ref(out)
    if isinstance(result, list | tuple) and len(result) == 1:
        result = result[0]
    if not isinstance(result, Ref):
        raise CNNError("the model's output is not one tensor", hint="return a single tensor")
    return calls, result


def _leaf(module: Any) -> bool:
    """A module of PyTorch itself (``torch.nn`` or a subclass defined there)."""
    return str(type(module).__module__).startswith("torch.nn")


def _type_name(module: Any) -> str:
    cls = type(module)
    prefix = "nn." if cls.__module__.startswith("torch.nn") else f"{cls.__module__}."
    return prefix + cls.__qualname__


# ----------------------------------------------------------------- functions


def _function_table() -> dict[Any, str]:
    torch, _ = _torch()
    F = torch.nn.functional
    T = torch.Tensor
    groups: dict[str, tuple[Any, ...]] = {
        "add": (
            operator.add,
            operator.iadd,
            torch.add,
            T.add,
            T.add_,
            T.__add__,
            T.__iadd__,
            T.__radd__,
        ),
        "mul": (
            operator.mul,
            operator.imul,
            torch.mul,
            T.mul,
            T.mul_,
            T.__mul__,
            T.__imul__,
            T.__rmul__,
        ),
        "concat": (torch.cat, torch.concat, torch.concatenate),
        "reshape": (torch.flatten, T.flatten, T.view, T.reshape, torch.reshape),
        "relu": (F.relu, F.relu_, torch.relu, torch.relu_, T.relu, T.relu_),
        "relu6": (F.relu6,),
        "hardtanh": (F.hardtanh, F.hardtanh_),
        "sigmoid": (torch.sigmoid, F.sigmoid, T.sigmoid, T.sigmoid_),
        "tanh": (torch.tanh, F.tanh, T.tanh, T.tanh_),
        "gelu": (F.gelu,),
        "silu": (F.silu,),
        "hardswish": (F.hardswish,),
        "hardsigmoid": (F.hardsigmoid,),
        "permute": (torch.permute, T.permute),
        "transpose": (torch.transpose, T.transpose, torch.swapaxes, T.swapaxes),
        "layernorm": (F.layer_norm,),
        "groupnorm": (F.group_norm,),
        "instancenorm": (F.instance_norm,),
        "pixelshuffle": (F.pixel_shuffle, torch.pixel_shuffle),
        "pixelunshuffle": (F.pixel_unshuffle, torch.pixel_unshuffle),
        "channelshuffle": (F.channel_shuffle, torch.channel_shuffle, torch.native_channel_shuffle),
        "pad": (F.pad, torch._C._nn.pad),
        "getitem": (operator.getitem, T.__getitem__),
        "leakyrelu": (F.leaky_relu, F.leaky_relu_),
        "elu": (F.elu, F.elu_),
        "softmax": (F.softmax, torch.softmax, T.softmax),
        "dropout": (
            F.dropout,
            F.dropout1d,
            F.dropout2d,
            F.dropout3d,
            F.alpha_dropout,
            F.feature_alpha_dropout,
            torch.dropout,
        ),
        "adaptiveavgpool": (
            F.adaptive_avg_pool1d,
            F.adaptive_avg_pool2d,
            F.adaptive_avg_pool3d,
            torch._C._nn.adaptive_avg_pool2d,
        ),
        "adaptivemaxpool": (
            F.adaptive_max_pool1d,
            F.adaptive_max_pool2d,
            F.adaptive_max_pool3d,
            F.adaptive_max_pool2d_with_indices,
        ),
        "maxpool": (
            F.max_pool1d,
            F.max_pool2d,
            F.max_pool3d,
            F._max_pool1d,
            F._max_pool2d,
            F._max_pool3d,
            torch.max_pool2d,
        ),
        "avgpool": (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, torch._C._nn.avg_pool2d),
        "mean": (torch.mean, T.mean),
        "interpolate": (F.interpolate, F.upsample),
        "pass": (T.contiguous, T.clone, T.detach, T.float, T.to),
    }
    return {function: name for name, functions in groups.items() for function in functions}


_METHODS = {
    "add": "add",
    "add_": "add",
    "__add__": "add",
    "__iadd__": "add",
    "__radd__": "add",
    "mul": "mul",
    "mul_": "mul",
    "__mul__": "mul",
    "flatten": "reshape",
    "view": "reshape",
    "reshape": "reshape",
    "relu": "relu",
    "relu_": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "mean": "mean",
    "permute": "permute",
    "transpose": "transpose",
    "swapaxes": "transpose",
    "contiguous": "pass",
    "clone": "pass",
    "detach": "pass",
    "float": "pass",
    "to": "pass",
}

_FUNCTIONS: dict[Any, str] = {}


def _function_name(op: str, target: Any) -> tuple[str, str]:
    """(canonical name or "", the name a user would write)."""
    if op == "call_method":
        return _METHODS.get(target, ""), f"x.{target}()"
    if not _FUNCTIONS:
        _FUNCTIONS.update(_function_table())
    try:
        name = _FUNCTIONS.get(target, "")
    except TypeError:  # an unhashable callable
        name = ""
    return name, _written(target)


def _written(target: Any) -> str:
    """How a user writes a function: ``F.relu``, ``torch.cat``, ``operator.mul``."""
    name = str(getattr(target, "__name__", None) or target)
    owner = getattr(target, "__objclass__", None)
    if owner is not None:
        return f"Tensor.{name}" if "Tensor" in owner.__name__ else f"{owner.__name__}.{name}"
    module = str(getattr(target, "__module__", None) or "")
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch") or not module:
        return f"torch.{name}"
    return f"{module}.{name}"


# ----------------------------------------------------------------- conversion


class _Unknown(Exception):
    """Raised by a converter for something it cannot write: ``why``."""


def _convert(
    calls: list[Call], output: Ref, unknown: str
) -> tuple[list[Node], list[tuple[str, str, str]], list[str]]:
    """Nodes for the calls; the problems (path, type, why) found; notes for the header."""
    calls = _reaching(calls, output)
    nodes: list[Node] = []
    problems: list[tuple[str, str, str]] = []
    notes: list[str] = []
    alias: dict[str, str] = {}  # calls written as nothing (x.contiguous()) → their input
    layouts: dict[str, str] = {}  # values whose axes a permute or view moved
    readers = Counter(r.name for call in calls for r in _refs(call.args, call.kwargs))
    pads: dict[str, tuple[Call, Ref, _Padding]] = {}  # explicit padding, not yet placed

    def resolved(ref: Ref) -> Ref:
        layout = layouts.get(ref.name, "") if len(ref.shape) > 2 else ""  # vectors have none
        return ref._replace(name=alias.get(ref.name, ref.name), layout=layout)

    def place_pad(name: str) -> None:
        """The padding ``name`` as a ``pad`` statement of its own."""
        pad_call, source, padding = pads.pop(name)
        if padding.statement is None:
            problems.append((pad_call.path, pad_call.type_name, padding.why))
        else:
            nodes.append(_node(pad_call, "leaf", padding.statement, (source.name,), [source]))

    for call in calls:
        inputs = [resolved(r) for r in _refs(call.args, call.kwargs)]
        statement: tuple[str, str] | None = None
        if len(inputs) == 1 and inputs[0].name in pads:  # fold into a conv or pool
            pad_call, source, padding = pads[inputs[0].name]
            if padding.sides is not None and readers[pad_call.name] == 1:
                try:
                    statement = _statement(call, [source], padding.sides)
                    pads.pop(inputs[0].name)
                    inputs = [source]
                except (_Unknown, Unwritable):
                    pass
        for ref in inputs:
            if ref.name in pads:
                place_pad(ref.name)
        try:
            kind, text = statement or _statement(call, inputs)
        except (_Unknown, Unwritable) as why:
            if unknown == "opaque" and len(inputs) == 1 and call.out == inputs[0].shape:
                kind, text = "opaque", "identity"
                call = call._replace(path=f"{call.path}-opaque")
                notes.append(f"opaque, counted as zero: {call.path} ({call.type_name}): {why}")
            else:
                problems.append((call.path or call.name, call.type_name, str(why)))
                continue
        if kind in ("pass", "layout"):
            alias[call.name] = inputs[0].name
            layouts[call.name] = text if kind == "layout" else inputs[0].layout
            continue
        if kind == "pad":
            pads[call.name] = (call, inputs[0], _padding(call, inputs[0]))
            continue
        if kind != "opaque" and any(r.layout == "last" for r in inputs):
            layouts[call.name] = "last"  # a layer on a channels-last map keeps that layout
        source_names = tuple(r.name for r in inputs)
        nodes.append(_node(call, kind, text, source_names, inputs, layouts.get(call.name, "")))
    for name in list(pads):
        place_pad(name)
    out_name = alias.get(output.name, output.name)
    if layouts.get(output.name, "").startswith(("groups", "shuffled")) and not problems:
        problems.append(("output", "return", "the model returns channels viewed as groups"))
    if nodes and out_name != nodes[-1].name and not problems:
        problems.append(
            ("output", "return", "the model returns a value that is not its last layer's")
        )
    return nodes, problems, notes


def _reaching(calls: list[Call], output: Ref) -> list[Call]:
    """The calls the output depends on: a value computed only to steer Python control
    flow (``if x.sum() > 0``) is no layer."""
    needed = {output.name}
    for call in reversed(calls):
        if call.name in needed:
            needed.update(r.name for r in _refs(call.args, call.kwargs))
    return [call for call in calls if call.name in needed]


def _refs(args: Any, kwargs: dict[str, Any]) -> list[Ref]:
    found: list[Ref] = []

    def walk(value: Any) -> None:
        if isinstance(value, Ref):
            found.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(args)
    walk(kwargs)
    return found


def _node(
    call: Call,
    kind: str,
    text: str,
    sources: tuple[str, ...],
    inputs: list[Ref],
    layout: str = "",
) -> Node:
    """The node of a call; ``layout`` "last" when its output has the channels last
    (already our order)."""
    out = (call.out[1:] if layout == "last" else _ours(call.out[1:])) if call.out else ()
    params = -1
    macs = -1
    if call.module is not None and kind != "opaque":
        params = sum(p.numel() for p in call.module.parameters())
        if params and not any(p.requires_grad for p in call.module.parameters()):
            text += " frozen"  # requires_grad=False throughout: not trained
        macs = _macs(call.module, inputs[0].shape if inputs else (), call.out or ())
    elif kind == "leaf":  # a function's weights: the parameters it reads (F.layer_norm)
        constants = [c for c in _constants(call) if c.parameter]
        if constants:
            params = sum(math.prod(c.shape) for c in constants)
    label = word_label(call.path)
    extra: tuple[str, ...] = ()
    if "\n" in text:
        text, *rest = text.split("\n")
        extra = tuple(rest)
    statement = kind if kind in ("add", "concat") else text
    return Node(call.name, label, statement, sources, out, params, macs, extra)


def _macs(module: Any, in_shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """MACs of a conv, transposed conv or linear module from PyTorch's own shapes:
    output elements · C_in/g · Πk; input elements · C_out/g · Πk; in · out."""
    cls = _torch_class(module)
    if cls in _CONV:
        per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return int(math.prod(out[1:]) * per_output)
    if cls in _DECONV:
        per_input = (module.out_channels // module.groups) * math.prod(module.kernel_size)
        return int(math.prod(in_shape[1:]) * per_input)
    if cls == "Linear":  # on vectors, or on each position of a channels-last map
        return int(module.in_features * module.out_features * math.prod(out[1:-1]))
    return -1


# ----------------------------------------------------------------- statements


def _dims(value: Any, n: int) -> tuple[int, ...]:
    """A PyTorch size argument (an int, or one per dimension) as ``n`` numbers."""
    if isinstance(value, int):
        return (value,) * n
    values = tuple(int(v) for v in value)
    return values * n if len(values) == 1 else values


def _sym(padding: Any, n: int) -> Pads:
    """Symmetric padding ``p`` (int or per dimension) as (before, after) per dimension."""
    return tuple((p, p) for p in _dims(padding, n))


def _plus(pads: Pads, sides: tuple[int, ...] | None) -> Pads:
    """``pads`` with an explicit pad in front added; ``sides`` in PyTorch's order, the
    last dimension first: (left, right, top, bottom, front, back)."""
    if sides is None:
        return pads
    per_dim = [(sides[2 * i], sides[2 * i + 1]) for i in range(len(sides) // 2)][::-1]
    if len(per_dim) != len(pads):
        raise _Unknown(f"padding of {len(per_dim)} dimensions before a {len(pads)}-D layer")
    return tuple((b + pb, a + pa) for (b, a), (pb, pa) in zip(pads, per_dim, strict=True))


def _statement(
    call: Call, inputs: list[Ref], sides: tuple[int, ...] | None = None
) -> tuple[str, str]:
    """("leaf" | "add" | "concat" | "pass" | "layout" | "pad", statement text) of a call;
    ``sides``: an explicit padding in front (PyTorch's order, left, right, top, ...).
    "layout" moves axes without a layer (``x.permute(0, 2, 3, 1)``): its text is the
    new layout (see ``_LAYOUTS``)."""
    padded = call.function in ("maxpool", "avgpool") or _torch_class(call.module) in _PADDED
    if sides is not None and not padded:
        raise _Unknown("padding that no conv or pool takes on")
    if any(r.layout for r in inputs):
        return _moved_statement(call, inputs)
    if call.module is not None:
        return _module_statement(call, inputs, sides)
    return _function_statement(call, inputs, sides)


# Module classes by what they become, in 1, 2 and 3 spatial dimensions.
_CONV = ("Conv1d", "Conv2d", "Conv3d")
_DECONV = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_MAXPOOL = ("MaxPool1d", "MaxPool2d", "MaxPool3d")
_AVGPOOL = ("AvgPool1d", "AvgPool2d", "AvgPool3d")
_ADAPTIVE_AVG = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
_ADAPTIVE_MAX = ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
_BATCHNORM = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
_INSTANCENORM = ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
_DROPOUT = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
_PAD = tuple(
    f"{kind}Pad{d}d"
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
    for d in (1, 2, 3)
)
_UPSAMPLE = ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
_PADDED = (*_CONV, *_MAXPOOL, *_AVGPOOL)  # the layers an explicit zero padding folds into

# How a value's axes can be laid out after a permute or view, besides PyTorch's usual
# (N, C, *spatial) (""): "last", the channels last (N, *spatial, C), as ConvNeXt's blocks
# compute; "groups G", the channels viewed as (N, G, C/G, *spatial), and "shuffled G",
# those two axes swapped: the steps of ShuffleNet's channel shuffle.
_LAYOUTS = ("", "last", "groups", "shuffled")


def _torch_class(module: Any) -> str:
    """The class name of a module of ``torch.nn`` itself ("" for anything else, a
    subclass included: its forward may differ)."""
    _, nn = _torch()
    cls = type(module)
    name = cls.__name__
    return name if getattr(nn, name, None) is cls else ""


def _module_statement(
    call: Call, inputs: list[Ref], sides: tuple[int, ...] | None
) -> tuple[str, str]:
    module = call.module
    cls = _torch_class(module)
    in_shape = inputs[0].shape if inputs else ()
    n = len(in_shape) - 2  # spatial dimensions
    if cls.startswith("MaxUnpool"):
        return "leaf", _unpool(call)
    if any(isinstance(v, _Indices) for v in (*call.args, *call.kwargs.values())):
        raise _Unknown(_("reads where a max pooling found its maxima: only max unpooling does"))
    if len(inputs) != 1:
        raise _Unknown("takes more than one tensor")
    if cls in _CONV:
        return "leaf", _conv(module, in_shape, sides)
    if cls in _DECONV:
        if module.padding_mode != "zeros":
            raise _Unknown(f"padding_mode={module.padding_mode!r}")
        return "leaf", deconv_words(
            module.out_channels,
            _dims(module.kernel_size, n),
            _dims(module.stride, n),
            _dims(module.padding, n),
            _dims(module.output_padding, n),
            _dims(module.dilation, n),
            module.groups,
            module.bias is not None,
        )
    if cls == "Linear":
        if len(in_shape) != 2:
            raise _Unknown(f"a Linear on a {len(in_shape)}-D tensor: fc reads a batch of vectors")
        return "leaf", words(
            f"fc {module.out_features}", None if module.bias is not None else "nobias"
        )
    if cls in (*_MAXPOOL, *_AVGPOOL):  # return_indices: see _Indices
        return "leaf", _pool(
            "maxpool" if cls in _MAXPOOL else "avgpool",
            module.kernel_size,
            module.stride,
            _plus(_sym(module.padding, n), sides),
            getattr(module, "dilation", 1),
            module.ceil_mode,
            in_shape,
        )
    if cls in (*_ADAPTIVE_AVG, *_ADAPTIVE_MAX):
        if getattr(module, "return_indices", False):
            raise _Unknown("return_indices=True")
        kind = "avg" if cls in _ADAPTIVE_AVG else "max"
        return "leaf", adaptive_words(kind, (call.out or ())[2:])
    if cls in _BATCHNORM:
        if not module.affine:
            raise _Unknown("affine=False: the language's bn has γ and β")
        return "leaf", "bn"
    if cls == "LayerNorm":
        return "leaf", _layernorm(module.normalized_shape, _affine(module), in_shape, "")
    if cls == "GroupNorm":
        if not module.affine:
            raise _Unknown(_("affine=False: the language's groupnorm has γ and β"))
        return "leaf", f"groupnorm {module.num_groups}"
    if cls in _INSTANCENORM:
        return "leaf", "instancenorm affine" if module.affine else "instancenorm"
    if cls == "ChannelShuffle":
        return "leaf", f"channelshuffle {module.groups}"
    if cls in ("PixelShuffle", "PixelUnshuffle"):
        factor = module.upscale_factor if cls == "PixelShuffle" else module.downscale_factor
        return "leaf", f"{cls.lower()} {factor}"
    if cls in _DROPOUT:
        return "leaf", f"dropout {number(module.p)}"
    if cls == "Flatten":
        if (module.start_dim, module.end_dim) != (1, -1):
            raise _Unknown(f"start_dim={module.start_dim}, end_dim={module.end_dim}")
        return "leaf", "flatten"
    if cls == "Identity":
        return "pass", ""  # a placeholder; a path of nothing is written `identity`
    if cls == "LocalResponseNorm":
        if module.size != 5:
            raise _Unknown(f"size={module.size}: lrn counts a window of 5")
        return "leaf", "lrn"
    if cls in _PAD:
        return "pad", ""
    if cls in _UPSAMPLE:
        return "leaf", _upsample(module.mode, in_shape, call.out or ())
    helper = _helper(module)
    if helper:
        return "leaf", _helper_statement(helper, module, in_shape)
    activation = _module_activation(module, in_shape) if cls else None
    if activation is not None:
        return "leaf", activation
    if _is_known_subclass(module):
        raise _Unknown("a subclass of a PyTorch layer: its forward may compute something else")
    raise _Unknown("no layer word for this module")


def _unpool(call: Call) -> str:
    """``maxunpool POOL``: back to the size before the labelled max pooling POOL whose
    indices it reads."""
    where = next((v for v in (*call.args, *call.kwargs.values()) if isinstance(v, _Indices)), None)
    if where is None:
        raise _Unknown(_("max unpooling reads its pooling's indices: write maxunpool POOL"))
    if call.out != where.in_shape:
        raise _Unknown(
            _("unpools to {out}, not to the size before {pool} ({size})").format(
                out=call.out, pool=where.path, size=where.in_shape
            )
        )
    return f"maxunpool {word_label(where.path)}"


def _helper_statement(helper: str, module: Any, in_shape: tuple[int, ...]) -> str:
    """cnn_magic's own modules, as ``to_torch()`` builds them."""
    if helper == "ChannelsLast":
        inner = module.inner
        if _torch_class(inner) != "LayerNorm":
            raise _Unknown(_("channels last around a {name}").format(name=type(inner).__name__))
        layout = "" if len(in_shape) == 2 else "last"
        channels_last = (*in_shape[:1], *in_shape[2:], *in_shape[1:2])
        return _layernorm(inner.normalized_shape, _affine(inner), channels_last, layout)
    if helper == "LayerScale":
        if module.weight.numel() != in_shape[1]:
            raise _Unknown(
                _("{factors} factors for {channels} channels").format(
                    factors=module.weight.numel(), channels=in_shape[1]
                )
            )
        return "layerscale"
    return _crop(module.sides, in_shape)


def _affine(module: Any) -> bool:
    """A LayerNorm with both γ and β (the language's ``layernorm`` learns both)."""
    return bool(module.elementwise_affine) and getattr(module, "bias", None) is not None


def _layernorm(normalized: Any, affine: bool, shape: tuple[int, ...], layout: str) -> str:
    """``layernorm``: over the features of vectors or the channels of a channels-last
    map (``shape`` as PyTorch sees it), with γ and β."""
    channels = shape[-1]
    over_channels = len(shape) == 2 or layout == "last"
    if tuple(normalized) != (channels,) or not over_channels:
        raise _Unknown(
            _(
                "normalises over {normalized} of {shape}: the language's layernorm is over "
                "the channels at each position (or a vector's features)"
            ).format(normalized=tuple(normalized), shape=shape)
        )
    if not affine:
        raise _Unknown(_("without γ and β: the language's layernorm learns both"))
    return "layernorm"


def _is_known_subclass(module: Any) -> bool:
    _, nn = _torch()
    known = tuple(
        getattr(nn, name)
        for name in (*_CONV, *_DECONV, *_MAXPOOL, *_BATCHNORM, "Linear", "ReLU", "LayerNorm")
    )
    return isinstance(module, known)


def _conv(module: Any, in_shape: tuple[int, ...], sides: tuple[int, ...] | None) -> str:
    n = len(in_shape) - 2
    kernel, dilation = _dims(module.kernel_size, n), _dims(module.dilation, n)
    padding = module.padding
    if padding == "same":  # PyTorch: total d·(k − 1), the odd pixel after
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        pads: Pads = tuple((t // 2, t - t // 2) for t in totals)
    else:
        pads = _sym(0 if padding == "valid" else padding, n)
    return conv_words(
        module.in_channels,
        module.out_channels,
        kernel,
        _dims(module.stride, n),
        _plus(pads, sides),
        dilation,
        module.groups,
        module.bias is not None,
        in_shape[2:],
    )


def _pool(
    op: str,
    kernel: Any,
    stride: Any,
    pads: Pads,
    dilation: Any,
    ceil: bool,
    in_shape: tuple[int, ...],
) -> str:
    n = len(in_shape) - 2
    stride = kernel if stride is None or stride == [] or stride == () else stride
    return pool_words(
        op, _dims(kernel, n), _dims(stride, n), pads, _dims(dilation, n), ceil, in_shape[2:]
    )


def _upsample(mode: str, in_shape: tuple[int, ...], out: tuple[int, ...]) -> str:
    """nearest → ``upsample S``; linear, bilinear, trilinear → ``upsample S bilinear``."""
    if len(in_shape) < 3:
        raise _Unknown("upsampling a vector")
    linear = mode in ("linear", "bilinear", "trilinear")
    return upsample_words(in_shape[2:], out[2:], "linear" if linear else mode)


def _module_activation(module: Any, in_shape: tuple[int, ...]) -> str | None:
    _, nn = _torch()
    cls = type(module)
    simple = {
        nn.ReLU: "relu",
        nn.ReLU6: "relu6",
        nn.GELU: "gelu",
        nn.SiLU: "silu",
        nn.Hardswish: "hardswish",
        nn.Sigmoid: "sigmoid",
        nn.Tanh: "tanh",
    }
    simple[nn.Hardsigmoid] = "hardsigmoid"
    if cls in simple:
        return simple[cls]
    if cls is nn.LeakyReLU:
        return f"leakyrelu {number(module.negative_slope)}"
    if cls is nn.ELU:
        return f"elu {number(module.alpha)}"
    if cls is nn.PReLU:
        if module.num_parameters != 1:
            raise _Unknown(f"num_parameters={module.num_parameters}: prelu has one weight")
        return "prelu"
    if cls is nn.Hardtanh and (module.min_val, module.max_val) == (0.0, 6.0):
        return "relu6"
    if cls is nn.Softmax:
        return _softmax(module.dim, in_shape)
    return None


def _softmax(dim: Any, in_shape: tuple[int, ...]) -> str:
    rank = len(in_shape)
    if dim is None or dim == 1 or dim == -rank + 1 or (rank == 2 and dim == -1):
        return "softmax"
    raise _Unknown(f"softmax over dim {dim}: the language's softmax is over the channels")


_SIGNATURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "leakyrelu": (("input", None), ("negative_slope", 0.01), ("inplace", False)),
    "elu": (("input", None), ("alpha", 1.0), ("inplace", False)),
    "hardtanh": (("input", None), ("min_val", -1.0), ("max_val", 1.0), ("inplace", False)),
    "softmax": (("input", None), ("dim", None), ("_stacklevel", 3), ("dtype", None)),
    "dropout": (("input", None), ("p", 0.5), ("training", True), ("inplace", False)),
    "pad": (("input", None), ("pad", None), ("mode", "constant"), ("value", None)),
    "layernorm": (
        ("input", None),
        ("normalized_shape", None),
        ("weight", None),
        ("bias", None),
        ("eps", 1e-5),
    ),
    "groupnorm": (("input", None), ("num_groups", None), ("weight", None), ("bias", None)),
    "instancenorm": (
        ("input", None),
        ("running_mean", None),
        ("running_var", None),
        ("weight", None),
        ("bias", None),
    ),
    "adaptiveavgpool": (("input", None), ("output_size", None)),
    "adaptivemaxpool": (("input", None), ("output_size", None), ("return_indices", False)),
    "maxpool": (
        ("input", None),
        ("kernel_size", None),
        ("stride", None),
        ("padding", 0),
        ("dilation", 1),
        ("ceil_mode", False),
        ("return_indices", False),
    ),
    "avgpool": (
        ("input", None),
        ("kernel_size", None),
        ("stride", None),
        ("padding", 0),
        ("ceil_mode", False),
        ("count_include_pad", True),
        ("divisor_override", None),
    ),
    "concat": (("tensors", None), ("dim", 0)),
    "mean": (("input", None), ("dim", None), ("keepdim", False)),
    "interpolate": (
        ("input", None),
        ("size", None),
        ("scale_factor", None),
        ("mode", "nearest"),
        ("align_corners", None),
    ),
}


def _bind(name: str, call: Call) -> dict[str, Any]:
    spec = _SIGNATURES[name]
    bound = {key: default for key, default in spec}
    for (key, _default), value in zip(spec, call.args, strict=False):
        bound[key] = value
    bound.update(call.kwargs)
    return bound


def _function_statement(
    call: Call, inputs: list[Ref], sides: tuple[int, ...] | None = None
) -> tuple[str, str]:
    name = call.function
    out = call.out or ()
    if not name:
        raise _Unknown("no layer word for this function")
    if any(isinstance(v, _Indices) for v in (*call.args, *call.kwargs.values())):
        raise _Unknown(_("reads where a max pooling found its maxima: only max unpooling does"))
    if name in ("layernorm", "groupnorm", "instancenorm"):
        return "leaf", _norm_function(name, call, inputs[0])
    if name == "mul" and _constants(call):
        return "leaf", _layerscale(call, inputs)
    if _constants(call):
        raise _Unknown("reads a parameter or a tensor made inside forward: not counted")
    if name == "pass":
        return "pass", ""
    if name in ("permute", "transpose"):
        order = _order(name, call, len(inputs[0].shape))
        rank = len(order)
        if order == tuple(range(rank)):
            return "pass", ""
        if rank > 2 and order == (0, *range(2, rank), 1):
            return "layout", "last"
        raise _Unknown(
            _("moves the axes to {order}: only the channels to the end is known").format(
                order=order
            )
        )
    if name == "pad":
        return "pad", ""
    if name == "getitem":
        if not inputs:  # an item of a tuple: x.chunk(2, 1)[0], a pooling's indices
            raise _Unknown(_("takes one of several outputs (a split, or a pooling's indices)"))
        return _getitem(call, inputs[0])
    if name in ("pixelshuffle", "pixelunshuffle", "channelshuffle"):
        factor = call.kwargs.get("upscale_factor") or call.kwargs.get("downscale_factor")
        factor = factor or call.kwargs.get("groups") or call.args[1]
        return "leaf", f"{name} {int(factor)}"
    if name == "hardsigmoid":
        return "leaf", name
    if name == "add":
        if len(inputs) < 2:
            raise _Unknown("adds a constant to a tensor")
        if len({r.shape for r in inputs}) != 1:
            raise _Unknown("adds tensors of different shapes (broadcasting)")
        return "add", "add"
    if name == "mul":
        raise _Unknown("an element-wise product: no multiplication merge in the language yet")
    if name == "concat":
        bound = _bind("concat", call)
        rank = len(out)
        if bound["dim"] not in (1, 1 - rank):
            raise _Unknown(f"joins along dim {bound['dim']}: concat joins channels (dim 1)")
        return "concat", "concat"
    if name == "reshape":
        shape = inputs[0].shape
        if out == shape:
            return "pass", ""
        if out == (shape[0], math.prod(shape[1:])):
            return "leaf", "flatten"
        grouped = len(shape) > 2 and len(out) == len(shape) + 1 and out[3:] == shape[2:]
        if grouped and out[0] == shape[0] and out[1] * out[2] == shape[1]:
            return "layout", f"groups {out[1]}"  # the first step of a channel shuffle
        raise _Unknown(f"reshapes {shape} to {out}: only flattening to (N, features) is known")
    if name == "mean":
        bound = _bind("mean", call)
        dims = bound["dim"]
        dims = {dims} if isinstance(dims, int) else set(dims or ())
        if len(inputs[0].shape) == 4 and dims in ({2, 3}, {-1, -2}):
            return "leaf", "gap" if bound["keepdim"] else "gap\nflatten"
        raise _Unknown("a mean over other axes than height and width")
    if name == "interpolate":
        return "leaf", _upsample(_bind(name, call)["mode"], inputs[0].shape, out)
    if name in _ELEMENTWISE:
        return "leaf", name
    if name == "leakyrelu":
        return "leaf", f"leakyrelu {number(_bind(name, call)['negative_slope'])}"
    if name == "elu":
        return "leaf", f"elu {number(_bind(name, call)['alpha'])}"
    if name == "hardtanh":
        bound = _bind(name, call)
        if (bound["min_val"], bound["max_val"]) == (0.0, 6.0):
            return "leaf", "relu6"
        raise _Unknown("hardtanh other than ReLU6")
    if name == "softmax":
        return "leaf", _softmax(_bind(name, call)["dim"], inputs[0].shape)
    if name == "dropout":
        return "leaf", f"dropout {number(_bind(name, call)['p'])}"
    if name in ("adaptiveavgpool", "adaptivemaxpool"):
        if _bind(name, call).get("return_indices"):
            raise _Unknown("return_indices=True")
        return "leaf", adaptive_words(name[8:11], out[2:])
    if name in ("maxpool", "avgpool"):
        bound = _bind(name, call)
        if bound.get("return_indices"):
            raise _Unknown("return_indices=True")
        return "leaf", _pool(
            name,
            bound["kernel_size"],
            bound["stride"],
            _plus(_sym(bound["padding"], len(inputs[0].shape) - 2), sides),
            bound.get("dilation", 1),
            bool(bound["ceil_mode"]),
            inputs[0].shape,
        )
    raise _Unknown("no layer word for this function")  # pragma: no cover


# ----------------------------------------------------------------- the newer layers

# Functions that act on each element alone: the same statement in any layout.
_ELEMENTWISE = (
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "gelu",
    "silu",
    "hardswish",
    "hardsigmoid",
)


def _constants(call: Call) -> list[_Constant]:
    """The parameters and made-up tensors a function reads."""
    found: list[_Constant] = []

    def walk(value: Any) -> None:
        if isinstance(value, _Constant):
            found.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(call.args)
    walk(tuple(call.kwargs.values()))
    return found


def _order(name: str, call: Call, rank: int) -> tuple[int, ...]:
    """The new order of the axes of a ``permute`` or ``transpose``."""
    if name == "permute":
        dims = call.kwargs.get("dims", call.args[1:])
        if len(dims) == 1 and isinstance(dims[0], list | tuple):
            dims = dims[0]
        return tuple(int(d) % rank for d in dims)
    first = call.kwargs.get("dim0", call.args[1] if len(call.args) > 1 else 0)
    second = call.kwargs.get("dim1", call.args[2] if len(call.args) > 2 else 0)
    order = list(range(rank))
    a, b = int(first) % rank, int(second) % rank
    order[a], order[b] = order[b], order[a]
    return tuple(order)


def _moved_statement(call: Call, inputs: list[Ref]) -> tuple[str, str]:
    """A call on a value whose axes were moved (``_LAYOUTS``): ConvNeXt's channels-last
    layers, and the steps of a channel shuffle."""
    layouts = {r.layout for r in inputs}
    layout = inputs[0].layout
    name, cls = call.function, _torch_class(call.module) if call.module is not None else ""
    if len(layouts) > 1:
        raise _Unknown(_("combines values of different axis orders"))
    if name == "pass":
        return "pass", ""
    rank = len(inputs[0].shape)
    if layout.startswith(("groups", "shuffled")):
        groups = layout.split()[1]
        swapped = name in ("permute", "transpose") and layout.startswith("groups")
        if swapped and _order(name, call, rank) == (0, 2, 1, *range(3, rank)):
            return "layout", f"shuffled {groups}"
        if name == "reshape" and layout.startswith("shuffled"):
            shape = inputs[0].shape
            if call.out == (shape[0], shape[1] * shape[2], *shape[3:]):
                return "leaf", f"channelshuffle {shape[2]}"
        raise _Unknown(
            _("reads channels viewed as {groups} groups: only a channel shuffle is known").format(
                groups=groups
            )
        )
    # the channels last: (N, *spatial, C)
    if name in ("permute", "transpose") and _order(name, call, rank) == (
        0,
        rank - 1,
        *range(1, rank - 1),
    ):
        return "layout", ""
    if name in ("layernorm", "mul"):
        return "leaf", (
            _norm_function(name, call, inputs[0])
            if name == "layernorm"
            else _layerscale(call, inputs)
        )
    if name == "add" and len(inputs) == 2 and inputs[0].shape == inputs[1].shape:
        return "add", "add"
    shape = inputs[0].shape
    if name == "reshape" and call.out == (shape[0], math.prod(shape[1:])):
        return "leaf", "flatten"  # the same features in another order: the same counts
    if name in (*_ELEMENTWISE, "dropout", "leakyrelu", "elu") and not _constants(call):
        return _function_statement(call, inputs)
    if cls == "LayerNorm":
        return "leaf", _layernorm(
            call.module.normalized_shape, _affine(call.module), inputs[0].shape, "last"
        )
    if cls == "Linear":  # on each position: a 1×1 convolution
        bias = None if call.module.bias is not None else "nobias"
        return "leaf", words(f"conv {call.module.out_features} k1", bias)
    if cls in _DROPOUT or (
        cls and cls != "Softmax" and _module_activation(call.module, ()) is not None
    ):
        return _module_statement(call, inputs, None)
    raise _Unknown(
        _(
            "reads a map with the channels last (after a permute): only layer norm, linear "
            "layers, activations and layer scale are known there"
        )
    )


def _norm_function(name: str, call: Call, source: Ref) -> str:
    """``F.layer_norm``, ``F.group_norm`` and ``F.instance_norm`` with their weights."""
    bound = _bind(name, call)
    affine = isinstance(bound["weight"], _Constant) and isinstance(bound["bias"], _Constant)
    if name == "layernorm":
        normalized = bound["normalized_shape"]
        normalized = (normalized,) if isinstance(normalized, int) else tuple(normalized)
        return _layernorm(normalized, affine, source.shape, source.layout)
    if not affine and (name == "groupnorm" or bound["weight"] is not None):
        raise _Unknown(_("without both weight and bias: the language's norms learn γ and β"))
    if name == "groupnorm":
        return f"groupnorm {int(bound['num_groups'])}"
    if isinstance(bound["running_mean"], _Constant):
        raise _Unknown(_("running statistics: the language's instancenorm uses each sample's"))
    return "instancenorm affine" if affine else "instancenorm"


def _layerscale(call: Call, inputs: list[Ref]) -> str:
    """``x * γ`` (or ``γ * x``) with one learned factor per channel: ``layerscale``."""
    constants = _constants(call)
    if len(inputs) != 1 or len(constants) != 1 or not constants[0].parameter:
        raise _Unknown(
            _(
                "an element-wise product with a tensor that is no parameter (a buffer, or "
                "one made inside forward)"
            )
        )
    shape, gamma = inputs[0].shape, constants[0].shape
    axis = len(shape) - 1 if len(shape) == 2 or inputs[0].layout == "last" else 1
    wanted = tuple(shape[axis] if i == axis else 1 for i in range(len(shape)))
    aligned = (1,) * (len(shape) - len(gamma)) + gamma
    if len(gamma) > len(shape) or aligned != wanted or call.out != shape:
        raise _Unknown(
            _(
                "multiplies {shape} by a parameter of shape {gamma}: layer scale has one "
                "factor per channel"
            ).format(shape=shape, gamma=gamma)
        )
    return "layerscale"


def _getitem(call: Call, source: Ref) -> tuple[str, str]:
    """Slicing the spatial axes (``x[:, :, 2:-2, 2:-2]``): ``crop``."""
    index = call.args[1] if len(call.args) > 1 else ()
    index = index if isinstance(index, tuple) else (index,)
    shape = source.shape
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = (*index[:at], *([slice(None)] * (len(shape) - len(index) + 1)), *index[at + 1 :])
    index = (*index, *([slice(None)] * (len(shape) - len(index))))
    whole = slice(None)
    if len(index) != len(shape) or any(not isinstance(i, slice) for i in index):
        raise _Unknown(_("indexes single positions or adds axes: only slicing is known"))
    if index[:2] != (whole, whole) or len(shape) < 3:
        raise _Unknown(_("slices the batch or the channels: crop slices height and width"))
    sides = []
    for size, part in zip(shape[2:], index[2:], strict=True):
        start, stop, step = part.indices(size)
        if step != 1 or stop <= start:
            raise _Unknown(_("slices with step {step} or to nothing").format(step=step))
        sides.append((start, size - stop))
    if not any(b or a for b, a in sides):
        return "pass", ""
    return "leaf", _crop(tuple(sides), shape)


def _crop(sides: Sequence[tuple[int, int]], shape: tuple[int, ...]) -> str:
    """``crop HxW`` where the sides keep the centre, else ``crop top= bottom= left=
    right=`` (1-D: left and right); ``shape`` as PyTorch's, (N, C, *spatial)."""
    return crop_words(tuple(sides), shape[2:])


# ----------------------------------------------------------------- explicit padding


class _Padding(NamedTuple):
    """Explicit padding: ``sides`` to fold into a following conv or pool (zeros, or −∞
    before a max pooling; None otherwise), and its own ``pad`` statement (None: ``why``)."""

    sides: tuple[int, ...] | None
    statement: str | None
    why: str = ""


# PyTorch's padding modes → the language's
_PAD_MODE = {
    "constant": "zeros",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def _padding(call: Call, source: Ref) -> _Padding:
    """The padding of a ``ZeroPad``/``ConstantPad``/``ReflectionPad``/``ReplicationPad``/
    ``CircularPad`` module or of ``F.pad``; sides in PyTorch's order (left, right, top,
    bottom, front, back)."""
    if call.module is not None:
        name = type(call.module).__name__
        sides = tuple(int(p) for p in call.module.padding)
        value = float(getattr(call.module, "value", 0.0))
        kinds = {"Reflection": "reflect", "Replication": "replicate", "Circular": "circular"}
        mode_name = next((m for k, m in kinds.items() if name.startswith(k)), "constant")
    else:
        bound = _bind("pad", call)
        sides = tuple(int(p) for p in bound["pad"])
        mode_name = bound["mode"]
        value = float(bound["value"] or 0.0)
    spatial = len(source.shape) - 2
    if source.layout or len(sides) > 2 * spatial or len(sides) % 2 or spatial < 1:
        why = _("pads {axes} axes of {shape}").format(axes=len(sides) // 2, shape=source.shape)
        return _Padding(None, None, why)
    sides = sides + (0,) * (2 * spatial - len(sides))  # the leading spatial axes unpadded
    foldable = mode_name == "constant" and value in (0.0, -math.inf) and min(sides) >= 0
    fold = sides if foldable else None
    if min(sides) < 0:
        return _Padding(None, None, _("negative padding {sides}").format(sides=sides))
    if mode_name not in _PAD_MODE or (mode_name == "constant" and value != 0.0):
        why = (
            _("pads with {value}: pad fills with zeros, reflect, replicate or circular")
            if mode_name == "constant"
            else _("mode {mode}: pad fills with zeros, reflect, replicate or circular")
        )
        return _Padding(fold, None, why.format(value=value, mode=repr(mode_name)))
    per_dim = tuple((sides[2 * i], sides[2 * i + 1]) for i in range(spatial))[::-1]
    try:
        return _Padding(fold, pad_words(per_dim, _PAD_MODE[mode_name]))
    except Unwritable as why:
        return _Padding(fold, None, str(why))
