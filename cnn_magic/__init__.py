"""cnn_magic: feature-map sizes, parameters and FLOPs of a CNN, with the formula behind
every number.

>>> import cnn_magic
>>> net = cnn_magic.evaluate('''
... input 32x32x1
... C1: conv 6 k5 relu
... S2: avgpool k2 s2
... ''')
>>> net.output_shape, net.params
((14, 14, 6), 156)

In IPython: ``%load_ext cnn_magic``, then a ``%%cnn`` cell.
"""

from typing import Any

from .conventions import check_rounding
from .dsl import parse_shape
from .errors import CNNError
from .evaluate import evaluate
from .i18n import set_language
from .importers import from_onnx, from_torch
from .results import Block, Layer, Network
from .shapes import ReceptiveField, format_shape

__all__ = [
    "Block",
    "CNNError",
    "Layer",
    "Network",
    "ReceptiveField",
    "check",
    "evaluate",
    "example",
    "example_names",
    "example_text",
    "exercise",
    "format_shape",
    "from_onnx",
    "from_torch",
    "load_ipython_extension",
    "parse_shape",
    "set_language",
    "unload_ipython_extension",
]
__version__ = "0.2.0.dev0"


def example(name: str, rounding: str | None = None) -> Network:
    """A network of the zoo (:func:`example_names`), evaluated under the rounding its file
    sets (its ``rounding`` statement) unless ``rounding`` is given.

    >>> net = example("lenet5")
    >>> net.params, net.macs, net.rounding
    (61706, 416520, 'textbook')
    """
    from . import examples

    return evaluate(examples.text(name), None if rounding is None else check_rounding(rounding))


def example_text(name: str) -> str:
    """The layer-language text of the example network ``name``."""
    from . import examples

    return examples.text(name)


def example_names() -> tuple[str, ...]:
    """The names of the example networks: ``('alexnet', 'lenet5', ...)``."""
    from . import examples

    return examples.names()


def exercise(kind: str | None = None, seed: int | str = 0) -> Any:
    """A random but sensible problem of ``kind`` (see ``cnn_magic.exercises.KINDS``; one
    chosen by the seed when ``None``), the same for the same seed. Display it for the
    text, ``.quiz()`` for the interactive table, ``.solution()`` for the answers.

    >>> problem = exercise("macs_flops", seed=42)
    >>> [q.key for q in problem.questions]
    ['C1.output', 'C1.macs', 'C1.flops']
    """
    from .exercises import exercise as make

    return make(kind, seed)


def check(problem: Any, answers: Any, strict: bool = False) -> dict[str, bool]:
    """Which answers are right, ``{key: bool}``; ``strict=True`` raises AssertionError
    with each wrong answer's expected value and derivation (for autograded cells).
    ``problem``: an :func:`exercise` problem or a network text. See
    :func:`cnn_magic.grading.check`."""
    from .grading import check as grade

    return grade(problem, answers, strict)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cnn_magic``: register ``%%cnn`` and ``%cnn``."""
    from .magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext cnn_magic``: remove the magics."""
    from .magic import unload_ipython_extension as unload

    unload(ipython)
