"""Attention blocks inserted into a Keras model someone else built.

`add_attention` reads the model's graph (`keras_chattn.surgery.graph`) to
find where the block's declared placement puts it, then rebuilds the model
with `keras.models.clone_model`, inserting a block at each place through
its `call_function`. Every original layer is copied (same config and name,
weights copied after the rebuild), so training the new model leaves the
original untouched.
"""

import re
import warnings
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers.identity_start import IdentityStart
from keras_chattn.models import block_table
from keras_chattn.models import placement
from keras_chattn.surgery import graph
from keras_chattn.utils import validation
from keras_chattn.utils.types import AttentionLike

# Every place of the builders' table but "replace_conv": a block that is a
# convolution needs the network built around it.
SUPPORTED = tuple(p for p in block_table.PLACEMENTS if p != "replace_conv")


def add_attention(
    model: keras.Model,
    attention: AttentionLike,
    attention_kwargs: dict[str, Any] | None = None,
    where: str | Sequence[str] = "auto",
    start_as_identity: bool = False,
    name_prefix: str | None = None,
) -> keras.Model:
    """A copy of `model` with attention blocks inserted.

    Args:
        model: a functional `keras.Model` (a functional model nested in it,
            such as a keras.applications backbone in a classifier, gets its
            blocks too).
        attention: anything `keras_chattn.get_attention` takes.
        attention_kwargs: keyword arguments of every block.
        where: `"auto"` (see below), a list of layer names (a block after
            each), or a callable `layer -> bool` (a block after each layer
            it accepts).
        start_as_identity: wrap every block in `IdentityStart`, so that the
            new model computes exactly what `model` did until training
            moves the wrappers' gates.
        name_prefix: prepended to every new block's name.

    Returns:
        A new functional `keras.Model`: every layer of `model` copied with
        its name and weights, plus the blocks.

    `where="auto"` follows the block's placement, found from the graph:
    `"branch"` blocks go on every residual branch just before its `Add`
    (the `Add` input with more convolutions since the two met) and, in a
    network without residual additions, after the last layer of each stage
    (where a downsampling layer or the top takes over) and of the last
    one; `"after_3x3"` (SimAM) after the last 3x3 convolution of each
    residual branch; `"stage_output"` (BAM) at the output of each stage but
    the last; `"stage_input"` (C3) at the input of the first residual block
    and of each later stage; `"head"` (DANet) on the last map. Blocks that
    replace a convolution (SK) or take a block's intermediate maps (BA) are
    refused. Blocks are named like the builders name them
    (`conv3_block2_attention` for the branch of `conv3_block2_add`), else
    after the layer they follow (`block3_conv3_attention`).

    Examples:

        >>> import keras
        >>> import keras_chattn
        >>> base = keras.applications.ResNet50(
        ...     weights=None, include_top=False, input_shape=(32, 32, 3)
        ... )
        >>> model = keras_chattn.models.add_attention(base, "se")
        >>> len([l for l in model.layers if l.name.endswith("_attention")])
        16
    """
    _check_model(model)
    spec = placement.attention_spec(
        attention, attention_kwargs, scale=_scale(model)
    )
    if spec is None:
        raise ValueError(
            "attention must name a block to insert. Received: "
            f"attention={attention!r}"
        )
    if spec.placement not in SUPPORTED or spec.takes_features:
        kind = (
            "takes its block's intermediate maps"
            if spec.takes_features
            else (f"has placement {spec.placement!r}")
        )
        raise ValueError(
            f"add_attention cannot insert {attention!r}: it {kind}, which "
            "needs the model to be built around it (use a keras_chattn "
            "builder). add_attention supports the placements "
            f"{list(SUPPORTED)}."
        )
    validation.boolean("start_as_identity", start_as_identity)
    if name_prefix is not None and not isinstance(name_prefix, str):
        raise ValueError(
            f"name_prefix must be a string or None. Received: "
            f"name_prefix={name_prefix!r}"
        )
    surgeon = _Surgeon(spec, where, start_as_identity, name_prefix or "")
    return surgeon.operate(model)


def _check_model(model):
    if isinstance(model, keras.Sequential):
        raise ValueError(
            "add_attention needs a functional model; this one is Sequential. "
            "Rebuild it functionally: inputs = keras.Input(shape); x = "
            "layer(inputs) for each layer; keras.Model(inputs, x)."
        )
    if not isinstance(model, keras.Model) or not hasattr(
        model, "_nodes_by_depth"
    ):
        raise ValueError(
            "add_attention needs a functional keras.Model (built with "
            "keras.Input and layer calls); subclassed models have no graph "
            f"to read. Received: model={model!r}"
        )


def _scale(model):
    """The network's scale for the blocks' position rules: CIFAR-sized
    images (64 pixels or fewer) or ImageNet-sized ones."""
    imagenet, cifar = block_table.SCALES
    sizes = graph.spatial_size(model.inputs[0]) or (None, None)
    if None in sizes or min(sizes) > 64:
        return imagenet
    return cifar


class _Surgeon:
    """Finds the places in one functional model and rebuilds it."""

    def __init__(self, spec, where, identity, prefix):
        self.spec = spec
        self.where = where
        self.identity = identity
        self.prefix = prefix
        self.skipped = []

    def operate(self, model):
        places = self.places(model)  # {id(tensor): block name}
        if not places and not _nested(model):
            raise ValueError(
                f"add_attention found no place for the block in "
                f"{model.name!r} with where={self.where!r}."
            )
        used = {layer.name for layer in model.layers}
        clash = sorted(set(places.values()) & used)
        if clash:
            raise ValueError(
                f"Block names {clash[:3]} are already layer names of "
                f"{model.name!r}; pass name_prefix to tell them apart."
            )
        copies = {}
        originals = {}

        def clone(layer):
            if id(layer) in copies:
                return copies[id(layer)]
            if isinstance(layer, keras.Model) and _is_functional(layer):
                new = _Surgeon(
                    self.spec, self.where, self.identity, self.prefix
                ).operate(layer)
            else:
                new = layer.__class__.from_config(layer.get_config())
            copies[id(layer)] = new
            originals[id(new)] = layer
            return new

        inputs = keras.tree.map_structure(
            lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype),
            model.input,
        )
        # id(new tensor) -> the original tensor it stands for.
        mapping = {
            id(new): old
            for new, old in zip(
                keras.tree.flatten(inputs), model.inputs, strict=True
            )
        }

        def call(layer, *args, **kwargs):
            original = originals.get(id(layer), layer)
            node = _node_of(original, args, mapping)
            outputs = layer(*args, **kwargs)
            if node is None:
                return outputs
            result = []
            for old, new in zip(
                node.outputs, keras.tree.flatten(outputs), strict=True
            ):
                if id(old) in places:
                    new = self.block(new, places[id(old)])
                mapping[id(new)] = old
                result.append(new)
            return keras.tree.pack_sequence_as(outputs, result)

        new_model = keras.models.clone_model(
            model,
            input_tensors=inputs,
            clone_function=clone,
            call_function=call,
        )
        for new in copies.values():
            # Nested functional models copied their own weights; keras.ops
            # operations (a `+` of two tensors) have none.
            if isinstance(new, keras.layers.Layer) and not (
                isinstance(new, keras.Model) and _is_functional(new)
            ):
                new.set_weights(originals[id(new)].get_weights())
        if self.skipped:
            warnings.warn(
                "add_attention skipped " + "; ".join(self.skipped),
                stacklevel=3,
            )
        return new_model

    def block(self, x, name):
        """A new block (wrapped to start as the identity, if asked) on `x`;
        `x` itself, with a note for the warning, where the block refuses
        the map (C3's working size, DANet's position limit, ...)."""
        # The constructor's errors are the user's arguments: raised. Only a
        # block that refuses this map (at build) is skipped.
        if self.identity:
            layer = IdentityStart(self.spec.create(x.shape, "block"), name=name)
        else:
            layer = self.spec.create(x.shape, name)
        try:
            y = layer(x)
        except ValueError as error:
            self.skipped.append(f"{name} on {tuple(x.shape)}: {error}")
            return x
        if tuple(y.shape) != tuple(x.shape):
            raise ValueError(
                f"add_attention inserts blocks that keep their input's "
                f"shape, and {type(layer).__name__} ({name}) turns "
                f"{tuple(x.shape)} into {tuple(y.shape)}, which the layers "
                "after it were not built for (DualAttention's channels, "
                "say: build the network with a keras_chattn builder "
                "instead). Received: attention_kwargs="
                f"{self.spec.kwargs!r}"
            )
        return y

    def places(self, model):
        """{id(original tensor): name of the block to put after it}."""
        if self.where != "auto":
            return self._chosen_places(model)
        kind = self.spec.placement
        branches = graph.residual_branches(model)
        found = {}
        if kind == "head":
            head = graph.head_map(model)
            if head is not None:
                found[id(head)] = "head_attention"
        elif kind == "branch" and branches:
            for branch in branches:
                found[id(branch.branch)] = _block_name(branch.add.name)
        elif kind == "after_3x3" and branches:
            for branch in branches:
                conv = next(
                    (c for c in branch.convolutions if _is_3x3(c)), None
                )
                if conv is None:
                    self.skipped.append(f"{branch.add.name} (no 3x3 conv)")
                    continue
                tensor = conv._inbound_nodes[0].outputs[0]
                found[id(tensor)] = _block_name(branch.add.name)
        elif kind in ("branch", "after_3x3"):
            tensors = graph.stage_ends(model, residual=False)
            head = graph.head_map(model)
            if head is not None and not _downsampled(head):
                tensors.append(head)
            for tensor in tensors:
                found[id(tensor)] = f"{_producer_name(tensor)}_attention"
        elif kind == "stage_output":
            ends = graph.stage_ends(model, residual=bool(branches))
            for tensor in ends:
                found[id(tensor)] = _stage_name(_producer_name(tensor))
        elif kind == "stage_input":
            ends = graph.stage_ends(model, residual=bool(branches))
            starts = [branches[0].start] if branches else []
            for tensor in [*starts, *ends]:
                found[id(tensor)] = _stage_input_name(model, tensor)
        return {key: self.prefix + name for key, name in found.items()}

    def _chosen_places(self, model):
        if isinstance(self.where, (list, tuple)):
            names = list(self.where)
            known = {layer.name for layer in model.layers}
            unknown = [n for n in names if n not in known]
            if unknown and not _nested(model):
                raise ValueError(
                    f"where names layers that {model.name!r} does not have: "
                    f"{unknown}. Received: where={names!r}"
                )
            accept = lambda layer: layer.name in names  # noqa: E731
        elif callable(self.where):
            accept = self.where
        else:
            raise ValueError(
                "where must be 'auto', a list of layer names or a callable "
                f"layer -> bool. Received: where={self.where!r}"
            )
        found = {}
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer) or not accept(layer):
                continue
            for node in layer._inbound_nodes:
                for tensor in node.outputs:
                    if len(tensor.shape) == 4:
                        found[id(tensor)] = (
                            f"{self.prefix}{layer.name}_attention"
                        )
                    else:
                        self.skipped.append(f"{layer.name} (not a 4-D map)")
        return found


def _node_of(original, args, mapping):
    """The node of `original` whose inputs are the originals of `args`."""
    inputs = [
        mapping.get(id(t))
        for t in keras.tree.flatten(args)
        if keras.backend.is_keras_tensor(t)
    ]
    for node in original._inbound_nodes:
        if [id(t) for t in node.input_tensors] == [id(t) for t in inputs]:
            return node
    return None


def _nested(model):
    return any(
        isinstance(layer, keras.Model) and _is_functional(layer)
        for layer in model.layers
    )


def _is_functional(model):
    return hasattr(model, "_nodes_by_depth") and not isinstance(
        model, keras.Sequential
    )


def _is_3x3(layer):
    kernel = getattr(layer, "kernel_size", None)
    return kernel is not None and tuple(kernel) == (3, 3)


def _producer_name(tensor):
    return graph.producer(tensor)[0].name


def _block_name(add_name):
    """`conv3_block2_add` -> `conv3_block2_attention`, as the builders."""
    base = add_name[: -len("_add")] if add_name.endswith("_add") else add_name
    return f"{base}_attention"


def _stage_name(name):
    """The builders' name of a stage-output block after layer `name`."""
    match = re.match(r"(conv\d+)_block\d+_out$", name) or re.match(
        r"(block\d+)_conv\d+$", name
    )
    return f"{match.group(1) if match else name}_out_attention"


def _stage_input_name(model, tensor):
    """The builders' name of a stage-input block on `tensor`:
    `conv3_attention` where it feeds `conv3_block1_...`, else after the
    layer that made it."""
    for operation in model.operations:
        for node in operation._inbound_nodes:
            if any(t is tensor for t in node.input_tensors):
                match = re.match(r"(conv\d+)_block1_", operation.name)
                if match:
                    return f"{match.group(1)}_attention"
    return f"{_producer_name(tensor)}_attention"


def _downsampled(tensor):
    """Whether `tensor` is the output of a downsampling layer."""
    operation, node = graph.producer(tensor)
    return graph.downsamples(operation, node)
