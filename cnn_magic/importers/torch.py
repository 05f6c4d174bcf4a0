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
``x + y``, ``torch.add``                  the add of a ``residual:`` or ``add:`` block;
                                          ``add A, B`` where paths cross or shapes broadcast
``torch.cat([...], 1)``                   the join of a ``concat:`` block; ``concat A, B``
``x * gate(x)``, ``torch.mul``            ``scale:``; another product ``mul A, B``
``torch.split``, ``torch.chunk``,         ``split N:`` / ``split a b:`` when the parts'
``torch.narrow``, ``x[:, a:b]``           paths are joined again by one ``torch.cat``
``nn.MaxUnpool1d/2d/3d`` with a pooling's ``maxunpool POOL``
indices
a module called again                     ``reuse LABEL`` (its parameters counted once)
a branch the output does not need that    ``side:``
runs a module; ``return scores, aux``
========================================  ===================================================

A value whose axes a ``permute`` or ``view`` moved carries its layout (``_LAYOUTS``): the
channels last (ConvNeXt's blocks), or the channels viewed as groups (the steps of a
channel shuffle); only the layers listed above are understood on such a value.

Where paths cross (DenseNet), :mod:`cnn_magic.importers.graph` labels the values read
again and writes ``from=LABEL`` and one-line merges. Anything else — upsampling by a
fraction, a product with a constant other than a layer scale, a subclass of a known
module, a parameter used in another function — has no word yet: :class:`CNNError`
lists each one with its module path, type and why. With ``unknown="opaque"`` each
unknown that reads one tensor becomes an ``opaque`` row (``opaque 7x7x512`` where it
changes the shape), counted as zero, with its parameters said in the text's header.
"""

from __future__ import annotations

import math
import operator
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeGuard

from ..dsl import parse_shape
from ..errors import CNNError, did_you_mean
from ..i18n import N_, _, _n
from ..results import Network
from ..shapes import format_shape
from .graph import MERGES, SLICE, Node, build, input_value
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
    ``(3, 224, 224)``, or our notation ``"224x224x3"`` (a list of them for a model of
    several inputs); one statement per module, labelled with its path."""
    torch, nn = _torch()
    if not isinstance(model, nn.Module):
        raise CNNError(
            _("from_torch() takes a torch.nn.Module, not {type}").format(type=type(model).__name__),
            hint=_("pass the model object itself: from_torch(model, (3, 224, 224))"),
        )
    if unknown not in UNKNOWN:
        raise CNNError(
            _("unknown={unknown!r} is not valid").format(unknown=unknown),
            hint=did_you_mean(str(unknown), UNKNOWN),
        )
    shapes = _input_shapes(input)
    shape = shapes[0]
    name = type(model).__name__
    if _leaf(model) and not any(True for _ in model.children()):
        # one of PyTorch's layers on its own (nn.Conv2d(3, 6, 5)): read as a model holding
        # it, as tracing it would read its forward's functions instead
        model = nn.Sequential(OrderedDict([(name.lower(), model)])).train(model.training)
    parameter = next(model.parameters(), None)
    xs = tuple(
        torch.zeros(
            one,
            dtype=parameter.dtype if parameter is not None else torch.float32,
            device=parameter.device if parameter is not None else "cpu",
        )
        for one in shapes
    )
    training = model.training
    model.train(False)
    try:
        calls, output = _record(model, xs)
    finally:
        model.train(training)
    calls = _own_names(model, calls)
    sizes = {name: p.numel() for name, p in model.named_parameters()}
    nodes, problems, notes, opaque_parameters, output_name = _convert(calls, output, unknown, sizes)
    if problems:
        listed = "\n".join(f"  {path} ({kind}): {why}" for path, kind, why in problems)
        count = len(problems)
        raise CNNError(
            _n(
                "{count} part of the model has no word in the layer language:\n{listed}",
                "{count} parts of the model have no word in the layer language:\n{listed}",
                count,
            ).format(count=count, listed=listed),
            hint=_(
                'from_torch(..., unknown="opaque") writes each as an opaque layer, counted as '
                "zero and marked"
            ),
        )
    partly = [
        path
        for path, module in model.named_modules()
        if len({p.requires_grad for p in module.parameters(recurse=False)}) > 1
    ]
    if partly:
        notes.append(
            _("trained as a whole, though only some parameters require grad: {paths}").format(
                paths=", ".join(partly)
            )
        )
    used = sum(node.params for node in nodes if node.params > 0)
    used += opaque_parameters
    total = sum(p.numel() for p in model.parameters())
    header = [_("{model}, imported from PyTorch").format(model=name), *notes]
    if total != used:
        unused = total - used
        header.append(
            _n(
                "{count} parameter of the model is not used by its forward",
                "{count} parameters of the model are not used by its forward",
                unused,
            ).format(count=f"{unused:,}")
        )
    inputs = None
    if len(shapes) > 1:  # each input line labelled with forward's parameter name
        labels = _input_labels(model, len(shapes))
        inputs = [(label, _ours(one[1:])) for label, one in zip(labels, shapes, strict=True)]
    return build(nodes, _ours(shape[1:]), header, repeat=repeat, output=output_name, inputs=inputs)


# cnn_magic's own containers (``to_torch()``) and the attribute each keeps its contents
# in: a word of the module path, not of the text the model was exported from
_WRAPPERS = {
    "Tape": "model",
    "Reads": "module",
    "Shared": "module",
    "Unpool": "unpool",
    "Concat": "branches",
    "Add": "branches",
    "Split": "branches",
    "Residual": "body",
    "Scale": "gate",
    "Side": "head",
}


def _own_names(model: Any, calls: list[Call]) -> list[Call]:
    """For a model ``to_torch()`` made, each call's path without the words of its
    containers (``model.tower.conv1.module.0`` is ``tower.conv1.0``,
    ``split1.branches.branch1.conv1`` is ``split1.branch1.conv1``): the names the text
    gave its layers and blocks. Other models keep their module paths."""
    from .. import torch_export

    wrappers = {getattr(torch_export, name): attribute for name, attribute in _WRAPPERS.items()}
    modules = dict(model.named_modules())
    if not any(type(module) in wrappers for module in modules.values()):
        return calls
    own: dict[str, str] = {}
    for path in modules:
        parts = path.split(".") if path else []
        kept = [
            part
            for depth, part in enumerate(parts)
            if wrappers.get(type(modules.get(".".join(parts[:depth])))) != part
        ]
        own[path] = ".".join(kept)

    def renamed(path: str) -> str:
        parts = path.split(".")
        for cut in range(len(parts), 0, -1):  # the innermost module the path names
            head = ".".join(parts[:cut])
            if head in own:
                return ".".join(filter(None, [own[head], *parts[cut:]])) or path
        return path

    return [call._replace(path=renamed(call.path)) for call in calls]


def _input_shapes(given: Any) -> list[tuple[int, ...]]:
    """One shape, or a list of them for a model of several inputs (a Siamese
    network's ``[(1, 32, 32), (1, 32, 32)]``)."""
    several = isinstance(given, list) or (
        isinstance(given, tuple)
        and bool(given)
        and all(isinstance(g, tuple | list | str) for g in given)
    )
    if not several:
        return [torch_input_shape(given)]
    if not given:
        raise CNNError(_("no input shape given"), hint=_(_SHAPE_HINT))
    return [torch_input_shape(one) for one in given]


def _input_labels(model: Any, count: int) -> list[str]:
    """The names of ``forward``'s parameters (``left``, ``right``), else ``x1``, ``x2``
    (``forward(*inputs)``, as ``to_torch()``'s models take several)."""
    import inspect

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    named = [
        p for p in parameters[:count] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    labels = [word_label(p.name) for p in named]
    if len(named) < count or len(set(labels)) < count:
        return [f"x{number}" for number in range(1, count + 1)]
    return labels


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
        raise CNNError(
            _("input {given!r} is not a shape").format(given=given), hint=_(_SHAPE_HINT)
        ) from None
    if len(dims) in (1, 3):  # (F,) or (C, H, W): the batch is left out
        dims = (1, *dims)
    if len(dims) not in (2, 4, 5) or min(dims) < 1:
        raise CNNError(
            _(
                "input {given!r} is not an image batch (N, C, H, W), vectors (N, F) or "
                "volumes (N, C, D, H, W)"
            ).format(given=given),
            hint=_(_SHAPE_HINT),
        )
    return (1, *dims[1:])


_SHAPE_HINT = N_("write (1, 3, 224, 224), (3, 224, 224), '224x224x3' or, in 1-D, '2@128'")


def _ours(shape: Sequence[int]) -> tuple[int, ...]:
    """Channels last: (C, H, W) → (H, W, C), (C, L) → (L, C); a vector (F,) stays."""
    shape = tuple(shape)
    return (*shape[1:], shape[0]) if len(shape) >= 2 else shape


# ----------------------------------------------------------------- recording


def _record(model: Any, xs: tuple[Any, ...]) -> tuple[list[Call], Ref]:
    shapes = ", ".join(str(tuple(x.shape)) for x in xs)
    try:
        traced = _trace(model)
        if _captured_tensors(model, traced):
            raise _Untraceable(_("a tensor was captured while tracing"))
    except Exception as trace_error:  # any failure to trace sends us to the hooks
        try:
            return _record_by_hooks(model, xs)
        except CNNError:
            raise
        except Exception as run_error:
            raise CNNError(
                _(
                    "{model} could neither be traced ({trace_error}) nor run on zeros of "
                    "shape {shapes} ({run_error})"
                ).format(
                    model=type(model).__name__,
                    trace_error=f"{type(trace_error).__name__}: {_first_line(trace_error)}",
                    shapes=shapes,
                    run_error=f"{type(run_error).__name__}: {_first_line(run_error)}",
                ),
                hint=_("check the input shape: (C, H, W) in PyTorch's order"),
            ) from None
    try:
        return _record_fx(model, traced, xs)
    except CNNError:
        raise
    except Exception as run_error:
        raise CNNError(
            _("{model} failed on zeros of shape {shapes}: {error}").format(
                model=type(model).__name__,
                shapes=shapes,
                error=f"{type(run_error).__name__}: {_first_line(run_error)}",
            ),
            hint=_("check the input shape: (C, H, W) in PyTorch's order"),
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


def _main_output(value: Any) -> Ref | None:
    """The model's output: a tensor, or the first of a tuple (GoogLeNet returns its
    auxiliary heads' scores after its own; they are side outputs, kept because they
    run modules)."""
    if isinstance(value, Ref):
        return value
    if isinstance(value, list | tuple) and value and isinstance(value[0], Ref):
        return value[0]
    return None


INDICES = ":indices"
"""The name of a max pooling's indices: the pooling's name and this."""


def _is_indexed_pooling(value: Any) -> TypeGuard[tuple[Ref, Ref]]:
    """Whether ``value`` is what a max pooling with ``return_indices`` gave: (values,
    indices)."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, Ref) for v in value)
        and value[1].name.endswith(INDICES)
    )


def _is_max_pool(module: Any) -> bool:
    return _torch_class(module) in _MAXPOOL and bool(getattr(module, "return_indices", False))


class _Untraceable(Exception):
    """A trace that would not follow the model's values: run it with hooks instead."""


def _captured_tensors(model: Any, traced: Any) -> bool:
    """Whether the trace read a tensor that is no parameter or buffer of the model: one
    kept between calls (the outputs ``to_torch()``'s references keep) is a constant
    to the tracer, so only a real run sees where it comes from."""
    own = {name for name, _ in model.named_parameters()}
    own |= {name for name, _ in model.named_buffers()}
    return any(node.op == "get_attr" and node.target not in own for node in traced.graph.nodes)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def _record_fx(model: Any, traced: Any, xs: tuple[Any, ...]) -> tuple[list[Call], Ref]:
    torch = _torch()[0]
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

        def forward(self, *xs: Any) -> Any:
            return Recorder(self.traced).run(*xs)

    # Shapes without arithmetic: on the meta device every layer only computes its output
    # shape (ResNet-50: a tenth of the time); what the meta device cannot run runs on zeros.
    meta = {
        f"traced.{name}": torch.empty_like(tensor, device="meta")
        for name, tensor in (*traced.named_parameters(), *traced.named_buffers())
    }
    try:
        with torch.no_grad():
            torch.func.functional_call(Run(), meta, tuple(x.to("meta") for x in xs))
    except Exception:
        values.clear()
        with torch.no_grad():
            Run()(*xs)
    modules = dict(model.named_modules())
    parameters = {name for name, _p in traced.named_parameters()}
    calls: list[Call] = []
    output: Ref | None = None
    placeholders = 0
    for node in traced.graph.nodes:
        value = values.get(node.name)
        if node.op == "placeholder":
            placeholders += 1
            if isinstance(value, Ref):
                values[node.name] = Ref(input_value(placeholders), tuple(value.shape))
            continue
        args = torch.fx.node.map_arg(node.args, lambda n: values[n.name])
        kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: values[n.name])
        if node.op == "output":
            output = _main_output(args[0])
            continue
        if node.op == "call_module" and isinstance(value, tuple) and len(value) == 2:
            module = modules[node.target]
            if _is_max_pool(module):  # return_indices=True: (values, indices)
                shape = tuple(value[0].shape)
                calls.append(
                    Call(
                        node.name, node.target, module, "", _type_name(module), args, kwargs, shape
                    )
                )
                values[node.name] = (
                    Ref(node.name, shape),
                    Ref(f"{node.name}{INDICES}", tuple(value[1].shape)),
                )
                continue
        pooled = args[0] if args and node.target is operator.getitem else None
        if _is_indexed_pooling(pooled):
            values[node.name] = pooled[args[1]]  # the values, or the indices
            continue
        splits = node.op in ("call_function", "call_method") and isinstance(value, tuple | list)
        if splits and value and _function_name(node.op, node.target)[0] == "split":
            values[node.name] = _parts(args[0], kwargs, args, [tuple(v.shape) for v in value])
            continue
        if not isinstance(value, Ref):
            continue  # sizes and other Python values are substituted where they are used
        stack = node.meta.get("nn_module_stack") or {}
        enclosing = next(reversed(stack.values()))[0] if stack else ""
        if node.op == "get_attr":
            learned = node.target in parameters  # a buffer is no parameter
            values[node.name] = _Constant(node.target, tuple(value.shape), learned)
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
        if function in MERGES:
            path = enclosing or node.name
        calls.append(Call(node.name, path, None, function, type_name, args, kwargs, value.shape))
    if output is None:
        raise CNNError(
            _("the model's output is not a tensor or a tuple of them"),
            hint=_("return the scores (auxiliary outputs after them, as GoogLeNet does)"),
        )
    return calls, output


class _Constant(NamedTuple):
    """A parameter or buffer read by a function (fx ``get_attr``), with its shape."""

    target: str
    shape: tuple[int, ...] = ()
    parameter: bool = True  # False: a buffer, or a tensor made inside forward


class _Parts(NamedTuple):
    """The parts ``torch.split`` or ``torch.chunk`` cut a tensor into: (first, stop)
    along ``dim`` each."""

    source: Ref
    parts: tuple[tuple[int, int], ...]
    dim: int


def _parts(
    source: Any, kwargs: dict[str, Any], args: Any, shapes: list[tuple[int, ...]]
) -> _Parts | None:
    """The parts of a split of ``source`` along its ``dim`` (positional or keyword)."""
    if not isinstance(source, Ref):
        return None
    dim = kwargs.get("dim", args[2] if len(args) > 2 else 0)
    dim = int(dim) % len(source.shape)
    parts, first = [], 0
    for shape in shapes:
        parts.append((first, first + shape[dim]))
        first += shape[dim]
    return _Parts(source, tuple(parts), dim)


def _record_by_hooks(model: Any, xs: tuple[Any, ...]) -> tuple[list[Call], Ref]:
    """One run with hooks on the leaf modules and a TorchFunctionMode for the
    functions between them: works for models with Python control flow."""
    torch = _torch()[0]
    from torch.overrides import TorchFunctionMode

    names: dict[int, str] = {id(x): input_value(n) for n, x in enumerate(xs, start=1)}
    alive: list[Any] = list(xs)  # keep every tensor alive, so that no id is reused
    calls: list[Call] = []
    depth = [0]
    paths = {module: path for path, module in model.named_modules()}
    parameters = {id(p): path for path, p in model.named_parameters()}

    def ref(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
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
        depth[0] += 1

    enclosing = [""]  # the module paths a function is called within, innermost last

    def enter(module: Any, inputs: Any) -> None:
        enclosing.append(paths[module])

    def leave(module: Any, inputs: Any, out: Any) -> None:
        enclosing.pop()

    def after(module: Any, inputs: Any, out: Any) -> None:
        depth[0] -= 1
        indices = None
        if isinstance(out, tuple) and len(out) == 2 and _is_max_pool(module):
            out, indices = out  # return_indices=True: the indices name the pooling
        if depth[0] == 0 and isinstance(out, torch.Tensor):
            name = f"call{len(calls)}"
            if indices is not None:
                produced(f"{name}{INDICES}", indices)
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
            if depth[0] == 0 and isinstance(out, tuple | list) and out:
                if _function_name("call_function", func)[0] == "split":
                    cut = _parts(ref(args[0]), kwargs, args, [tuple(o.shape) for o in out])
                    for number, part in enumerate(out):
                        name = f"call{len(calls)}"
                        calls.append(
                            Call(
                                name,
                                f"{enclosing[-1]}.split" if enclosing[-1] else "split",
                                None,
                                "getitem",
                                _written(func),
                                (cut, number),
                                {},
                                tuple(part.shape),
                            )
                        )
                        produced(name, part)
                return out
            if depth[0] == 0 and isinstance(out, torch.Tensor):
                function, type_name = _function_name("call_function", func)
                name = f"call{len(calls)}"
                base = function or getattr(func, "__name__", "function")
                within = enclosing[-1]
                if function in MERGES:
                    path = within or base
                else:
                    path = f"{within}.{base}" if within else base
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

    # PyTorch's own modules without children, and cnn_magic's layer modules, are leaves;
    # a module of the user's is looked into, so that the functions of its forward are
    # read as when tracing (a hand-written channel shuffle, ``x * self.gamma``, stochastic
    # depth returning its input); cnn_magic's own containers are no layers either
    leaves = [m for m in model.modules() if _helper(m) or (_leaf(m) and not list(m.children()))]
    leaf_ids = {id(m) for m in leaves}
    containers = [m for m in model.modules() if id(m) not in leaf_ids]
    handles = [m.register_forward_pre_hook(before) for m in leaves]
    handles += [m.register_forward_hook(after) for m in leaves]
    handles += [m.register_forward_pre_hook(enter) for m in containers]
    handles += [m.register_forward_hook(leave) for m in containers]
    try:
        with torch.no_grad(), Functions():
            out = model(*xs)
    finally:
        for handle in handles:
            handle.remove()
    result = _main_output(ref(out))
    if result is None:
        raise CNNError(
            _("the model's output is not a tensor or a tuple of them"),
            hint=_("return the scores (auxiliary outputs after them, as GoogLeNet does)"),
        )
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
        "split": (torch.split, T.split, torch.chunk, T.chunk),
        "getitem": (operator.getitem, T.__getitem__),
        "narrow": (torch.narrow, T.narrow),
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
    "split": "split",
    "chunk": "split",
    "__getitem__": "getitem",
    "narrow": "narrow",
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
    calls: list[Call], output: Ref, unknown: str, sizes: dict[str, int]
) -> tuple[list[Node], list[tuple[str, str, str]], list[str], int, str]:
    """Nodes for the calls; the problems (path, type, why) found; notes for the header;
    the parameters of opaque parts (``sizes``: the model's parameters by name); the node
    that gives the output."""
    calls = _reaching(calls, output)
    nodes: list[Node] = []
    problems: list[tuple[str, str, str]] = []
    notes: list[str] = []
    alias: dict[str, str] = {}  # calls written as nothing (x.contiguous()) → their input
    first_calls: dict[int, str] = {}  # a module → its first call, whose weights later ones share
    pooled: dict[str, tuple[int, ...]] = {}  # a node → its input's shape (ours), for unpooling
    opaque_parameters = 0
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
            pooled[pad_call.name] = _ours(source.shape[1:])

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
            if call.module is not None and _torch_class(call.module) in _MAXUNPOOL:
                kind, text, inputs = _unpool(call, inputs, nodes, pooled)
            else:
                kind, text = statement or _statement(call, inputs)
        except (_Unknown, Unwritable) as why:
            if unknown == "opaque" and len(inputs) == 1 and call.out:
                kind, text = "opaque", _opaque(inputs[0].shape, call.out)
                weights = _own_parameters(call, sizes)
                opaque_parameters += weights
                notes.append(
                    _n(
                        "opaque, counted as zero: {path} ({type}, {count} parameter): {why}",
                        "opaque, counted as zero: {path} ({type}, {count} parameters): {why}",
                        weights,
                    ).format(path=call.path, type=call.type_name, count=f"{weights:,}", why=why)
                )
            else:
                why_text = str(why)
                if unknown == "opaque" and len(inputs) != 1:
                    why_text += " " + _(
                        "(reads {count} tensors: opaque stands for one input)"
                    ).format(count=len(inputs))
                problems.append((call.path or call.name, call.type_name, why_text))
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
        shares = ""
        if call.module is not None and kind != "opaque":
            first = first_calls.setdefault(id(call.module), call.name)
            if first != call.name and any(True for _ in call.module.parameters()):
                shares = first  # the same weights applied again
        if kind == "maxunpool":  # reads its pooling's indices by the pooling's label
            nodes.append(
                Node(
                    call.name,
                    word_label(call.path),
                    "maxunpool",
                    source_names,
                    _ours(call.out[1:]) if call.out else (),
                    0,
                    -1,
                    undoes=text,
                )
            )
            continue
        nodes.append(
            _node(call, kind, text, source_names, inputs, shares, layouts.get(call.name, ""))
        )
        if inputs:
            pooled[call.name] = _ours(inputs[0].shape[1:])
    for name in list(pads):
        place_pad(name)
    out_name = alias.get(output.name, output.name)  # an input's when it returns it
    if layouts.get(output.name, "").startswith(("groups", "shuffled")) and not problems:
        problems.append(("output", "return", _("the model returns channels viewed as groups")))
    if opaque_parameters:
        notes.append(
            _n(
                "{count} parameter is inside opaque parts, counted as zero",
                "{count} parameters are inside opaque parts, counted as zero",
                opaque_parameters,
            ).format(count=f"{opaque_parameters:,}")
        )
    return nodes, problems, notes, opaque_parameters, out_name


def _unpool(
    call: Call, inputs: list[Ref], nodes: list[Node], pooled: dict[str, tuple[int, ...]]
) -> tuple[str, str, list[Ref]]:
    """("maxunpool", the node of the max pooling it undoes, its one input). The
    pooling is the one whose indices it reads; when they are not traced (kept in a
    hook), the latest max pooling from its output's shape to its input's (``pooled``:
    each node's input shape, ours)."""
    values = [r for r in inputs if not r.name.endswith(INDICES)]
    indices = [r for r in inputs if r.name.endswith(INDICES)]
    if len(values) != 1:
        raise _Unknown(_("unpools more than one tensor"))
    before, after = _ours(values[0].shape[1:]), _ours((call.out or ())[1:])
    if indices:
        pool = indices[0].name[: -len(INDICES)]
        if pooled.get(pool) != after:  # maxunpool restores the size its pooling started from
            raise _Unknown(
                _(
                    "unpools to {after}, not to the {before} its pooling started from "
                    "(give output_size)"
                ).format(after=format_shape(after), before=format_shape(pooled[pool]))
            )
        return "maxunpool", pool, values
    for node in reversed(nodes):
        shapes = (node.out_shape, pooled.get(node.name))
        if node.statement.startswith("maxpool") and shapes == (before, after):
            return "maxunpool", node.name, values
    raise _Unknown(_("the max pooling whose indices it reads is not found"))


def _opaque(before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """``opaque`` where the shape stays, else ``opaque 7x7x512`` (ours: channels last;
    ``opaque 1000`` for vectors)."""
    if after == before:
        return "opaque"
    return "opaque " + "x".join(map(str, _ours(after[1:])))


def _own_parameters(call: Call, sizes: dict[str, int]) -> int:
    """The parameters of an opaque module, or those a function reads (``F.conv2d(x,
    self.weight)``; ``sizes``: the model's parameters by name)."""
    if call.module is not None:
        return int(sum(p.numel() for p in call.module.parameters()))
    read = {c.target for c in (*call.args, *call.kwargs.values()) if isinstance(c, _Constant)}
    return sum(sizes.get(target, 0) for target in read)


def _reaching(calls: list[Call], output: Ref) -> list[Call]:
    """The calls the output depends on, and side outputs: a value computed only to
    steer Python control flow (``if x.sum() > 0``) is no layer, but a branch that the
    output does not need and that runs a module or merges (an auxiliary head kept in an
    attribute) is, with everything it computes."""
    needed = {output.name}
    for call in reversed(calls):
        if call.name in needed:
            needed.update(r.name for r in _refs(call.args, call.kwargs))
    runs_module: set[str] = set()  # dead calls that are, or follow, a module call
    for call in calls:
        if call.name in needed:
            continue
        sources = {r.name for r in _refs(call.args, call.kwargs)}
        if call.module is not None or call.function in MERGES or sources & runs_module:
            runs_module.add(call.name)
    kept = set(runs_module)
    for call in reversed(calls):  # and the dead calls they read
        if call.name in kept:
            kept.update(r.name for r in _refs(call.args, call.kwargs) if r.name not in needed)
    return [call for call in calls if call.name in needed or call.name in kept]


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
    shares: str = "",
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
        if shares:
            params = 0  # the weights are the first call's, counted there
    elif kind == "leaf":  # a function's weights: the parameters it reads (F.layer_norm)
        constants = [c for c in _constants(call) if c.parameter]
        if constants:
            params = sum(math.prod(c.shape) for c in constants)
    label = word_label(call.path)
    extra: tuple[str, ...] = ()
    if "\n" in text:
        text, *rest = text.split("\n")
        extra = tuple(rest)
    if kind == "slice":
        first, stop = (int(v) for v in text.split(":"))
        return Node(call.name, label, SLICE, sources, out, 0, -1, part=(first, stop))
    statement = kind if kind in MERGES else text
    return Node(call.name, label, statement, sources, out, params, macs, extra, shares)


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
        raise _Unknown(
            _("padding of {count} dimensions before a {rank}-D layer").format(
                count=len(per_dim), rank=len(pads)
            )
        )
    return tuple((b + pb, a + pa) for (b, a), (pb, pa) in zip(pads, per_dim, strict=True))


def _statement(
    call: Call, inputs: list[Ref], sides: tuple[int, ...] | None = None
) -> tuple[str, str]:
    """("leaf" | "add" | "concat" | "pass" | "layout" | "pad", statement text) of a call;
    ``sides``: an explicit padding in front (PyTorch's order, left, right, top, ...).
    "layout" moves axes without a layer (``x.permute(0, 2, 3, 1)``): its text is the
    new layout (see ``_LAYOUTS``)."""
    if any(r.name.endswith(INDICES) for r in inputs):
        raise _Unknown(_("reads where a max pooling found its maxima: only max unpooling does"))
    padded = call.function in ("maxpool", "avgpool") or _torch_class(call.module) in _PADDED
    if sides is not None and not padded:
        raise _Unknown(_("padding that no conv or pool takes on"))
    if any(r.layout for r in inputs):
        return _moved_statement(call, inputs)
    if call.module is not None:
        return _module_statement(call, inputs, sides)
    return _function_statement(call, inputs, sides)


# Module classes by what they become, in 1, 2 and 3 spatial dimensions.


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
_MAXUNPOOL = ("MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d")
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
    if len(inputs) != 1:
        raise _Unknown(_("takes more than one tensor"))
    if cls in _CONV:
        return "leaf", _conv(module, in_shape, sides)
    if cls in _DECONV:
        if module.padding_mode != "zeros":
            raise _Unknown(
                _("padding_mode={mode!r}: deconv pads with zeros").format(mode=module.padding_mode)
            )
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
            raise _Unknown(
                _("a Linear on a {rank}-D tensor: fc reads a batch of vectors").format(
                    rank=len(in_shape)
                )
            )
        return "leaf", words(
            f"fc {module.out_features}", None if module.bias is not None else "nobias"
        )
    if cls in (*_MAXPOOL, *_AVGPOOL):  # return_indices: the indices go to a maxunpool
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
            raise _Unknown(_("return_indices=True"))
        kind = "avg" if cls in _ADAPTIVE_AVG else "max"
        return "leaf", adaptive_words(kind, (call.out or ())[2:])
    if cls in _BATCHNORM:
        if not module.affine:
            raise _Unknown(_("affine=False: the language's bn has γ and β"))
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
            raise _Unknown(
                _("start_dim={start}, end_dim={end}").format(
                    start=module.start_dim, end=module.end_dim
                )
            )
        return "leaf", "flatten"
    if cls == "Identity":
        return "pass", ""  # a placeholder; a path of nothing is written `identity`
    if cls == "LocalResponseNorm":
        if module.size != 5:
            raise _Unknown(_("size={size}: lrn counts a window of 5").format(size=module.size))
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
        raise _Unknown(_("a subclass of a PyTorch layer: its forward may compute something else"))
    raise _Unknown(_("no layer word for this module"))


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
        raise _Unknown(_("upsampling a vector"))
    linear = mode in ("linear", "bilinear", "trilinear")
    return upsample_words(in_shape[2:], out[2:], "linear" if linear else mode)


def _module_activation(module: Any, in_shape: tuple[int, ...]) -> str | None:
    nn = _torch()[1]
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
            raise _Unknown(
                _("num_parameters={count}: prelu has one weight").format(
                    count=module.num_parameters
                )
            )
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
    raise _Unknown(
        _("softmax over dim {dim}: the language's softmax is over the channels").format(dim=dim)
    )


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
    "narrow": (("input", None), ("dim", None), ("start", None), ("length", None)),
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


def _broadcasts(shapes: list[tuple[int, ...]], out: tuple[int, ...]) -> bool:
    """Shapes of one rank whose every dimension is the output's or 1 (PyTorch's
    broadcasting, as the language's add and mul do it)."""
    return all(
        len(shape) == len(out) and all(d in (1, o) for d, o in zip(shape, out, strict=True))
        for shape in shapes
    )


def _channel_slice(call: Call, inputs: list[Ref]) -> tuple[int, int]:
    """``x[:, a:b]`` (every other axis whole): channels a to b."""
    index = call.args[1] if len(call.args) > 1 else None
    index = index if isinstance(index, tuple) else (index,)
    shape = inputs[0].shape if inputs else ()
    whole = slice(None)
    if len(index) < 2 or index[0] != whole or any(i != whole for i in index[2:]):
        raise _Unknown(_("indexing other than a run of channels x[:, a:b]"))
    cut = index[1]
    if not isinstance(cut, slice) or cut.step not in (None, 1):
        raise _Unknown(_("indexing other than a run of channels x[:, a:b]"))
    first, stop, _step = cut.indices(shape[1])
    return first, stop


def _function_statement(
    call: Call, inputs: list[Ref], sides: tuple[int, ...] | None = None
) -> tuple[str, str]:
    name = call.function
    out = call.out or ()
    if not name:
        raise _Unknown(_("no layer word for this function"))
    if name in ("layernorm", "groupnorm", "instancenorm"):
        return "leaf", _norm_function(name, call, inputs[0])
    if name == "mul" and _constants(call):
        return "leaf", _layerscale(call, inputs)
    if _constants(call):
        raise _Unknown(_("reads a parameter or a tensor made inside forward: not counted"))
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
    if name in ("pixelshuffle", "pixelunshuffle", "channelshuffle"):
        factor = call.kwargs.get("upscale_factor") or call.kwargs.get("downscale_factor")
        factor = factor or call.kwargs.get("groups") or call.args[1]
        return "leaf", f"{name} {int(factor)}"
    if name in ("add", "mul"):
        if len(inputs) < 2:
            raise _Unknown(
                _("adds a constant to a tensor: not counted")
                if name == "add"
                else _("multiplies by a constant: not counted")
            )
        if not _broadcasts([r.shape for r in inputs], out):
            raise _Unknown(
                _("combines shapes {shapes}").format(
                    shapes=_(" and ").join(str(r.shape) for r in inputs)
                )
            )
        return name, name
    if name == "concat":
        bound = _bind("concat", call)
        rank = len(out)
        if bound["dim"] not in (1, 1 - rank):
            raise _Unknown(
                _("joins along dim {dim}: concat joins channels (dim 1)").format(dim=bound["dim"])
            )
        return "concat", "concat"
    if name == "narrow":
        bound = _bind(name, call)
        if int(bound["dim"]) % len(out) != 1:
            raise _Unknown(
                _("narrows dim {dim}: split: cuts the channels").format(dim=bound["dim"])
            )
        start = int(bound["start"]) % inputs[0].shape[1]
        return "slice", f"{start}:{start + int(bound['length'])}"
    if name == "getitem":
        holder = call.args[0]
        if isinstance(holder, _Parts):
            if holder.dim != 1:
                raise _Unknown(
                    _("a part along dim {dim}: split: cuts the channels").format(dim=holder.dim)
                )
            return "slice", "{}:{}".format(*holder.parts[call.args[1]])
        if not inputs:  # an item of a tuple the language has no word for
            raise _Unknown(_("takes one of several outputs (a split, or a pooling's indices)"))
        if _slices_channels(call):
            return "slice", "{}:{}".format(*_channel_slice(call, inputs))
        return _getitem(call, inputs[0])  # the spatial axes: a crop
    if name == "reshape":
        shape = inputs[0].shape
        if out == shape:
            return "pass", ""
        if out == (shape[0], math.prod(shape[1:])):
            return "leaf", "flatten"
        grouped = len(shape) > 2 and len(out) == len(shape) + 1 and out[3:] == shape[2:]
        if grouped and out[0] == shape[0] and out[1] * out[2] == shape[1]:
            return "layout", f"groups {out[1]}"  # the first step of a channel shuffle
        raise _Unknown(
            _("reshapes {shape} to {out}: only flattening to (N, features) is known").format(
                shape=shape, out=out
            )
        )
    if name == "mean":
        bound = _bind("mean", call)
        dims = bound["dim"]
        dims = {dims} if isinstance(dims, int) else set(dims or ())
        if len(inputs[0].shape) == 4 and dims in ({2, 3}, {-1, -2}):
            return "leaf", "gap" if bound["keepdim"] else "gap\nflatten"
        raise _Unknown(_("a mean over other axes than height and width"))
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
        raise _Unknown(_("hardtanh other than ReLU6"))
    if name == "softmax":
        return "leaf", _softmax(_bind(name, call)["dim"], inputs[0].shape)
    if name == "dropout":
        return "leaf", f"dropout {number(_bind(name, call)['p'])}"
    if name in ("adaptiveavgpool", "adaptivemaxpool"):
        if _bind(name, call).get("return_indices"):
            raise _Unknown(_("return_indices=True"))
        return "leaf", adaptive_words(name[8:11], out[2:])
    if name in ("maxpool", "avgpool"):
        bound = _bind(name, call)
        if bound.get("return_indices"):
            raise _Unknown(_("return_indices=True"))
        return "leaf", _pool(
            name,
            bound["kernel_size"],
            bound["stride"],
            _plus(_sym(bound["padding"], len(inputs[0].shape) - 2), sides),
            bound.get("dilation", 1),
            bool(bound["ceil_mode"]),
            inputs[0].shape,
        )
    raise _Unknown(_("no layer word for this function"))  # pragma: no cover


def _slices_channels(call: Call) -> bool:
    """``x[:, a:b]`` and the like: an index that cuts the channels (a split's part)."""
    index = call.args[1] if len(call.args) > 1 else None
    index = index if isinstance(index, tuple) else (index,)
    return len(index) >= 2 and index[0] is not Ellipsis and index[1] != slice(None)


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
