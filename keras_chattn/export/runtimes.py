"""Each export format read back by its own runtime.

A runtime is a callable `run(images) -> numpy array` over a float32 batch of
any size: TensorFlow's SavedModel loader (`serve` endpoint), ONNX Runtime,
and the LiteRT interpreter (`ai_edge_litert`, resized to the batch). The
packages come with the `export` extra: `pip install "keras_chattn[export]"`.
"""

import importlib
import importlib.util
from collections.abc import Callable

import numpy as np

from keras_chattn.utils.types import PathLike

FORMATS = ("saved_model", "onnx", "litert")
EXTRA = 'pip install "keras_chattn[export]"'


def check_format(format):
    if format not in FORMATS:
        raise ValueError(
            f"format must be one of {', '.join(map(repr, FORMATS))}. "
            f"Received: format={format!r}"
        )
    return format


def require(module, needed_for):
    """Imports `module`, or raises an ImportError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{needed_for} needs the {module.split('.')[0]!r} package, which "
            f"the export extra installs: {EXTRA}"
        ) from None


def missing_packages(format: str) -> list[str]:
    """The packages `format` needs that cannot be imported (a list)."""
    needed = {
        "saved_model": ["tensorflow"],
        "onnx": ["tensorflow", "onnx", "tf2onnx", "onnxruntime"],
        "litert": ["tensorflow", "ai_edge_litert"],
    }[check_format(format)]
    missing = []
    for module in needed:
        if importlib.util.find_spec(module) is None:
            missing.append(module)
    return missing


class SavedModelRuntime:
    """`tf.saved_model.load(path).serve`, the object kept alive."""

    name = "tensorflow"

    def __init__(self, path):
        tf = require("tensorflow", "Reading a SavedModel")
        # The loaded object owns the variables: keep it, not only `serve`.
        self.loaded = tf.saved_model.load(str(path))

    def __call__(self, images):
        return np.asarray(self.loaded.serve(np.asarray(images, "float32")))


class OnnxRuntime:
    """An ONNX Runtime CPU session on the model's single input."""

    name = "onnxruntime"

    def __init__(self, path):
        ort = require("onnxruntime", "Reading an ONNX file")
        self.session = ort.InferenceSession(
            str(path), providers=["CPUExecutionProvider"]
        )
        self.input = self.session.get_inputs()[0].name

    def __call__(self, images):
        feed = {self.input: np.asarray(images, "float32")}
        return self.session.run(None, feed)[0]


class LiteRTRuntime:
    """The LiteRT interpreter, its input resized to each batch.

    The interpreter runs with its default XNNPACK delegate. Where XNNPACK
    refuses the model (it rejects some int8 quantisation parameters, e.g. a
    tensor whose calibrated range is zero: "failed to create XNNPACK
    runtime", "Node number 7 (TfLiteXNNPackDelegate) failed to prepare"),
    whether when the tensors are allocated or at the first invoke after a
    resize, the built-in kernels run it instead and `name` says so, as
    LiteRT on a phone would fall back.
    """

    def __init__(self, path):
        self.module = require(
            "ai_edge_litert.interpreter", "Reading a LiteRT file"
        )
        self.path = str(path)
        self.name = "ai_edge_litert"
        self.delegated = True  # XNNPACK, until it refuses the model
        self.interpreter = self._interpreter()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch = None

    def _interpreter(self, delegates=True):
        kwargs = {}
        if not delegates:
            kwargs["experimental_op_resolver_type"] = (
                self.module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            )
        return self.module.Interpreter(model_path=self.path, **kwargs)

    def _run(self, images):
        if self.batch != len(images):
            self.batch = None  # resized only once allocate_tensors succeeds
            self.interpreter.resize_tensor_input(
                self.input["index"], images.shape
            )
            self.interpreter.allocate_tensors()
            self.batch = len(images)
        self.interpreter.set_tensor(self.input["index"], images)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self.output["index"]))

    def __call__(self, images):
        images = np.asarray(images, self.input["dtype"])
        try:
            return self._run(images)
        except RuntimeError as error:
            if not _refused_by_xnnpack(error) or not self.delegated:
                raise
        self.delegated = False
        self.interpreter = self._interpreter(delegates=False)
        self.name = "ai_edge_litert (built-in kernels: XNNPACK refused)"
        self.batch = None
        return self._run(images)


def _refused_by_xnnpack(error):
    """Whether a LiteRT error is XNNPACK's delegate refusing the model."""
    return "xnnpack" in str(error).lower()


RUNTIMES = {
    "saved_model": SavedModelRuntime,
    "onnx": OnnxRuntime,
    "litert": LiteRTRuntime,
}


def load_runtime(
    format: str, path: PathLike
) -> Callable[[np.ndarray], np.ndarray]:
    """The runtime of `format` on the file or folder at `path`.

    Examples:

        >>> from keras_chattn.export import load_runtime
        >>> run = load_runtime("onnx", "model.onnx")  # doctest: +SKIP
        >>> run(images).shape  # doctest: +SKIP
        (16, 10)
    """
    return RUNTIMES[check_format(format)](path)
