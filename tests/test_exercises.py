"""``cnn_magic.exercise``: the same problem for the same seed, sensible for every kind,
and every expected answer equal to what PyTorch computes for the same layers.

The PyTorch twin is built from the numbers the generator chose (``Problem.spec``), not
from the text, so the text, cnn_magic's evaluation of it and torch are three ways to
the same answer: a wrong statement, a wrong rule or a wrong expectation shows.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnn_magic
from cnn_magic.exercises import KINDS, Problem, from_text
from cnn_magic.shapes import Axis

SEEDS = range(25)  # per kind: 275 problems against torch


def torch_twin(problem: Problem) -> tuple[nn.Sequential, tuple[int, ...]]:
    """The problem's layers in plain torch, from the generator's choices; and the
    input shape as NCHW."""
    first, *specs = problem.spec
    height, width, channels = first["shape"]
    modules: list[nn.Module] = []
    named: dict[str, nn.Module] = {}
    shape = (channels, height, width)
    for spec in specs:
        op = spec["op"]
        if op == "conv":
            module: nn.Module = nn.Conv2d(
                shape[0],
                spec["out"],
                spec["k"],
                stride=spec["s"],
                padding=spec["p"],
                groups=spec["g"],
                bias=spec["bias"],
            )
        elif op == "dwconv":
            out = shape[0] * spec["multiplier"]
            module = nn.Conv2d(shape[0], out, spec["k"], spec["s"], spec["p"], groups=shape[0])
        elif op in ("maxpool", "avgpool"):
            # the problem's rounding: textbook (pooling rounds up) or ceil: ceil_mode
            pool = nn.MaxPool2d if op == "maxpool" else nn.AvgPool2d
            module = pool(spec["k"], spec["s"], spec["p"], ceil_mode=True)
        elif op == "fc":
            module = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), spec["out"]))
        else:
            raise AssertionError(f"no twin for {op}")
        modules.append(module)
        named[spec["name"]] = module
        with torch.no_grad():
            shape = tuple(module(torch.zeros(1, *shape)).shape[1:])
    return nn.Sequential(*modules), (1, channels, height, width)


def torch_answers(problem: Problem) -> dict[str, object]:
    """Every question's answer as torch gives it: shapes from a forward pass, parameter
    counts from the modules, FLOPs from FlopCounterMode (2 per multiply-add)."""
    model, shape = torch_twin(problem)
    names = [spec["name"] for spec in problem.spec[1:]]
    layers: dict[str, nn.Module] = dict(zip(names, list(model), strict=True))
    outputs: dict[str, tuple[int, ...]] = {}
    flops: dict[str, int] = {}
    x = torch.zeros(shape)
    with torch.no_grad():
        for name, module in layers.items():
            with FlopCounterMode(display=False) as counter:
                x = module(x)
            flops[name] = counter.get_total_flops()
            dims = tuple(x.shape[1:])
            outputs[name] = (*dims[1:], dims[0]) if len(dims) == 3 else dims
    answers: dict[str, object] = {}
    for question in problem.questions:
        name, what = question.layer, question.quantity
        modules = list(layers.values()) if name == "total" else [layers[name]]
        weights = sum(
            p.numel() for m in modules for n, p in m.named_parameters() if "bias" not in n
        )
        biases = sum(p.numel() for m in modules for n, p in m.named_parameters() if "bias" in n)
        flop = sum(flops.values()) if name == "total" else flops[name]
        answers[question.key] = {
            "output": outputs.get(name),
            "weights": weights,
            "biases": biases,
            "params": weights + biases,
            "flops": flop,
            "macs": flop // 2,
        }[what]
    return answers


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kind", KINDS)
def test_every_answer_agrees_with_pytorch(kind: str) -> None:
    for seed in SEEDS:
        problem = cnn_magic.exercise(kind, seed=seed)
        assert problem.solution() == torch_answers(problem), (kind, seed, problem.text)


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_problem(kind: str) -> None:
    texts = set()
    for seed in SEEDS:
        first, again = cnn_magic.exercise(kind, seed=seed), cnn_magic.exercise(kind, seed=seed)
        assert first.text == again.text and first.questions == again.questions
        texts.add(first.text)
    assert len(texts) >= 10, f"{kind}: only {len(texts)} different problems in 25 seeds"


def test_a_student_number_is_a_seed_and_picks_a_kind() -> None:
    problems = [cnn_magic.exercise(seed=f"2023{n:04d}") for n in range(60)]
    assert {p.kind for p in problems} == set(KINDS)
    again = cnn_magic.exercise(seed="20230017")
    assert (again.kind, again.text) == (problems[17].kind, problems[17].text)


def axis(problem: Problem) -> Axis:
    axes = problem.network.layers[0].axes
    assert axes is not None
    return axes[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_each_kind_asks_what_its_name_says(seed: int) -> None:
    """The rounding matters where the kind says so, and each kind has its layer."""
    floor = cnn_magic.exercise("output_floor", seed=seed)
    a = axis(floor)
    assert a.rule == "floor" and (a.size + 2 * a.pad_before - a.kernel) % a.stride

    ceil = cnn_magic.exercise("output_ceil", seed=seed)
    a = axis(ceil)
    assert a.rule == "ceil" and (a.size - a.kernel) % a.stride and not a.dropped_last

    last = cnn_magic.exercise("last_window", seed=seed)
    assert axis(last).dropped_last and last.rounding == "ceil"

    assert axis(cnn_magic.exercise("same_padding", seed=seed)).rule == "same"
    assert cnn_magic.exercise("params_bias", seed=seed).network.layers[0].biases > 0
    assert cnn_magic.exercise("params_nobias", seed=seed).network.layers[0].biases == 0
    assert cnn_magic.exercise("depthwise", seed=seed).network.layers[0].op == "dwconv"
    assert "g" in cnn_magic.exercise("grouped", seed=seed).text.split()[-1]
    keys = [q.key for q in cnn_magic.exercise("macs_flops", seed=seed).questions]
    assert {"C1.macs", "C1.flops"} <= set(keys)
    assert cnn_magic.exercise("fc", seed=seed).network.layers[0].op == "fc"
    for kind in ("grouped", "macs_flops"):  # sensible: a 1×1 convolution is never padded
        a = axis(cnn_magic.exercise(kind, seed=seed))
        assert a.kernel > 1 or a.pad_before == a.pad_after == 0
    net = cnn_magic.exercise("network", seed=seed).network
    assert [layer.op for layer in net.layers][::2] == ["conv", "conv", "fc"]


def test_an_unknown_kind_says_which_exist() -> None:
    with pytest.raises(cnn_magic.CNNError) as error:
        cnn_magic.exercise("depthwsie", seed=1)
    assert "unknown exercise kind 'depthwsie'" in str(error.value)
    assert "did you mean 'depthwise'?" in str(error.value)
    with pytest.raises(cnn_magic.CNNError, match="seed must be an int or a str"):
        cnn_magic.exercise("fc", seed=1.5)  # type: ignore[arg-type]


def test_the_problem_shows_its_questions_but_not_its_answers() -> None:
    problem = cnn_magic.exercise("grouped", seed=3)
    text, page = problem.to_text(), problem.to_html()
    for key, value in problem.solution().items():
        assert key in text and key in page
        assert f"{value:,}" not in text and f"{value:,}" not in page
    assert problem.text in text
    bundle = problem._repr_mimebundle_()
    assert bundle["text/plain"] == text


def test_a_teachers_own_problem() -> None:
    problem = from_text("input 32x32x1\nC1: conv 6 k5\nS2: avgpool k2 s2", "S2.output total.params")
    assert problem.solution() == {"S2.output": (14, 14, 6), "total.params": 156}
    with pytest.raises(cnn_magic.CNNError, match="no layer 'C2' in the network\nvalid: C1, total"):
        from_text("input 32x32x1\nC1: conv 6 k5", ["C2.params"])
    with pytest.raises(cnn_magic.CNNError, match="unknown quantity 'param'"):
        from_text("input 32x32x1\nC1: conv 6 k5", ["C1.param"])


def test_the_readme_names_every_kind_and_its_example_holds() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in readme, kind
    problem = cnn_magic.exercise("last_window", seed="20230017")
    assert "problem.solution()  # {'P1.output': (5, 5, 32)}" in readme
    assert problem.solution() == {"P1.output": (5, 5, 32)}
