"""`GroupedConv2D`: a grouped Conv2D every backend and exporter runs.

Keras' TensorFlow backend runs a grouped `Conv2D` on a CPU only inside an
XLA function, which tf2onnx cannot read; `_kernels.grouped_conv2d` computes
the same convolution from the same kernel in a form that exports (see
there). ResNeXt networks hold one in every block.
"""

from typing import Any

import keras

from keras_chattn.layers import _kernels


@keras.saving.register_keras_serializable(package="keras_chattn")
class GroupedConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with `groups > 1`, "valid" padding.

    The same weights, arguments and outputs as `keras.layers.Conv2D`; on a
    channels_last map the convolution runs as `_kernels.grouped_conv2d`
    (pad the input first for "same" outputs).

    Examples:

        >>> import numpy as np
        >>> import keras
        >>> from keras_chattn.models.grouped_convolution import GroupedConv2D
        >>> x = np.random.default_rng(0).random((1, 6, 6, 8), "float32")
        >>> ours = GroupedConv2D(8, 3, groups=4)
        >>> theirs = keras.layers.Conv2D(8, 3, groups=4)
        >>> _ = ours(x), theirs(x)
        >>> theirs.set_weights(ours.get_weights())
        >>> bool(np.allclose(ours(x), theirs(x), atol=1e-5))
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.padding != "valid":
            raise ValueError(
                "GroupedConv2D computes 'valid' convolutions; pad the input "
                f"for others. Received: padding={self.padding!r}"
            )

    def call(self, inputs):
        if self.groups == 1 or self.data_format != "channels_last":
            return super().call(inputs)
        outputs = _kernels.grouped_conv2d(self, inputs)
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs
