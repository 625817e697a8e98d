"""How a network makes its convolutions and BatchNorms: one value, one place.

`ConvStyle` holds the four settings that differ between keras.applications
(biases, Glorot initialisation, BatchNorm momentum 0.99) and the papers'
reference code (no biases, He initialisation, PyTorch's BatchNorm), and makes
the `Conv2D` + `BatchNormalization` pairs every builder and block helper
uses, so the settings reach every layer without being threaded one by one.
"""

import dataclasses
import functools
from typing import Any

import keras

from keras_chattn.layers.sublayers import clone_initializer
from keras_chattn.layers.sublayers import convolution_for
from keras_chattn.models.grouped_convolution import GroupedConv2D
from keras_chattn.utils import layout
from keras_chattn.utils import validation


@dataclasses.dataclass(frozen=True)
class ConvStyle:
    """Settings of every convolution and BatchNorm of a network.

    The defaults are keras.applications' (`ResNet50`'s layers exactly).

    Attributes:
        conv_bias: biases in the convolutions.
        kernel_initializer: initializer of every convolution kernel (each
            convolution gets its own instance).
        batchnorm_momentum: Keras momentum of every BatchNorm (PyTorch's
            momentum m is Keras' 1 - m).
        batchnorm_epsilon: epsilon of every BatchNorm.
        spatial_dims: 2 (Conv2D, images), 1 (Conv1D, sequences) or 3
            (Conv3D, volumes).
        symmetric_padding: pad strided convolutions by `kernel_size // 2`
            on both sides (a `ZeroPadding` layer `{name}_pad`, then "valid"),
            as PyTorch does; Keras' "same" pads one side more when the
            input size is even. For weights moved from PyTorch.

    Examples:

        >>> import keras
        >>> from keras_chattn.models.conv_style import ConvStyle
        >>> style = ConvStyle.checked(conv_bias=False, batchnorm_momentum=0.9)
        >>> y = style.conv_bn(keras.Input((8, 8, 3)), 16, 3, 1, "conv1")
        >>> tuple(y.shape)
        (None, 8, 8, 16)
    """

    conv_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    batchnorm_momentum: float = 0.99
    batchnorm_epsilon: float = 1.001e-5
    spatial_dims: int = 2
    symmetric_padding: bool = False

    @classmethod
    def checked(
        cls,
        conv_bias=True,
        kernel_initializer="glorot_uniform",
        batchnorm_momentum=0.99,
        batchnorm_epsilon=1.001e-5,
    ):
        """A `ConvStyle` from a builder's arguments, each one checked."""
        return cls(
            conv_bias=validation.boolean("conv_bias", conv_bias),
            kernel_initializer=validation.initializer(
                "kernel_initializer", kernel_initializer
            ),
            batchnorm_momentum=validation.number_in_range(
                "batchnorm_momentum", batchnorm_momentum, 0.0, 1.0
            ),
            batchnorm_epsilon=validation.number_in_range(
                "batchnorm_epsilon", batchnorm_epsilon, 0.0, None
            ),
        )

    def conv(
        self, x, filters, kernel_size, stride, name, padding=None, groups=1
    ):
        """Conv2D `name` (Conv1D or Conv3D for other `spatial_dims`;
        "same" padding unless 1x1 or `padding` given)."""
        if padding is None:
            padding = "same" if kernel_size > 1 else "valid"
        symmetric = self.symmetric_padding and stride != 1
        if padding == "same" and (symmetric or groups > 1):
            x = pad_both_sides(x, kernel_size // 2, f"{name}_pad")
            padding = "valid"
        if groups > 1 and self.spatial_dims == 2:
            make = GroupedConv2D
        else:
            make = functools.partial(convolution_for, self.spatial_dims + 2)
        return make(
            filters,
            kernel_size,
            strides=stride,
            padding=padding,
            groups=groups,
            use_bias=self.conv_bias,
            kernel_initializer=clone_initializer(
                keras.initializers.get(self.kernel_initializer)
            ),
            # Networks follow Keras' global data format (blocks compute in
            # channels_last, convolution_for's default).
            data_format=layout.image_data_format(),
            name=name,
        )(x)

    def batchnorm(self, x, name):
        """BatchNormalization `name` over the channel axis."""
        return keras.layers.BatchNormalization(
            axis=layout.channel_axis(layout.image_data_format()),
            epsilon=self.batchnorm_epsilon,
            momentum=self.batchnorm_momentum,
            name=name,
        )(x)

    def conv_bn(self, x, filters, kernel_size, stride, name, groups=1):
        """Conv2D `{name}_conv` then BatchNormalization `{name}_bn`."""
        x = self.conv(
            x, filters, kernel_size, stride, f"{name}_conv", groups=groups
        )
        return self.batchnorm(x, f"{name}_bn")


PADDINGS = {
    1: keras.layers.ZeroPadding1D,
    2: keras.layers.ZeroPadding2D,
    3: keras.layers.ZeroPadding3D,
}


def pad_both_sides(x, amount, name):
    """`amount` zeros on both sides of every spatial axis (PyTorch's
    convolution and pooling padding)."""
    spatial_dims = len(x.shape) - 2
    return PADDINGS[spatial_dims](
        amount, data_format=layout.image_data_format(), name=name
    )(x)
