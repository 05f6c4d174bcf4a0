"""``net.memory()``: the bytes of a training step, checked against what PyTorch really
keeps for backward (``saved_tensors_hooks`` on CPU, each storage counted once)."""

from __future__ import annotations

import pytest
import torch
import torch_zoo
import torch_zoo_modern
from hypothesis import assume, given, settings
from test_against_torch import SETTINGS, Case
from test_tools import NETWORKS
from test_tools_modern import LAYER_STRATEGIES, LAYERS, MERGES, network

import cnn_magic
from cnn_magic import CNNError
from cnn_magic.torch_export import input_tensor


def saved_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd keeps during one training forward pass, each
    storage once, parameters and buffers left out."""
    model.train()
    own = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches on shared cores: one thread is faster
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            output = model(x)
    finally:
        torch.set_num_threads(threads)
    del output
    return sum(storages.values())


@pytest.mark.parametrize("name", list(torch_zoo.BUILDERS))
def test_activations_of_the_to_torch_twins(name: str) -> None:
    """Exactly what PyTorch keeps, for the module that to_torch() builds."""
    net = cnn_magic.example(name)
    assert net.memory(batch=2).activations == saved_bytes(net.to_torch(), input_tensor(net, 2))


@pytest.mark.parametrize("key", list(NETWORKS))
def test_activations_of_every_layer_kind(key: str) -> None:
    net = cnn_magic.evaluate(NETWORKS[key], "floor")
    assert net.memory(batch=3).activations == saved_bytes(net.to_torch(), input_tensor(net, 3))


@pytest.mark.parametrize("name", list(torch_zoo.BUILDERS))
def test_activations_of_the_zoo_twins(name: str) -> None:
    """The plain-PyTorch twins write ReLU and ReLU6 in place; PyTorch keeps as much as
    for separate modules (the in-place ReLU6 keeps its input too)."""
    measured = saved_bytes(torch_zoo.BUILDERS[name](), torch.zeros(torch_zoo.INPUTS[name]))
    assert cnn_magic.example(name).memory().activations == measured


@pytest.mark.parametrize("name", list(torch_zoo_modern.BUILDERS))
def test_activations_of_the_modern_networks(name: str) -> None:
    """to_torch() of each newer example (U-Net at 188×188), and the twin written as
    torchvision writes it: PyTorch keeps the same tensors for both."""
    net = network(name)
    assert net.memory(batch=2).activations == saved_bytes(net.to_torch(), input_tensor(net, 2))
    twin = torch_zoo_modern.BUILDERS[name]()
    assert net.memory().activations == saved_bytes(twin, input_tensor(net))


@pytest.mark.parametrize("key", [*LAYERS, *MERGES])
def test_activations_of_every_newer_layer_kind(key: str) -> None:
    """Norms keep their input and float32 statistics, a product both factors, a side
    head its own, a reused layer what it keeps each time it runs."""
    net = cnn_magic.evaluate({**LAYERS, **MERGES}[key].format(s=9), "floor")
    assert net.memory(batch=3).activations == saved_bytes(net.to_torch(), input_tensor(net, 3))


@pytest.mark.parametrize("kind", list(LAYER_STRATEGIES))
def test_activations_of_drawn_newer_layers(kind: str) -> None:
    """Each newer layer alone, its sizes and arguments drawn as in its differential test."""

    @settings(SETTINGS, max_examples=10)
    @given(LAYER_STRATEGIES[kind]())
    def run(case: Case) -> None:
        try:
            net = cnn_magic.evaluate(case.text, rounding=case.rounding)
        except CNNError:
            assume(False)
            return
        measured = saved_bytes(net.to_torch(), input_tensor(net, 2))
        assert net.memory(batch=2).activations == measured, case.text

    run()


def test_parameters_gradients_and_optimizer_state() -> None:
    net = cnn_magic.example("resnet50")
    sgd = net.memory(optimizer="sgd")
    assert sgd.params == sgd.grads == 4 * net.params
    assert sgd.optimizer_state == 0
    assert net.memory(optimizer="momentum").optimizer_state == 4 * net.params
    model = torch_zoo.resnet50()
    adam = torch.optim.Adam(model.parameters())
    model(torch.zeros(1, 3, 224, 224)).sum().backward()
    adam.step()
    state = sum(
        value.numel() * value.element_size()
        for per_parameter in adam.state.values()
        for value in per_parameter.values()
    )
    assert net.memory(optimizer="adam").optimizer_state == state


def test_inference_keeps_nothing_and_dtype_scales() -> None:
    net = cnn_magic.example("resnet18")
    inference = net.memory(training=False)
    assert (inference.grads, inference.optimizer_state, inference.activations) == (0, 0, 0)
    assert net.memory(dtype="float16").params == 2 * net.params
    assert "Adam keeps two moments" in str(net.memory(optimizer="adam"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dtype": "float33"}, "did you mean 'float32'"),
        ({"optimizer": "adamw"}, "did you mean 'adam'"),
        ({"batch": 0}, "batch must be a whole number"),
    ],
)
def test_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(CNNError, match=message):
        cnn_magic.example("lenet5").memory(**options)
