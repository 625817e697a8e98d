"""Packaging for keras_chattn: Keras 3 attention blocks for CNNs."""

import pathlib
import re

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"',
    (HERE / "keras_chattn" / "__init__.py").read_text(),
    re.MULTILINE,
).group(1)

setup(
    name="keras_chattn",
    version=VERSION,
    description=(
        "Keras 3 channel and spatial attention blocks (SE, CBAM, ...) for "
        "convolutional networks, on TensorFlow, JAX and PyTorch."
    ),
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_chattn", "keras_chattn.*"]),
    install_requires=[
        # 3.8 is the oldest Keras we rely on for dtype policies passed to
        # sublayers; the test suite has been run against Keras 3.15.
        "keras>=3.8",
        "numpy",
        # Mann-Whitney tests of the CC-block analysis.
        "scipy",
        "tensorflow",
    ],
    extras_require={
        # tensorflow-datasets as a CIFAR source; 4.9.10 on Python 3.11 fails
        # to import without importlib_resources.
        "data": ["tensorflow-datasets", "importlib_resources"],
        # UCR/UEA time-series datasets shipped inside its wheel (found on
        # disk, never imported: keras_chattn.data.ucr reads the .ts files).
        "timeseries": ["aeon"],
        # curves.png of the training example.
        "examples": ["matplotlib"],
        # keras_chattn.plotting's figures.
        "plot": ["matplotlib"],
        # keras-tuner 1.4.8 fails every trial under TF 2.21 without
        # tensorboard.
        # scikit-learn for its BayesianOptimization.
        "tune": ["keras-tuner", "tensorboard", "scikit-learn"],
        # keras_chattn.export: ONNX (tf2onnx writes it, onnxruntime reads it
        # back) and LiteRT (ai-edge-litert's interpreter reads the .tflite).
        "export": ["onnx", "tf2onnx", "onnxruntime", "ai-edge-litert"],
        "test": [
            "pytest>=7",
            # The layer tests run a second time on the JAX backend, and the
            # training example once without TensorFlow on it.
            "jax",
            "tensorflow-datasets",
            "importlib_resources",
            "matplotlib",
            "keras-tuner",
            "tensorboard",
            "scikit-learn",
            # tests/export
            "onnx",
            "tf2onnx",
            "onnxruntime",
            "ai-edge-litert",
            # tests/data/test_ucr.py and the time-series example's test
            "aeon",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "License :: OSI Approved :: Apache Software License",
    ],
)
