"""Where an attention block goes in a network: decided once, here.

A builder turns its `attention=` argument into one `AttentionSpec` per stage
with `resolve_attention` and then asks each spec, at each place of the
network, whether the block goes there (`spec.goes("branch")`) and for a new
layer (`spec.apply(x, name)`). Where a block goes is read from
`keras_chattn.models.block_table` (one entry per block class; a new kind of
place is one new entry of `PLACEMENTS` and one new `if spec.goes(...)` in
the builders that have such a place).
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.layers.registry import create_attention
from keras_chattn.layers.registry import get_attention
from keras_chattn.models import positions
from keras_chattn.models.block_table import SCALES
from keras_chattn.models.block_table import declared_by
from keras_chattn.models.block_table import placement_of
from keras_chattn.utils import validation
from keras_chattn.utils.types import AttentionLike

# Keyword arguments of a block that replaces a convolution that only the
# builder may set (they are the convolution's).
CONV_ARGUMENTS = ("filters", "strides")


@dataclasses.dataclass(frozen=True)
class AttentionSpec:
    """A resolved attention block: what to build and where it goes.

    Attributes:
        factory: a Layer class or a callable returning a new layer.
        placement: one of `PLACEMENTS`.
        takes_features: whether the block is called on the list of its
            block's convolution outputs instead of one map.
        kwargs: the user's `attention_kwargs`, given to every block (they
            override the position's own arguments).
        scale: the network's scale, `"imagenet"` or `"cifar"`, for the
            block's position arguments.
        position: where in a residual block, one of
            `keras_chattn.models.positions.POSITIONS`.
        every: the block goes in every `every`-th residual block of a
            stage, counting the first.
    """

    factory: Callable[..., Any]
    placement: str = "branch"
    takes_features: bool = False
    kwargs: dict = dataclasses.field(default_factory=dict)
    scale: str = "imagenet"
    position: str = "standard"
    every: int = 1

    def goes(self, placement):
        """Whether this block goes at a place of kind `placement` (a block
        moved to another position goes only there: `at`)."""
        return self.placement == placement and self.position == "standard"

    def at(self, position):
        """Whether this block goes at `position`, one of the positions but
        `"standard"` (which `goes` answers, by kind of place)."""
        return position != "standard" and self.position == position

    def in_block(self, number):
        """Whether the `number`-th (from 1) residual block of a stage gets
        this block."""
        return (number - 1) % self.every == 0

    def position_kwargs(self, input_shape):
        """The block's arguments for this input (from its placement)."""
        declare = placement_of(self.factory).position_kwargs
        if declare is None:
            return {}
        data_format = keras.config.image_data_format()
        return dict(declare(tuple(input_shape), data_format, self.scale))

    def create(self, input_shape, name):
        """A new layer for an input of `input_shape`, named `name`."""
        kwargs = {**self.position_kwargs(input_shape), **self.kwargs}
        return self._new_layer(name, kwargs)

    def _new_layer(self, name, kwargs):
        """The factory's layer; an argument it does not take is named as
        one of `attention_kwargs` (Keras' own message names only the
        class)."""
        try:
            return create_attention(self.factory, name=name, **kwargs)
        except (TypeError, ValueError) as error:
            message = str(error)
            if not (
                "Unrecognized keyword argument" in message
                or "unexpected keyword argument" in message
            ):
                raise
            declared = declared_by(self.factory)
            raise ValueError(
                f"attention_kwargs holds arguments that "
                f"{getattr(declared, '__name__', declared)} does not take "
                f"({message}). Received: attention_kwargs={self.kwargs!r}"
            ) from None

    def apply_conv(self, x, filters, strides, name, conv_style=None):
        """A new block in place of a 3x3 convolution of `filters` and
        `strides` (a `"replace_conv"` block), with the network's BatchNorm
        settings and kernel initializer from `conv_style`."""
        declared = declared_by(self.factory)
        given = sorted(set(self.kwargs) & set(CONV_ARGUMENTS))
        if given:
            raise ValueError(
                f"{getattr(declared, '__name__', declared)} replaces a "
                f"convolution, whose {', '.join(given)} the model builder "
                "sets; leave them out of attention_kwargs. Received: "
                f"attention_kwargs={self.kwargs!r}"
            )
        data_format = keras.config.image_data_format()
        conv_kwargs = placement_of(self.factory).conv_kwargs
        kwargs = {"filters": filters, "strides": strides}
        if conv_kwargs is not None:
            kwargs = dict(
                conv_kwargs(tuple(x.shape), filters, strides, data_format)
            )
        if conv_style is not None:
            kwargs.update(
                batchnorm_momentum=conv_style.batchnorm_momentum,
                batchnorm_epsilon=conv_style.batchnorm_epsilon,
                kernel_initializer=conv_style.kernel_initializer,
            )
        kwargs.update(self.position_kwargs(x.shape))
        kwargs.update(self.kwargs)
        return self._new_layer(name, kwargs)(x)

    def apply(self, x, name, features=None):
        """Calls a new block on `x` (or on `features`, ending with `x`, for a
        block that takes its block's convolution outputs)."""
        layer = self.create(x.shape, name)
        if self.takes_features:
            return layer([*(features or []), x])
        return layer(x)


def attention_spec(
    attention: AttentionLike | AttentionSpec,
    attention_kwargs: dict[str, Any] | None = None,
    scale: str = "imagenet",
    position: str = "standard",
    every: int = 1,
) -> AttentionSpec | None:
    """One `AttentionSpec` (or None) for anything `get_attention` takes.

    An `AttentionSpec` is returned as it is, so block helpers can take
    either a spec resolved by their builder or a user's name or class.
    `position` and `every` are checked against the block (see
    `keras_chattn.models.positions`).

    Examples:

        >>> import functools
        >>> import keras_chattn
        >>> spec = attention_spec(
        ...     functools.partial(keras_chattn.CrossChannelComm, reduction=4)
        ... )
        >>> spec.placement
        'stage_input'
        >>> attention_spec("none") is None
        True
    """
    if isinstance(attention, AttentionSpec):
        if attention_kwargs or position != "standard" or every != 1:
            raise ValueError(
                "An AttentionSpec carries its own arguments, position and "
                "every; pass them to attention_spec instead. Received: "
                f"attention_kwargs={attention_kwargs!r}, "
                f"attention_position={position!r}, attention_every={every!r}"
            )
        return attention
    _check_kwargs(attention_kwargs)
    factory = get_attention(attention)
    if factory is None:
        if attention_kwargs:
            raise ValueError(
                "attention_kwargs are the attention block's arguments, and "
                "attention is None: there is no block to take them. "
                f"Received: attention={attention!r}, "
                f"attention_kwargs={attention_kwargs!r}"
            )
        return None
    validation.choice("scale", scale, SCALES)
    entry = placement_of(factory)
    declared = declared_by(factory)
    block_name = getattr(declared, "__name__", repr(declared))
    return AttentionSpec(
        factory=factory,
        placement=entry.kind,
        takes_features=entry.takes_features,
        kwargs=dict(attention_kwargs or {}),
        scale=scale,
        position=positions.check_position(position, entry, block_name),
        every=positions.check_every(every, entry, block_name),
    )


def _check_kwargs(attention_kwargs):
    if attention_kwargs is None:
        return
    if not isinstance(attention_kwargs, dict) or not all(
        isinstance(key, str) for key in attention_kwargs
    ):
        raise ValueError(
            "attention_kwargs must be a dict of keyword arguments for the "
            f"attention block, or None. Received: attention_kwargs="
            f"{attention_kwargs!r}"
        )


def resolve_attention(
    attention,
    attention_kwargs,
    num_stages,
    scale,
    position="standard",
    every=1,
):
    """One `AttentionSpec` (or None) per stage of a network.

    Args:
        attention: anything `keras_chattn.get_attention` takes, or a list or
            tuple with one such entry per stage (None skips a stage).
        attention_kwargs: keyword arguments of every block, None, or a list
            or tuple with one dict (or None) per stage.
        num_stages: how many stages the network has.
        scale: `"imagenet"` or `"cifar"`.
        position: a position of `keras_chattn.models.positions.POSITIONS`,
            or a list with one per stage.
        every: a positive int (blocks in every k-th residual block of a
            stage), or a list with one per stage.

    Examples:

        >>> specs = resolve_attention(
        ...     [None, "se", "cbam"], [None, {"reduction": 4}, None], 3,
        ...     "cifar", position=["standard", "post", "pre"], every=2,
        ... )
        >>> specs[0] is None, specs[1].kwargs, specs[2].position
        (True, {'reduction': 4}, 'pre')
    """
    blocks = positions.per_stage(
        "attention",
        attention,
        num_stages,
        lambda value: not isinstance(value, (list, tuple)),
    )
    kwargs = positions.per_stage(
        "attention_kwargs",
        attention_kwargs,
        num_stages,
        positions.is_single_kwargs,
        "a dict of keyword arguments of the attention block, None, or a "
        "list with one (dict or None) per stage",
    )
    places = positions.per_stage(
        "attention_position", position, num_stages, positions.is_single_position
    )
    everies = positions.per_stage(
        "attention_every", every, num_stages, positions.is_single_every
    )
    if all(_no_block(block) for block in blocks):
        for arguments in kwargs:
            attention_spec(None, arguments)  # refuses kwargs without a block
    specs = []
    for stage, (block, arguments, place, count) in enumerate(
        zip(blocks, kwargs, places, everies, strict=True)
    ):
        _check_kwargs(arguments)
        if _no_block(block):
            if arguments and not positions.is_single_kwargs(attention_kwargs):
                raise ValueError(
                    f"attention_kwargs for stage {stage + 1} are the "
                    "attention block's arguments, and that stage has no "
                    f"block. Received: attention={attention!r}, "
                    f"attention_kwargs={attention_kwargs!r}"
                )
            positions.check_name(place)
            positions.check_every(count, None, "no block")
            specs.append(None)
            continue
        specs.append(attention_spec(block, arguments, scale, place, count))
    return specs


def _no_block(attention):
    return not isinstance(attention, AttentionSpec) and (
        get_attention(attention) is None
    )


def goes(spec, placement):
    """Whether `spec` (an `AttentionSpec` or None) goes at `placement`."""
    return spec is not None and spec.goes(placement)


def end_stage(x, spec, prefix, last):
    """A `"stage_output"` block (BAM) at the output of a stage but the
    last (`{prefix}_out_attention`); `x` unchanged otherwise."""
    if goes(spec, "stage_output") and not last:
        return spec.apply(x, f"{prefix}_out_attention")
    return x


def end_network(x, spec):
    """A `"head"` block (DANet) after the last stage (`head_attention`);
    `x` unchanged otherwise."""
    if goes(spec, "head"):
        return spec.apply(x, "head_attention")
    return x


def refuse_replace_conv(specs, attention, model_name, form):
    """Raises if a `"replace_conv"` block (selective kernel, 2-D only) is
    asked for in a network of another rank (`form`: "1-D", "3-D")."""
    for spec in specs:
        if goes(spec, "replace_conv"):
            declared = declared_by(spec.factory)
            raise ValueError(
                f"{model_name}: {getattr(declared, '__name__', declared)} "
                f"replaces a 2-D convolution and has no {form} form; pick a "
                f"block that takes {form} maps (see docs/layers.md). "
                f"Received: attention={attention!r}"
            )
