"""From a dataflow graph of layers to layer-language text, and the check of the result.

Both importers (PyTorch and ONNX) describe a model as :class:`Node`\\ s in execution
order: each node is one statement of the language (or a merge: add, concat), with the
nodes it reads and the output shape and parameters the framework reported. This
module, pure Python, turns that graph into text:

- a chain of nodes becomes a sequence of statements, one per line, labelled with the
  node's name (a module path such as ``layer1.0.conv1``);
- a value read by several nodes (a fork) whose paths meet again in one add or concat
  becomes a block: ``residual:`` (two paths into an add; the shorter is the
  ``shortcut:``, none if it is the fork's value itself), ``add:`` (three or more) or
  ``concat:``, each path a ``branch:``;
- consecutive runs of identical statements or blocks become ``repeat N:``.

A graph that is not built that way (a value read by two different merges, as
DenseNet's concatenations are) cannot be written as nested blocks and raises
:class:`CNNError`. After evaluating the text, :func:`check` compares every layer's
output shape and parameters with what the framework reported, so a translation that
went wrong is an error, never a wrong number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from ..errors import CNNError
from ..evaluate import evaluate
from ..results import Network
from ..shapes import format_shape
from .words import label as word_label

Shape = tuple[int, ...]

MERGES = ("add", "concat")


class Node(NamedTuple):
    """One statement's worth of the model (or a merge)."""

    name: str  # unique within the graph
    label: str  # what the text calls it: a module path, or "" for none
    statement: str  # the layer-language statement without label; the merge kind for merges
    inputs: tuple[str, ...]  # the nodes it reads; "" is the model's input
    out_shape: Shape  # ours: (H, W, C) or (N,)
    params: int  # as the framework counts them; -1 when it does not say
    macs: int = -1  # as the framework's shapes give them; -1 when not checked
    extra: tuple[str, ...] = ()  # statements that follow in the same layer (mean → gap; flatten)

    @property
    def is_merge(self) -> bool:
        return self.statement in MERGES


class Leaf(NamedTuple):
    node: Node


class Fork(NamedTuple):
    """A block: the parallel paths from one value into one merge node."""

    merge: Node
    paths: tuple[tuple[Item, ...], ...]  # in the merge's input order


class Repeat(NamedTuple):
    times: int
    label: str
    body: tuple[Item, ...]  # as written: the first unit, relabelled
    units: tuple[tuple[Item, ...], ...] = ()  # every unit as the model has it, to check


Item = Leaf | Fork | Repeat


# ----------------------------------------------------------------- graph → items


def _flatten_adds(nodes: Sequence[Node]) -> list[Node]:
    """``(a + b) + c`` as one add of three paths: an add read only by another add is
    folded into it (Python's ``+`` is binary; the language's ``add:`` takes any number)."""
    readers: dict[str, list[str]] = {}
    for node in nodes:
        for source in node.inputs:
            readers.setdefault(source, []).append(node.name)
    by_name = {node.name: node for node in nodes}
    folded: set[str] = set()
    out = []
    for node in nodes:
        if node.statement == "add":
            inputs: list[str] = []
            for source in node.inputs:
                inner = by_name.get(source)
                if inner is not None and inner.name in folded:
                    inputs.extend(inner.inputs)
                else:
                    inputs.append(source)
            node = node._replace(inputs=tuple(inputs))
            users = readers.get(node.name, [])
            if len(users) == 1 and by_name[users[0]].statement == "add":
                folded.add(node.name)
                by_name[node.name] = node
                continue
        by_name[node.name] = node
        out.append(node)
    return out


class _Builder:
    def __init__(self, nodes: Sequence[Node]) -> None:
        nodes = _flatten_adds(nodes)
        self.nodes = {node.name: node for node in nodes}
        self.users: dict[str, list[str]] = {"": []}
        for node in nodes:
            self.users.setdefault(node.name, [])
            for source in dict.fromkeys(node.inputs):
                if source not in self.users:
                    raise CNNError(f"{node.label or node.name} reads an unknown value {source!r}")
                self.users[source].append(node.name)

    def chain(self, value: str) -> tuple[list[Item], str, str | None]:
        """Items that follow ``value`` up to the output or the merge it flows into:
        (items, the last value, that merge or None)."""
        items: list[Item] = []
        while True:
            users = self.users[value]
            if not users:
                return items, value, None
            if len(users) == 1:
                user = self.nodes[users[0]]
                if user.is_merge and set(user.inputs) == {value}:  # x + x, cat([x, x])
                    items.append(Fork(user, tuple(() for _ in user.inputs)))
                    value = user.name
                    continue
                if user.is_merge:
                    return items, value, user.name
                items.append(Leaf(user))
                value = user.name
                continue
            fork = self.fork(value, users)
            items.append(fork)
            value = fork.merge.name

    def fork(self, value: str, users: list[str]) -> Fork:
        """The block that starts where ``value`` is read by several nodes. Paths into the
        same merge form a block; a block that is itself one path of an outer block (a
        residual inside a concat's branch, both starting at ``value``) is closed first
        and continues as one path."""
        paths: list[tuple[list[Item], str, str | None]] = []
        for name in users:
            user = self.nodes[name]
            if user.is_merge:
                paths.append(([], value, name))
            else:
                items, end, merge = self.chain(name)
                paths.append(([Leaf(user), *items], end, merge))
        while True:
            for merge_name in dict.fromkeys(merge for _, _, merge in paths):
                if merge_name is None:
                    raise self.not_nested(value)
                node = self.nodes[merge_name]
                group = [(items, end) for items, end, into in paths if into == merge_name]
                ends = {end: items for items, end in group}
                if set(node.inputs) != set(ends) or len(ends) != len(group):
                    continue
                fork = Fork(node, tuple(tuple(ends[source]) for source in node.inputs))
                if len(group) == len(paths):
                    return fork
                items, end, into = self.chain(merge_name)
                paths = [p for p in paths if p[2] != merge_name]
                paths.append(([fork, *items], end, into))
                break
            else:
                raise self.not_nested(value)

    def not_nested(self, value: str) -> CNNError:
        node = self.nodes.get(value)
        where = (node.label or node.name) if node else "the input"
        readers = ", ".join(self.nodes[u].label or u for u in self.users[value])
        return CNNError(
            f"the output of {where} is read by {readers}, whose paths do not meet again in "
            "one add or concatenation: the layer language writes only nested blocks",
            hint="networks whose paths cross (DenseNet's concatenations) cannot be written yet",
        )


# ----------------------------------------------------------------- repeats


def _key(item: Item) -> tuple[object, ...]:
    """What an item computes, without its labels: equal keys write the same text."""
    if isinstance(item, Leaf):
        return ("leaf", item.node.statement, item.node.extra)
    if isinstance(item, Fork):
        return ("fork", item.merge.statement, tuple(tuple(map(_key, p)) for p in item.paths))
    return ("repeat", item.times, tuple(map(_key, item.body)))


def fold_repeats(items: list[Item]) -> list[Item]:
    """Runs of two or more identical units (one item or several) become a Repeat: the
    shortest unit, leftmost first, then shifted to where the units line up with the
    model's modules (``layer1.1``, ``layer1.2`` rather than a ReLU of one and the block
    of the next)."""
    items = [_fold_inside(item) for item in items]
    keys = [_key(item) for item in items]

    def repeats(start: int, size: int) -> int:
        count = 1
        while keys[start + count * size : start + (count + 1) * size] == keys[start : start + size]:
            count += 1
        return count

    out: list[Item] = []
    i = 0
    while i < len(items):
        found = next(
            (
                (size, repeats(i, size))
                for size in range(1, (len(items) - i) // 2 + 1)
                if repeats(i, size) > 1
            ),
            None,
        )
        if found is None:
            out.append(items[i])
            i += 1
            continue
        size, _ = found
        best = max(
            (
                (_alignment(items, i + shift, size, repeats(i + shift, size)), -shift, shift)
                for shift in range(size)
                if repeats(i + shift, size) > 1
            ),
        )
        shift = best[2]
        count = repeats(i + shift, size)
        out.extend(items[i : i + shift])
        start = i + shift
        units = [items[start + k * size : start + (k + 1) * size] for k in range(count)]
        out.append(
            Repeat(count, _repeat_label(units), tuple(_relabel(units)), tuple(map(tuple, units)))
        )
        i = start + count * size
    return out


def _alignment(items: list[Item], start: int, size: int, count: int) -> tuple[int, int]:
    """How well units starting at ``start`` follow the modules: (units covered, shared
    label depth)."""
    units = [items[start + k * size : start + (k + 1) * size] for k in range(count)]
    return (count, sum(len(_prefix(unit)) for unit in units))


def _labels(items: Sequence[Item]) -> Iterator[str]:
    for item in items:
        if isinstance(item, Leaf):
            yield item.node.label
        elif isinstance(item, Fork):
            yield item.merge.label
            for path in item.paths:
                yield from _labels(path)
        else:
            yield item.label
            for unit in item.units:
                yield from _labels(unit)


def _prefix(unit: Sequence[Item]) -> list[str]:
    """The module path all labels of a unit share, as components (``["layer1", "1"]``)."""
    labels = [label.split(".") for label in _labels(unit)]
    if not labels or not all(labels):
        return []
    shared = []
    for parts in zip(*labels, strict=False):
        if len(set(parts)) != 1:
            break
        shared.append(parts[0])
    return shared


def _fold_inside(item: Item) -> Item:
    if isinstance(item, Fork):
        return Fork(item.merge, tuple(tuple(fold_repeats(list(p))) for p in item.paths))
    return item


def _repeat_label(units: list[list[Item]]) -> str:
    """``layer1.1-2`` for units under ``layer1.1`` … ``layer1.2``; "" when the units'
    paths do not run like that."""
    first, last = _prefix(units[0]), _prefix(units[-1])
    runs = first and len(first) == len(last) and first[:-1] == last[:-1]
    if runs and first[-1].isdigit() and last[-1].isdigit():
        return ".".join([*first[:-1], f"{first[-1]}-{last[-1]}"])
    return ""


def _relabel(units: list[list[Item]]) -> list[Item]:
    """The body of a repeat: the first unit with its labels made relative to the module
    path its unit sits under (``layer1.1.conv1`` → ``conv1``, and the layer is named
    ``conv1.2`` in the second repetition); unlabelled where units share no path, since a
    label of the first unit would misname the others."""
    shared = _prefix(units[0])
    prefix = ".".join(shared) + "." if shared and _repeat_label(units) else None
    return [_strip(item, prefix) for item in units[0]]


def _strip(item: Item, prefix: str | None) -> Item:
    def relabel(label: str) -> str:
        if prefix is not None and label.startswith(prefix):
            return word_label(label[len(prefix) :])  # "0.conv" → "_0.conv": a valid label
        return ""

    if isinstance(item, Leaf):
        return Leaf(item.node._replace(label=relabel(item.node.label)))
    if isinstance(item, Fork):
        paths = tuple(tuple(_strip(i, prefix) for i in p) for p in item.paths)
        return Fork(item.merge._replace(label=relabel(item.merge.label)), paths)
    body = tuple(_strip(i, prefix) for i in item.body)
    return Repeat(item.times, relabel(item.label), body, item.units)


# ----------------------------------------------------------------- items → text


def to_text(items: Sequence[Item], input_shape: Shape, header: Sequence[str] = ()) -> str:
    """The layer-language text of the items, one statement a line."""
    lines = [f"# {line}" for line in header]
    # channels @ spatial sizes: never mistaken for PyTorch's channels-first order
    spatial, channels = input_shape[:-1], input_shape[-1]
    shape = f"{channels}@{'x'.join(map(str, spatial))}" if spatial else str(channels)
    lines.append(f"input {shape}")
    _write(items, 0, lines)
    return "\n".join(lines) + "\n"


def _labelled(label: str, text: str) -> str:
    return f"{label}: {text}" if label else text


def _write(items: Sequence[Item], depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    for item in items:
        if isinstance(item, Leaf):
            node = item.node
            lines.append(pad + _labelled(node.label, node.statement))
            lines.extend(pad + extra for extra in node.extra)
        elif isinstance(item, Repeat):
            lines.append(pad + _labelled(item.label, f"repeat {item.times}:"))
            _write(item.body, depth + 1, lines)
        else:
            _write_fork(item, depth, lines)


def _write_fork(fork: Fork, depth: int, lines: list[str]) -> None:
    pad, inner = "  " * depth, "  " * (depth + 1)
    paths = fork.paths
    if _is_residual(fork):
        body, shortcut = _body_and_shortcut(paths)
        lines.append(pad + _labelled(fork.merge.label, "residual:"))
        _write(body, depth + 1, lines)
        if shortcut:
            lines.append(inner + "shortcut:")
            _write(shortcut, depth + 2, lines)
        return
    kind = "concat" if fork.merge.statement == "concat" else "add"
    lines.append(pad + _labelled(fork.merge.label, f"{kind}:"))
    for path in paths:
        lines.append(inner + "branch:")
        _write(path or (Leaf(Node("", "", "identity", (), (), 0)),), depth + 2, lines)


def _is_residual(fork: Fork) -> bool:
    """Two paths into an add, at least one with layers: ``residual:``."""
    return fork.merge.statement == "add" and len(fork.paths) == 2 and any(fork.paths)


def _body_and_shortcut(
    paths: tuple[tuple[Item, ...], ...],
) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """The add's first operand is the body (``out + identity``), unless it is the
    fork's value itself (``x + self.conv(x)``)."""
    first, second = paths
    return (first, second) if first else (second, first)


# ----------------------------------------------------------------- the check


def expected_rows(items: Sequence[Item]) -> list[Node | None]:
    """The nodes in the order the evaluated network lists its layers (None where the
    text adds a layer of its own: an ``identity`` branch)."""
    rows: list[Node | None] = []
    for item in items:
        if isinstance(item, Leaf):
            rows.append(item.node)
            rows.extend(None for _ in item.node.extra)
        elif isinstance(item, Repeat):
            for unit in item.units:
                rows.extend(expected_rows(unit))
        else:
            paths = item.paths
            if _is_residual(item):
                body, shortcut = _body_and_shortcut(paths)
                rows.extend(expected_rows(body))
                rows.extend(expected_rows(shortcut))
            else:
                for path in paths:
                    rows.extend(expected_rows(path) if path else [None])
            rows.append(item.merge)
    return rows


def build(
    nodes: Sequence[Node], input_shape: Shape, header: Sequence[str] = (), *, repeat: bool = True
) -> Network:
    """Text for the graph, evaluated, and checked layer by layer against the nodes."""
    builder = _Builder(nodes)
    items, _, merge = builder.chain("")
    if merge is not None:
        raise builder.not_nested("")
    if repeat:
        items = fold_repeats(items)
    text = to_text(items, input_shape, header)
    net = evaluate(text, "floor")
    check(net, expected_rows(items))
    return net


def check(net: Network, rows: Sequence[Node | None]) -> None:
    """Every layer's output shape, parameters and MACs must be the framework's."""
    if len(rows) != len(net.layers):
        raise CNNError(
            f"internal error: {len(net.layers)} layers from {len(rows)} nodes",
            hint="please report this model",
        )
    problems = []
    for layer, node in zip(net.layers, rows, strict=True):
        if node is None:
            continue
        where = node.label or node.name
        shape = layer.out_shape if not node.extra else None
        if shape is not None and shape != node.out_shape:
            problems.append(
                f"{where}: {format_shape(layer.out_shape)} here, "
                f"{format_shape(node.out_shape)} in the model"
            )
        if node.params >= 0 and layer.params != node.params:
            problems.append(f"{where}: {layer.params:,} parameters here, {node.params:,} there")
        if node.macs >= 0 and layer.macs != node.macs:
            problems.append(f"{where}: {layer.macs:,} MACs here, {node.macs:,} there")
    if problems:
        raise CNNError(
            "the translation does not reproduce the model: " + "; ".join(problems[:5]),
            hint="please report this model; the text was:\n" + net.text,
        )
