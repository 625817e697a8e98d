"""Packaging for keras_chattn: Keras 3 attention blocks for CNNs.

The metadata, dependencies and extras live in pyproject.toml; this file
stays so that `pip install -e .` works with older tools and `python
setup.py --version` answers.
"""

from setuptools import setup

setup()
