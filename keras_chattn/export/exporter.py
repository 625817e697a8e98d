"""Export a model, read it back with the format's runtime, compare outputs.

Keras' own `model.export` writes the files; what it does not do is check
them. `export_model` runs the same images through Keras and through the
exported file (TensorFlow for a SavedModel, ONNX Runtime, the LiteRT
interpreter), at the checked batch size and at batch size 1 (the batch
dimension stays dynamic), and raises `ExportMismatchError` when they
disagree. For LiteRT it also makes the int8 post-training quantisation, with
real images as the representative set, and checks top-1 agreement instead.
"""

import dataclasses
import math
import numbers
import pathlib
import subprocess
import sys

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_chattn.export.runtimes import EXTRA
from keras_chattn.export.runtimes import check_format
from keras_chattn.export.runtimes import load_runtime
from keras_chattn.export.runtimes import missing_packages
from keras_chattn.export.runtimes import require
from keras_chattn.utils.types import PathLike

QUANTIZATIONS = (None, "int8")
CHECK_IMAGES = 64
REPRESENTATIVE_IMAGES = 200
# Activation scales below this come from a zero calibrated range.
MIN_INT8_SCALE = 1e-6
PROBE_SECONDS = 300


class ExportError(RuntimeError):
    """A converter refused the model."""


class ExportMismatchError(AssertionError):
    """The exported file's outputs differ from the Keras model's."""

    def __init__(self, message: str, report: "ExportReport") -> None:
        super().__init__(message)
        self.report = report


@dataclasses.dataclass
class ExportReport:
    """What `export_model` wrote and measured.

    `max_abs_diff` is the largest absolute difference between the Keras
    model's outputs and the runtime's over the checked images;
    `top1_agreement` the fraction of images whose arg-max output is the same
    (NaN for an output that is not one score per class); `output_scale` the
    largest absolute output of the Keras model, and at least 1 (what a
    float export's difference is measured against).
    """

    format: str
    path: str
    quantize: str | None
    size_bytes: int
    images: int
    max_abs_diff: float
    top1_agreement: float
    runtime: str
    output_scale: float = 1.0

    def as_dict(self):
        return dataclasses.asdict(self)


def export_model(
    model: keras.Model,
    path: PathLike,
    format: str,
    representative_data: ArrayLike | None = None,
    quantize: str | None = None,
    check_data: ArrayLike | None = None,
    tolerance: float = 1e-4,
    min_agreement: float = 0.8,
) -> ExportReport:
    """Exports `model` to `path` and checks the file against the model.

    Args:
        model: a built single-input, single-output Keras model.
        path: where to write: a folder for "saved_model", a file for "onnx"
            and "litert" (which must end in ".tflite").
        format: "saved_model" (TF Serving), "onnx" or "litert".
        representative_data: real inputs, as the model takes them (an
            array, an `(images, labels)` tuple or an iterable of such
            batches, e.g. a `tf.data.Dataset`): the int8 calibration set
            (its first 200 images) and, without `check_data`, the checked
            images (its first 64).
        quantize: None (float32) or "int8" (LiteRT only: full-integer
            post-training quantisation with float32 input and output).
        check_data: the inputs to compare on; defaults to
            `representative_data`, else 64 standard-normal inputs (a weaker
            check: real images exercise the gates as a network sees them).
        tolerance: a finite number >= 0, the largest accepted difference
            of a float export,
            relative to the largest absolute output where that is above 1
            (absolute for probabilities): float32 rounding grows with the
            outputs' magnitude, and the logits of a network without trained
            BatchNorm statistics reach 100 and more. Defaults to 1e-4.
        min_agreement: in [0, 1], the least accepted top-1 agreement of an
            int8 export. Defaults to 0.8.

    Returns:
        An `ExportReport`.

    Raises:
        ValueError: a bad argument (named in the message).
        ImportError: a package the format needs is missing (install the
            `export` extra).
        ExportError: the converter refused the model.
        ExportMismatchError: the file's outputs differ beyond `tolerance`
            (or agree below `min_agreement`); its `report` holds the figures.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.models import cifar_resnet
        >>> from keras_chattn.export import export_model
        >>> model = cifar_resnet(
        ...     20, attention="cbam", classifier_activation=None)
        >>> images = np.random.default_rng(0).normal(size=(8, 32, 32, 3))
        >>> report = export_model(model, "cbam.onnx", "onnx",
        ...                       check_data=images)  # doctest: +SKIP
        >>> report.max_abs_diff < 1e-4  # doctest: +SKIP
        True
    """
    check_format(format)
    if _number("tolerance", tolerance) < 0:
        raise ValueError(
            "tolerance must be a finite number >= 0 (the largest accepted "
            f"difference). Received: tolerance={tolerance!r}"
        )
    if not 0.0 <= _number("min_agreement", min_agreement) <= 1.0:
        raise ValueError(
            "min_agreement must be a fraction in [0, 1] (the least share "
            "of images whose top-1 class the int8 file keeps). Received: "
            f"min_agreement={min_agreement!r}"
        )
    if quantize not in QUANTIZATIONS:
        raise ValueError(
            f"quantize must be None or 'int8'. Received: quantize={quantize!r}"
        )
    if quantize and format != "litert":
        raise ValueError(
            "quantize='int8' is made for LiteRT only: pass format='litert'. "
            f"Received: format={format!r}"
        )
    if quantize and representative_data is None:
        raise ValueError(
            "quantize='int8' needs representative_data: real inputs (e.g. a "
            "few hundred training images) to calibrate the int8 ranges. "
            "Received: representative_data=None"
        )
    path = pathlib.Path(path)
    if format == "litert" and path.suffix != ".tflite":
        raise ValueError(
            "A LiteRT file's path must end in '.tflite'. Received: "
            f"path={str(path)!r}"
        )
    _check_model(model)
    missing = missing_packages(format)
    if missing:
        raise ImportError(
            f"Exporting to {format!r} needs {', '.join(missing)}: {EXTRA}"
        )
    if check_data is not None:
        images = _first_images(check_data, CHECK_IMAGES, "check_data")
    elif representative_data is not None:
        images = _first_images(
            representative_data, CHECK_IMAGES, "representative_data"
        )
    else:
        images = _normal_inputs(model)
    expected = np.asarray(model.predict(images, verbose=0), "float32")
    calibration = None
    if quantize:
        calibration = _first_images(
            representative_data, REPRESENTATIVE_IMAGES, "representative_data"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(model, path, format, calibration)
    if calibration is not None:
        _check_int8_loads(model, path)
    run = load_runtime(format, path)
    try:
        got = np.asarray(run(images), "float32")
        single = np.asarray(run(images[:1]), "float32")
    except RuntimeError as error:
        # e.g. an int8 DIV whose quantised divisor is 0 (SimAM's energy).
        raise ExportError(
            f"The {format} runtime failed on the {model.name!r} file: "
            f"{str(error).strip()[:300]}. The file is at {path}."
        ) from error
    if got.shape != expected.shape or single.shape[1:] != expected.shape[1:]:
        raise ExportMismatchError(
            f"The {format} file returns shape {got.shape} (and {single.shape} "
            f"for one image); the Keras model {expected.shape}.",
            None,
        )
    difference = float(
        max(
            np.abs(got - expected).max(),
            np.abs(single - expected[:1]).max(),
        )
    )
    report = ExportReport(
        format=format,
        path=str(path),
        quantize=quantize,
        size_bytes=size_on_disk(path),
        images=len(images),
        max_abs_diff=difference,
        top1_agreement=_agreement(got, expected),
        runtime=run.name,
        output_scale=max(1.0, float(np.abs(expected).max())),
    )
    _check_report(report, model, tolerance, min_agreement)
    return report


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise ValueError(
            "model must be a keras.Model. Received: "
            f"model of type {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            f"model {model.name!r} is not built: call it on a batch or give "
            "it an Input first."
        )
    if len(model.inputs or []) > 1 or len(model.outputs or []) > 1:
        raise ValueError(
            "export_model checks single-input, single-output models. "
            f"Received: {model.name!r} with {len(model.inputs)} inputs and "
            f"{len(model.outputs)} outputs; use model.export and the "
            "runtimes in keras_chattn.export.runtimes for others."
        )


def _first_images(data, count, name):
    """The first `count` inputs of an array, a tuple or an iterable."""
    if isinstance(data, tuple):
        data = data[0]
    if hasattr(data, "shape"):
        images = np.asarray(data)[:count]
    else:
        batches, total = [], 0
        for batch in data:
            batch = np.asarray(batch[0] if isinstance(batch, tuple) else batch)
            batches.append(batch)
            total += len(batch)
            if total >= count:
                break
        if not batches:
            raise ValueError(f"{name} holds no images.")
        images = np.concatenate(batches)[:count]
    if not len(images):
        raise ValueError(f"{name} holds no images.")
    return images.astype("float32")


def _normal_inputs(model):
    shape = tuple(model.inputs[0].shape[1:])
    if None in shape:
        raise ValueError(
            f"The input of {model.name!r} has unknown dimensions {shape}: "
            "pass check_data (inputs of a size the model takes)."
        )
    rng = np.random.default_rng(0)
    return rng.normal(size=(CHECK_IMAGES, *shape)).astype("float32")


def _write(model, path, format, calibration):
    tf = require("tensorflow", f"Exporting to {format!r}")
    kwargs = {}
    if format == "litert":
        # Builtin ops only: the LiteRT runtime (ai_edge_litert) has no
        # TensorFlow ops, so a model needing them must fail here, not later.
        ops_set = tf.lite.OpsSet.TFLITE_BUILTINS
        if calibration is not None:
            ops_set = tf.lite.OpsSet.TFLITE_BUILTINS_INT8
            kwargs["optimizations"] = [tf.lite.Optimize.DEFAULT]
            kwargs["representative_dataset"] = _representative(calibration)
        kwargs["target_spec"] = {"supported_ops": [ops_set]}
    keras_format = "tf_saved_model" if format == "saved_model" else format
    try:
        model.export(str(path), format=keras_format, verbose=False, **kwargs)
    except ImportError:
        raise
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise ExportError(
            f"Exporting {model.name!r} to {format!r}"
            f"{' (int8)' if calibration is not None else ''} failed: "
            f"{type(error).__name__}: {first_line[:500]}"
        ) from error


# Loads a LiteRT file and prepares its kernels, in a child process.
_PROBE = """
import sys
from ai_edge_litert.interpreter import Interpreter, OpResolverType
interpreter = Interpreter(model_path=sys.argv[1])
try:
    interpreter.allocate_tensors()
except RuntimeError as error:  # XNNPACK refused: the built-in kernels run
    if "xnnpack" not in str(error).lower():  # "XNNPack" in some messages
        raise
    interpreter = Interpreter(
        model_path=sys.argv[1],
        experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        ),
    )
    interpreter.allocate_tensors()
"""


def _check_int8_loads(model, path):
    """Refuses an int8 file that LiteRT aborts on, naming the likely cause.

    Where a unit never fires on the representative images (a dead ReLU,
    e.g. the single hidden unit of a bottleneck at 16 channels), int8
    calibration gives its tensor a zero range (a scale near 1e-8), and some
    of LiteRT's int8 kernels (LOGISTIC after such a tensor) abort the whole
    process when the file is loaded, XNNPACK or not. The file is therefore
    loaded first in a child process.
    """
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=PROBE_SECONDS,
    )
    if probe.returncode == 0:
        return
    degenerate = _zero_range_tensors(path)
    cause = (
        f"; activations with a zero calibrated range: "
        f"{'; '.join(degenerate[:3])}. They come from units that never fire "
        "on representative_data (dead ReLUs): calibrate on more varied real "
        "images, or export a trained model"
        if degenerate
        else f": {probe.stderr.strip()[-300:]}"
    )
    raise ExportError(
        f"LiteRT cannot load the int8 file of {model.name!r} (the "
        f"interpreter exited with status {probe.returncode}){cause}. The file "
        f"is at {path}."
    )


def _zero_range_tensors(path):
    interpreter = require(
        "ai_edge_litert.interpreter", "Checking an int8 LiteRT file"
    ).Interpreter(model_path=str(path))
    found = []
    for tensor in interpreter.get_tensor_details():
        scales = tensor["quantization_parameters"]["scales"]
        dynamic = -1 in list(tensor.get("shape_signature", []))
        if dynamic and len(scales) == 1 and scales[0] < MIN_INT8_SCALE:
            found.append(f"{tensor['name']} (scale {scales[0]:.2g})")
    return found


def _representative(images):
    def batches():
        for image in images:
            yield [image[None]]

    return batches


def size_on_disk(path):
    """Bytes of a file, or of every file under a folder."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _agreement(got, expected):
    if got.ndim != 2 or got.shape[1] < 2:
        return math.nan
    return float(np.mean(got.argmax(axis=1) == expected.argmax(axis=1)))


def _number(name, value):
    """`value` as a float if it is a finite real number, else raises."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
    ):
        raise ValueError(
            f"{name} must be a finite number. Received: {name}={value!r}"
        )
    return float(value)


def _check_report(report, model, tolerance, min_agreement):
    allowed = tolerance * report.output_scale
    if report.quantize is None and not report.max_abs_diff <= allowed:
        raise ExportMismatchError(
            f"The {report.format} export of {model.name!r} differs from the "
            f"Keras model by up to {report.max_abs_diff:.3g} on "
            f"{report.images} inputs, outputs up to {report.output_scale:.3g} "
            f"(tolerance={tolerance:g} of that); the file is at "
            f"{report.path}.",
            report,
        )
    if report.quantize and not report.top1_agreement >= min_agreement:
        raise ExportMismatchError(
            f"The int8 {report.format} export of {model.name!r} agrees with "
            f"the float model on the top-1 class of "
            f"{report.top1_agreement:.1%} of {report.images} inputs "
            f"(min_agreement={min_agreement:g}); the file is at "
            f"{report.path}.",
            report,
        )
