"""Where `add_attention` puts each block in a model it did not build.

The places follow the builders' rules (`keras_chattn.models.block_table`
for each kind of block, `keras_chattn.models.positions` inside a residual
block), read from the graph (`keras_chattn.surgery.graph`): residual
blocks are the two-input additions, stages end where the next block's map
is smaller. A place is either after a tensor (every consumer sees the
block's output) or on one edge: between a tensor and one consumer (the
`"pre"` position feeds only the residual branch, `"identity"` only the
addition).
"""

import dataclasses
import re

import keras

from keras_chattn.models import placement
from keras_chattn.surgery import graph


@dataclasses.dataclass(frozen=True)
class Place:
    """One block to insert: its name and spec; `consumer` is the original
    operation that alone takes the block's output (None: every one)."""

    name: str
    spec: placement.AttentionSpec
    consumer: object = None


@dataclasses.dataclass
class Stages:
    """A model's stages as `add_attention` sees them."""

    branches: list  # graph.Branch per residual block, network order
    outputs: list  # each residual block's output tensor
    stage_of: list  # stage index of each residual block
    number_in_stage: list  # 1 for a stage's first block, ...
    ends: list  # the tensors that end a stage (all but the last stage)
    plain: list  # a plain network's stage-end maps (no residual blocks)

    @property
    def count(self):
        if self.branches:
            return self.stage_of[-1] + 1
        return len(self.plain)


def read_stages(model):
    """The `Stages` of `model`."""
    branches = graph.residual_branches(model)
    outputs = graph.block_outputs(model)
    ends = graph.residual_stage_ends(outputs)
    stage_of, numbers = [], []
    stage, number = 0, 0
    for output in outputs:
        number += 1
        stage_of.append(stage)
        numbers.append(number)
        if any(output is end for end in ends):
            stage, number = stage + 1, 0
    plain = []
    if not branches:
        plain = graph.stage_ends(model, residual=False)
        head = graph.head_map(model)
        if head is not None and not _downsampled(head):
            plain.append(head)
    return Stages(branches, outputs, stage_of, numbers, ends, plain)


def _downsampled(tensor):
    operation, node = graph.producer(tensor)
    return graph.downsamples(operation, node)


def find_places(model, stages, specs, skipped):
    """{key: Place} for `specs` (one per stage): `id(tensor)` for a block
    after a tensor, `(id(tensor), id(consumer))` for one on an edge."""
    found = {}
    if stages.branches:
        for index, branch in enumerate(stages.branches):
            spec = specs[stages.stage_of[index]]
            if spec is None or not spec.in_block(stages.number_in_stage[index]):
                continue
            _in_block(
                model, branch, stages.outputs[index], spec, found, skipped
            )
        for stage, end in enumerate(stages.ends):
            spec = specs[stage]
            if placement.goes(spec, "stage_output"):
                found[id(end)] = Place(_stage_name(end), spec)
        starts = [stages.branches[0].start, *stages.ends]
        for stage, start in enumerate(starts):
            spec = specs[stage]
            if placement.goes(spec, "stage_input"):
                found[id(start)] = Place(_stage_input_name(model, start), spec)
    else:
        _in_plain_network(model, stages, specs, found)
    spec = specs[-1]
    if placement.goes(spec, "head"):
        head = graph.head_map(model)
        if head is not None:
            found[id(head)] = Place("head_attention", spec)
    return found


def _in_block(model, branch, output, spec, found, skipped):
    """The places of `spec` in one residual block."""
    name = block_name(branch.add.name)
    position = spec.position
    if placement.goes(spec, "branch"):
        found[id(branch.branch)] = Place(name, spec)
    elif placement.goes(spec, "after_3x3"):
        conv = next((c for c in branch.convolutions if _is_3x3(c)), None)
        if conv is None:
            skipped.append(f"{branch.add.name} (no 3x3 conv)")
            return
        found[id(conv._inbound_nodes[0].outputs[0])] = Place(name, spec)
    elif position == "post":
        found[id(output)] = Place(name, spec)
    elif position == "identity":
        shortcut = next(
            t
            for t in branch.add._inbound_nodes[0].input_tensors
            if t is not branch.branch
        )
        found[(id(shortcut), id(branch.add))] = Place(name, spec, branch.add)
    elif position == "pre":
        on_branch = graph.ancestors(branch.branch)
        for operation, node in graph.consumers(model, branch.start):
            if any(id(t) in on_branch for t in node.outputs):
                key = (id(branch.start), id(operation))
                found[key] = Place(name, spec, operation)
    elif position.startswith("after_conv"):
        convs = list(reversed(branch.convolutions))
        which = int(position[len("after_conv") :])
        if which >= len(convs):
            raise ValueError(
                f"attention_position={position!r} does not exist in "
                f"{branch.add.name}'s block: its branch has {len(convs)} "
                "convolutions, and the last one's place is 'standard'. "
                f"Received: attention_position={position!r}"
            )
        found[id(_after_activation(model, convs[which - 1]))] = Place(
            name, spec
        )


def _in_plain_network(model, stages, specs, found):
    """The places of a network without residual blocks (VGG-like)."""
    for stage, tensor in enumerate(stages.plain):
        spec = specs[stage]
        if placement.goes(spec, "branch") or placement.goes(spec, "after_3x3"):
            found[id(tensor)] = Place(
                f"{_producer_name(tensor)}_attention", spec
            )
    ends = graph.stage_ends(model, residual=False)
    for stage, tensor in enumerate(ends):
        spec = specs[min(stage, len(specs) - 1)]
        if placement.goes(spec, "stage_output"):
            found[id(tensor)] = Place(_stage_name(tensor), spec)
        following = specs[min(stage + 1, len(specs) - 1)]
        if placement.goes(following, "stage_input"):
            found[id(tensor)] = Place(
                _stage_input_name(model, tensor), following
            )


def _after_activation(model, conv):
    """The output of `conv` and the BatchNorm and activation after it."""
    tensor = conv._inbound_nodes[0].outputs[0]
    followers = (
        keras.layers.BatchNormalization,
        keras.layers.Activation,
        keras.layers.ReLU,
    )
    while True:
        consumers = graph.consumers(model, tensor)
        if len(consumers) != 1 or not isinstance(consumers[0][0], followers):
            return tensor
        tensor = consumers[0][1].outputs[0]


def _is_3x3(layer):
    kernel = getattr(layer, "kernel_size", None)
    return kernel is not None and tuple(kernel) == (3, 3)


def _producer_name(tensor):
    return graph.producer(tensor)[0].name


def block_name(add_name):
    """`conv3_block2_add` -> `conv3_block2_attention`, as the builders."""
    base = add_name[: -len("_add")] if add_name.endswith("_add") else add_name
    return f"{base}_attention"


def _stage_name(tensor):
    """The builders' name of a stage-output block after `tensor`."""
    name = _producer_name(tensor)
    match = re.match(r"(conv\d+)_block\d+_out$", name) or re.match(
        r"(block\d+)_conv\d+$", name
    )
    return f"{match.group(1) if match else name}_out_attention"


def _stage_input_name(model, tensor):
    """The builders' name of a stage-input block on `tensor`:
    `conv3_attention` where it feeds `conv3_block1_...`, else after the
    layer that made it."""
    for operation, _ in graph.consumers(model, tensor):
        match = re.match(r"(conv\d+)_block1_", operation.name)
        if match:
            return f"{match.group(1)}_attention"
    return f"{_producer_name(tensor)}_attention"
