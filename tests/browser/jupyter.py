"""Drive a real JupyterLab or Notebook 7 server from a test.

Two pieces, each usable on its own:

- ``JupyterServer`` starts ``python -m jupyter lab|notebook`` on a free
  loopback port with a random token and throwaway config, data, runtime,
  settings, workspaces and IPython folders, and talks to its REST API.
- ``NotebookPage`` wraps a Playwright page showing one notebook of that
  server: open it, wait for the kernel, run all cells, find a code cell's
  outputs, click a toggle button, read a widget's table, take a screenshot.

The DOM of both front ends is JupyterLab's, so the selectors are shared; only
the URL of a notebook differs. Facts behind each choice are in
``shared/ECOSYSTEM.md`` ("A real browser").
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Browser, Error, Locator, Page, Playwright, expect

App = Literal["lab", "notebook"]

START_TIMEOUT_S = 60.0
#: Default wait for anything the kernel or the page has to do.
WAIT_MS = 30_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Without "none" cells outside the viewport are not in the DOM; without the
# notification settings a news popup covers the page on first load.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CODE_CELL = ".jp-Notebook .jp-Cell.jp-CodeCell"
PROMPT = ".jp-InputArea-prompt"
OUTPUT = ".jp-OutputArea-output"
VIEW = ".cnn-magic"  # a view's fragment: the static output's or the live widget's
WIDGET_BOX = ".widget-vbox"
# JupyterLab 4.6 marks a traceback as stderr, older versions as error.
ERROR_OUTPUT = (
    '[data-mime-type="application/vnd.jupyter.stderr"],'
    ' [data-mime-type="application/vnd.jupyter.error"]'
)


CONTRAST_JS = """(el) => {
    const rgba = (s) => {
        const m = /rgba?\\(([^)]+)\\)/.exec(s);
        if (!m) throw new Error('not an rgb colour: ' + s);
        const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = [255, 255, 255];
    for (const e of chain) bg = over(rgba(getComputedStyle(e).backgroundColor), bg);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const lum = (c) => {
        const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        const [r, g, b] = c.map(linear);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
}"""


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(settings_dir: Path) -> None:
    for name, value in SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def isolated_env(base: Path) -> dict[str, str]:
    """Environment for a server whose every Jupyter and IPython folder is under ``base``."""
    env = dict(os.environ)
    for var, sub in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }.items():
        folder = base / sub
        folder.mkdir(parents=True, exist_ok=True)
        env[var] = str(folder)
    write_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    # The kernel imports the package from this work tree, installed or not.
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
    # debugpy's frozen-modules warning would land in the server log.
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("JUPYTER_TOKEN", None)
    return env


def browser_env(home: Path) -> dict[str, str]:
    """Chromium writes to HOME and XDG folders; keep them out of the real home."""
    env = dict(os.environ)
    env["HOME"] = str(home)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        folder = home / var.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[var] = str(folder)
    runtime = home / "xdg_runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


class BrowserError(RuntimeError):
    """Chromium did not start; the message says where it was looked for and why."""


def launch_chromium(playwright: Playwright, home: Path, executable: str = CHROMIUM) -> Browser:
    """Headless Chromium with its HOME and XDG folders under ``home``."""
    try:
        return playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS, env=browser_env(home)
        )
    except Error as exc:
        raise BrowserError(f"Chromium could not start ({executable}): {exc}") from None


class ServerError(RuntimeError):
    """The server did not come up; the message carries its log."""


@dataclass
class JupyterServer:
    app: App
    base: Path
    root_dir: Path = field(init=False)
    log_path: Path = field(init=False)
    token: str = field(init=False, default_factory=lambda: secrets.token_hex(24))
    port: int = field(init=False, default=0)
    proc: subprocess.Popen[bytes] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.root_dir = self.base / "root"
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.base / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "jupyter", self.app, "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LanguageServerManager.autodetect=False",
        ]  # fmt: skip
        cmd.append(
            "--LabApp.expose_app_in_browser=True"
            if self.app == "lab"
            else "--JupyterNotebookApp.expose_app_in_browser=True"
        )
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--ServerApp.allow_root=True")  # it exits at once otherwise
        return cmd

    def start(self, timeout: float = START_TIMEOUT_S, attempts: int = 3) -> JupyterServer:
        """Start and wait for ``/api/status``; retry only if the port was taken meanwhile."""
        env = isolated_env(self.base)
        for _ in range(attempts):
            self.port = free_port()
            log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    self.command(),
                    cwd=self.root_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own group, so stop() can end it whole
                )
            try:
                self._wait_ready(timeout)
                return self
            except ServerError:
                this_try = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                if "address already in use" not in this_try.lower():
                    raise
        raise ServerError(f"jupyter {self.app}: no free port after {attempts} tries\n{self.log()}")

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise ServerError(
                    f"jupyter {self.app} exited with code {code} before answering "
                    f"/api/status\ncommand: {' '.join(self.command())}\n{self.log()}"
                )
            try:
                self.api("/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        self.stop()
        raise ServerError(
            f"jupyter {self.app} did not answer /api/status within {timeout:.0f} s\n{self.log()}"
        )

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PATCH") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str) -> str:
        """The notebook alone on the page. JupyterLab reopens the tabs its workspace
        saved, whose cells would share the page's selectors: each visit gets a new,
        empty workspace. Notebook 7 shows one notebook a page anyway."""
        if self.app == "lab":
            route = f"lab/workspaces/test-{secrets.token_hex(6)}/tree"
        else:
            route = "notebooks"
        return f"{self.url}/{route}/{name}?token={self.token}"

    def session_kernel(self, name: str) -> dict[str, Any] | None:
        """The kernel model of the session on notebook ``name``, if there is one."""
        for session in self.api("/api/sessions"):
            if session.get("path") == name and session.get("kernel"):
                return session["kernel"]
        return None

    def shutdown_kernels(self) -> None:
        """End every session (and its kernel), so tests don't share kernels."""
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def log(self, tail: int = 20_000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        return text[-tail:]

    def stop(self) -> None:
        """Ask the server to shut down (it ends its kernels), then make sure it has."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            self.api("/api/shutdown", method="POST", timeout=5)
            proc.wait(timeout=15)
            return
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=10)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class NotebookPage:
    """One notebook of ``server`` open in ``page``; code cells are counted from 0."""

    page: Page
    server: JupyterServer
    name: str

    def open(self) -> NotebookPage:
        self.page.goto(self.server.notebook_url(self.name))
        expect(self.page.locator(CODE_CELL).first).to_be_visible(timeout=WAIT_MS)
        return self

    # -- kernel -----------------------------------------------------------------

    def wait_kernel_idle(self, timeout_ms: int = WAIT_MS) -> None:
        """Idle in the toolbar AND in ``/api/sessions``.

        The toolbar alone says idle before any kernel exists, so the server must
        also show this notebook's kernel idle with a live connection.
        """
        indicator = self.page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        expect(indicator.first).to_be_attached(timeout=timeout_ms)
        deadline = time.monotonic() + timeout_ms / 1000
        kernel: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            kernel = self.server.session_kernel(self.name)
            if (
                kernel
                and kernel.get("execution_state") == "idle"
                and kernel.get("connections", 0) > 0
            ):
                expect(indicator.first).to_be_attached(timeout=timeout_ms)
                return
            time.sleep(0.2)
        raise AssertionError(f"kernel of {self.name} not idle after {timeout_ms} ms: {kernel}")

    def run_all(self, timeout_ms: int = WAIT_MS) -> NotebookPage:
        """Clear the outputs, run every cell, then wait until each code cell has a count
        and the kernel is idle.

        Clearing first matters for a saved notebook: a fresh kernel numbers the cells
        1, 2, 3 … again, as they are stored, so only an empty prompt shows that a
        count is new. The run command's promise settles only when all cells are done,
        so it is not awaited. A cell that raises stops the run unless it is tagged
        ``raises-exception``: keep it last.
        """
        self.wait_kernel_idle(timeout_ms)
        self.page.evaluate(
            "() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')"
        )
        before = self.execution_counts()
        if any(count is not None for count in before):
            raise AssertionError(f"{self.name}: counts left after clearing outputs: {before}")
        self.page.evaluate(
            "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
        )
        self.wait_all_executed(before, timeout_ms)
        return self

    def execution_counts(self) -> list[int | None]:
        return [self.execution_count(n) for n in range(self.page.locator(CODE_CELL).count())]

    def wait_all_executed(
        self, before: list[int | None] | None = None, timeout_ms: int = WAIT_MS
    ) -> None:
        """Every code cell shows a count, a new one where ``before`` had one; kernel idle."""
        self.page.wait_for_function(
            """([cells, prompt, before]) => {
                const all = [...document.querySelectorAll(cells)];
                return all.length > 0 && all.every((c, i) => {
                    const m = /^\\[(\\d+)\\]:?$/.exec(c.querySelector(prompt)?.textContent.trim());
                    return m !== null && Number(m[1]) !== (before[i] ?? null);
                });
            }""",
            arg=[CODE_CELL, PROMPT, before or []],
            timeout=timeout_ms,
        )
        self.wait_kernel_idle(timeout_ms)

    # -- cells ------------------------------------------------------------------

    def code_cell(self, n: int) -> Locator:
        return self.page.locator(CODE_CELL).nth(n)

    def outputs(self, n: int) -> Locator:
        """The output areas of the ``n``-th code cell."""
        return self.code_cell(n).locator(OUTPUT)

    def execution_count(self, n: int) -> int | None:
        text = self.code_cell(n).locator(PROMPT).inner_text().strip()
        match = re.fullmatch(r"\[(\d+)\]:?", text)
        return int(match.group(1)) if match else None

    def outputs_of_type(self, n: int, mime_type: str) -> Locator:
        """Outputs of code cell ``n`` rendered as ``mime_type`` (a widget view has none)."""
        return self.outputs(n).and_(self.page.locator(f'[data-mime-type="{mime_type}"]'))

    def error_output(self, n: int) -> Locator:
        return self.outputs(n).and_(self.page.locator(ERROR_OUTPUT))

    def save(self) -> None:
        """Save from the page, as a user does, and wait for the file to hold outputs."""
        path = self.server.root_dir / self.name
        before = path.stat().st_mtime_ns
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            if path.stat().st_mtime_ns != before and '"outputs": [\n' in path.read_text():
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} was not saved with its outputs")

    def set_theme(self, dark: bool) -> None:
        """Switch JupyterLab's (or Notebook 7's) theme and wait until the page wears it."""
        theme = "JupyterLab Dark" if dark else "JupyterLab Light"
        self.page.evaluate(
            "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
            theme,
        )
        expect(self.page.locator("body")).to_have_attribute(
            "data-jp-theme-light", "false" if dark else "true"
        )
        self.page.wait_for_timeout(300)  # the theme's stylesheet applies after the attribute

    # -- the view ---------------------------------------------------------------

    def widget_box(self, cell: int) -> Locator:
        """The outermost box of the live widget view in code cell ``cell``."""
        return self.outputs(cell).locator(WIDGET_BOX).first

    def view(self, cell: int) -> Locator:
        """The one view of code cell ``cell`` that is visible (live or static)."""
        return self.outputs(cell).locator(VIEW).filter(visible=True)

    def label(self, text: str, cell: int) -> Locator:
        """A toggle of the visible view: the label of one of its radio inputs."""
        return (
            self.view(cell)
            .locator(".ctl label")
            .filter(has_text=re.compile(f"^{re.escape(text)}$"))
        )

    def click_toggle(self, text: str, cell: int) -> None:
        """Click a toggle; its radio input is checked at once (the browser does it)."""
        label = self.label(text, cell)
        label.click()
        target = label.get_attribute("for")
        expect(self.page.locator(f"#{target}")).to_be_checked()

    def table(self, cell: int) -> Locator:
        """The table the visible view shows (one of its panels)."""
        return self.view(cell).locator("table").filter(visible=True)

    def rows(self, cell: int) -> Locator:
        return self.table(cell).locator("tbody tr").filter(visible=True)

    def table_text(self, cell: int) -> str:
        table = self.table(cell)
        expect(table).to_be_visible(timeout=WAIT_MS)
        return table.inner_text()

    def contrast(self, locator: Locator) -> float:
        """WCAG contrast of ``locator``'s text against what is painted behind it: the
        computed backgrounds of it and its ancestors, composited from the page down."""
        return float(locator.evaluate(CONTRAST_JS))

    def screenshot(self, locator: Locator, path: Path, margin: int = 0) -> Path:
        """A PNG of ``locator`` and ``margin`` CSS pixels of the page around it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no row highlighted by a resting pointer
        if not margin:
            locator.screenshot(path=str(path))
            return path
        # centred, so the margin is the notebook's, not the toolbar over it
        locator.evaluate("el => el.scrollIntoView({block: 'center'})")
        box = locator.bounding_box()
        if box is None:
            raise AssertionError(f"{locator} is not visible: no screenshot")
        clip = {
            "x": box["x"] - margin,
            "y": box["y"] - margin,
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        self.page.screenshot(path=str(path), clip=clip)
        return path


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook of code cells, with the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def trust(server: JupyterServer, path: Path) -> str:
    """Sign a notebook as its owner does (``jupyter trust``), with the server's own data
    folder, where the signing key and the signature database live."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "trust", str(path)],
        env=isolated_env(server.base),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout + done.stderr


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk (which the format puts first)."""
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
