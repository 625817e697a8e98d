"""Loading `.keras` files that hold keras_chattn layers.

`keras.saving.load_model` finds a file's `keras_chattn>...` layers only
once `keras_chattn` has been imported (Keras imports only its own
packages); without it, it fails with a long chained `TypeError`.
`keras_chattn.saving.load_model` imports the package first, loads with
Keras' default `safe_mode=True`, and turns an unknown-layer failure into a
one-line message.
"""

import pathlib
from typing import Any

import keras

from keras_chattn.utils.types import PathLike


def load_model(
    path: PathLike,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> keras.Model:
    """Loads a `.keras` model that may hold keras_chattn layers.

    Args:
        path: the `.keras` file.
        custom_objects: more classes the file refers to (your own layers).
        compile: restore the training configuration. Defaults to True.
        safe_mode: Keras' safe mode (no code from the file runs). Defaults
            to True; keras_chattn never needs it off.

    Returns:
        The `keras.Model`.

    Examples:

        >>> import os, tempfile
        >>> import keras_chattn
        >>> path = os.path.join(tempfile.mkdtemp(), "se.keras")
        >>> keras_chattn.models.cifar_resnet(20, attention="se").save(path)
        >>> model = keras_chattn.saving.load_model(path)
        >>> type(model.get_layer("conv2_block1_attention")).__name__
        'SqueezeExcite'
    """
    import keras_chattn  # noqa: F401  (registers every layer)

    if not isinstance(path, (str, pathlib.PurePath)):
        raise ValueError(
            "path must be the path of a .keras file (a str or a Path). "
            f"Received: path={path!r}"
        )
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise ValueError(
            "custom_objects must be None or a dict of name -> class. "
            f"Received: custom_objects={custom_objects!r}"
        )
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            "path must be a .keras file (for a SavedModel folder use "
            "tf.saved_model.load; for a .weights.h5 file build the model and "
            f"call load_weights). Received: path={str(path)!r}"
        )
    if not path.is_file():
        raise ValueError(f"No such .keras file. Received: path={str(path)!r}")
    try:
        return keras.saving.load_model(
            path,
            custom_objects=custom_objects,
            compile=compile,
            safe_mode=safe_mode,
        )
    except ValueError as error:
        if "The config of layer" not in str(error):
            raise
        raise ValueError(f"{path}: {error}") from None
    except TypeError as error:
        message = str(error)
        if "Could not locate class" not in message:
            raise
        name = message.split("Could not locate class ")[1].split(".")[0]
        raise ValueError(
            f"{path} refers to the class {name}, which neither Keras nor this "
            "keras_chattn knows: it was saved with a newer keras_chattn or "
            "with your own layers (pass them as custom_objects)."
        ) from None
