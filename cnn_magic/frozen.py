"""Frozen layers: which layers' parameters are not trained.

Placeholder until the layer language has a ``frozen`` flag: no layer of a text is
frozen yet.
"""

from __future__ import annotations

from .results import Network


def frozen_indices(net: Network) -> frozenset[int]:
    """Indices of the layers the text marks frozen."""
    return frozenset()
