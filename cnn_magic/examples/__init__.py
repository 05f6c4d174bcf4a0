"""The architecture zoo: real networks written in the layer language.

Each network is a ``NAME.cnn`` file in this folder. Line 1 names it and says where it
comes from (``# <Title> — <source>``); line 2 sets the rounding mode under which it
reproduces its reference (the statement ``rounding floor``), which every way of
evaluating the file honours. Nothing here is read until asked for,
so ``import cnn_magic`` stays cheap.

>>> "lenet5" in names()
True
>>> source("lenet5").split(" — ")[0], rounding("lenet5")
('LeNet-5', 'textbook')
>>> text("resnet5")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cnn_magic.errors.CNNError: unknown example 'resnet5'
did you mean 'resnet50'? known examples: alexnet, ..., vgg16
"""

from __future__ import annotations

import difflib
import os

from ..errors import CNNError
from ..i18n import _

FOLDER = os.path.dirname(os.path.abspath(__file__))
"""Where the ``.cnn`` files are (plain ``os.path``: the command line starts faster
without ``importlib.resources`` and ``pathlib``; wheels install unzipped)."""
_SUFFIX = ".cnn"


def names() -> tuple[str, ...]:
    """The names of the shipped networks, sorted."""
    return tuple(
        sorted(entry[: -len(_SUFFIX)] for entry in os.listdir(FOLDER) if entry.endswith(_SUFFIX))
    )


def text(name: str) -> str:
    """The network ``name`` as written (``"ResNet-50"`` and ``"resnet50"`` both work)."""
    known = names()
    key = str(name).lower()
    found = next((n for n in known if _squeeze(n) == _squeeze(key)), None)
    if found is None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = (
            (f"did you mean '{close[0]}'? " if close else "")
            + "known examples: "
            + ", ".join(known)
        )
        raise CNNError(_("unknown example {name!r}").format(name=name), hint=hint)
    with open(os.path.join(FOLDER, found + _SUFFIX), encoding="utf-8") as file:
        return file.read()


def _squeeze(name: str) -> str:
    return name.replace("-", "").replace("_", "")


def source(name: str) -> str:
    """Line 1 of the file: the network's title and where it comes from."""
    return text(name).split("\n", 1)[0].lstrip("#").strip()


def rounding(name: str) -> str:
    """The rounding mode the file's ``rounding`` statement sets (``"textbook"`` if none)."""
    from ..evaluate import declared_rounding

    return declared_rounding(text(name)) or "textbook"
