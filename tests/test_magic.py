"""%%cnn and %cnn in a real IPython shell, against the Python API for the same cases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from networks import LENET5, POOL9

import cnn_magic
from cnn_magic.magic import CnnMagic, CNNMagicError
from cnn_magic.widget import WIDGET_VIEW, CNNView

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ip(shell):
    """The real shell with the extension loaded."""
    shell.extension_manager.load_extension("cnn_magic")  # quiet if already loaded
    yield shell
    shell.run_cell("%config CnnMagic.rounding = 'textbook'", store_history=False)


def run(shell, source: str):
    """Run a cell; return (its result, the mimebundles it displayed)."""
    start = len(shell.display_pub.outputs)
    result = shell.run_cell(source, store_history=True)
    return result, [out["data"] for out in shell.display_pub.outputs[start:]]


def magic(shell, text: str, options: str = "") -> tuple[cnn_magic.Network, dict]:
    """The magic door: a %%cnn cell with -o, its stored network and displayed bundle."""
    result, bundles = run(shell, f"%%cnn -o _net {options}\n{text}")
    result.raise_error()
    return shell.user_ns.pop("_net"), bundles[0]


def api(
    text: str, rounding: str = "textbook", convention: str = "flops", input: str | None = None
) -> tuple[cnn_magic.Network, dict]:
    """The Python door: evaluate() and the view the magic would display."""
    net = cnn_magic.evaluate(text, rounding, input=input)
    view = CNNView(text, rounding=rounding, convention=convention, input=input, static=True)
    return net, view._repr_mimebundle_()


@pytest.fixture(params=["api", "magic"])
def door(request, ip):
    """Each case through both doors: (text, rounding, convention, input) → (net, bundle)."""

    def through(text, rounding="textbook", convention="flops", input=None):
        if request.param == "api":
            return api(text, rounding, convention, input)
        options = f"--rounding {rounding} --flops {convention} --static"
        options += f" --input {input}" if input else ""
        return magic(ip, text, options)

    return through


# ------------------------------------------------------------------ both doors

CASES = [
    # text, rounding, convention, input, output shape, params, count, count in text
    (LENET5, "textbook", "flops", None, (10,), 61_706, 833_040, "833,040 FLOPs"),
    (LENET5, "textbook", "macs", None, (10,), 61_706, 416_520, "416,520 MACs"),
    (LENET5, "floor", "exact", None, (10,), 61_706, 833_040, "833,040 exact FLOPs"),
    (POOL9, "textbook", "flops", None, (5, 5, 1), 0, 0, "output 5×5×1"),
    (POOL9, "floor", "flops", None, (4, 4, 1), 0, 0, "output 4×4×1"),
    (POOL9, "ceil", "flops", None, (5, 5, 1), 0, 0, "output 5×5×1"),
    (
        "conv 6 k5\navgpool k2",
        "textbook",
        "macs",
        "32x32x1",
        (14, 14, 6),
        156,
        117_600,
        "117,600 MACs",
    ),
    (
        "input 8x8x3\nconv 16 k2",
        "textbook",
        "flops",
        "1@32x32",
        (31, 31, 16),
        80,
        123_008,
        "input 32×32×1",
    ),
    ("input 16\nfc 133", "textbook", "macs", None, (133,), 2_261, 2_128, "2,261 params"),
]


@pytest.mark.parametrize(
    ("text", "rounding", "convention", "input", "shape", "params", "count", "words"), CASES
)
def test_both_doors_agree(door, text, rounding, convention, input, shape, params, count, words):
    net, bundle = door(text, rounding, convention, input)
    assert net.output_shape == shape
    assert net.params == params
    assert net.total(convention) == count
    assert words in bundle["text/plain"]
    assert words in bundle["text/html"]
    assert WIDGET_VIEW not in bundle


def unkeyed(bundle: dict) -> dict:
    """A bundle with its view's key (unique to each view shown) replaced."""
    key = re.search(r'data-key="(\w+)"', bundle["text/html"]).group(1)
    return {mime: data.replace(key, "KEY") for mime, data in bundle.items()}


def test_doors_give_identical_fallbacks(ip):
    for text, rounding, convention, input, *_ in CASES:
        _, by_api = api(text, rounding, convention, input)
        options = f"--rounding {rounding} --flops {convention} --static"
        _, by_magic = magic(ip, text, options + (f" --input {input}" if input else ""))
        assert unkeyed(by_magic) == unkeyed(by_api)


ERRORS = [
    "input 32x32x1\nC1: cnov 6 k5 relu",
    "input 32x32x1\nconv 6 k5 s0",
    "input 32x32\nconv 6 k5",
    "input 4x4x1\nconv 6 k5",
    "input 32x32x1\nresidual:\n  conv 8 k3\nrelu",
    "input 32x32x1\n__import__('os').system('echo hacked')",
    "conv 6 k5",
]


@pytest.mark.parametrize("text", ERRORS)
def test_both_doors_raise_the_same_error(ip, text, capsys):
    with pytest.raises(cnn_magic.CNNError) as by_api:
        cnn_magic.evaluate(text)
    result, bundles = run(ip, f"%%cnn\n{text}")
    by_magic = result.error_in_exec
    assert isinstance(by_magic, CNNMagicError) and isinstance(by_magic, cnn_magic.CNNError)
    assert not result.success and bundles == []
    expected = by_api.value
    assert (by_magic.message, by_magic.column, by_magic.source, by_magic.hint) == (
        expected.message,
        expected.column,
        expected.source,
        expected.hint,
    )
    if expected.line is None:
        assert by_magic.line is None
    else:  # the magic counts the cell's lines, the %%cnn line being line 1
        assert by_magic.line == expected.line + 1
    shown = capsys.readouterr().out
    assert "Traceback" not in shown
    assert shown.strip() == "CNNError: " + str(by_magic)


def test_error_shows_the_line_and_a_caret(ip, capsys):
    result, _ = run(ip, "%%cnn\ninput 32x32x1\nC1: cnov 6 k5 relu")
    assert not result.success
    assert capsys.readouterr().out.splitlines() == [
        "CNNError: line 3: unknown layer 'cnov'",
        "    C1: cnov 6 k5 relu",
        "        ^^^^",
        "did you mean 'conv'?",
    ]


def test_line_magic_counts_its_one_line(ip, capsys):
    result, _ = run(ip, "%cnn input 32x32x1; conv 6 k5; maxpol k2")
    assert result.error_in_exec.line == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "CNNError: line 1: unknown layer 'maxpol'",
        "    input 32x32x1; conv 6 k5; maxpol k2",
        "                              ^^^^^^",
    ]


# ------------------------------------------------------------------ the line


def test_line_magic_one_line_network(ip):
    result, bundles = run(ip, "%cnn --flops macs input 32x32x1; conv 6 k5  # the notes' C1")
    result.raise_error()
    assert "117,600 MACs" in bundles[0]["text/plain"]
    assert WIDGET_VIEW not in bundles[0]  # no kernel, no widget (nbclient test: with)


@pytest.mark.parametrize(
    ("option", "choices"),
    [
        ("--flops mac", "'flops', 'macs', 'exact'"),
        ("--rounding flor", "'textbook', 'floor', 'ceil'"),
        ("--dtype fp32", "'float32', 'float16'"),
    ],
)
def test_bad_option_names_the_choices(ip, capsys, option, choices):
    result, _ = run(ip, f"%%cnn {option}\ninput 4x4x1\nconv 2 k3")
    assert isinstance(result.error_in_exec, CNNMagicError)
    out = capsys.readouterr().out
    assert choices in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("%%cnn --bogus\ninput 4x4x1", "unrecognized arguments: --bogus"),
        ("%%cnn input 4x4x1\nconv 2 k3", "unexpected 'input 4x4x1' on the %%cnn line"),
        (
            "%%cnn --example lenet5\ninput 4x4x1",
            "the network is given twice: the cell and --example",
        ),
        ("%cnn", "no network given"),
        ("%%cnn\n# only a comment\n", "no network given"),
        ("%cnn -o 2x input 4x4x1; conv 2 k3", "-o cannot use '2x': not a Python variable name"),
        ("%cnn -f /nonexistent/net.cnn", "cannot read '/nonexistent/net.cnn'"),
        ("%cnn --example resnet5", "unknown example 'resnet5'"),
        ("%cnn --input 32x32 conv 6 k5", "'32x32' has no channel count"),
    ],
)
def test_usage_mistakes_are_short_errors(ip, capsys, cell, message):
    result, bundles = run(ip, cell)
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert bundles == []
    out = capsys.readouterr().out
    assert out.startswith("CNNError: ") and message in out and "Traceback" not in out


def test_no_variable_expansion(ip, capsys):
    ip.user_ns["where"] = "2x2x1"
    result, _ = run(ip, "%cnn --input {where} conv 1 k1")
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert "'{where}' is not a shape" in capsys.readouterr().out
    assert getattr(CnnMagic.cnn, "_ipython_magic_no_var_expand", False)


def test_nothing_typed_is_executed(ip, tmp_path):
    marker = tmp_path / "ran"
    cell = f"%%cnn\ninput 4x4x1\n__import__('pathlib').Path({str(marker)!r}).touch()"
    result, _ = run(ip, cell)
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert not marker.exists()


def test_output_stores_the_network(ip):
    result, _ = run(ip, f"%%cnn -o lenet --flops macs\n{LENET5}")
    result.raise_error()
    net = ip.user_ns["lenet"]
    assert isinstance(net, cnn_magic.Network)
    assert (net.params, net.macs, net.flops) == (61_706, 416_520, 833_040)
    assert net == cnn_magic.evaluate(LENET5)


def test_stored_network_renders_as_a_static_table(ip, capsys):
    run(ip, f"%%cnn -o lenet\n{LENET5}")[0].raise_error()
    capsys.readouterr()
    result, _ = run(ip, "lenet")
    assert result.result is ip.user_ns["lenet"]
    shown = capsys.readouterr().out
    assert "833,040" in shown and "F7" in shown and "total" in shown
    data, _ = ip.display_formatter.format(ip.user_ns["lenet"])
    assert "833,040" in data["text/html"] and "<table>" in data["text/html"]


def test_file_option(ip, tmp_path):
    path = tmp_path / "lenet.cnn"
    path.write_text(LENET5, encoding="utf-8")
    result, bundles = run(ip, f"%cnn -f {path} --flops macs")
    result.raise_error()
    assert "416,520 MACs" in bundles[0]["text/plain"]
    result, bundles = run(ip, f"%%cnn -f {path}\n# the cell holds only this comment")
    result.raise_error()
    assert "833,040 FLOPs" in bundles[0]["text/plain"]


def test_file_errors_count_the_files_lines(ip, tmp_path, capsys):
    path = tmp_path / "bad.cnn"
    path.write_text("input 32x32x1\nconv 6 k5\ncnov 3 k3\n", encoding="utf-8")
    result, _ = run(ip, f"%cnn -f {path}")
    assert result.error_in_exec.line == 3


def test_example_option(ip):
    """%cnn --example NAME: the file's text under the rounding it declares."""
    shell = ip
    assert hasattr(cnn_magic, "example_text")
    result = shell.run_cell("%cnn --example resnet50 --flops macs --static -o _r50")
    result.raise_error()
    net = shell.user_ns.pop("_r50")
    assert net.text == cnn_magic.example_text("resnet50")
    assert (net.rounding, net.params, net.macs) == ("floor", 25_557_032, 4_089_184_256)
    result = shell.run_cell("%cnn --example LeNet-5 --rounding floor -o _l5")
    result.raise_error()
    assert shell.user_ns.pop("_l5").rounding == "floor"


def test_static_option_and_explain(ip):
    result, bundles = run(ip, f"%%cnn --static --explain\n{LENET5}")
    result.raise_error()
    table, explanation = bundles
    assert set(table) == {"text/plain", "text/html"}
    assert set(explanation) == {"text/plain", "text/markdown"}
    assert (
        r"\left\lfloor\frac{32 - 5 + 2\cdot 0}{1}\right\rfloor + 1 = 28"
        in explanation["text/markdown"]
    )
    assert "FLOPs = 2×5×5×1×28×28×6 = 235,200" in explanation["text/plain"]


def test_all_ops_and_dtype(ip):
    result, bundles = run(ip, "%cnn --all-ops --dtype float16 --static input 4x4x1; conv 2 k3 relu")
    result.raise_error()
    text = bundles[0]["text/plain"]
    assert "152 FLOPs (all ops)" in text  # 2·72 + 8 ReLUs
    assert "activations 16 B as float16" in text


def test_config_sets_the_defaults(ip):
    run(ip, "%config CnnMagic.rounding = 'floor'")
    result, bundles = run(ip, f"%%cnn\n{POOL9}")
    result.raise_error()
    assert "output 4×4×1" in bundles[0]["text/plain"]
    result, bundles = run(ip, f"%%cnn --rounding textbook\n{POOL9}")
    assert "output 5×5×1" in bundles[0]["text/plain"]


def test_help_documents_the_options(ip):
    doc = ip.find_cell_magic("cnn").__doc__
    for option in (
        "--flops",
        "--rounding",
        "--input",
        "--all-ops",
        "--dtype",
        "-o NAME",
        "--explain",
        "--static",
        "-f PATH",
        "--example NAME",
        "{flops,macs,exact}",
    ):
        assert option in doc


def test_unload_and_reload(ip):
    run(ip, "%unload_ext cnn_magic")[0].raise_error()
    assert ip.find_line_magic("cnn") is None and ip.find_cell_magic("cnn") is None
    assert not [c for c in ip.configurables if type(c).__name__ == "CnnMagic"]
    run(ip, "%load_ext cnn_magic")[0].raise_error()
    run(ip, "%reload_ext cnn_magic")[0].raise_error()
    assert len([c for c in ip.configurables if type(c).__name__ == "CnnMagic"]) == 1
    result, bundles = run(ip, f"%%cnn\n{POOL9}")
    result.raise_error()
    assert "output 5×5×1" in bundles[0]["text/plain"]


def test_import_stays_light():
    code = (
        "import sys, cnn_magic, cnn_magic.widget, cnn_magic.explain, cnn_magic.table\n"
        "heavy = {'IPython', 'ipywidgets', 'pandas'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ------------------------------------------------------------- a real kernel


def test_failed_cell_is_an_error_output_under_nbclient(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    cells = [
        "%load_ext cnn_magic",
        f"%%cnn\n{LENET5}",
        "%%cnn\ninput 32x32x1\nC1: cnov 6 k5 relu",
        "%cnn --flops mac conv 1 k1",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "errors.ipynb"
    nbformat.write(nb, path)

    def client(notebook, allow_errors):
        return NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=120,
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(tmp_path)}},
        )

    ran = client(nbformat.read(path, as_version=4), True).execute()
    good, bad, bad_option = (cell.outputs for cell in ran.cells[1:])
    # the static table, then the live view (whose HTML fallback is empty: the table is above)
    assert [o.output_type for o in good] == ["display_data", "display_data"]
    assert "833,040 FLOPs" in good[0].data["text/plain"]
    assert set(good[0].data) == {"text/plain", "text/html"}
    assert set(good[1].data) == {"text/html", WIDGET_VIEW} and good[1].data["text/html"] == ""
    assert [o.output_type for o in bad] == ["error"]
    assert bad[0].traceback == [
        "CNNError: line 3: unknown layer 'cnov'",
        "    C1: cnov 6 k5 relu",
        "        ^^^^",
        "did you mean 'conv'?",
    ]
    assert [o.output_type for o in bad_option] == ["error"]
    assert "'flops', 'macs', 'exact'" in bad_option[0].traceback[0]

    with pytest.raises(CellExecutionError):
        client(nbformat.read(path, as_version=4), False).execute()


def test_depth_option_starts_blocks_collapsed_below_it(ip):
    result, bundles = run(ip, "%cnn --depth 1 --static --example resnet50")
    result.raise_error()
    html = bundles[0]["text/html"]
    checked = re.findall(r'id="(cm\w+-d\d+)" class="d\d+" checked', html)
    assert len(checked) == 1 and checked[0].endswith("-d1")
    result, _ = run(ip, "%cnn --depth 0 --example resnet50")
    assert "depth 0 shows nothing" in str(result.error_in_exec)


# ------------------------------------------------------------- options anywhere


def params_and_convention(shell, line: str) -> tuple[int, str]:
    result, bundles = run(shell, line.replace("%cnn ", "%cnn -o _opt ", 1))
    result.raise_error()
    net = shell.user_ns.pop("_opt")
    plain = bundles[0]["text/plain"]
    return net.params, re.search(r"\d (MACs|FLOPs) ·", plain).group(1)


@pytest.mark.parametrize(
    "line",
    [
        "%cnn input 32x32x1; conv 6 k5 --flops macs",
        "%cnn --flops macs input 32x32x1; conv 6 k5",
        "%cnn input 32x32x1; --flops macs conv 6 k5",
        "%cnn input 32x32x1; conv 6 --flops=macs k5",
        "%cnn input 32x32x1; conv 6 k5 --flops 'macs' --static",
        "%cnn input 32x32x1; conv 6 k5 --flo macs  # an abbreviation, as argparse allows",
    ],
)
def test_options_anywhere_on_the_line(ip, line):
    assert params_and_convention(ip, line) == (156, "MACs")


def test_a_comment_on_the_line_is_a_comment(ip):
    """'#' starts a comment, as in the network text: nothing before it is lost, and an
    option written after it is part of the comment."""
    line = "%cnn --input 8x8x1 bn; relu; conv 4 k3  # --flops macs"
    assert params_and_convention(ip, line) == (42, "FLOPs")
    assert params_and_convention(ip, "%cnn --input 8x8x1 bn; relu; conv 4 k3") == (42, "FLOPs")


def test_static_after_the_network(ip):
    result, bundles = run(ip, "%cnn input 13x13x64; maxpool k2 s2 --static")
    result.raise_error()
    assert "7×7×64" in bundles[0]["text/plain"]


@pytest.mark.parametrize(
    "cell",
    ['%%cnn --input "8x8x1"', "%%cnn --input '8x8x1'", '%%cnn --input="8x8x1"'],
)
def test_quotes_around_option_values_are_removed(ip, cell):
    run(ip, f"{cell} -o _q\nconv 4 k3")[0].raise_error()
    assert ip.user_ns.pop("_q").input_shape == (8, 8, 1)


def test_a_quoted_file_name_with_spaces_and_hash(ip, tmp_path):
    path = tmp_path / "my #1 net.cnn"
    path.write_text(LENET5, encoding="utf-8")
    for quoted in (f'"{path}"', f"'{path}'"):
        result, bundles = run(ip, f"%cnn -f {quoted} --flops macs")
        result.raise_error()
        assert "416,520 MACs" in bundles[0]["text/plain"]


def test_a_negative_number_is_network_text_not_an_option(ip, capsys):
    result, _ = run(ip, "%cnn input 8x8x1; conv -4 k3")
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert "unrecognized" not in capsys.readouterr().out


def test_the_caret_points_into_the_network_between_options(ip, capsys):
    result, _ = run(ip, "%cnn --static input 8x8x1; cnov 4 k3 --flops macs")
    assert result.error_in_exec.line == 1
    assert capsys.readouterr().out.splitlines()[1:3] == [
        "    input 8x8x1; cnov 4 k3",
        "                 ^^^^",
    ]


# ------------------------------------------------------------------ -o names


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("__builtins__", "a name Python itself uses"),
        ("__name__", "a name Python itself uses"),
        ("__x", "a name Python itself uses"),
        ("get_ipython", "a name the IPython shell itself uses"),
        ("exit", "a name the IPython shell itself uses"),
        ("quit", "a name the IPython shell itself uses"),
        ("In", "a name the IPython shell itself uses"),
        ("Out", "a name the IPython shell itself uses"),
        ("open", "a name the IPython shell itself uses"),
        ("_", "a name the IPython shell itself uses"),
        ("_ih", "a name the IPython shell itself uses"),
        ("_i3", "a name the IPython shell itself uses"),
        ("_12", "a name the IPython shell itself uses"),
        ("class", "a Python keyword"),
        ("None", "a Python keyword"),
        ("2x", "not a Python variable name"),
        ("a-b", "not a Python variable name"),
        ("net.x", "not a Python variable name"),
    ],
)
def test_output_names_that_would_break_the_session_are_refused(ip, capsys, name, reason):
    before = {k: ip.user_ns[k] for k in ("get_ipython", "In", "_") if k in ip.user_ns}
    result, bundles = run(ip, f"%cnn -o {name} input 4x4x1; conv 2 k3")
    assert isinstance(result.error_in_exec, CNNMagicError) and bundles == []
    assert capsys.readouterr().out == (
        f"CNNError: -o cannot use {name!r}: {reason}\nfor example -o net\n"
    )
    assert all(ip.user_ns[k] is v for k, v in before.items() if k != "_")
    ip.run_cell("1 + 1").raise_error()  # the session still works


@pytest.mark.parametrize("name", ["net", "_net", "lenet_5", "Net2", "match", "type", "x_"])
def test_ordinary_output_names_are_kept(ip, name):
    run(ip, f"%cnn -o {name} input 4x4x1; conv 2 k3")[0].raise_error()
    assert isinstance(ip.user_ns.pop(name), cnn_magic.Network)


# --------------------------------------------------------------- hostile files


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_at_once(ip, capsys, path):
    result, _ = run(ip, f"%cnn -f {path}")
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert capsys.readouterr().out.startswith(
        f"CNNError: cannot read {path!r}: a character device, not a file"
    )


def test_a_fifo_without_a_writer_does_not_hang(ip, capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result, _ = run(ip, f"%cnn -f {fifo}")
    assert isinstance(result.error_in_exec, CNNMagicError)
    assert "a named pipe (FIFO), not a regular file" in capsys.readouterr().out


def test_a_byte_order_mark_in_a_file(ip, tmp_path):
    path = tmp_path / "notepad.cnn"
    path.write_bytes(b"\xef\xbb\xbf" + LENET5.encode())
    run(ip, f"%cnn -f {path} -o _bom")[0].raise_error()
    assert ip.user_ns.pop("_bom").params == 61_706


def test_devices_under_a_memory_cap(tmp_path):
    """%cnn -f /dev/zero in a real IPython under a 1.5 GB address-space cap."""
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, 3 * 2**29))\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'cnn_magic')\n"
        "for path in ('/dev/zero', '/dev/urandom'):\n"
        "    result = shell.run_cell(f'%cnn -f {path}')\n"
        "    print(type(result.error_in_exec).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "IPYTHONDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("CNNError: cannot read") == 2
    assert done.stdout.splitlines().count("CNNMagicError") == 2
    assert "MemoryError" not in done.stdout + done.stderr
