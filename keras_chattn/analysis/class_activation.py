"""Grad-CAM: where in the image a class score comes from.

Reference: Selvaraju, Cogswell, Das, Vedantam, Parikh and Batra,
"Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization", ICCV 2017: with A the last convolutional map and y the
class score, alpha_k = mean_hw(dy / dA_k) and the map is
relu(sum_k alpha_k A_k), upsampled to the image.
"""

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from keras_chattn.analysis import inputs
from keras_chattn.surgery import graph


def grad_cam(
    model: keras.Model,
    images: ArrayLike,
    class_index: int | ArrayLike | None = None,
    layer: str | keras.layers.Layer = "auto",
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM heat maps of `images`, each scaled to [0, 1].

    Args:
        model: a functional image classifier (any backend).
        images: `(N, H, W, 3)` array (channels_last).
        class_index: None (each image's predicted class), an int, or one
            int per image; each a class of the model (0 to classes - 1).
        layer: `"auto"` (the last 4-D map before the global pooling or
            Flatten of the top, whatever produced it: a convolution, an
            attention block, an activation) or a layer name.
        batch_size: images per pass.

    Returns:
        `(heat_maps, classes)`: `(N, H, W)` float32 maps in [0, 1] and the
        class each explains. The score is the model's output for that
        class (pass a model with `classifier_activation=None` to explain
        logits, as the paper does).

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> model = keras_chattn.models.cifar_resnet(8, attention="se",
        ...                                          classifier_activation=None)
        >>> maps, classes = keras_chattn.analysis.grad_cam(
        ...     model, np.random.rand(2, 32, 32, 3).astype("float32"))
        >>> maps.shape, bool(maps.min() >= 0 and maps.max() <= 1)
        ((2, 32, 32), True)
    """
    inputs.model(model, "grad_cam")
    images = inputs.images(images).astype("float32")
    if images.ndim != 4:
        raise ValueError(
            "images must be a batch of shape (N, H, W, C). Received: "
            f"images.shape={images.shape}"
        )
    batch_size = inputs.batch_size(batch_size)
    classes_out = model.outputs[0].shape[-1]
    wanted_all = inputs.class_index(class_index, classes_out, len(images))
    feature = _feature_tensor(model, layer)
    features_of = keras.Model(model.input, feature)
    top = keras.Model(feature, model.outputs[0])
    maps, classes = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        a = features_of(batch, training=False)
        scores = ops.convert_to_numpy(top(a, training=False))
        wanted = (
            np.argmax(scores, axis=-1)
            if wanted_all is None
            else wanted_all[start : start + len(batch)]
        )
        one_hot = ops.one_hot(wanted, scores.shape[-1])
        grads = _gradient(
            lambda f, one_hot=one_hot: ops.sum(
                top(f, training=False) * one_hot
            ),
            a,
        )
        weights = ops.mean(grads, axis=(1, 2), keepdims=True)
        cam = ops.relu(ops.sum(weights * a, axis=-1, keepdims=True))
        cam = ops.image.resize(
            cam,
            images.shape[1:3],
            interpolation="bilinear",
            data_format="channels_last",
        )
        cam = ops.convert_to_numpy(cam)[..., 0]
        peak = cam.reshape(len(batch), -1).max(axis=1)
        maps.append(cam / np.maximum(peak, 1e-12)[:, None, None])
        classes.append(wanted)
    return np.concatenate(maps).astype("float32"), np.concatenate(classes)


def _feature_tensor(model, layer):
    if layer == "auto":
        tensor = graph.head_map(model)
        if tensor is None:
            raise ValueError(
                f"grad_cam found no 4-D map before the top of {model.name!r}; "
                "pass layer=<the name of a layer with a 4-D output>."
            )
        return tensor
    try:
        return model.get_layer(layer).output
    except ValueError:
        raise ValueError(
            f"layer must be 'auto' or a layer of {model.name!r}. Received: "
            f"layer={layer!r}"
        ) from None


def _gradient(function, x):
    """d function(x) / dx on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = function(x)
        return tape.gradient(value, x)
    if backend == "jax":
        import jax

        return jax.grad(function)(x)
    if backend == "torch":
        x = x.detach().requires_grad_(True)
        function(x).backward()
        return x.grad
    raise ValueError(f"grad_cam does not support the {backend!r} backend")
