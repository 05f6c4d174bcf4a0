"""The importers and the tools' table through the notebook and the command line:
``%cnn --model NAME --input 3x224x224``, ``%cnn --onnx FILE``, ``--tools``, ``--batch``
and ``cnn-magic model.onnx``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch_zoo
from test_cli import main
from test_from_onnx import export_zoo
from test_magic import run

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.magic import torch_input


@pytest.fixture
def ip(shell: Any) -> Any:
    shell.extension_manager.load_extension("cnn_magic")
    return shell


def test_model_in_the_namespace(ip: Any) -> None:
    ip.user_ns["model"] = torch_zoo.resnet18()
    result = ip.run_cell("%cnn --model model --input 3x224x224 --static -o _net")
    result.raise_error()
    net = ip.user_ns.pop("_net")
    expected = cnn_magic.from_torch(torch_zoo.resnet18(), (3, 224, 224))
    assert net.text == expected.text
    assert (net.params, net.macs) == (11_689_512, 1_814_073_344)


def test_onnx_file_tools_and_memory(ip: Any, tmp_path: Path) -> None:
    path = tmp_path / "lenet5.onnx"
    path.write_bytes(export_zoo("lenet5"))
    result, bundles = run(ip, f"%cnn --onnx {path} --static --tools --batch 8 -o _net")
    result.raise_error()
    net = ip.user_ns.pop("_net")
    assert net.params == 61_706
    _, tools, memory = bundles
    assert "thop" in tools["text/plain"] and "<table>" in tools["text/html"]
    assert f"altogether {net.memory(batch=8).total:,} B" in memory["text/plain"]
    assert "batch 8, float32, sgd" in memory["text/plain"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--model modle --input 3x8x8", "no variable 'modle'"),
        ("--model model", "--model needs --input"),
        ("--model model --input 3xbx8", "is not a shape"),
        ("--onnx nowhere.onnx", "cannot read"),
        ("--example lenet5 --model model --input 3x8x8", "the network is given twice"),
    ],
)
def test_mistakes(ip: Any, capsys: Any, line: str, message: str) -> None:
    ip.user_ns["model"] = torch_zoo.lenet5()
    ip.run_cell(f"%cnn {line} --static")
    assert message in capsys.readouterr().out


def test_torch_input_order() -> None:
    assert torch_input("3x224x224") == (3, 224, 224)
    assert torch_input("1x3x224x224") == (1, 3, 224, 224)
    assert torch_input("3@224x224") == "3@224x224"
    with pytest.raises(CNNError):
        torch_input("3xx")


def test_command_line_reads_onnx(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "resnet18.onnx"
    path.write_bytes(export_zoo("resnet18"))
    status, out, err = main(capsys, str(path), "--flops", "macs", "--tools", "--batch", "2")
    assert (status, err) == (0, "")
    assert "1,814,073,344" in out
    assert "torchinfo" in out and "altogether" in out
    path.write_bytes(b"not a model")
    status, out, err = main(capsys, str(path))
    assert status == 2 and "is not an ONNX model" in err
