"""The export formats: golden LeNet-5 outputs, columns that sum to the totals, options.

The golden files under ``tests/golden`` are what ``cnn-magic --example lenet5
--format F`` prints; after a deliberate change of a format, regenerate them with that
command and read the diff.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

import cnn_magic
from cnn_magic import CNNError, table

GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"text": "txt", "markdown": "md", "csv": "csv", "json": "json", "latex": "tex"}

RESNET_BITS = """
input 32x32x3
stem: conv 16 k3 p1 nobias
bn relu
stage: repeat 2:
  residual:
    conv 16 k3 p1 nobias
    bn relu
    conv 16 k3 p1 nobias
    bn
  relu
down: residual:
  conv 32 k3 s2 p1 nobias
  bn
  shortcut:
    conv 32 k1 s2 nobias
    bn
inception: concat:
  branch:
    conv 8 k1 relu
  branch:
    maxpool k3 s1 p1
gap
fc 10 softmax
"""


def golden(fmt: str) -> str:
    return (GOLDEN / f"lenet5.{FORMATS[fmt]}").read_text(encoding="utf-8")


def render(net, fmt: str, *args, **kwargs) -> str:
    return getattr(net, "to_text" if fmt == "text" else f"to_{fmt}")(*args, **kwargs)


@pytest.fixture(scope="module")
def lenet():
    return cnn_magic.example("lenet5")


@pytest.fixture(scope="module")
def blocks():
    return cnn_magic.evaluate(RESNET_BITS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_lenet5(lenet, fmt: str) -> None:
    assert render(lenet, fmt).rstrip("\n") + "\n" == golden(fmt)


def test_golden_figures_are_the_notes() -> None:
    """The golden files hold the notes' LeNet-5 figures, not whatever the code printed."""
    text = golden("text")
    assert re.search(r"^total .* 61,470 +236 +61,706 +833,040 +100\.0%$", text, re.M)
    assert json.loads(golden("json"))["totals"] == {
        "weights": 61_470,
        "biases": 236,
        "params": 61_706,
        "macs": 416_520,
        "flops": 833_040,
        "exact": 833_040,
        "ops": 12_841,
        "count": 833_040,
    }
    assert golden("csv").splitlines()[-1] == "total,,32×32×1,10,61470,236,61706,833040,1.0"


@pytest.mark.parametrize("fmt", FORMATS)
def test_methods_are_the_table_functions(blocks, fmt: str) -> None:
    function = getattr(table, "to_text" if fmt == "text" else f"to_{fmt}")
    for args, kwargs in [((), {}), (("macs",), {"all_ops": True, "units": True}), (("exact",), {})]:
        assert render(blocks, fmt, *args, **kwargs) == function(blocks, *args, **kwargs)


# ------------------------------------------------------------ columns sum to the totals


def _int(cell: str) -> int:
    return int(cell.strip().strip("*").replace(",", ""))


def _text_rows(text: str) -> list[list[str]]:
    """Cells of a text table: columns are two spaces or more apart; the totals row has no
    layer text, block headings have no numbers."""
    rows = []
    for line in text.split("\n\n")[0].splitlines():
        cells = re.split(r" {2,}", line.strip())
        if set(line) <= {"-"}:
            continue
        if cells[0] == "total":
            cells.insert(1, "")
        rows.append(cells + [""] * (9 - len(cells)))
    return rows


def _markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.split("\n\n")[0].splitlines() if not line.startswith("| :")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]


def _latex_rows(text: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.removesuffix(r"\\").split(" & ")]
        for line in text.splitlines()
        if line.endswith(r"\\")
    ]


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


PARSERS = {"text": _text_rows, "markdown": _markdown_rows, "latex": _latex_rows, "csv": _csv_rows}
CASES = [("flops", False), ("macs", False), ("exact", False), ("flops", True)]


def is_heading(row: list[str]) -> bool:
    """A block's heading: its layer column is the block's kind (``residual:``)."""
    return row[1].removeprefix(r"\textit{").removesuffix("}").endswith(":")


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_block_headings_carry_their_subtotals(blocks, fmt) -> None:
    _, *body, _ = PARSERS[fmt](render(blocks, fmt, "macs"))
    headings = [row for row in body if is_heading(row)]
    assert headings
    names = {b.name: b for b in blocks.blocks}
    for row in headings:
        name = re.sub(r"\\textit\{|\}|\\quad|&nbsp;|\\", "", row[0]).strip().rstrip(":")
        block = names[name]
        inside = blocks.layers[block.first : block.stop]
        assert _int(row[6]) == sum(layer.params for layer in inside), (fmt, name)
        assert _int(row[7]) == sum(layer.macs for layer in inside), (fmt, name)
        assert row[8].endswith("%")


@pytest.mark.parametrize("fmt", PARSERS)
@pytest.mark.parametrize(("convention", "all_ops"), CASES)
@pytest.mark.parametrize("name", ["lenet", "blocks"])
def test_layer_columns_sum_to_the_totals(request, name, fmt, convention, all_ops) -> None:
    net = request.getfixturevalue(name)
    header, *body, total = PARSERS[fmt](render(net, fmt, convention, all_ops=all_ops))
    assert header[-2] == table.count_label(convention, all_ops)
    layers = [row for row in body if not is_heading(row)]
    assert len(layers) == len(net.layers)
    for column in range(4, 8):
        assert sum(_int(row[column]) for row in layers) == _int(total[column])
    assert _int(total[6]) == net.params
    assert _int(total[7]) == net.total(convention, all_ops=all_ops)
    assert [row[1] for row in layers] == [layer.text for layer in net.layers]


@pytest.mark.parametrize(("convention", "all_ops"), CASES)
def test_json_records_sum_to_the_totals(blocks, convention, all_ops) -> None:
    data = json.loads(blocks.to_json(convention, all_ops=all_ops))
    totals = data["totals"]
    for key in ("weights", "biases", "params", "macs", "flops", "exact", "ops", "count"):
        assert sum(record[key] for record in data["layers"]) == totals[key], key
    assert totals["count"] == blocks.total(convention, all_ops=all_ops)
    assert data["count_label"] == table.count_label(convention, all_ops)
    assert data["conventions"] == table.conventions_text(blocks, convention, all_ops)
    assert sum(record["share"] for record in data["layers"]) == pytest.approx(1, abs=1e-4)


# ----------------------------------------------------------------------- each format


def test_json_is_raw_integers_and_lists(blocks) -> None:
    data = json.loads(blocks.to_json())
    first = data["layers"][0]
    assert first["input"] == [32, 32, 3] and first["output"] == [32, 32, 16]
    assert first["receptive_field"] == [3, 3]
    assert data["layers"][-1]["receptive_field"] is None
    assert data["input"] == [32, 32, 3] and data["output"] == [10]
    assert data["rounding"] == "textbook" and data["convention"] == "flops"
    counts = ("weights", "biases", "params", "macs", "flops", "exact", "ops", "count")
    assert all(type(record[key]) is int for record in data["layers"] for key in counts)
    assert [r["block"] for r in data["layers"]][2:4] == ["stage/residual1"] * 2


def test_units_give_k_m_g() -> None:
    net = cnn_magic.example("resnet50")
    assert "4.09G" in net.to_text("macs", units=True)
    assert "25.56M" in net.to_markdown(units=True)
    assert "25.56M" in net.to_latex(units=True)
    assert _csv_rows(net.to_csv("macs", units=True))[-1][6:8] == ["25.56M", "4.09G"]
    assert json.loads(net.to_json("macs", units=True))["totals"]["count"] == "4.09G"
    assert "4,089,184,256" in net.to_text("macs")


def test_csv_holds_layers_and_totals_without_block_headings(blocks) -> None:
    rows = _csv_rows(blocks.to_csv())
    assert rows[0] == [
        "name",
        "layer",
        "input",
        "output",
        "weights",
        "biases",
        "params",
        "FLOPs",
        "share",
    ]
    assert [row[0] for row in rows[1:-1]] == [layer.name for layer in blocks.layers]
    assert rows[-1][0] == "total" and rows[-1][-1] == "1.0"


def test_markdown_escapes_user_text_and_indents_blocks() -> None:
    net = cnn_magic.evaluate("input 8x8x1\n_x_: conv 2 k3\nresidual:\n  conv 2 k3 p1")
    text = net.to_markdown()
    assert r"| \_x\_ " in text
    assert "| residual1: " in text and "| &nbsp;&nbsp;conv2 " in text
    assert text.endswith(table.conventions_text(net, "flops", False)[-1])


def test_latex_is_booktabs_and_escaped() -> None:
    net = cnn_magic.evaluate("input 8x8x1\nmy_conv: conv 2 k3\nresidual:\n  conv 2 k3 p1")
    lines = net.to_latex().splitlines()
    assert lines[:2] == [r"\begin{tabular}{@{}llllrrrrr@{}}", r"\toprule"]
    assert lines.count(r"\midrule") == 2 and r"\bottomrule" in lines
    body = "\n".join(lines)
    assert r"my\_conv" in body and r"8$\times$8$\times$1" in body and r"100.0\%" in body
    assert r"\textit{residual1:}" in body and r"\quad conv2" in body
    # nothing outside comments that pdflatex would choke on
    code = "\n".join(line for line in lines if not line.startswith("%"))
    assert code.isascii()
    assert lines[-1].startswith("% ") and "rounding" in lines[-1]


def test_text_shows_conventions_under_the_table(lenet) -> None:
    tail = lenet.to_text("exact", all_ops=True).split("\n\n")[1].splitlines()
    assert tail == table.conventions_text(lenet, "exact", True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_convention_is_a_cnnerror(lenet, fmt: str) -> None:
    with pytest.raises(CNNError, match="unknown FLOPs convention 'gflops'"):
        render(lenet, fmt, "gflops")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic(fmt: str) -> None:
    one, two = (render(cnn_magic.evaluate(RESNET_BITS), fmt) for _ in range(2))
    assert one == two


# ------------------------------------------------------- sizes, units and big tables


@pytest.mark.parametrize("export", ["to_text", "to_markdown", "to_latex", "to_csv", "to_json"])
def test_every_export_takes_units(export) -> None:
    net = cnn_magic.example("resnet50")
    assert "4.09G" in getattr(net, export)("macs", units=True), export
    assert "4.09G" not in getattr(net, export)("macs")


def test_frame_units_write_the_counts_as_text() -> None:
    frame = cnn_magic.example("resnet50").to_frame("macs", units=True)
    assert frame["count"].iloc[0] == "118.01M" and frame["params"].iloc[0] == "9.41k"
    assert frame["bytes"].iloc[0] == "3.21M"
    exact = cnn_magic.example("resnet50").to_frame("macs")
    assert exact["count"].sum() == 4_089_184_256


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (999, "999"),
        (999_994, "999.99k"),
        (999_995, "1.00M"),
        (999_999, "1.00M"),
        (999_999_999, "1.00G"),
        (10**12 - 1, "1.00T"),
        (-999_999, "-1.00M"),
    ],
)
def test_counts_round_up_into_the_next_unit(value, text) -> None:
    assert table.format_count(value, units=True) == text


def test_bytes_round_up_into_the_next_unit() -> None:
    assert table.format_bytes(2**30 - 1) == "1,073,741,823 B (1.0 GiB)"
    assert table.format_bytes(2**20 - 1) == "1,048,575 B"
    assert table.format_bytes(2**20) == "1,048,576 B (1.0 MiB)"


def test_huge_counts_print_without_overflow() -> None:
    assert table.format_count(10**400, units=True).endswith("T")
    assert table.format_bytes(10**400).endswith("TiB)")


def test_a_long_label_does_not_widen_every_row() -> None:
    label = "x" * 20_000
    text = f"input 8x8x1\nrepeat 2000:\n  {label}: relu\n"
    net = cnn_magic.evaluate(text)
    for export in ("to_text", "to_markdown", "to_latex"):
        out = getattr(net, export)()
        assert len(out) < 2000 * 250, (export, len(out))  # about 150 bytes a row
        assert label not in out and "x … x" in out.replace("xx", "x")


def test_a_wide_concat_is_abbreviated() -> None:
    text = "input 8x8x1\nconcat:\n" + "  branch:\n    relu\n" * 3000
    net = cnn_magic.evaluate(text)
    for export in ("to_text", "to_markdown", "to_latex"):
        out = getattr(net, export)()
        assert len(out) < 200 * len(net.layers), (export, len(out))  # not 114 MB
        [merge] = [line for line in out.splitlines() if "concat1.concat" in line]
        assert "branch1 + " in merge and "branch3000" in merge and "…" in merge
