"""``from_onnx`` on the random graphs ``tests/test_import_graph.py`` draws in PyTorch
(convolutions, ReLUs, adds, concatenations, products, gates, channel splits and
convolutions applied again), exported by PyTorch: the same layers, each with the same
shape and counts, as ``from_torch`` makes of the model, and the same totals."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from test_from_onnx_layers import export
from test_import_graph import Drawn, drawn_graphs

import cnn_magic


def computes_nothing_twice(model: Drawn) -> bool:
    """Whether no two steps compute the same thing from the same values: the exporter
    writes such a computation once (common subexpressions are eliminated), so the
    graph then has fewer layers than the model runs."""
    seen = set()
    for number, (kind, sources, _) in enumerate(model.steps, start=1):
        if kind == "conv":
            key: tuple[object, ...] = ("conv", str(number), sources)
        elif kind.startswith("again:"):
            key = ("conv", kind[6:], sources)
        elif kind == "gate":
            key = ("pool", sources)  # its own convolution, but of the same pooled map
        else:
            key = (kind, sources)  # a split's halves too: the same two slices
        if key in seen:
            return False
        seen.add(key)
    return True


def without_joins(net: cnn_magic.Network) -> list[tuple[Any, ...]]:
    """Every layer's word, shape and counts, in sorted order, without the
    concatenations (and ``identity``, a placeholder): the exporter writes a concatenation
    of concatenations as one (``cat([a, cat([b, c])])`` is ``Concat(a, b, c)``), so the
    graph may have fewer of them, and the layers they joined may then be written in
    another order (by references rather than in blocks). Concatenations count nothing
    in any convention (checked)."""
    rows = []
    for layer in net.layers:
        if layer.op == "concat":
            assert (layer.params, layer.macs, layer.exact, layer.ops) == (0, 0, 0, 0)
        elif layer.op != "identity":
            rows.append(
                (layer.op, layer.out_shape, layer.params, layer.macs, layer.exact, layer.ops)
            )
    return sorted(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_graphs(), st.integers(1, 6))
def test_drawn_graphs_exported_import_as_from_torch(model: Drawn, size: int) -> None:
    assume(computes_nothing_twice(model))
    note(f"{model.channels} channels, steps {model.steps}")
    shape = (model.channels, size, size)
    imported = cnn_magic.from_onnx(export(model, (1, *shape)))
    ours = cnn_magic.from_torch(model, shape)
    assert imported.output_shape == ours.output_shape
    assert without_joins(imported) == without_joins(ours), imported.text
    for convention in ("flops", "macs", "exact"):
        assert imported.total(convention, all_ops=True) == ours.total(convention, all_ops=True)
    assert cnn_magic.evaluate(imported.text, "floor").layers == imported.layers
