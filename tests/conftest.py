"""Shared fixtures: a real IPython shell (no mocks) that records what it displays.

``shell`` is IPython's own ``InteractiveShell``, created once for the session with an
in-memory history. Each test gets it with a fresh display recorder and its own
variables removed afterwards; extensions a test loads stay loaded, so a test that
needs a clean slate unloads them itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the package is used from the work tree, installed or not
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def ipython_shell():
    """The session's one ``InteractiveShell``: in-memory history, no colours."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    shell = InteractiveShell.instance(config=config)
    yield shell
    InteractiveShell.clear_instance()


@pytest.fixture
def shell(ipython_shell) -> Iterator:
    """The real shell, its displays recorded in ``shell.display_pub.outputs``
    (a list of ``{"data": mimebundle, "metadata": ...}``)."""
    from IPython.core.displaypub import CapturingDisplayPublisher

    before = set(ipython_shell.user_ns)
    publisher = ipython_shell.display_pub
    ipython_shell.display_pub = CapturingDisplayPublisher()
    try:
        yield ipython_shell
    finally:
        ipython_shell.display_pub = publisher
        for name in set(ipython_shell.user_ns) - before:
            del ipython_shell.user_ns[name]


_IMPORTS_TORCH: dict[Path, bool] = {}


def _imports_torch(path: Path) -> bool:
    """Whether a test module imports torch at all (read once per file)."""
    if path not in _IMPORTS_TORCH:
        source = path.read_text(encoding="utf-8") if path.suffix == ".py" else ""
        _IMPORTS_TORCH[path] = any(
            line.lstrip().startswith(("import torch", "from torch")) for line in source.splitlines()
        )
    return _IMPORTS_TORCH[path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="the pure-Python loop: leave out the tutorials, the browser, Binder and every "
        "module that imports torch (not even collected, so torch is never imported)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("fast"):
        return None
    if collection_path.suffix == ".ipynb" or collection_path.name in ("browser", "binder"):
        return True
    return _imports_torch(collection_path) or None


def _slow(item: pytest.Item) -> bool:
    """Left out by ``--fast``: Binder, and torch tests in modules that do not import it."""
    return any(item.get_closest_marker(name) for name in ("binder", "torch"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow families so the quick loop can leave them out: ``notebook`` for
    nbval's cells, ``torch`` for every test in a module that imports torch; under
    ``--fast``, also leave out the Binder and browser tests of the modules collected."""
    if config.getoption("fast"):
        slow = [item for item in items if _slow(item)]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not _slow(item)]
    for item in items:
        path = Path(str(item.path))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif _imports_torch(path):
            item.add_marker(pytest.mark.torch)
