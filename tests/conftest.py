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
