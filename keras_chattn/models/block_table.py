"""Where builders and `add_attention` put each block, and what it needs.

Layers know their maths only; this table (timm's `create_attn` idea: the
models decide placement) says for each registered block class:

- `kind`, one of `PLACEMENTS`:
  - `"branch"` (SE, CBAM, ...): every residual branch, after its last
    BatchNorm and before the addition; after every convolution of a plain
    network;
  - `"stage_input"` (C3): once at the input of every stage; in a plain
    network's first stage after the first convolution, never on the image;
  - `"after_3x3"` (SimAM): in every residual block right after its (last)
    3x3 convolution, before that convolution's BatchNorm; after every
    convolution of a plain network;
  - `"replace_conv"` (selective kernel, split attention): the block is
    the convolution: it replaces each residual block's 3x3 convolution
    (the bottleneck's middle one, a basic block's first, strided one)
    with its BatchNorm and ReLU, and every 3x3 convolution of a plain
    network but the first;
  - `"stage_output"` (BAM): once at the output of every stage but the
    last, between stages;
  - `"head"` (DANet): once, after the last stage, before the top;
- `takes_features`: the block is called on the list of its residual
  block's (or plain stage's) convolution outputs, ending with the map it
  recalibrates (BA-Net);
- `position_kwargs(input_shape, data_format, scale)`: constructor
  arguments that depend on where it sits (C3's working size, SimAM's
  lambda for the network's scale, `"imagenet"` or `"cifar"`);
- `conv_kwargs(input_shape, filters, strides, data_format)`: for a block
  that replaces a convolution, its arguments in that convolution's place.

A class not in the table (a user's block) is a `"branch"` block unless
registered with `register_placement` (or `keras_chattn.register_block`); a
subclass takes its nearest registered ancestor's entry.
"""

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

from keras_chattn.layers import BAM
from keras_chattn.layers import BridgeAttention
from keras_chattn.layers import CrossChannelComm
from keras_chattn.layers import DualAttention
from keras_chattn.layers import EfficientLocalAttention
from keras_chattn.layers import GatherExcite
from keras_chattn.layers import MultiSpectralAttention
from keras_chattn.layers import SelectiveKernel
from keras_chattn.layers import SimAM
from keras_chattn.layers import SpatialGroupEnhance
from keras_chattn.layers import SplitAttention
from keras_chattn.utils import layout
from keras_chattn.utils import validation

PLACEMENTS = (
    "branch",
    "stage_input",
    "after_3x3",
    "replace_conv",
    "stage_output",
    "head",
)
SCALES = ("imagenet", "cifar")
# SKNet-50's cardinality and the least group width of its 32x4d bottleneck.
SK_CARDINALITY = 32
SK_MIN_GROUP_WIDTH = 4


@dataclasses.dataclass(frozen=True)
class BlockPlacement:
    """Where a block goes and what it needs there (see the module)."""

    kind: str = "branch"
    takes_features: bool = False
    position_kwargs: Callable[..., dict[str, Any]] | None = None
    conv_kwargs: Callable[..., dict[str, Any]] | None = None

    def __post_init__(self):
        validation.choice("placement", self.kind, PLACEMENTS, ordered=True)
        validation.boolean("takes_features", self.takes_features)
        for name in ("position_kwargs", "conv_kwargs"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ValueError(
                    f"{name} must be None or a callable returning the "
                    f"block's arguments. Received: {name}={value!r}"
                )


def c3_working_size(input_shape, data_format, scale):
    """C3's working size at a stage input: half the input's size when that
    is above 8 (else the size itself), capped at 14 for ImageNet-scale
    networks; 14 (ImageNet) or 8 for an unknown size.

    This is this package's rule, not the reference code's (which has no cap
    and whose sizes differ between its versions; see docs/layers.md); the
    CIFAR ResNets get 16, 16 and 8, near the reference's 16x16.

    Examples:

        >>> c3_working_size((None, 32, 32, 16), "channels_last", "cifar")
        {'spatial_size': (16, 16)}
        >>> c3_working_size((None, 56, 56, 256), "channels_last", "imagenet")
        {'spatial_size': (14, 14)}
    """
    cap = 14 if scale == "imagenet" else None
    size = []
    for extent in layout.spatial_extent(input_shape, data_format):
        if extent is None:
            working = cap or 8
        else:
            working = extent // 2 if extent > 8 else extent
            working = min(working, cap) if cap else working
        size.append(working)
    return {"spatial_size": tuple(size)}


def simam_lambda(input_shape, data_format, scale):
    """SimAM's lambda as its authors trained: 0.1 on ImageNet, 1e-4 on
    CIFAR (their logs).

    Examples:

        >>> simam_lambda((None, 32, 32, 16), "channels_last", "cifar")
        {'e_lambda': 0.0001}
    """
    return {"e_lambda": 0.1 if scale == "imagenet" else 1e-4}


def sk_groups(in_channels, filters, cardinality=SK_CARDINALITY):
    """The groups a builder gives a selective kernel in a convolution's
    place: the largest divisor of gcd(in, out) that is at most
    `cardinality` and leaves at least 4 channels per group (SKNet-50's
    32x4d).

    Examples:

        >>> (sk_groups(128, 128), sk_groups(64, 64), sk_groups(16, 16))
        (32, 16, 4)
    """
    common = math.gcd(in_channels, filters)
    limit = max(1, min(cardinality, common // SK_MIN_GROUP_WIDTH))
    return max(g for g in range(1, limit + 1) if common % g == 0)


def sk_conv_kwargs(input_shape, filters, strides, data_format):
    """A selective kernel's arguments in place of a 3x3 convolution."""
    channels = input_shape[layout.channel_axis(data_format)]
    return {
        "filters": filters,
        "strides": strides,
        "groups": sk_groups(channels, filters),
    }


def splat_conv_kwargs(input_shape, filters, strides, data_format):
    """A split attention block's arguments in place of a 3x3 convolution
    (ResNeSt's radix 2, cardinality 1, average-pool strides)."""
    return {"filters": filters, "strides": strides}


def _largest_divisor(channels, limit, candidates=None):
    """The largest of `candidates` (default 1 .. limit) dividing
    `channels`."""
    candidates = candidates or range(1, limit + 1)
    return max(c for c in candidates if c <= limit and channels % c == 0)


def sge_groups(input_shape, data_format, scale):
    """SGE's groups: the authors' 64 where the channels allow, with at
    least 4 channels in a group (the authors' narrowest, 256 / 64); else
    the largest divisor of the channel count that keeps 4 per group.

    Examples:

        >>> sge_groups((None, 56, 56, 256), "channels_last", "imagenet")
        {'groups': 64}
        >>> sge_groups((None, 32, 32, 16), "channels_last", "cifar")
        {'groups': 4}
    """
    channels = input_shape[layout.channel_axis(data_format)]
    return {
        "groups": _largest_divisor(channels, min(64, max(1, channels // 4)))
    }


def ela_norm_groups(input_shape, data_format, scale):
    """ELA's GroupNorm groups: the authors' 16 where the channels allow,
    else the largest divisor of the channel count below 16.

    Examples:

        >>> ela_norm_groups((None, 28, 28, 512), "channels_last", "imagenet")
        {'norm_groups': 16}
        >>> ela_norm_groups((None, 28, 28, 24), "channels_last", "imagenet")
        {'norm_groups': 12}
    """
    channels = input_shape[layout.channel_axis(data_format)]
    return {"norm_groups": _largest_divisor(channels, 16)}


def ge_feature_size(input_shape, data_format, scale):
    """Gather-Excite's map size where it sits (the kernel of its
    parametric global gather), None where unknown.

    Examples:

        >>> ge_feature_size((None, 14, 14, 256), "channels_last", "imagenet")
        {'feature_size': (14, 14)}
    """
    sizes = layout.spatial_extent(input_shape, data_format)
    if len(sizes) != 2 or any(s is None for s in sizes):
        return {}
    return {"feature_size": tuple(sizes)}


def fca_grid(input_shape, data_format, scale):
    """FcaNet's DCT grid and frequencies where it sits: the map's size
    rounded down to a multiple of 7 (56, 28, 14, 7 in a ResNet at 224, the
    authors' grids; 28, 14, 7 in a CIFAR ResNet), 7 for an unknown size;
    the authors' 16 `"top"` frequencies where the channels split in 16,
    else the most of 8, 4, 2, 1 that split them.

    Examples:

        >>> fca_grid((None, 56, 56, 256), "channels_last", "imagenet")
        {'dct_size': (56, 56), 'frequencies': 'top16'}
        >>> fca_grid((None, 8, 8, 24), "channels_last", "cifar")
        {'dct_size': (7, 7), 'frequencies': 'top8'}
    """
    sizes = layout.spatial_extent(input_shape, data_format)
    if len(sizes) != 2:
        return {}  # the block refuses the rank, saying why
    grid = tuple(min(224, 7 * max(1, (s or 7) // 7)) for s in sizes)
    channels = input_shape[layout.channel_axis(data_format)]
    count = _largest_divisor(channels, 16, (1, 2, 4, 8, 16))
    return {"dct_size": grid, "frequencies": f"top{count}"}


BLOCK_PLACEMENTS = {
    CrossChannelComm: BlockPlacement(
        "stage_input", position_kwargs=c3_working_size
    ),
    SimAM: BlockPlacement("after_3x3", position_kwargs=simam_lambda),
    SelectiveKernel: BlockPlacement("replace_conv", conv_kwargs=sk_conv_kwargs),
    SplitAttention: BlockPlacement(
        "replace_conv", conv_kwargs=splat_conv_kwargs
    ),
    BAM: BlockPlacement("stage_output"),
    DualAttention: BlockPlacement("head"),
    BridgeAttention: BlockPlacement(takes_features=True),
    SpatialGroupEnhance: BlockPlacement(position_kwargs=sge_groups),
    EfficientLocalAttention: BlockPlacement(position_kwargs=ela_norm_groups),
    MultiSpectralAttention: BlockPlacement(position_kwargs=fca_grid),
    GatherExcite: BlockPlacement(position_kwargs=ge_feature_size),
}


def declared_by(factory):
    """The class (or plain callable) behind `factory`, nested partials
    unwrapped.

    Examples:

        >>> import functools
        >>> import keras_chattn
        >>> c3 = functools.partial(keras_chattn.CrossChannelComm, reduction=4)
        >>> declared_by(c3).__name__
        'CrossChannelComm'
    """
    while isinstance(factory, functools.partial):
        factory = factory.func
    return factory


def placement_of(factory):
    """The `BlockPlacement` of a block class or factory: its own entry (a
    registered partial or function), else that of the class behind it or
    of its nearest registered ancestor, else a plain branch block."""
    candidates = [factory]
    while isinstance(candidates[-1], functools.partial):
        candidates.append(candidates[-1].func)
    candidates.extend(getattr(candidates[-1], "__mro__", ())[1:])
    for candidate in candidates:
        try:
            if candidate in BLOCK_PLACEMENTS:
                return BLOCK_PLACEMENTS[candidate]
        except TypeError:  # an unhashable callable
            continue
    return BlockPlacement()


def register_placement(
    block: Callable[..., Any],
    placement: str = "branch",
    takes_features: bool = False,
    position_kwargs: Callable[..., dict[str, Any]] | None = None,
    conv_kwargs: Callable[..., dict[str, Any]] | None = None,
) -> BlockPlacement:
    """Tells the builders and `add_attention` where `block` goes.

    Args:
        block: a Layer class or a callable returning a new layer.
        placement: one of `PLACEMENTS`. Defaults to `"branch"`.
        takes_features: the block is called on its residual block's
            convolution outputs. Defaults to False.
        position_kwargs: optional `(input_shape, data_format, scale) ->
            dict` of arguments that depend on where it sits.
        conv_kwargs: optional `(input_shape, filters, strides, data_format)
            -> dict`, for a `"replace_conv"` block.

    Returns:
        The recorded `BlockPlacement`.

    Examples:

        >>> import keras_chattn
        >>> from keras_chattn.models import block_table
        >>> class StageSE(keras_chattn.SqueezeExcite):
        ...     pass
        >>> block_table.register_placement(StageSE, "stage_input").kind
        'stage_input'
        >>> model = keras_chattn.models.cifar_resnet(8, attention=StageSE)
        >>> [l.name for l in model.layers if l.name.endswith("attention")]
        ['conv2_attention', 'conv3_attention', 'conv4_attention']
    """
    if not callable(block):
        raise ValueError(
            "block must be a Layer class or a callable returning a new "
            f"layer. Received: block={block!r}"
        )
    entry = BlockPlacement(
        placement, takes_features, position_kwargs, conv_kwargs
    )
    BLOCK_PLACEMENTS[block] = entry
    return entry
