"""Where inside a residual block a block goes, and in which blocks.

A block that works on one map (a `"branch"` block such as SE or CBAM, and
SimAM) can sit at six positions of a residual block (the SE paper's Table
14 and mmdetection's plugin names):

- `"standard"`: its own place (a branch block after the last convolution
  and its BatchNorm, before the addition; SimAM after the last 3x3
  convolution, before its BatchNorm);
- `"pre"`: on the block's input, at the start of the residual branch (the
  shortcut takes the input unchanged): SE-PRE;
- `"post"`: after the addition and its activation: SE-POST;
- `"identity"`: on the shortcut, after its projection where it has one,
  in parallel with the residual branch: SE-Identity;
- `"after_conv1"`, `"after_conv2"`: inside the residual branch, after the
  first (second) convolution, its BatchNorm and ReLU (mmdetection's
  `after_conv1/2`); a basic block has no `"after_conv2"` (its second
  convolution's place is the standard one).

Blocks placed elsewhere (C3 at stage inputs, BAM between stages, DANet
after the last stage, a selective kernel in a convolution's place, BA-Net
on its block's maps) take only `"standard"`. `every=k` puts blocks in the
1st, (k+1)-th, (2k+1)-th ... residual block of each stage.
"""

from collections.abc import Sequence
from typing import Any

POSITIONS = (
    "standard",
    "pre",
    "post",
    "identity",
    "after_conv1",
    "after_conv2",
)
# The positions each form of block has (a plain network has no residual
# branch: its blocks follow convolutions).
FORM_POSITIONS = {
    "bottleneck": POSITIONS,
    "sequence": POSITIONS,
    "basic": POSITIONS[:-1],
    "plain": POSITIONS[:1],
}
# Block kinds placed in every residual block (the others once per stage).
PER_BLOCK = ("branch", "after_3x3", "replace_conv")
# Block kinds that work on one map and so can move inside the block.
MOVABLE = ("branch", "after_3x3")


def positions_of(entry):
    """The positions a block with this `BlockPlacement` takes.

    Examples:

        >>> from keras_chattn.models.block_table import BlockPlacement
        >>> positions_of(BlockPlacement("stage_output"))
        ('standard',)
        >>> len(positions_of(BlockPlacement("branch")))
        6
    """
    if entry.kind in MOVABLE and not entry.takes_features:
        return POSITIONS
    return POSITIONS[:1]


def check_name(position):
    """`position`, if it is one of `POSITIONS`."""
    if not isinstance(position, str) or position not in POSITIONS:
        raise ValueError(
            f"attention_position must be one of {list(POSITIONS)}. "
            f"Received: attention_position={position!r}"
        )
    return position


def check_position(position, entry, block_name):
    """`position`, refused (naming what the block takes) where the block
    with `BlockPlacement` `entry` cannot go there."""
    check_name(position)
    allowed = positions_of(entry)
    if position not in allowed:
        where = (
            "takes its residual block's maps"
            if entry.takes_features
            else f"has its own place ({entry.kind!r})"
        )
        raise ValueError(
            f"attention_position={position!r} does not apply to "
            f"{block_name}, which {where}; it takes only {list(allowed)}. "
            f"Received: attention_position={position!r}"
        )
    return position


def check_every(every, entry, block_name):
    """`every`, a positive int; only 1 for a block placed once per stage
    (`entry` None: no block, any positive int)."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(
            "attention_every must be a positive int (a block in every k-th "
            f"residual block of a stage). Received: attention_every={every!r}"
        )
    if every != 1 and entry is not None and entry.kind not in PER_BLOCK:
        raise ValueError(
            f"attention_every={every} does not apply to {block_name}, which "
            f"goes once per stage ({entry.kind!r}); it takes only 1. "
            f"Received: attention_every={every!r}"
        )
    return every


def check_form(position, form, helper):
    """Refuses a position that a block of `form` does not have."""
    allowed = FORM_POSITIONS[form]
    if position not in allowed:
        raise ValueError(
            f"attention_position={position!r} does not exist in {helper} "
            f"(a {form} block); it has {list(allowed)}. "
            f"Received: attention_position={position!r}"
        )


def per_stage(argument, value, num_stages, is_single, expected=None):
    """`value` as one entry per stage: a single value repeated, or a list
    or tuple with one entry per stage (`is_single(value)` tells which);
    `expected` says what the argument must be."""
    if is_single(value):
        return [value] * num_stages
    if not isinstance(value, (list, tuple)):
        expected = expected or "one value or a list with one per stage"
        raise ValueError(
            f"{argument} must be {expected}. Received: {argument}={value!r}"
        )
    if len(value) != num_stages:
        raise ValueError(
            f"A per-stage {argument} list needs one entry per stage "
            f"({num_stages} here). Received: {argument}={value!r}"
        )
    return list(value)


def is_single_kwargs(value: Any) -> bool:
    """A dict of arguments (or None), not a per-stage list of them."""
    return value is None or isinstance(value, dict)


def is_single_position(value: Any) -> bool:
    return isinstance(value, str) or not isinstance(value, Sequence)


def is_single_every(value: Any) -> bool:
    return not isinstance(value, (list, tuple))
