"""The package's shape: data flows one way, and the options speak one vocabulary.

Modules are ranked from the bottom (``shapes``, importing nothing of the package) to
the glue (``magic``, ``cli``); no module imports one ranked above it at module level.
The few imports inside functions that go upwards are the lazy doors of the facade
(``Network.to_text`` → ``table``, ...), listed here with their reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.explain import explain

PACKAGE = Path(cnn_magic.__file__).parent

RANK = {
    "shapes": 0,
    "errors": 1,
    "conventions": 2,
    "sources": 2,
    "dsl": 3,
    "terms": 3,
    "pytorch_lines": 3,
    "variables": 3,
    "layers": 4,
    "results": 5,
    "evaluate": 6,
    "table": 7,
    "explain": 7,
    "torch_export": 7,
    "examples": 7,
    "tools": 7,
    "frozen": 6,
    "memory": 7,
    "importers": 8,
    "view_html": 8,
    "widget": 8,
    "pictures": 8,
    "sliders": 8,
    "magic": 9,
    "cli": 9,
    "__init__": 10,
    "__main__": 10,
}
"""Each module's place in the flow: text → syntax → rules → results → presentation → glue."""

LAZY_DOORS = {
    ("results", "table"): "Network.to_text() and the other exports render on demand",
    ("results", "explain"): "Network.explain() imports the explanation on demand",
    ("results", "torch_export"): "Network.to_torch() needs torch only when called",
    (
        "results",
        "tools",
    ): "Network.total('thop') and compare_tools() read the tools' rules on demand",
    ("results", "memory"): "Network.memory() computes the memory report on demand",
    ("table", "view_html"): "a Network's own HTML is the notebook view's fragment",
    ("results", "pictures"): "Network.to_svg() and Layer.windows_svg() draw on demand",
}


def imports(module: str) -> list[tuple[str, bool]]:
    """(imported package module, at module level?) for each relative import."""
    path = PACKAGE / f"{module}.py"
    if not path.exists():  # a package: examples/
        path = PACKAGE / module / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found += [(name.split(".")[0], id(node) in top) for name in names]
    return found


def test_every_module_is_ranked() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert {p.stem for p in PACKAGE.glob("*.py")} | packages == set(RANK)


@pytest.mark.parametrize("module", sorted(RANK))
def test_no_module_imports_one_above_it(module: str) -> None:
    for name, top_level in imports(module):
        if name not in RANK:  # "from . import table" names the module itself
            continue
        if RANK[name] > RANK[module]:
            assert not top_level, f"{module} imports {name} at module level"
            assert (module, name) in LAZY_DOORS or RANK[module] >= RANK["widget"], (
                f"{module} imports {name}, which is above it"
            )


def test_shapes_imports_nothing_of_the_package() -> None:
    assert imports("shapes") == []


# ---------------------------------------------------------------- one vocabulary


@pytest.fixture(scope="module")
def net() -> cnn_magic.Network:
    return cnn_magic.example("lenet5")


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda n: explain(n, dtype="fp8"), "unknown dtype 'fp8'"),
        (lambda n: explain(n, convention="mac"), "did you mean 'macs'?"),
        (lambda n: explain(n, all_ops="yes"), "all_ops must be True or False"),
        (lambda n: n.explain(dtype="float8"), "unknown dtype"),
        (lambda n: n.to_text(all_ops=None), "all_ops must be True or False"),
        (lambda n: n.to_text(all_ops="yes"), "all_ops must be True or False"),
        (lambda n: n.to_markdown("flop"), "did you mean 'flops'?"),
        (lambda n: n.to_csv(units="no"), "units must be True or False"),
        (lambda n: n.total("mac"), "did you mean 'macs'?"),
        (lambda n: n.layers[0].count("MACs"), "unknown FLOPs convention"),
        (lambda n: n.to_frame(dtype="fp16"), "unknown dtype"),
        (lambda n: cnn_magic.example("lenet5", rounding="flor"), "did you mean 'floor'?"),
        (lambda n: cnn_magic.evaluate("input 8x8x1", rounding="ceiling"), "did you mean 'ceil'?"),
    ],
)
def test_every_option_is_checked_with_a_did_you_mean(net, call, words: str) -> None:
    with pytest.raises(CNNError, match=words.replace("?", r"\?").replace("(", r"\(")):
        call(net)


def test_flags_are_keyword_only(net) -> None:
    with pytest.raises(TypeError):
        net.to_text("macs", True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        net.total("macs", True)  # type: ignore[misc]
    assert net.to_text("macs", all_ops=True) == net.to_text(convention="macs", all_ops=True)
