"""One model in every export format: size, agreement, accuracy, latency.

`compare_formats` is what `examples/export_model.py` and
`benchmarks/deployment.py` print: for each format it exports with
`export_model` (which checks the file on the first images), then runs all the
given images through the format's runtime for top-1 agreement with Keras and
accuracy, and times single images.
"""

import pathlib
import statistics
import time

import numpy as np

from keras_chattn.export.exporter import ExportError
from keras_chattn.export.exporter import ExportMismatchError
from keras_chattn.export.exporter import export_model
from keras_chattn.export.exporter import size_on_disk
from keras_chattn.export.runtimes import load_runtime

# Command-line names of the exports: (format, quantize, file suffix).
EXPORTS = {
    "saved_model": ("saved_model", None, ""),
    "onnx": ("onnx", None, ".onnx"),
    "litert": ("litert", None, ".tflite"),
    "litert-int8": ("litert", "int8", "_int8.tflite"),
}
TIMED_RUNS = 30


def check_exports(names):
    """`names` (a comma-separated string or a list) checked against EXPORTS."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXPORTS]
    if unknown or not names:
        raise ValueError(
            f"formats must be names from {', '.join(EXPORTS)}. Received: "
            f"formats={names!r}"
        )
    return list(names)


def latency_ms(run, image, runs=TIMED_RUNS):
    """Median milliseconds of `run` on one image, after two warm-up calls."""
    for _ in range(2):
        run(image)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(image)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def predict(run, images, batch_size=128):
    return np.concatenate(
        [
            np.asarray(run(images[i : i + batch_size]), "float32")
            for i in range(0, len(images), batch_size)
        ]
    )


def compare_formats(
    model,
    output_dir,
    formats,
    images,
    labels=None,
    calibration=None,
    tolerance=1e-4,
    min_agreement=0.8,
):
    """Exports `model` to each of `formats` and measures every file.

    Args:
        model: a single-input, single-output Keras model.
        output_dir: folder for the files (`<model name><suffix>`).
        formats: names from `EXPORTS` ("saved_model", "onnx", "litert",
            "litert-int8").
        images: inputs as the model takes them; the first 64 are the check
            of `export_model`, all of them the agreement and accuracy.
        labels: integer classes of `images` for accuracy (None: no accuracy).
        calibration: int8 calibration inputs (needed for "litert-int8").
        tolerance, min_agreement: as for `export_model`.

    Returns:
        A list of dicts, the Keras model first: `format`, `status` ("ok",
        "mismatch" or "failed: <reason>"), `runtime`, `size_bytes`,
        `max_abs_diff`, `agreement`, `accuracy`, `latency_ms`.
    """
    formats = check_exports(formats)
    output_dir = pathlib.Path(output_dir)
    images = np.asarray(images, "float32")
    expected = predict(model.predict_on_batch, images)
    rows = [
        _row(
            "keras",
            "ok",
            "keras (" + _backend() + ")",
            None,
            0.0,
            expected,
            expected,
            labels,
            latency_ms(model.predict_on_batch, images[:1]),
        )
    ]
    for name in formats:
        format, quantize, suffix = EXPORTS[name]
        path = output_dir / f"{model.name}{suffix}"
        status, difference = "ok", None
        try:
            report = export_model(
                model,
                path,
                format,
                representative_data=calibration,
                quantize=quantize,
                check_data=images,
                tolerance=tolerance,
                min_agreement=min_agreement,
            )
            difference = report.max_abs_diff
        except ExportMismatchError as error:
            status = "mismatch"
            difference = error.report.max_abs_diff if error.report else None
        except ExportError as error:
            rows.append(_failed(name, str(error)))
            continue
        run = load_runtime(format, path)
        got = predict(run, images)
        rows.append(
            _row(
                name,
                status,
                run.name,
                size_on_disk(path),
                difference,
                got,
                expected,
                labels,
                latency_ms(run, images[:1]),
            )
        )
    return rows


def _backend():
    import keras

    return keras.backend.backend()


def _row(name, status, runtime, size, difference, got, expected, labels, ms):
    agreement = float(np.mean(got.argmax(-1) == expected.argmax(-1)))
    accuracy = None
    if labels is not None:
        accuracy = float(np.mean(got.argmax(-1) == np.asarray(labels)))
    return {
        "format": name,
        "status": status,
        "runtime": runtime,
        "size_bytes": size,
        "max_abs_diff": difference,
        "agreement": agreement,
        "accuracy": accuracy,
        "latency_ms": ms,
    }


def _failed(name, reason):
    return {
        "format": name,
        "status": f"failed: {reason}",
        "runtime": None,
        "size_bytes": None,
        "max_abs_diff": None,
        "agreement": None,
        "accuracy": None,
        "latency_ms": None,
    }


def markdown_table(rows, label=None):
    """`rows` of `compare_formats` as a Markdown table (str)."""
    head = "| " + ("block | " if label is not None else "")
    lines = [
        head + "format | status | runtime | size (MB) | max abs diff | "
        "top-1 agreement | accuracy | latency (ms/image) |",
        "|" + " --- |" * (9 if label is not None else 8),
    ]
    for row in rows:
        cells = [label] if label is not None else []
        cells += [
            row["format"],
            row["status"],
            row["runtime"] or "",
            _number(row["size_bytes"], 1e-6, "{:.2f}"),
            _number(row["max_abs_diff"], 1, "{:.1e}"),
            _number(row["agreement"], 1, "{:.4f}"),
            _number(row["accuracy"], 1, "{:.4f}"),
            _number(row["latency_ms"], 1, "{:.2f}"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _number(value, scale, form):
    return "" if value is None else form.format(value * scale)
