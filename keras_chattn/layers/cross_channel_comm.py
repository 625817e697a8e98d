"""Cross-channel communication (C3) block.

Reference: Yang, Ren, Zhang, Lu, Xie, Zhang and Parikh, "Cross-Channel
Communication Networks", NeurIPS 2019 (poster: feature encoder, message
passing, feature decoder, residual). Public research code: jwyang/C3Net.pytorch
(read, not copied; this layer follows the poster's equations).
"""

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_chattn.layers import _kernels
from keras_chattn.layers import maps
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

# Added to the self-affinity when a channel must not message itself; finite,
# so that a single channel gives a defined (then zeroed) softmax.
_EXCLUDED = -1e9
# The largest working map (positions) of the encoder and decoder: 128 x
# 128, whose four Dense layers hold 4 * 16,384 * 2,048 weights at k = 8.
MAX_AREA = 16384


def _check_spatial_size(value):
    """None, an int (the same size on every spatial axis) or a tuple of one
    positive int per spatial axis ((height, width) for images)."""
    if value is None:
        return None
    try:
        if not isinstance(value, (list, tuple)):
            return validation.positive_int(
                "spatial_size", value, validation.MAX_SIZE
            )
        if not 1 <= len(value) <= 3:
            raise ValueError
        return tuple(
            validation.positive_int("spatial_size", v, validation.MAX_SIZE)
            for v in value
        )
    except ValueError:
        raise ValueError(
            "spatial_size must be None, a positive int or a tuple of positive "
            "ints, one per spatial axis ((height, width) for images, "
            f"(length,) for sequences), each at most {validation.MAX_SIZE:,}. "
            f"Received: spatial_size={value!r}"
        ) from None


@keras.saving.register_keras_serializable(package="keras_chattn")
class CrossChannelComm(AttentionLayer):
    """Cross-channel communication: channels exchange encoded feature maps.

    For an input with C channels of size (H, W), at a working size
    (h', w') = `spatial_size` (nearest-neighbour resize in and back out when
    it differs from (H, W)), each channel's map is flattened to A = h' * w'
    values x_i and:

    1. encoded by a bottleneck shared by all channels:
       z_i = Dense_A(act(Dense_{A / reduction}(x_i)));
    2. summarised by its mean v_i = mean_k z_i[k]; affinities
       s_ij = -(v_i - v_j)^2 and a_ij = softmax_j(s_ij) over j != i (or over
       all j with `include_self=True`, as the reference code does), and
       with `softmax_group_size=m` only over the j in i's group (the
       reference code splits C > m channels into C // m groups of
       consecutive channels, m = 512);
    3. sent as messages zbar_i = sum_j a_ij z_j;
    4. decoded by a second shared bottleneck, back to (H, W);
    5. added to the input: y = output_activation(x + decoded).

    `communication=False` skips 2-3 and `encoder_decoder=False` skips 1 and 4
    (the poster's ablation). The weights do not depend on C:
    2 * (2 * A * (A / r) + A / r + A), e.g. 33,344 for A = 16 * 16, r = 8
    (A / r is rounded down, and is at least 1 on maps smaller than r).
    Means and the softmax run in float32 under mixed precision. With a single
    channel (in its group) and `include_self=False` there is no one to talk
    to: the message is zero.

    The defaults are the poster's equations. The code that produced the
    poster's tables (jwyang/C3Net.pytorch) differs in two ways, both
    available here: a channel's own map enters its message
    (`include_self=True`), and over 512 channels the softmax runs within
    groups of 512 (`softmax_group_size=512`), which matters only where a
    block sees 1024 channels or more (the last stage input of the ImageNet
    ResNet-50/101, never the CIFAR ResNets or Wide-ResNet).

    Args:
        spatial_size: None (work at the input's own size, which must then be
            static), an int (that size on every spatial axis) or a tuple of
            one size per spatial axis: a (height, width) pair for images,
            `(length,)` for sequences, (depth, height, width) for volumes.
            With a size set, the input's spatial sizes may be unknown.
        reduction: positive int, bottleneck ratio k (the poster: 8). Defaults
            to `8`.
        include_self: bool, whether a channel's own map enters its message.
            Defaults to `False` (the poster's sum over j != i).
        softmax_group_size: None (every channel hears every other, the
            poster) or a positive int m: with C > m channels, they are split
            into C // m groups of consecutive channels (C must divide
            evenly) and a channel hears only its group, as the reference
            code's `nblocks_channel` does with m = 512. Needs a known
            channel count. Defaults to `None`.
        communication: bool, message passing (steps 2-3). Defaults to `True`.
        encoder_decoder: bool, the two bottlenecks (steps 1 and 4). Defaults
            to `True`.
        activation: activation inside both bottlenecks. Defaults to `"relu"`.
        output_activation: activation after the residual addition (the
            reference code's ReLU); None for none. Defaults to `"relu"`.
        kernel_initializer: initializer of the four Dense kernels. Defaults
            to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the Dense kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor: a channel's working map is
            flattened to A values whatever its rank (A = length of a
            sequence, d * h * w of a volume).

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`; sequences
        `(batch, length, channels)` and volumes
        `(batch, depth, height, width, channels)` likewise.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.CrossChannelComm(spatial_size=16)
        >>> y = layer(np.random.rand(2, 32, 32, 16).astype("float32"))
        >>> tuple(y.shape), layer.count_params()
        ((2, 32, 32, 16), 33344)

    Reference:
        Yang et al., "Cross-Channel Communication Networks", NeurIPS 2019.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        spatial_size: int | Sequence[int] | None = None,
        reduction: int = 8,
        include_self: bool = False,
        softmax_group_size: int | None = None,
        communication: bool = True,
        encoder_decoder: bool = True,
        activation: ActivationLike = "relu",
        output_activation: ActivationLike = "relu",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.spatial_size = _check_spatial_size(spatial_size)
        self.reduction = validation.positive_int("reduction", reduction)
        self.include_self = validation.boolean("include_self", include_self)
        self.softmax_group_size = (
            None
            if softmax_group_size is None
            else validation.positive_int(
                "softmax_group_size", softmax_group_size
            )
        )
        self.communication = validation.boolean("communication", communication)
        self.encoder_decoder = validation.boolean(
            "encoder_decoder", encoder_decoder
        )
        if not (communication or encoder_decoder):
            raise ValueError(
                "CrossChannelComm with communication=False and "
                "encoder_decoder=False would only add the input to itself; "
                "keep at least one of them True."
            )
        self.activation = validation.activation("activation", activation)
        self.output_activation = validation.activation(
            "output_activation", output_activation
        )
        self.kernel_initializer = validation.initializer_instance(
            "kernel_initializer", kernel_initializer
        )
        self.kernel_regularizer = validation.regularizer(
            "kernel_regularizer", kernel_regularizer
        )

    def working_size(self, input_shape):
        """(h', w') (one size per spatial axis): `spatial_size`, or the
        input's static size."""
        dims = len(input_shape) - 2
        if self.spatial_size is None:
            return self.spatial_extent(input_shape)
        if isinstance(self.spatial_size, int):
            return (self.spatial_size,) * dims
        if len(self.spatial_size) != dims:
            raise ValueError(
                f"CrossChannelComm's spatial_size={self.spatial_size} has "
                f"{len(self.spatial_size)} sizes, and the input has {dims} "
                f"spatial axes {self.axes_description}: pass one size per "
                f"axis, or an int. Received: input_shape={tuple(input_shape)}"
            )
        return self.spatial_size

    def _area(self, size):
        return maps._area(size)

    def build(self, input_shape):
        input_shape = self.fix_rank(input_shape)
        if self.spatial_size is None:
            size = self.spatial_extent(input_shape)
            if None in size:
                raise ValueError(
                    "CrossChannelComm works on flattened maps of a fixed "
                    "size, and spatial_size=None means the input's own size, "
                    "which is unknown here. Pass spatial_size=(h, w) to work "
                    "at that size (the input is resized to it and back). "
                    f"Received: input_shape={input_shape}"
                )
        self.channel_groups = self._channel_groups(input_shape)
        # Fixed at build (the Dense layers are sized for it): later inputs of
        # another size are resized to it and back.
        self.built_working_size = tuple(self.working_size(input_shape))
        area = self._area(self.built_working_size)
        if self.encoder_decoder and area > MAX_AREA:
            raise ValueError(
                f"CrossChannelComm's encoder and decoder are Dense layers "
                f"over the flattened working map: {area:,} positions "
                f"({'x'.join(map(str, self.built_working_size))}) would "
                f"need {4 * area * self._units(area):,} weights; the limit "
                f"is {MAX_AREA:,} positions. Pass a smaller spatial_size "
                f"(the map is resized to it and back). Received: "
                f"input_shape={input_shape}, "
                f"spatial_size={self.spatial_size!r}"
            )
        units = self._units(area)
        if self.encoder_decoder:
            # Applied to (batch, C, A) rows: one Dense shared by all channels.
            act = self.activation
            self.encoder_in = built_dense(
                self, units, (None, area), "encoder_in", act
            )
            self.encoder_out = built_dense(
                self, area, (None, units), "encoder_out"
            )
            self.decoder_in = built_dense(
                self, units, (None, area), "decoder_in", act
            )
            self.decoder_out = built_dense(
                self, area, (None, units), "decoder_out"
            )

    def _channel_groups(self, input_shape):
        """Number of softmax groups (1 unless `softmax_group_size` splits)."""
        if self.softmax_group_size is None:
            return 1
        channels = self.input_channels(
            input_shape,
            f"to form softmax_group_size={self.softmax_group_size} groups",
        )
        groups = max(channels // self.softmax_group_size, 1)
        if channels % groups:
            raise ValueError(
                f"softmax_group_size={self.softmax_group_size} splits "
                f"{channels} channels into {groups} groups, which needs a "
                f"channel count divisible by {groups}. "
                f"Received: input_shape={input_shape}"
            )
        return groups

    def _units(self, area):
        """Bottleneck width A // reduction, at least 1 (tiny late maps)."""
        return max(area // self.reduction, 1)

    def _hearing_mask(self, channels):
        """(C, C) float32, 1 where channel i hears channel j, else 0."""
        mask = None
        if self.channel_groups > 1:
            size = channels // self.channel_groups
            group = ops.arange(channels) // size
            mask = ops.cast(
                ops.expand_dims(group, -1) == ops.expand_dims(group, 0),
                "float32",
            )
        if not self.include_self:
            others = 1.0 - ops.eye(channels, dtype="float32")
            mask = others if mask is None else mask * others
        return mask

    def _messages(self, z):
        """(zbar_i = sum_j a_ij z_j, the affinity a), in float32, cast back."""
        alone = z.shape[1] == self.channel_groups  # one channel per group
        if not self.include_self and alone:
            # A single channel has no one to hear.
            channels = ops.shape(z)[1]
            none = ops.zeros((ops.shape(z)[0], channels, channels))
            return ops.zeros_like(z), none
        z32 = ops.cast(z, "float32")
        means = ops.mean(z32, axis=-1)  # (batch, C)
        channels = ops.shape(means)[-1]
        mask = self._hearing_mask(channels)
        # Excluded pairs get a score of -1e9, whose exp is exactly 0 in
        # float32. With a known channel count every channel hears at least
        # one other (a group of one returned above): no row is all
        # excluded, and the softmax needs no masking afterwards.
        excluded = (
            ops.zeros((channels, channels)) if mask is None
            else (1.0 - mask) * _EXCLUDED
        )  # fmt: skip
        affinity = _kernels.neighbour_affinity(means, excluded)
        if mask is not None and z.shape[1] is None:
            # A single channel, known only at run time, hears no one.
            affinity = affinity * mask
        messages = ops.matmul(affinity, z32)
        return ops.cast(messages, self.compute_dtype), affinity

    def attend(self, inputs, training=None):
        size = self.built_working_size
        rows = maps.to_channel_rows(inputs, size, self.data_format)
        attention = {}
        if self.encoder_decoder:
            rows = self.encoder_out(self.encoder_in(rows))
        if self.communication:
            rows, attention["affinity"] = self._messages(rows)
        if self.encoder_decoder:
            rows = self.decoder_out(self.decoder_in(rows))
        decoded = maps.from_channel_rows(rows, size, inputs, self.data_format)
        attention["decoded"] = self.channels_last(decoded)
        return self.output_activation(inputs + decoded), attention

    def get_config(self):
        spatial_size = self.spatial_size
        if isinstance(spatial_size, tuple):
            spatial_size = list(spatial_size)
        return {
            **super().get_config(),
            "spatial_size": spatial_size,
            "reduction": self.reduction,
            "include_self": self.include_self,
            "softmax_group_size": self.softmax_group_size,
            "communication": self.communication,
            "encoder_decoder": self.encoder_decoder,
            "activation": keras.activations.serialize(self.activation),
            "output_activation": keras.activations.serialize(
                self.output_activation
            ),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
