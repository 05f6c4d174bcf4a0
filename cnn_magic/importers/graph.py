"""From a dataflow graph of layers to layer-language text, and the check of the result.

Both importers (PyTorch and ONNX) describe a model as :class:`Node`\\ s in execution
order: each node is one statement of the language (or a merge: add, concat, mul), with
the nodes it reads and the output shape and parameters the framework reported. This
module, pure Python, turns that graph into text by reducing it, as one reduces a
series-parallel circuit:

- **series**: a node read only by the next one, which reads nothing else, joins it in a
  sequence of statements, one per line, labelled with the node's name (a module path
  such as ``layer1.0.conv1``);
- **parallel**: paths that leave one value and meet in one merge, each read by nothing
  else and run whole, one after the other in the merge's order, become a block:
  ``residual:`` (two paths into an add; the shorter is the ``shortcut:``, none if it
  is the value itself), ``add:`` (three or more), ``concat:``, ``split:`` (every path
  starts with its own consecutive slice of the value's channels) or ``scale:`` (the
  value times a gate computed from it);
- **side**: a path that nothing reads and that is not the model's output becomes a
  ``side:`` block (an auxiliary head) where its value is written;
- consecutive runs of identical statements or blocks become ``repeat N:``.

Every reduction keeps the order in which the model runs its layers: the text lists
them as PyTorch runs them. What does not reduce (DenseNet's concatenations read every
earlier map; a product of two computed maps; U-Net's skip, cropped after the
up-convolution it joins) is written with references: the value gets a label, a
statement that does not read the previous output says ``from=LABEL``, and a merge that
is no block is a one-line ``concat A, B``, ``add A, B`` or ``mul A, B``. Only the
values that need it get labels of that kind, so the nested blocks stay wherever they
fit. A node that applies an earlier node's weights again is ``reuse LABEL``. After
evaluating the text, :func:`check` compares every layer's output shape, parameters and
MACs with what the framework reported, so a translation that went wrong is an error,
never a wrong number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from ..errors import CNNError
from ..evaluate import evaluate
from ..i18n import _
from ..results import Network
from ..shapes import format_shape
from .words import label as word_label

Shape = tuple[int, ...]

MERGES = ("add", "concat", "mul")


def input_value(number: int) -> str:
    """The graph's name of input ``number`` (from 1): "" for the first."""
    return "" if number == 1 else f"#input{number}"


SLICE = "slice"  # a node's statement for a run of channels of its input (torch.split)


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
    shares: str = ""  # the node whose weights this one applies again (``reuse``)
    part: tuple[int, int] = (0, 0)  # a slice's channels: first, stop
    undoes: str = ""  # a maxunpool's max pooling (the node whose indices it reads)

    @property
    def is_merge(self) -> bool:
        return self.statement in MERGES


class Leaf(NamedTuple):
    node: Node


class Fork(NamedTuple):
    """A block: the parallel paths from one value into one merge node."""

    merge: Node
    paths: tuple[tuple[Item, ...], ...]  # in the merge's input order
    sizes: tuple[int, ...] = ()  # a split's channels per path; () for other blocks


class Repeat(NamedTuple):
    times: int
    label: str
    body: tuple[Item, ...]  # as written: the first unit, relabelled
    units: tuple[tuple[Item, ...], ...] = ()  # every unit as the model has it, to check


class Side(NamedTuple):
    """A side output: a path from the current value that nothing reads."""

    body: tuple[Item, ...]


class Merge(NamedTuple):
    """A merge of labelled values, written on one line: ``concat A, B``."""

    node: Node


class From(NamedTuple):
    """An item that reads ``value`` rather than the previous output."""

    value: str
    item: Item


Item = Leaf | Fork | Repeat | Side | Merge | From


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
            if (
                len(users) == 1
                and by_name[users[0]].statement == "add"
                and by_name[users[0]].out_shape == node.out_shape
            ):
                folded.add(node.name)
                by_name[node.name] = node
                continue
        by_name[node.name] = node
        out.append(node)
    return out


Span = tuple[int, int]  # the first and last row a unit writes, in execution order


def _joined(spans: Sequence[Span | None]) -> tuple[bool, Span | None]:
    """Whether units written one after the other list their rows in the order the model
    runs them (each starts right where the one before ends), and the rows they write
    together (None for none)."""
    joined: Span | None = None
    for span in spans:
        if span is None:
            continue
        if joined is not None and span[0] != joined[1] + 1:
            return False, None
        joined = span if joined is None else (joined[0], span[1])
    return True, joined


class _Unit:
    """A part of the graph already written as items: it reads ``inputs`` (one value,
    the previous output, unless it starts with a one-line merge) and gives ``out``;
    ``rows``: the run of rows (nodes in execution order) it writes, in that order."""

    __slots__ = ("inputs", "items", "out", "position", "rows")

    def __init__(
        self,
        items: list[Item],
        inputs: tuple[str, ...],
        out: str,
        position: int,
        rows: Span | None = None,
    ):
        self.items, self.inputs, self.out, self.position = items, inputs, out, position
        self.rows = rows

    @property
    def single(self) -> bool:
        """Reads one value as its previous output (not a merge of labels)."""
        return len(self.inputs) == 1 and not isinstance(self.items[0], Merge)

    @property
    def bare_merge(self) -> Node | None:
        if len(self.items) == 1 and isinstance(self.items[0], Merge):
            return self.items[0].node
        return None


class _Reducer:
    """Series, parallel and side reductions of the graph until none applies.

    Every unit writes its rows in the order the model runs them, one run of
    consecutive rows: a reduction that would list a layer before one the model runs
    earlier does not apply, and the values stay read by their labels (U-Net's skip is
    cropped after the up-convolution, so the crop is no branch written before it)."""

    def __init__(
        self, nodes: Sequence[Node], input_shapes: Sequence[Shape], output: str | None
    ) -> None:
        values = [input_value(number) for number in range(1, len(input_shapes) + 1)]
        self.shapes: dict[str, Shape] = dict(zip(values, input_shapes, strict=True))
        count = len(values)
        self.units = {v: _Unit([], (), v, n - count) for n, v in enumerate(values)}
        self.readers: dict[str, set[str]] = {value: set() for value in values}
        self.index = {value: -1 for value in values}
        self.index.update({node.name: position for position, node in enumerate(nodes)})
        # with several inputs, their lines come first: nothing joins them, each is read
        # by its label
        self.fixed = set(values) if count > 1 else set()
        for value in self.fixed:
            self.index[value] = -2  # never right before a side output
        self.sides: set[str] = set()  # side outputs written where they run
        row = 0  # a slice writes no row of its own: the split's branches start at it
        for position, node in enumerate(nodes):
            if node.name in self.units:
                raise CNNError(_("internal error: two nodes named {name!r}").format(name=node.name))
            for source in node.inputs:
                if source not in self.units:
                    raise CNNError(
                        _("{node} reads an unknown value {value!r}").format(
                            node=node.label or node.name, value=source
                        )
                    )
                self.readers[source].add(node.name)
            inputs = tuple(dict.fromkeys(node.inputs))
            item: Item = Merge(node) if node.is_merge else Leaf(node)
            rows = None if node.statement == SLICE else (row, row)
            row += rows is not None
            self.units[node.name] = _Unit([item], inputs, node.name, position, rows)
            self.readers[node.name] = set()
            self.shapes[node.name] = node.out_shape
        self.output = output if output is not None else nodes[-1].name if nodes else ""

    def reduce(self) -> list[_Unit]:
        changed = True
        while changed:
            changed = False
            for key in sorted(self.units, key=lambda k: self.units[k].position):
                if key in self.units:
                    changed = self._step(self.units[key]) or changed
        # the output's unit last: a unit nothing reads (a dead end of several inputs)
        # may start after it
        return sorted(
            self.units.values(),
            key=lambda unit: (unit.out == self.output and unit.inputs != (), unit.position),
        )

    def _step(self, unit: _Unit) -> bool:
        if unit.out in self.sides:
            return False  # a side output in place: nothing joins it
        merge = unit.bare_merge
        if merge is not None and self._parallel(unit, merge):
            return True
        if unit.single and self._series(unit):
            return True
        if unit.single and not self.readers[unit.out] and unit.out != self.output:
            return self._side(unit)
        return False

    def _remove(self, unit: _Unit) -> None:
        del self.units[unit.out]
        for source in unit.inputs:
            self.readers[source].discard(unit.out)

    def _series(self, unit: _Unit) -> bool:
        """The unit's one input, read by nothing else, joins it."""
        (source,) = unit.inputs
        if self.readers[source] != {unit.out} or source in self.sides or source == self.output:
            return False
        if source in self.fixed:
            return False
        before = self.units[source]
        in_order, rows = _joined([before.rows, unit.rows])
        if not in_order:
            return False  # the model runs other layers in between
        self._remove(before)
        unit.items = before.items + unit.items
        unit.inputs, unit.position, unit.rows = before.inputs, before.position, rows
        for value in unit.inputs:
            self.readers[value].add(unit.out)
        return True

    def _side(self, unit: _Unit) -> bool:
        """A path nothing reads: a side output of the value it starts from, written
        right after that value when it runs right after it (an auxiliary head), else
        where it runs (reading the value by its label)."""
        (source,) = unit.inputs
        before = self.units[source]
        end = before.rows[1] if before.rows is not None else self.index[source]
        if unit.rows is not None and unit.rows[0] == end + 1:
            self._remove(unit)
            before.items.append(Side(tuple(unit.items)))
            before.rows = (before.rows or unit.rows)[0], unit.rows[1]
        else:
            unit.items = [Side(tuple(unit.items))]
            self.sides.add(unit.out)
        return True

    def _path(self, value: str, merge: str) -> str | None:
        """Where ``value`` starts as one path into ``merge``: the value it reads, when it
        is a unit of one input that only ``merge`` reads."""
        unit = self.units.get(value)
        if unit is None or not unit.single or not value or self.readers[value] != {merge}:
            return None
        return unit.inputs[0]

    def _parallel(self, unit: _Unit, merge: Node) -> bool:
        """Paths from one value into this merge: a block, when the model runs each path
        whole, one after the other in the merge's order (as a block writes them)."""
        inputs = merge.inputs
        starts = {value: self._path(value, unit.out) for value in inputs}
        candidates = list(dict.fromkeys(s for s in starts.values() if s is not None))
        candidates += [v for v in inputs if v not in candidates]
        for start in candidates:
            if all(v == start or starts[v] == start for v in inputs):
                paths = [v for v in inputs if v != start]
                in_order, rows = _joined([*(self.units[v].rows for v in paths), unit.rows])
                if len(paths) == len(set(paths)) and in_order:
                    fork = self._fork(merge, start, inputs)
                    if fork is not None:
                        self._close(unit, fork, start, paths)
                        unit.rows = rows
                        return True
        return False

    def _fork(self, merge: Node, start: str, inputs: tuple[str, ...]) -> Fork | None:
        paths = tuple(tuple(self.units[v].items) if v != start else () for v in inputs)
        out, shape = merge.out_shape, self.shapes[start]
        if merge.statement == "mul":  # the value times a gate computed from it: scale:
            gates = [v for v in inputs if v != start]
            if len(inputs) != 2 or len(gates) != 1 or out != shape:
                return None
            gate = self.shapes[gates[0]]
            fits = len(gate) == len(shape) and all(
                g in (1, s) for g, s in zip(gate, shape, strict=True)
            )
            return Fork(merge, paths) if fits else None
        if merge.statement == "add":
            if any(self.shapes[v] != out for v in inputs):
                return None  # broadcasting: only the one-line add does that
            return Fork(merge, paths)
        cut = [p[0].node for p in paths if p and isinstance(p[0], Leaf) and p[0].node.part[1]]
        if not cut:
            return Fork(merge, paths)
        # a split: every path starts with the next run of the value's channels
        if len(cut) != len(paths) or any(p.inputs != (start,) for p in cut):
            return None
        if [p.part[0] for p in cut] != [0, *(p.part[1] for p in cut[:-1])]:
            return None
        if cut[-1].part[1] != shape[-1]:
            return None
        sizes = tuple(p.part[1] - p.part[0] for p in cut)
        return Fork(merge, tuple(p[1:] for p in paths), sizes)

    def _close(self, unit: _Unit, fork: Fork, start: str, paths: list[str]) -> None:
        position = unit.position
        for value in paths:
            position = min(position, self.units[value].position)
            self._remove(self.units[value])
        for value in unit.inputs:
            self.readers[value].discard(unit.out)
        unit.items, unit.inputs, unit.position = [fork], (start,), position
        self.readers[start].add(unit.out)


def _sequence(units: list[_Unit], several: bool) -> list[Item]:
    """The reduced graph as one sequence: a unit that does not read the previous output
    says where it reads from (after several input lines, every reader of one does)."""
    items: list[Item] = []
    current: str | None = None if several else ""
    for unit in units:
        if several and not unit.inputs and not unit.items:
            continue  # an input line: written at the top, read by its label
        if unit.single and unit.inputs[0] != current:
            first, *rest = unit.items
            items.append(From(unit.inputs[0], first))
            items.extend(rest)
        else:
            items.extend(unit.items)
        side = unit.single and len(unit.items) == 1 and isinstance(unit.items[0], Side)
        current = unit.inputs[0] if side else unit.out  # a side output passes its input on
    return items


def _read_values(items: Sequence[Item]) -> Iterator[str]:
    """Every value read by a label: ``from=`` and one-line merges."""
    for item in items:
        if isinstance(item, From):
            yield item.value
            yield from _read_values([item.item])
        elif isinstance(item, Merge):
            yield from item.node.inputs
        elif isinstance(item, Fork):
            for path in item.paths:
                yield from _read_values(path)
        elif isinstance(item, Side):
            yield from _read_values(item.body)


def _first_written_owns_the_weights(items: list[Item]) -> list[Item]:
    """Calls of one module in the order the text writes them: the first holds the
    parameters, the others ``reuse`` it. Blocks write their paths in the merge's order,
    so the first call the model makes may come later in the text."""
    calls: dict[str, list[Node]] = {}  # the model's first call → every call, as written
    for node in expected_rows(items):
        if node is not None and (node.shares or node.name in calls):
            calls.setdefault(node.shares or node.name, []).append(node)
        elif node is not None:
            calls[node.name] = [node]
    moved: dict[str, Node] = {}
    for first, written in calls.items():
        if len(written) < 2 or written[0].name == first:
            continue
        owner = next(node for node in written if node.name == first)
        lead = written[0]
        moved[lead.name] = lead._replace(shares="", params=owner.params)
        for node in written[1:]:
            moved[node.name] = node._replace(shares=lead.name, params=0)
    return _replaced(items, moved) if moved else items


def _replaced(items: Sequence[Item], moved: dict[str, Node]) -> list[Item]:
    """The items with the nodes in ``moved`` put in place of theirs."""

    def node(old: Node) -> Node:
        return moved.get(old.name, old)

    out: list[Item] = []
    for item in items:
        if isinstance(item, Leaf):
            out.append(Leaf(node(item.node)))
        elif isinstance(item, Merge):
            out.append(Merge(node(item.node)))
        elif isinstance(item, Fork):
            paths = tuple(tuple(_replaced(path, moved)) for path in item.paths)
            out.append(item._replace(merge=node(item.merge), paths=paths))
        elif isinstance(item, Side):
            out.append(Side(tuple(_replaced(item.body, moved))))
        elif isinstance(item, From):
            out.append(From(item.value, _replaced([item.item], moved)[0]))
        else:
            out.append(item)  # no repeats yet: they are folded afterwards
    return out


def _shared(items: Sequence[Item]) -> Iterator[str]:
    """Every node whose weights a later node applies again, or that a maxunpool undoes."""
    for item in items:
        if isinstance(item, Leaf | Merge):
            if item.node.shares:
                yield item.node.shares
            if item.node.undoes:
                yield item.node.undoes
        elif isinstance(item, From):
            yield from _shared([item.item])
        elif isinstance(item, Fork):
            for path in item.paths:
                yield from _shared(path)
        elif isinstance(item, Side):
            yield from _shared(item.body)


# ----------------------------------------------------------------- repeats


def _key(item: Item, pinned: frozenset[str]) -> tuple[object, ...]:
    """What an item computes, without its labels: equal keys write the same text. An
    item that references or is referenced is unique: a repeat would rename it."""
    if isinstance(item, Leaf):
        node = item.node
        if node.name in pinned or node.shares or node.undoes:
            return ("pinned", node.name)
        return ("leaf", node.statement, node.extra)
    if isinstance(item, Fork):
        paths = tuple(tuple(_key(i, pinned) for i in p) for p in item.paths)
        if item.merge.name in pinned:
            return ("pinned", item.merge.name)
        return ("fork", item.merge.statement, item.sizes, paths)
    if isinstance(item, Repeat):
        return ("repeat", item.times, tuple(_key(i, pinned) for i in item.body))
    if isinstance(item, Merge):
        return ("pinned", item.node.name)
    return ("pinned", id(item))  # a side output (never in a repeat) or a from= read


def fold_repeats(items: list[Item], pinned: frozenset[str] = frozenset()) -> list[Item]:
    """Runs of two or more identical units (one item or several) become a Repeat: the
    shortest unit, leftmost first, then shifted to where the units line up with the
    model's modules (``layer1.1``, ``layer1.2`` rather than a ReLU of one and the block
    of the next). ``pinned``: nodes read by a label, never repeated."""
    items = [_fold_inside(item, pinned) for item in items]
    keys = [_key(item, pinned) for item in items]

    pinned_before = [0]  # pinned items among the first i: a window's in O(1)
    for key in keys:
        pinned_before.append(pinned_before[-1] + (key[0] == "pinned"))

    def repeats(start: int, size: int) -> int:
        if start + size >= len(keys) or keys[start] != keys[start + size]:
            return 1  # the next unit does not even start alike
        if pinned_before[start + size] != pinned_before[start]:
            return 1
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
    """The labels of the items as the model has them (every unit of a repeat)."""
    for item in items:
        if isinstance(item, Leaf | Merge):
            yield item.node.label
        elif isinstance(item, Fork):
            yield item.merge.label
            for path in item.paths:
                yield from _labels(path)
        elif isinstance(item, Repeat):
            yield item.label
            for unit in item.units:
                yield from _labels(unit)
        elif isinstance(item, Side):
            yield from _labels(item.body)
        else:
            yield from _labels([item.item])


def _written_labels(items: Sequence[Item]) -> Iterator[str]:
    """The labels as the text writes them (a repeat's body once, relabelled), with the
    names a repeat's passes give them (``conv1.2``)."""
    for item in items:
        if isinstance(item, Repeat):
            yield item.label
            for label in _written_labels(item.body):
                yield label
                yield from (f"{label}.{n}" for n in range(1, item.times + 1))
        elif isinstance(item, Fork):
            yield item.merge.label
            for path in item.paths:
                yield from _written_labels(path)
        elif isinstance(item, Leaf | Merge):
            if not item.node.shares:  # a reuse is unlabelled unless something reads it
                yield item.node.label
        elif isinstance(item, Side):
            yield from _written_labels(item.body)
        else:
            yield from _written_labels([item.item])


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


def _fold_inside(item: Item, pinned: frozenset[str]) -> Item:
    if isinstance(item, Fork):
        paths = tuple(tuple(fold_repeats(list(p), pinned)) for p in item.paths)
        return item._replace(paths=paths)
    if isinstance(item, Side):
        return Side(tuple(fold_repeats(list(item.body), pinned)))
    if isinstance(item, From):
        return From(item.value, _fold_inside(item.item, pinned))
    return item


def _repeat_label(units: list[list[Item]]) -> str:
    """``layer1.1-2`` for units under ``layer1.1`` … ``layer1.2``; the module's own path
    (``down.4``) for parts of one module (its two convolutions); "" when the units'
    paths do not run like that."""
    prefixes = [_prefix(unit) for unit in units]
    if _numbered(prefixes):
        first, last = prefixes[0], prefixes[-1]
        return ".".join([*first[:-1], f"{first[-1]}-{last[-1]}"])
    if prefixes[0] and all(p == prefixes[0] for p in prefixes):
        return ".".join(prefixes[0])
    return ""


def _numbered(prefixes: list[list[str]]) -> bool:
    """The units sit under consecutive modules of one parent, one each (``layer1.1``,
    ``layer1.2``)."""
    first = prefixes[0]
    if not first or any(len(p) != len(first) or p[:-1] != first[:-1] for p in prefixes):
        return False
    if not all(p[-1].isdigit() for p in prefixes):
        return False
    numbers = [int(p[-1]) for p in prefixes]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _relabel(units: list[list[Item]]) -> list[Item]:
    """The body of a repeat: the first unit with its labels made relative to the module
    path its unit sits under (``layer1.1.conv1`` → ``conv1``, and the layer is named
    ``conv1.2`` in the second repetition); unlabelled where units are not one module
    each, since a label of the first unit would misname the others."""
    shared = _prefix(units[0])
    numbered = _numbered([_prefix(unit) for unit in units])
    prefix = ".".join(shared) + "." if numbered else None
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
        return item._replace(
            merge=item.merge._replace(label=relabel(item.merge.label)), paths=paths
        )
    if isinstance(item, Repeat):
        body = tuple(_strip(i, prefix) for i in item.body)
        return Repeat(item.times, relabel(item.label), body, item.units)
    return item  # sides, merges of labels and reads are pinned: never in a repeat


# ----------------------------------------------------------------- items → text


class _Writer:
    """Items as text; ``names`` gives the label of each value read by a label."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.lines: list[str] = []

    def label(self, node: Node) -> str:
        if node.shares:  # its module path is the label of the layer whose weights it uses
            return self.names.get(node.name, "")
        return self.names.get(node.name, node.label) if node.name else node.label

    def write(self, items: Sequence[Item], depth: int) -> None:
        for item in items:
            self.item(item, depth, None)

    def item(self, item: Item, depth: int, source: str | None) -> None:
        """One item; ``source``: the value it reads by a label, None for the previous output."""
        pad = "  " * depth
        reads = f" from={self.names[source]}" if source is not None else ""
        if isinstance(item, Leaf):
            node = item.node
            text = f"reuse {self.names[node.shares]}" if node.shares else node.statement
            if node.undoes:
                text = f"maxunpool {self.names[node.undoes]}"
            if node.extra and node.name in self.names:  # the label names the last line's value
                self.lines.append(pad + text + reads)
                *middle, last = node.extra
                self.lines.extend(pad + extra for extra in middle)
                self.lines.append(pad + _labelled(self.label(node), last))
                return
            self.lines.append(pad + _labelled(self.label(node), text + reads))
            self.lines.extend(pad + extra for extra in node.extra)
        elif isinstance(item, Merge):
            args = ", ".join(self.names[value] for value in item.node.inputs)
            self.lines.append(
                pad + _labelled(self.label(item.node), f"{item.node.statement} {args}")
            )
        elif isinstance(item, From):
            self.item(item.item, depth, item.value)
        elif isinstance(item, Repeat):
            self.lines.append(pad + _labelled(item.label, f"repeat {item.times}{reads}:"))
            self.write(item.body, depth + 1)
        elif isinstance(item, Side):  # named after the module its layers share, if any
            if reads:  # a side output branches off the previous output
                self.lines.append(pad + "identity" + reads)
            self.lines.append(pad + _labelled(".".join(_prefix(item.body)), "side:"))
            self.write(item.body, depth + 1)
        else:
            if reads:  # a block reads the previous output: an identity reads the label first
                self.lines.append(pad + "identity" + reads)
            self.fork(item, depth)

    def fork(self, fork: Fork, depth: int) -> None:
        pad, inner = "  " * depth, "  " * (depth + 1)
        label = self.label(fork.merge)
        if fork.merge.statement == "mul":
            self.lines.append(pad + _labelled(label, "scale:"))
            self.write(next(p for p in fork.paths if p), depth + 1)
            return
        if _is_residual(fork):
            body, shortcut = _body_and_shortcut(fork.paths)
            self.lines.append(pad + _labelled(label, "residual:"))
            self.write(body, depth + 1)
            if shortcut:
                self.lines.append(inner + "shortcut:")
                self.write(shortcut, depth + 2)
            return
        if fork.sizes:
            equal = len(set(fork.sizes)) == 1
            sizes = str(len(fork.sizes)) if equal else " ".join(map(str, fork.sizes))
            kind = f"split {sizes}"
        else:
            kind = "concat" if fork.merge.statement == "concat" else "add"
        self.lines.append(pad + _labelled(label, f"{kind}:"))
        for path in fork.paths:
            self.lines.append(inner + "branch:")
            self.write(path or (Leaf(Node("", "", "identity", (), (), 0)),), depth + 2)


def to_text(
    items: Sequence[Item],
    input_shape: Shape,
    header: Sequence[str] = (),
    names: dict[str, str] | None = None,
    more_inputs: Sequence[Shape] = (),
) -> str:
    """The layer-language text of the items, one statement a line; ``names``: the
    label of each value read by a label ("" is the input); ``more_inputs``: the shapes
    of the second, third, ... input."""
    names = names or {}
    lines = [f"# {line}" for line in header]
    for number, shape in enumerate((input_shape, *more_inputs), start=1):
        # channels @ spatial sizes: never mistaken for PyTorch's channels-first order
        spatial, channels = shape[:-1], shape[-1]
        written = f"{channels}@{'x'.join(map(str, spatial))}" if spatial else str(channels)
        lines.append(_labelled(names.get(input_value(number), ""), f"input {written}"))
    writer = _Writer(names)
    writer.write(items, 0)
    return "\n".join(lines + writer.lines) + "\n"


def _labelled(label: str, text: str) -> str:
    return f"{label}: {text}" if label else text


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
    text adds a layer of its own: an ``identity``)."""
    rows: list[Node | None] = []
    for item in items:
        if isinstance(item, Leaf):
            rows.append(item.node)
            rows.extend(None for _ in item.node.extra)
        elif isinstance(item, Merge):
            rows.append(item.node)
        elif isinstance(item, From):
            if isinstance(item.item, Fork | Side):
                rows.append(None)  # the identity that reads the label
            rows.extend(expected_rows([item.item]))
        elif isinstance(item, Repeat):
            for unit in item.units:
                rows.extend(expected_rows(unit))
        elif isinstance(item, Side):
            rows.extend(expected_rows(item.body))
        else:
            paths = item.paths
            if item.merge.statement == "mul":
                rows.extend(expected_rows(next(p for p in paths if p)))
            elif _is_residual(item):
                body, shortcut = _body_and_shortcut(paths)
                rows.extend(expected_rows(body))
                rows.extend(expected_rows(shortcut))
            else:
                for path in paths:
                    rows.extend(expected_rows(path) if path else [None])
            rows.append(item.merge)
    return rows


def _leaves(items: Sequence[Item]) -> Iterator[Node]:
    for item in items:
        if isinstance(item, Leaf | Merge):
            yield item.node
        elif isinstance(item, Fork):
            for path in item.paths:
                yield from _leaves(path)
            yield item.merge
        elif isinstance(item, Repeat):
            for unit in item.units:
                yield from _leaves(unit)
        elif isinstance(item, Side):
            yield from _leaves(item.body)
        elif isinstance(item, From):
            yield from _leaves([item.item])


def _names(
    items: Sequence[Item], needed: set[str], inputs: dict[str, str] | None = None
) -> dict[str, str]:
    """A label for each value read by a label: the module path where it names one value
    only, else the path with ``_2``, ``_3`` …; ``inputs``: the inputs' labels (the
    input alone is ``x``)."""
    inputs = inputs or {"": "x"}
    written = [label for label in _written_labels(items) if label]
    counts: dict[str, int] = {}
    for label in written:
        counts[label] = counts.get(label, 0) + 1
    taken = set(written)
    nodes = {node.name: node for node in _leaves(items)}
    names: dict[str, str] = {}
    assigned: set[str] = set()
    order = {node.name: n for n, node in enumerate(expected_rows(items)) if node is not None}
    for value in sorted(needed, key=lambda v: (v not in inputs, order.get(v, 0), v)):
        node = nodes.get(value)
        base = inputs.get(value, "x") if node is None else node.label
        own = 0 if node is None or node.shares else 1  # times its own line writes it
        if base and counts.get(base, 0) <= own and base not in assigned:
            names[value] = base
            assigned.add(base)
            continue
        base = base or "v"
        number = 2
        while f"{base}_{number}" in taken:
            number += 1
        names[value] = f"{base}_{number}"
        taken.add(names[value])
        assigned.add(names[value])
    return names


def build(
    nodes: Sequence[Node],
    input_shape: Shape,
    header: Sequence[str] = (),
    *,
    repeat: bool = True,
    output: str | None = None,
    inputs: Sequence[tuple[str, Shape]] | None = None,
) -> Network:
    """Text for the graph, evaluated, and checked layer by layer against the nodes;
    ``output``: the node that gives the model's output (by default the last one);
    ``inputs``: (label, shape) of each input when there are several (the first's shape
    is then ``input_shape``)."""
    nodes = _flatten_adds(nodes)
    shapes = [shape for _, shape in inputs] if inputs else [input_shape]
    reducer = _Reducer(nodes, shapes, output)
    items = _sequence(reducer.reduce(), len(shapes) > 1)
    slices = [node for node in _leaves(items) if node.statement == SLICE]
    if slices:
        where = ", ".join(f"{n.label or n.name} (channels {n.part[0]}:{n.part[1]})" for n in slices)
        raise CNNError(
            _("channels taken apart without a word in the layer language: {where}").format(
                where=where
            ),
            hint=_(
                "split: cuts the channels into runs, one per branch, and concatenates "
                "the branches' outputs again; other slicing has no word"
            ),
        )
    items = _first_written_owns_the_weights(items)
    needed = set(_read_values(items))
    targets = set(_shared(items))
    pinned = frozenset(needed | targets)
    if repeat:
        items = fold_repeats(items, pinned)
    labels = {input_value(n): label for n, (label, _) in enumerate(inputs or (), start=1)}
    if len(shapes) > 1:
        needed |= set(labels)  # several inputs: each input line is labelled
    names = _names(items, needed | targets, labels or None)
    text = to_text(items, shapes[0], header, names, shapes[1:])
    net = evaluate(text, "floor")
    check(net, expected_rows(items))
    return net


def check(net: Network, rows: Sequence[Node | None]) -> None:
    """Every layer's output shape, parameters and MACs must be the framework's."""
    if len(rows) != len(net.layers):
        raise CNNError(
            _("internal error: {layers} layers from {nodes} nodes").format(
                layers=len(net.layers), nodes=len(rows)
            ),
            hint=_("please report this model"),
        )
    problems = []
    for layer, node in zip(net.layers, rows, strict=True):
        if node is None:
            continue
        where = node.label or node.name
        shape = layer.out_shape if not node.extra else None
        if shape is not None and shape != node.out_shape:
            problems.append(
                _("{where}: {here} here, {there} in the model").format(
                    where=where,
                    here=format_shape(layer.out_shape),
                    there=format_shape(node.out_shape),
                )
            )
        if node.params >= 0 and layer.params != node.params:
            problems.append(
                _("{where}: {here} parameters here, {there} there").format(
                    where=where, here=f"{layer.params:,}", there=f"{node.params:,}"
                )
            )
        if node.macs >= 0 and layer.macs != node.macs:
            problems.append(
                _("{where}: {here} MACs here, {there} there").format(
                    where=where, here=f"{layer.macs:,}", there=f"{node.macs:,}"
                )
            )
    if problems:
        raise CNNError(
            _("the translation does not reproduce the model: {problems}").format(
                problems="; ".join(problems[:5])
            ),
            hint=_("please report this model; the text was:\n{text}").format(text=net.text),
        )
