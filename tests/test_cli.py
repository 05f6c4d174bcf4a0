"""The command line (in process, as ``python -m cnn_magic`` and as the ``cnn-magic``
script) and the example loader behind ``--example``."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cnn_magic
from cnn_magic import CNNError, cli, examples

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"text": "txt", "markdown": "md", "csv": "csv", "json": "json", "latex": "tex"}
LIMIT_HINT = "a network file is UTF-8 text of at most 4 MiB\n"
NAMES = (
    "alexnet",
    "convnext_tiny",
    "densenet121",
    "efficientnet_b0",
    "googlenet",
    "lenet5",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "regnet_y_400mf",
    "resnet18",
    "resnet50",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "unet",
    "vgg16",
)


def run(*argv: str, stdin: str | None = None, command=None) -> subprocess.CompletedProcess:
    command = command or [sys.executable, "-m", "cnn_magic"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*command, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def main(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------- the main job


def test_python_m_cnn_magic_example_lenet5() -> None:
    done = run("--example", "lenet5")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (GOLDEN / "lenet5.txt").read_text(encoding="utf-8")


def console_script(tmp_path: Path) -> list[str]:
    """The installed ``cnn-magic`` script; where the package is not installed, the
    wrapper pip would generate from pyproject's ``[project.scripts]`` entry."""
    installed = Path(sys.executable).with_name("cnn-magic")
    if installed.exists():
        return [str(installed)]
    module, function = entry_point().split(":")
    wrapper = tmp_path / "cnn-magic"
    wrapper.write_text(f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n")
    return [sys.executable, str(wrapper)]


def test_console_script_example_lenet5(tmp_path: Path) -> None:
    done = run("--example", "lenet5", command=console_script(tmp_path))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (GOLDEN / "lenet5.txt").read_text(encoding="utf-8")


def entry_point() -> str:
    """``cnn-magic``'s entry in pyproject.toml (tomllib is not in Python 3.10)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^\[project\.scripts\]\ncnn-magic = "(.+)"$', text, re.M).group(1)


def test_console_script_entry_point_is_cli_main() -> None:
    assert entry_point() == "cnn_magic.cli:main"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_matches_its_golden_file(capsys, fmt: str) -> None:
    status, out, err = main(capsys, "--example", "lenet5", "--format", fmt)
    assert (status, err) == (0, "")
    assert out == (GOLDEN / f"lenet5.{FORMATS[fmt]}").read_text(encoding="utf-8")


def test_file_stdin_and_dash_agree(capsys, tmp_path: Path) -> None:
    path = tmp_path / "lenet.cnn"
    path.write_text(cnn_magic.example_text("lenet5"), encoding="utf-8")
    golden = (GOLDEN / "lenet5.txt").read_text(encoding="utf-8")
    assert main(capsys, str(path)) == (0, golden, "")
    done = run(stdin=path.read_text(encoding="utf-8"))
    assert (done.returncode, done.stdout, done.stderr) == (0, golden, "")
    done = run("-", stdin=path.read_text(encoding="utf-8"))
    assert (done.returncode, done.stdout) == (0, golden)


def test_options_reach_the_table(capsys) -> None:
    _, out, _ = main(capsys, "--example", "lenet5", "--flops", "macs")
    assert "   MACs   share" in out.splitlines()[0] and "416,520  100.0%" in out
    _, out, _ = main(capsys, "--example", "lenet5", "--all-ops")
    assert "FLOPs (all ops)" in out and "all ops: also pooling" in out
    _, out, _ = main(capsys, "--example", "lenet5", "--flops", "exact", "--units")
    assert "exact FLOPs" in out and "833.04k" in out and "61.71k" in out
    _, out, _ = main(capsys, "--example", "lenet5", "--rounding", "floor")
    assert "floor rounding" in out
    _, out, _ = main(capsys, "--example", "lenet5", "--input", "36x36x1")
    assert "C1     conv 6 k5 relu    36×36×1   32×32×6" in out


def test_an_example_keeps_its_own_rounding_unless_told(capsys) -> None:
    _, out, _ = main(capsys, "--example", "resnet18")
    assert "56×56×64" in out and "57×57×64" not in out  # floor, as torchvision
    _, out, _ = main(capsys, "--example", "resnet18", "--rounding", "textbook")
    assert "57×57×64" in out


def test_list_examples(capsys) -> None:
    status, out, err = main(capsys, "--list-examples")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(NAMES)
    assert lines[5].startswith("lenet5              LeNet-5 — LeCun et al.")  # names padded alike


# --------------------------------------------------------------------------- errors


def test_a_mistake_prints_the_caret_and_exits_2() -> None:
    done = run(stdin="input 32x32x1\nC1: cnov 6 k5\n")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "line 2: unknown layer 'cnov'\n    C1: cnov 6 k5\n        ^^^^\ndid you mean 'conv'?\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--example", "resnet5"],
            "unknown example 'resnet5'\ndid you mean 'resnet50'? "
            "known examples: " + ", ".join(NAMES) + "\n",
        ),
        (["--example", "zzz"], "unknown example 'zzz'\nknown examples: " + ", ".join(NAMES) + "\n"),
        (["no/such/file.cnn"], "cannot read 'no/such/file.cnn': No such file or directory\n"),
        (["tests"], "cannot read 'tests': Is a directory\n" + LIMIT_HINT),
        (["/dev/zero"], "cannot read '/dev/zero': a character device, not a file\n" + LIMIT_HINT),
        (
            ["--example", "lenet5", "--input", "32x32"],
            "input shape '32x32': '32x32' has no channel count\n"
            "shapes are H×W×C: did you mean 32x32x1 (grey) or 32x32x3 (colour)?\n",
        ),
    ],
)
def test_bad_input_exits_2_without_traceback(capsys, argv, message) -> None:
    status, out, err = main(capsys, *argv)
    assert (status, out) == (2, "")
    assert err == message


def test_an_undecodable_file_is_a_clear_error(capsys, tmp_path: Path) -> None:
    path = tmp_path / "net.cnn"
    path.write_bytes(b"input 32x32x1\n\xff\xfe conv 6 k5\n")
    status, out, err = main(capsys, str(path))
    assert (status, out) == (2, "")
    assert err == f"cannot read {str(path)!r}: byte 0xff on line 2 is not UTF-8\n" + (
        "save the file as UTF-8 text\n"
    )


def test_an_unreadable_file_in_a_subprocess_has_no_traceback() -> None:
    done = run("missing.cnn")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "cannot read 'missing.cnn': No such file or directory\n"


def test_no_network_on_a_terminal(capsys, monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    status, out, err = main(capsys)
    assert (status, out) == (2, "")
    assert err == "no network given\ngive a file, --example NAME, or pipe the text on stdin\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["--format", "yaml"],
        ["--flops", "gflops"],
        ["x.cnn", "--example", "lenet5"],
        ["--rounding", "up"],
    ],
)
def test_usage_mistakes_exit_2(capsys, argv) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    assert "usage: cnn-magic" in capsys.readouterr().err


def test_help_lists_the_options(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--example",
        "--list-examples",
        "--rounding",
        "--flops",
        "--all-ops",
        "--format",
        "--units",
        "--input",
    ):
        assert option in out


# --------------------------------------------------------------- the example loader


def test_example_names_and_sources() -> None:
    assert cnn_magic.example_names() == NAMES == examples.names()
    for name in NAMES:
        assert " — " in examples.source(name)
        assert examples.text(name) == cnn_magic.example_text(name)
        assert examples.rounding(name) == ("textbook" if name == "lenet5" else "floor")


def test_example_lenet5_is_the_notes() -> None:
    net = cnn_magic.example("lenet5")
    assert (net.params, net.macs, net.flops) == (61_706, 416_520, 833_040)
    assert net.rounding == "textbook" and net.output_shape == (10,)


def test_example_rounding_can_be_overridden() -> None:
    assert cnn_magic.example("resnet18").rounding == "floor"
    net = cnn_magic.example("resnet18", rounding="textbook")
    assert net.rounding == "textbook" and net.layers[2].out_shape == (57, 57, 64)


@pytest.mark.parametrize("spelling", ["ResNet50", "resnet-50", "RESNET50", "resnet_50"])
def test_example_names_forgive_case_and_dashes(spelling: str) -> None:
    assert cnn_magic.example_text(spelling) == cnn_magic.example_text("resnet50")
    assert cnn_magic.example_text("MobileNet-V2") == cnn_magic.example_text("mobilenet_v2")


def test_unknown_example_lists_the_known_ones() -> None:
    with pytest.raises(CNNError) as caught:
        cnn_magic.example("vgg19")
    assert str(caught.value) == (
        "unknown example 'vgg19'\ndid you mean 'vgg16'? known examples: " + ", ".join(NAMES)
    )
    assert caught.value.line is None


def test_loader_reads_any_folder(monkeypatch, tmp_path: Path) -> None:
    """The loader lists whatever .cnn files the package folder holds, and a file without
    a rounding line is evaluated under the default."""
    (tmp_path / "tiny.cnn").write_text("# Tiny — a test\ninput 8x8x1\nconv 2 k3\n", "utf-8")
    (tmp_path / "odd.cnn").write_text(
        "# Odd — a test\nrounding ceil\ninput 5x5x1\nmaxpool k2\n", "utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a network", "utf-8")
    monkeypatch.setattr(examples, "FOLDER", str(tmp_path))
    assert cnn_magic.example_names() == ("odd", "tiny")
    assert examples.source("tiny") == "Tiny — a test"
    assert cnn_magic.example("tiny").rounding == "textbook"
    assert cnn_magic.example("odd").output_shape == (3, 3, 1)
    assert cnn_magic.example("odd", rounding="floor").output_shape == (2, 2, 1)


def test_import_stays_light() -> None:
    """``import cnn_magic`` reads no example and imports none of the optional pieces."""
    code = (
        "import sys, cnn_magic; print(' '.join(sorted(m for m in ('torch', 'pandas', "
        "'IPython', 'ipywidgets', 'cnn_magic.examples', 'cnn_magic.table', "
        "'cnn_magic.cli', 'cnn_magic.torch_export', 'argparse') if m in sys.modules)))"
    )
    done = run_python(code)
    assert (done.returncode, done.stdout.strip()) == (0, "")


def test_the_cli_needs_no_pandas_or_torch() -> None:
    code = (
        "import sys; from cnn_magic import cli; cli.main(['--example', 'resnet50']); "
        "print('LOADED', sorted(m for m in ('torch', 'pandas', 'IPython') "
        "if m in sys.modules))"
    )
    done = run_python(code)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "LOADED []"


def run_python(code: str) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh interpreter that imports this checkout."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
    )


# ------------------------------------------------------ hostile files and terminals


def shell(command: str, **env: str) -> subprocess.CompletedProcess:
    """A shell command line running ``python -m cnn_magic`` as ``CLI``."""
    cli_command = f"{sys.executable} -m cnn_magic"
    return subprocess.run(
        ["sh", "-c", command.replace("CLI", cli_command)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("CLI --example lenet5 > /dev/full", b"cannot write the output: No space left on device\n"),
        ("CLI --example lenet5 >&-", b"cannot write the output: stdout is closed\n"),
        ("CLI <&-", b"no network given: stdin is closed\n" + LIMIT_HINT.encode()),
        ("CLI < /dev/zero", b"cannot read stdin: a character device, not a file\n"),
        ("CLI /dev/urandom", b"cannot read '/dev/urandom': a character device, not a file\n"),
    ],
)
def test_closed_and_full_streams_give_one_message_and_exit_2(command: str, message: bytes):
    done = shell(command)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.startswith(message) and b"Traceback" not in done.stderr


def test_a_broken_pipe_is_quiet() -> None:
    done = shell("CLI --example resnet50 | head -1")
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout.startswith(b"name ")


@pytest.mark.parametrize("encoding", ["ascii", "cp437", "cp1252", "latin-1"])
def test_a_terminal_without_the_times_sign_gets_ascii(encoding: str) -> None:
    """× in a Windows code page or under PYTHONIOENCODING=ascii: the table still prints,
    with the same columns; what the encoding lacks is spelled in ASCII or as '?'."""
    done = shell("CLI --example lenet5", PYTHONIOENCODING=encoding)
    assert (done.returncode, done.stderr) == (0, b"")
    golden = (GOLDEN / "lenet5.txt").read_text(encoding="utf-8")
    shown = done.stdout.decode(encoding)
    if "×".encode(encoding, "ignore"):  # cp1252 and latin-1 have it: nothing changes
        assert shown == golden
    else:
        assert shown == golden.translate(cli.ASCII_FALLBACK)
        assert "C1     conv 6 k5 relu    32x32x1   28x28x6" in shown


def test_an_error_in_ascii_keeps_its_caret_aligned() -> None:
    done = shell(
        "printf 'input 8x8x1; C\\344\\270\\255: conv 2 k3; cnov' | CLI", PYTHONIOENCODING="ascii"
    )
    assert done.returncode == 2
    assert done.stderr.decode("ascii").splitlines()[1:3] == [
        "    input 8x8x1; C?: conv 2 k3; cnov",
        "                                ^^^^",
    ]


def test_the_cli_reads_a_named_pipe_as_cat_does(tmp_path: Path) -> None:
    """``cnn-magic <(generate)``: a pipe is read as it comes (the writer starts later)."""
    fifo = tmp_path / "net.fifo"
    os.mkfifo(fifo)
    done = shell(f"(sleep 0.3; echo 'input 8x8x1; conv 2 k3' > {fifo}) & CLI {fifo}")
    assert (done.returncode, done.stderr) == (0, b"")
    assert b"8\xc3\x978\xc3\x971  6\xc3\x976\xc3\x972" in done.stdout


def test_a_byte_order_mark_is_accepted(capsys, tmp_path: Path) -> None:
    path = tmp_path / "notepad.cnn"
    path.write_bytes(b"\xef\xbb\xbf" + cnn_magic.example_text("lenet5").encode())
    golden = (GOLDEN / "lenet5.txt").read_text(encoding="utf-8")
    assert main(capsys, str(path)) == (0, golden, "")
    done = run(stdin="\ufeff" + cnn_magic.example_text("lenet5"))
    assert (done.returncode, done.stdout) == (0, golden)


def test_control_characters_never_reach_the_terminal() -> None:
    """An OSC/CSI sequence in the text (retitle, clear screen) is shown escaped."""
    done = run(stdin="input 8x8x1\nconv 2 k3 \x1b]0;owned\x07\x1b[2J\n")
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert done.stderr.splitlines()[:3] == [
        "line 2: unknown argument '\\x1b]0'",
        "    conv 2 k3 \\x1b]0;owned\\x07\\x1b[2J",
        "              ^^^^^^",
    ]
