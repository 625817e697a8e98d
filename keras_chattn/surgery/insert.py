"""Attention blocks inserted into a Keras model someone else built.

`add_attention` reads the model's graph (`keras_chattn.surgery.graph`) to
find where the block's declared placement puts it, then rebuilds the model
with `keras.models.clone_model`, inserting a block at each place through
its `call_function`. Every original layer is copied (same config and name,
weights copied after the rebuild), so training the new model leaves the
original untouched.
"""

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers.identity_start import IdentityStart
from keras_chattn.layers.registry import get_attention
from keras_chattn.models import block_table
from keras_chattn.models import placement
from keras_chattn.surgery import graph
from keras_chattn.surgery import places
from keras_chattn.utils import validation
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import PositionArg

# Every place of the builders' table but "replace_conv": a block that is a
# convolution needs the network built around it.
SUPPORTED = tuple(p for p in block_table.PLACEMENTS if p != "replace_conv")


def add_attention(
    model: keras.Model,
    attention: AttentionArg,
    attention_kwargs: AttentionKwargs = None,
    where: str | Sequence[str] = "auto",
    start_as_identity: bool = False,
    name_prefix: str | None = None,
    attention_position: PositionArg = "standard",
    attention_every: EveryArg = 1,
) -> keras.Model:
    """A copy of `model` with attention blocks inserted.

    Args:
        model: a functional `keras.Model` (a functional model nested in it,
            such as a keras.applications backbone in a classifier, gets its
            blocks too).
        attention: anything `keras_chattn.get_attention` takes, or (with
            `where="auto"`) a list with one entry per stage (None skips a
            stage).
        attention_kwargs: keyword arguments of every block, or a list with
            one dict (or None) per stage.
        where: `"auto"` (see below), a list of layer names (a block after
            each), or a callable `layer -> bool` (a block after each layer
            it accepts).
        start_as_identity: wrap every block in `IdentityStart`, so that the
            new model computes exactly what `model` did until training
            moves the wrappers' gates.
        name_prefix: prepended to every new block's name.
        attention_position: where in each residual block, as the builders
            take it (`keras_chattn.models.positions`): `"standard"`,
            `"pre"`, `"post"`, `"identity"`, `"after_conv1"`,
            `"after_conv2"`; or one per stage.
        attention_every: a block in every k-th residual block of a stage
            (counting the first), or one k per stage.

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
    and of each later stage; `"head"` (DANet) on the last map. A stage ends
    where the next residual block's map is smaller. Blocks that
    replace a convolution (SK) or take a block's intermediate maps (BA) are
    refused. Blocks are named like the builders name them
    (`conv3_block2_attention` for the branch of `conv3_block2_add`), else
    after the layer they follow (`block3_conv3_attention`); the same
    arguments give the builders' network layer for layer.

    Examples:

        >>> import keras
        >>> import keras_chattn
        >>> base = keras.applications.ResNet50(
        ...     weights=None, include_top=False, input_shape=(32, 32, 3)
        ... )
        >>> model = keras_chattn.models.add_attention(base, "se")
        >>> len([l for l in model.layers if l.name.endswith("_attention")])
        16
        >>> model = keras_chattn.models.add_attention(
        ...     base, [None, None, "se", "cbam"], attention_position="post",
        ...     attention_every=2,
        ... )
        >>> [l.name for l in model.layers if l.name.endswith("_attention")]
        ['conv4_block1_attention', 'conv4_block3_attention', \
'conv4_block5_attention', 'conv5_block1_attention', 'conv5_block3_attention']
    """
    _check_model(model)
    arguments = (attention, attention_kwargs, attention_position)
    per_stage = any(isinstance(a, (list, tuple)) for a in arguments) or (
        isinstance(attention_every, (list, tuple))
    )
    if per_stage and where != "auto":
        raise ValueError(
            "Per-stage lists (attention, attention_kwargs, "
            "attention_position, attention_every) need where='auto', "
            f"which finds the stages. Received: where={where!r}"
        )
    # Checked now, whatever the model: one spec for every stage.
    first = _first_block(attention)
    spec = placement.attention_spec(
        first,
        attention_kwargs if not per_stage else None,
        scale=_scale(model),
    )
    _refuse_unsupported(spec, attention)
    if spec is None and not per_stage:
        raise ValueError(
            "attention must name a block to insert. Received: "
            f"attention={attention!r}"
        )
    validation.boolean("start_as_identity", start_as_identity)
    if name_prefix is not None and not isinstance(name_prefix, str):
        raise ValueError(
            f"name_prefix must be a string or None. Received: "
            f"name_prefix={name_prefix!r}"
        )
    request = _Request(
        attention,
        attention_kwargs,
        attention_position,
        attention_every,
        where,
    )
    surgeon = _Surgeon(request, start_as_identity, name_prefix or "")
    return surgeon.operate(model)


@dataclasses.dataclass(frozen=True)
class _Request:
    """What the user asked `add_attention` for."""

    attention: Any
    kwargs: Any
    position: Any
    every: Any
    where: Any

    def specs(self, model, count):
        """One `AttentionSpec` (or None) per stage of `model`."""
        specs = placement.resolve_attention(
            self.attention,
            self.kwargs,
            max(count, 1),
            scale=_scale(model),
            position=self.position,
            every=self.every,
        )
        for spec in specs:
            _refuse_unsupported(spec, self.attention)
        if all(spec is None for spec in specs):
            raise ValueError(
                "attention must name a block to insert. Received: "
                f"attention={self.attention!r}"
            )
        return specs


def _first_block(attention):
    if isinstance(attention, (list, tuple)):
        named = [a for a in attention if get_attention(a) is not None]
        return named[0] if named else None
    return attention


def _refuse_unsupported(spec, attention):
    if spec is None:
        return
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

    def __init__(self, request, identity, prefix):
        self.request = request
        self.identity = identity
        self.prefix = prefix
        self.skipped = []

    def operate(self, model):
        found = self.places(model)  # {key: Place}, see places.find_places
        if not found and not _nested(model):
            raise ValueError(
                f"add_attention found no place for the block in "
                f"{model.name!r} with where={self.request.where!r}."
            )
        used = {layer.name for layer in model.layers}
        clash = sorted(
            {self.prefix + place.name for place in found.values()} & used
        )
        if clash:
            raise ValueError(
                f"Block names {clash[:3]} are already layer names of "
                f"{model.name!r}; pass name_prefix to tell them apart."
            )
        copies = {}
        originals = {}
        on_edges = {}  # place name -> the block's output, made once

        def clone(layer):
            if id(layer) in copies:
                return copies[id(layer)]
            if isinstance(layer, keras.Model) and _is_functional(layer):
                new = _Surgeon(
                    self.request, self.identity, self.prefix
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

        def on_edge(tensor, original):
            """`tensor`, or a block's output where an edge into
            `original` has a place."""
            if not keras.backend.is_keras_tensor(tensor):
                return tensor
            old = mapping.get(id(tensor))
            place = found.get((id(old), id(original)))
            if old is None or place is None:
                return tensor
            if place.name not in on_edges:
                on_edges[place.name] = self.block(tensor, place)
            return on_edges[place.name]

        def call(layer, *args, **kwargs):
            original = originals.get(id(layer), layer)
            node = _node_of(original, args, mapping)
            if node is None:
                return layer(*args, **kwargs)
            args = keras.tree.map_structure(
                lambda t: on_edge(t, original), args
            )
            outputs = layer(*args, **kwargs)
            result = []
            for old, new in zip(
                node.outputs, keras.tree.flatten(outputs), strict=True
            ):
                if id(old) in found:
                    new = self.block(new, found[id(old)])
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

    def block(self, x, place):
        """A new block (wrapped to start as the identity, if asked) on `x`;
        `x` itself, with a note for the warning, where the block refuses
        the map (C3's working size, DANet's position limit, ...)."""
        # The constructor's errors are the user's arguments: raised. Only a
        # block that refuses this map (at build) is skipped.
        spec, name = place.spec, self.prefix + place.name
        if self.identity:
            layer = IdentityStart(spec.create(x.shape, "block"), name=name)
        else:
            layer = spec.create(x.shape, name)
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
                f"{spec.kwargs!r}"
            )
        return y

    def places(self, model):
        """{key: Place} (see `keras_chattn.surgery.places.find_places`)."""
        if self.request.where != "auto":
            return self._chosen_places(model)
        stages = places.read_stages(model)
        if stages.count == 0:
            return {}  # nothing of its own: only nested models
        specs = self.request.specs(model, stages.count)
        if not stages.branches:
            _refuse_without_blocks(specs, model)
        return places.find_places(model, stages, specs, self.skipped)

    def _chosen_places(self, model):
        (spec,) = self.request.specs(model, 1)
        where = self.request.where
        if spec.position != "standard" or spec.every != 1:
            raise ValueError(
                "attention_position and attention_every place blocks in "
                "residual blocks found with where='auto'; with a list of "
                "layers each block goes after its layer. Received: "
                f"attention_position={spec.position!r}, "
                f"attention_every={spec.every!r}, where={where!r}"
            )
        if isinstance(where, (list, tuple)):
            names = list(where)
            known = {layer.name for layer in model.layers}
            unknown = [n for n in names if n not in known]
            if unknown and not _nested(model):
                raise ValueError(
                    f"where names layers that {model.name!r} does not have: "
                    f"{unknown}. Received: where={names!r}"
                )
            accept = lambda layer: layer.name in names  # noqa: E731
        elif callable(where):
            accept = where
        else:
            raise ValueError(
                "where must be 'auto', a list of layer names or a callable "
                f"layer -> bool. Received: where={where!r}"
            )
        found = {}
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer) or not accept(layer):
                continue
            for node in layer._inbound_nodes:
                for tensor in node.outputs:
                    if len(tensor.shape) == 4:
                        found[id(tensor)] = places.Place(
                            f"{layer.name}_attention", spec
                        )
                    else:
                        self.skipped.append(f"{layer.name} (not a 4-D map)")
        return found


def _refuse_without_blocks(specs, model):
    """A network without residual additions has no positions or counts."""
    for spec in specs:
        if spec is not None and (
            spec.position != "standard" or spec.every != 1
        ):
            raise ValueError(
                f"{model.name!r} has no residual blocks (no two-input "
                "additions), so attention_position and attention_every "
                "have nothing to count or move in. Received: "
                f"attention_position={spec.position!r}, "
                f"attention_every={spec.every!r}"
            )


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
