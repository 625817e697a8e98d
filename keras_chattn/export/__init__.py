"""Deployment: SavedModel, ONNX and LiteRT (float and int8), each checked.

- `exporter`: `export_model`, which writes a format with Keras'
  `model.export`, reads it back with that format's runtime and compares its
  outputs with the Keras model's (`ExportReport`, `ExportMismatchError`);
- `runtimes`: `load_runtime(format, path)`, a callable over image batches
  for each format (TensorFlow, ONNX Runtime, the LiteRT interpreter).

The ONNX and LiteRT packages come with the `export` extra:
`pip install "keras_chattn[export]"`. Import this subpackage on its own:
`import keras_chattn.export`.
"""

from keras_chattn.export.exporter import ExportError
from keras_chattn.export.exporter import ExportMismatchError
from keras_chattn.export.exporter import ExportReport
from keras_chattn.export.exporter import export_model
from keras_chattn.export.runtimes import FORMATS
from keras_chattn.export.runtimes import load_runtime
from keras_chattn.export.runtimes import missing_packages

__all__ = [
    "ExportError",
    "ExportMismatchError",
    "ExportReport",
    "FORMATS",
    "export_model",
    "load_runtime",
    "missing_packages",
]
