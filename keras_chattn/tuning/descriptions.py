"""A trial's hyperparameters as one readable line, and back.

`describe(values)` writes the values `AttentionHyperModel` declares as one
line; `parse_line(line)` returns the same values, so a line copied from a
search's report rebuilds its model (`AttentionHyperModel.rebuild(line)`).
One block for the whole network:

    se(reduction=8) at post every 2; learning_rate=0.05

or one per stage (`per_stage=True`), `none` where a stage has none:

    stage1: none; stage2: se(reduction=8) at post; stage3: cbam(...)

A block's arguments are Python literals; `at <position>` is left out for
`"standard"` and `every <k>` for 1 (or where they are not searched).
"""

import ast
import re
from typing import Any

from keras_chattn.layers import registry
from keras_chattn.models.block_table import placement_of
from keras_chattn.models.positions import PER_BLOCK
from keras_chattn.models.positions import positions_of
from keras_chattn.tuning.spaces import search_space

NO_BLOCK = "none"
TRAINING = ("learning_rate", "weight_decay")
_BLOCK = re.compile(
    r"^(?P<block>[A-Za-z_][\w]*)(?:\((?P<arguments>.*)\))?"
    r"(?: at (?P<position>\w+))?(?: every (?P<every>\d+))?$"
)


def _entry(block):
    return placement_of(registry.ATTENTION_LAYERS[block])


def movable(block):
    """Whether `block` (a registry name) can move inside a residual block."""
    known = block in registry.ATTENTION_LAYERS
    return known and len(positions_of(_entry(block))) > 1


def per_block(block):
    """Whether `block` goes in each residual block (so `every` applies)."""
    known = block in registry.ATTENTION_LAYERS
    return known and _entry(block).kind in PER_BLOCK


def hyperparameter_name(block, argument, stage=None):
    """`se_reduction`, or `stage2_se_reduction` for a per-stage search."""
    name = f"{block}_{argument}"
    return name if stage is None else f"stage{stage}_{name}"


def stage_names(stage=None):
    """The names of a stage's (or the network's) block, position and
    every: `("attention", "position", "every")` or `("stage2_attention",
    ...)`."""
    prefix = "" if stage is None else f"stage{stage}_"
    return tuple(
        f"{prefix}{name}" for name in ("attention", "position", "every")
    )


def stages_in(values):
    """The stage numbers of a per-stage search's values (empty for one
    block for the network)."""
    found = set()
    for name in values:
        match = re.match(r"stage(\d+)_attention$", name)
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


def block_settings(values, stage=None):
    """(block, {argument: value}) of one trial's values (for `stage`).

    Examples:

        >>> block_settings({"attention": "se", "se_reduction": 8})
        ('se', {'reduction': 8})
    """
    attention, _, _ = stage_names(stage)
    block = values.get(attention, "")
    arguments = {
        argument: values[hyperparameter_name(block, argument, stage)]
        for argument in search_space(block)
        if hyperparameter_name(block, argument, stage) in values
    }
    return block, arguments


def _describe_block(values, stage=None):
    block, arguments = block_settings(values, stage)
    _, position, every = stage_names(stage)
    text = block or NO_BLOCK
    if arguments:
        inside = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        text += f"({inside})"
    # A flat space (Bayesian search) holds values the block does not use.
    if movable(block) and values.get(position, "standard") != "standard":
        text += f" at {values[position]}"
    if per_block(block) and values.get(every, 1) != 1:
        text += f" every {values[every]}"
    return text


def describe(values: dict[str, Any]) -> str:
    """One readable line for a trial's hyperparameter values.

    Examples:

        >>> describe({"attention": "cbam", "cbam_reduction": 8,
        ...           "cbam_spatial_kernel_size": 5, "position": "post",
        ...           "learning_rate": 0.05})
        'cbam(reduction=8, spatial_kernel_size=5) at post; learning_rate=0.05'
        >>> describe({"stage1_attention": "none", "stage2_attention": "se",
        ...           "stage2_se_reduction": 4, "stage2_every": 2})
        'stage1: none; stage2: se(reduction=4) every 2'
    """
    stages = stages_in(values)
    if stages:
        parts = [f"stage{s}: {_describe_block(values, s)}" for s in stages]
    else:
        parts = [_describe_block(values)]
    for key in TRAINING:
        if key in values:
            parts.append(f"{key}={values[key]:.6g}")
    return "; ".join(parts)


def parse_line(line: str) -> dict[str, Any]:
    """The hyperparameter values `describe` wrote `line` from.

    Examples:

        >>> parse_line("stage1: none; stage2: se(reduction=4) every 2")
        {'stage1_attention': 'none', 'stage2_attention': 'se', \
'stage2_se_reduction': 4, 'stage2_every': 2}
    """
    if not isinstance(line, str) or not line.strip():
        raise ValueError(
            "line must be a search's best line, e.g. 'se(reduction=8) at "
            f"post; learning_rate=0.1'. Received: line={line!r}"
        )
    values = {}
    for part in (p.strip() for p in line.split(";")):
        key, _, value = part.partition("=")
        if key.strip() in TRAINING and "(" not in key:
            values[key.strip()] = _literal(value, part, line)
            continue
        stage = None
        match = re.match(r"^stage(\d+):\s*(.*)$", part)
        if match:
            stage, part = int(match.group(1)), match.group(2)
        values.update(_parse_block(part, stage, line))
    return values


def _parse_block(text, stage, line):
    match = _BLOCK.match(text.strip())
    if match is None:
        raise ValueError(
            f"Cannot read {text!r}: a block is written 'name(argument="
            "value, ...) at position every k'. Received: line="
            f"{line!r}"
        )
    attention, position, every = stage_names(stage)
    block = match.group("block")
    values = {attention: block}
    if match.group("arguments"):
        try:
            call = ast.parse(f"f({match.group('arguments')})", mode="eval")
            arguments = {
                keyword.arg: ast.literal_eval(keyword.value)
                for keyword in call.body.keywords
            }
        except (SyntaxError, ValueError):
            raise ValueError(
                f"Cannot read the arguments of {text!r}: they must be "
                f"name=literal pairs. Received: line={line!r}"
            ) from None
        for argument, value in arguments.items():
            values[hyperparameter_name(block, argument, stage)] = value
    if match.group("position"):
        values[position] = match.group("position")
    if match.group("every"):
        values[every] = int(match.group("every"))
    return values


def _literal(text, part, line):
    try:
        return ast.literal_eval(text.strip())
    except (SyntaxError, ValueError):
        raise ValueError(
            f"Cannot read {part!r}: a value must be a number. Received: "
            f"line={line!r}"
        ) from None
