"""The package's published requirements: the public ``[torch]`` extra is a range that keeps
a user's own torch, and the version the tests run (the ``test`` extra's exact pin) lies in it."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def extra(name: str) -> list[Requirement]:
    """The requirements of an optional-dependency group of pyproject.toml (tomllib is not in
    Python 3.10, and the table is simple enough to read by pattern)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    body = re.search(rf"^{name} = \[(.*?)\]", text, re.M | re.S)
    assert body, name
    return [Requirement(r) for r in re.findall(r'"([^"]+)"', body.group(1))]


def torch_of(name: str) -> Requirement:
    (found,) = [r for r in extra(name) if r.name == "torch"]
    return found


def test_the_torch_extra_is_a_range_the_tests_cover() -> None:
    public, tested = torch_of("torch"), torch_of("test")
    assert str(tested.specifier) == "==2.13.0"  # CI: the one torch the tests compare with
    assert "==" not in str(public.specifier)  # never replace a user's torch for a patch
    assert Version("2.13.0") in public.specifier
    # the lower bound: torch.device as a context manager (to_torch(device=...)) is 2.0's
    assert Version("2.0.1") not in public.specifier and Version("2.1.0") in public.specifier


def test_the_installed_torch_is_the_tested_one() -> None:
    import torch

    assert torch.__version__.split("+")[0] == "2.13.0"
