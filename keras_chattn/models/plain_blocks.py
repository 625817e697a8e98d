"""The stage of a plain network (VGG, the CC-block paper's small CNNs).

`convs` 3x3 ReLU convolutions (`{name}_conv{i}`), with the attention block
placed as the CC-block paper does for plain networks: a `"branch"` block
after every convolution (`{name}_conv{i}_attention`); a block that takes
its block's features (BA-Net) once after the stage's last convolution,
bridging all of them; a `"stage_input"` block (C3) once before the stage
(`{name}_attention`), except in the network's first stage, whose input is
the image itself: there it goes after the first convolution (the C3
reference places it after the stem, never on pixels, whose negative values
its output ReLU would delete). An `"after_3x3"` block (SimAM) goes after
every convolution too (a plain network has no BatchNorm to go before); a
`"replace_conv"` block (selective kernel, which brings its own BatchNorm
and ReLU) takes the place of every 3x3 convolution but the network's first
(`{name}_conv{i}_attention`).
"""

from typing import Any

import keras

from keras_chattn.models import placement
from keras_chattn.models import positions
from keras_chattn.utils.types import AttentionArg


def apply_plain_stage(
    x: keras.KerasTensor,
    filters: int,
    convs: int,
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    first_stage: bool = False,
    conv_outputs: list | None = None,
    conv_bias: bool = True,
) -> keras.KerasTensor:
    """`convs` 3x3 ReLU convolutions, each followed by its attention block
    (every `spec.every`-th one, counting the first, for an `AttentionSpec`
    with `every`).

    Args:
        x: input tensor.
        filters: channels of every convolution.
        convs: how many convolutions.
        attention: anything `keras_chattn.get_attention` takes, or an
            `AttentionSpec`.
        attention_kwargs: keyword arguments of the attention block.
        name: stage prefix, e.g. `"block2"`.
        first_stage: whether `x` is the image (see the module docstring).
        conv_outputs: optional list; every convolution's output (after its
            ReLU) is appended to it (for `head="bridge"`).
        conv_bias: biases in the convolutions (VGG has them).

    Examples:

        >>> import keras
        >>> from keras_chattn.models.plain_blocks import apply_plain_stage
        >>> y = apply_plain_stage(
        ...     keras.Input((8, 8, 3)), 16, 2, attention="se", name="block1"
        ... )
        >>> tuple(y.shape)
        (None, 8, 8, 16)
    """
    spec = placement.attention_spec(attention, attention_kwargs)
    if spec is not None:
        positions.check_form(spec.position, "plain", "a plain stage")
    stage_input_name = f"{name}_attention"
    if placement.goes(spec, "stage_input") and not first_stage:
        x = spec.apply(x, stage_input_name)
    bridge = spec is not None and spec.takes_features
    outputs = []
    for index in range(1, convs + 1):
        conv_name = f"{name}_conv{index}"
        chosen = spec if spec is not None and spec.in_block(index) else None
        replaced = placement.goes(chosen, "replace_conv") and not (
            first_stage and index == 1
        )
        if replaced:
            x = spec.apply_conv(x, filters, 1, f"{conv_name}_attention")
        else:
            x = keras.layers.Conv2D(
                filters,
                3,
                activation="relu",
                padding="same",
                use_bias=conv_bias,
                name=conv_name,
            )(x)
        outputs.append(x)
        if placement.goes(spec, "stage_input") and first_stage and index == 1:
            x = spec.apply(x, stage_input_name)
        if bridge and index < convs:
            continue  # a bridging block waits for the stage's last conv
        if placement.goes(chosen, "branch") or placement.goes(
            chosen, "after_3x3"
        ):
            x = spec.apply(x, f"{conv_name}_attention", features=outputs[:-1])
    if conv_outputs is not None:
        conv_outputs.extend(outputs)
    return x
