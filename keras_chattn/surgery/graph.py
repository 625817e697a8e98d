"""Reading a functional model's graph: residual branches, stages, the head.

`add_attention` decides where blocks go in a model it did not build from
what this module finds: which input of each `Add` is the residual branch
(the one with more convolutions since the two inputs last met), which
tensors end a stage (those a downsampling layer consumes), and the last
feature map before the top. Everything works on the original model's
tensors (Keras' `KerasTensor._keras_history` and each operation's inbound
nodes).
"""

import dataclasses

import keras

CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
)
TOPS = (
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.Flatten,
)


def producer(tensor):
    """(operation, node) that produced `tensor` in its model's graph."""
    history = tensor._keras_history
    node = history.operation._inbound_nodes[history.node_index]
    return history.operation, node


def inputs_of(tensor):
    """The tensors the producer of `tensor` was called on."""
    operation, node = producer(tensor)
    if isinstance(operation, keras.layers.InputLayer):
        return []
    return list(node.input_tensors)


def ancestors(tensor):
    """{id: tensor} of `tensor` and every tensor it depends on."""
    found = {}
    stack = [tensor]
    while stack:
        current = stack.pop()
        if id(current) in found:
            continue
        found[id(current)] = current
        stack.extend(inputs_of(current))
    return found


def is_convolution(operation):
    return isinstance(operation, CONVOLUTIONS)


def is_addition(operation):
    """A `keras.layers.Add`, or the `+` of two Keras tensors (ConvNeXt's
    residual is `inputs + layer(x)`, a `keras.ops` addition)."""
    if isinstance(operation, keras.layers.Add):
        return True
    return type(operation).__name__ == "Add" and type(
        operation
    ).__module__.startswith("keras.src.ops")


@dataclasses.dataclass
class Branch:
    """A residual addition: its layer, and the tensors of its branch."""

    add: keras.layers.Layer
    branch: object  # the Add input on the residual branch
    start: object  # where the branch and the shortcut split
    convolutions: list  # the branch's convolution layers, last first


def topological_order(model):
    """{id(tensor): position} of every tensor of `model`, inputs first."""
    order = {id(t): i for i, t in enumerate(model.inputs)}
    for operation in model.operations:
        for node in operation._inbound_nodes:
            for tensor in node.outputs:
                order.setdefault(id(tensor), len(order))
    return order


def residual_branches(model: keras.Model) -> list[Branch]:
    """One `Branch` per two-input `Add` of `model` whose inputs differ in
    how many convolutions they went through (the branch has more)."""
    order = topological_order(model)
    branches = []
    for operation in model.operations:
        if not is_addition(operation):
            continue
        for node in operation._inbound_nodes:
            tensors = list(node.input_tensors)
            if len(tensors) != 2 or any(id(t) not in order for t in tensors):
                continue
            found = _branch_of(operation, tensors, order)
            if found is not None:
                branches.append(found)
    return branches


def _branch_of(add, tensors, order):
    seen = [ancestors(t) for t in tensors]
    common = set(seen[0]) & set(seen[1])
    if not common:
        return None
    # The split point: the most recent common ancestor.
    start = seen[0][max(common, key=lambda key: order.get(key, -1))]
    paths = []
    before_start = ancestors(start)
    for found in seen:
        own = [t for key, t in found.items() if key not in before_start]
        convs = [producer(t)[0] for t in own if is_convolution(producer(t)[0])]
        paths.append(convs)
    if len(paths[0]) == len(paths[1]):
        return None
    index = 0 if len(paths[0]) > len(paths[1]) else 1
    ordered = _ordered_from(tensors[index], paths[index])
    return Branch(add, tensors[index], start, ordered)


def _ordered_from(tensor, convolutions):
    """`convolutions` in the order met walking back from `tensor`."""
    order = []
    queue = [tensor]
    visited = set()
    while queue:
        current = queue.pop(0)
        if id(current) in visited:
            continue
        visited.add(id(current))
        operation = producer(current)[0]
        if operation in convolutions and operation not in order:
            order.append(operation)
        queue.extend(inputs_of(current))
    return order


def spatial_size(tensor):
    """(height, width) of a 4-D channels_last or channels_first tensor."""
    shape = tuple(tensor.shape)
    if len(shape) != 4:
        return None
    if keras.config.image_data_format() == "channels_last":
        return shape[1:3]
    return shape[2:4]


def downsamples(operation, node):
    """Whether `operation` at `node` makes its (4-D) input smaller."""
    inputs = list(node.input_tensors)
    outputs = list(node.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    before, after = spatial_size(inputs[0]), spatial_size(outputs[0])
    if before is None or after is None or None in before + after:
        return False
    return after[0] < before[0] or after[1] < before[1]


def stage_ends(model, residual):
    """The tensors that end a stage, in network order.

    In a residual network (`residual=True`) a stage ends at a residual
    block's output (its `Add`, or the activation right after it) when the
    next block's output is smaller. In a plain network it ends at each
    tensor a downsampling layer consumes (once a convolution has run).
    """
    if residual:
        return residual_stage_ends(block_outputs(model))
    ends = []
    for operation in model.operations:
        for node in operation._inbound_nodes:
            if not downsamples(operation, node):
                continue
            tensor = _before_padding(node.input_tensors[0])
            if not any(
                is_convolution(producer(t)[0])
                for t in ancestors(tensor).values()
            ):
                continue  # the image itself, or a padding of it
            if all(t is not tensor for t in ends):
                ends.append(tensor)
    return ends


def block_outputs(model):
    """Each residual block's output, in network order: its addition's
    output, or the activation applied to it alone."""
    outputs = []
    for branch in residual_branches(model):
        tensor = branch.add._inbound_nodes[0].outputs[0]
        for node in branch.add._inbound_nodes:
            if any(t is branch.branch for t in node.input_tensors):
                tensor = node.outputs[0]
        found = consumers(model, tensor)
        if len(found) == 1 and isinstance(
            found[0][0], (keras.layers.Activation, keras.layers.ReLU)
        ):
            tensor = found[0][1].outputs[0]
        outputs.append(tensor)
    return outputs


def residual_stage_ends(outputs):
    """The residual block outputs (`block_outputs`, in network order)
    after which the next block's map is smaller."""
    ends = []
    for current, following in zip(outputs, outputs[1:], strict=False):
        now, later = spatial_size(current), spatial_size(following)
        if now and later and None not in now + later and later < now:
            ends.append(current)
    return ends


def consumers(model, tensor):
    """(operation, node) of every use of `tensor` in `model`."""
    found = []
    for operation in model.operations:
        for node in operation._inbound_nodes:
            if any(t is tensor for t in node.input_tensors):
                found.append((operation, node))
    return found


def _before_padding(tensor):
    """The tensor a ZeroPadding2D (before a strided layer) pads."""
    operation = producer(tensor)[0]
    if isinstance(operation, keras.layers.ZeroPadding2D):
        return inputs_of(tensor)[0]
    return tensor


def head_map(model: keras.Model) -> keras.KerasTensor | None:
    """The last 4-D map: what the global pooling or Flatten of the top
    consumes, else the model's (4-D) output."""
    for operation in reversed(getattr(model, "operations", model.layers)):
        if isinstance(operation, TOPS):
            return operation._inbound_nodes[0].input_tensors[0]
    output = model.outputs[0]
    return output if len(output.shape) == 4 else None
