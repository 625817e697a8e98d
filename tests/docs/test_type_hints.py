"""Every public function and constructor has type hints.

Public: every name in the `__all__` of keras_chattn and its subpackages.
Classes whose constructor is inherited from another package (Keras Tuner's
tuners, exceptions) are skipped: their hints are that package's.
"""

import importlib
import inspect

import pytest

PACKAGES = [
    "keras_chattn",
    "keras_chattn.layers",
    "keras_chattn.models",
    "keras_chattn.surgery",
    "keras_chattn.data",
    "keras_chattn.training",
    "keras_chattn.analysis",
    "keras_chattn.export",
    "keras_chattn.saving",
]
OPTIONAL = ["keras_chattn.tuning", "keras_chattn.plotting"]
UNNAMED = ("self", "cls")


def public_callables():
    found = {}
    packages = PACKAGES + [
        name for name in OPTIONAL if importlib.util.find_spec(name)
    ]
    for package in packages:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value):
                init = value.__dict__.get("__init__")
                if init is None or not value.__module__.startswith(
                    "keras_chattn"
                ):
                    continue
                found[f"{value.__module__}.{name}.__init__"] = init
            elif inspect.isfunction(value):
                found[f"{value.__module__}.{name}"] = value
    return found


CALLABLES = public_callables()


def test_the_public_names_are_found():
    # The walk reaches the builders, the blocks and the tools alike.
    assert "keras_chattn.models.imagenet_resnets.ResNet50" in CALLABLES
    assert "keras_chattn.layers.cbam.CBAM.__init__" in CALLABLES
    assert "keras_chattn.export.exporter.export_model" in CALLABLES
    assert len(CALLABLES) > 60, len(CALLABLES)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_annotated(name):
    signature = inspect.signature(CALLABLES[name])
    missing = [
        parameter.name
        for parameter in signature.parameters.values()
        if parameter.name not in UNNAMED
        and parameter.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{name}: no type hint for {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, (
        f"{name}: no return type"
    )
