"""timm, imported for parity tests only.

timm imports torchvision at start-up (`FrozenBatchNorm2d`, its data
transforms), but its ResNet code uses none of it. Where torchvision is
missing, or its compiled operators do not load beside a CPU build of torch,
a stand-in module answers those imports: every name in it is an inert
placeholder, so a test that touched one would fail, not pass by accident.
"""

import importlib
import sys
import types

import pytest


class _Placeholder:
    def __init__(self, name):
        self._name = name

    def __getattr__(self, name):
        return _Placeholder(f"{self._name}.{name}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name} is a stand-in: torchvision is absent")

    def __mro_entries__(self, bases):
        return (object,)


class _StandIn(types.ModuleType):
    __path__ = []  # a package, so submodules resolve

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(f"{self.__name__}.{name}")


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, _Loader())
        return None


class _Loader:
    @staticmethod
    def create_module(spec):
        return _StandIn(spec.name)

    @staticmethod
    def exec_module(module):
        return None


def import_timm():
    """timm (skipping the test without torch or timm)."""
    pytest.importorskip("torch")
    if importlib.util.find_spec("timm") is None:
        pytest.skip("timm is not installed")
    try:
        import torchvision  # noqa: F401
    except Exception:  # absent, or its compiled operators do not load
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _Finder())
    return importlib.import_module("timm")
