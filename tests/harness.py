"""The contract every keras_chattn layer passes, as one shared set of checks.

A layer test module describes its layer with one or more `LayerCase`s and
adds `test_contract = harness.contract_test(CASES)`. That parametrises one
test per (case, check), so a failure names both. A case's `input_shape` may
be a list of shapes for a layer called on a list of maps (BridgeAttention,
CrossLayerPooling), and `output_shape` states an output that is not the
(last) input's shape. The checks:

- config: `get_config` names every constructor argument and survives
  `from_config` unchanged (compared as sorted JSON);
- serialization: `serialize_keras_object` writes the `keras_chattn>` name and
  `deserialize_keras_object` rebuilds an equal layer;
- weights: exact trainable and non-trainable parameter counts after `build`;
- macs: positive multiply-add counts from the traced graph on the case's
  shape (the papers' weighted count at most ours), None when the spatial
  size is unknown;
- shapes: symbolic shape == `compute_output_shape` == eager shape, with an
  unknown batch size;
- dynamic spatial size: a model built on `(None, None, C)` runs at two sizes
  (or, for a layer that cannot, raises a ValueError that says so);
- fit: one training step changes every trainable weight, loss finite;
- jit_compile: one training step with `jit_compile=True`;
- mixed precision: under the global `mixed_float16` and `mixed_bfloat16`
  policies, outputs in the compute dtype, variables float32, every sublayer on
  the policy, no NaN/inf on a map with more positions than a float16 sum can
  count (64x64 = 4096 > 2048), outputs close to float32 with equal weights,
  and a finite training step;
- gradients: under float32, `mixed_float16` and `mixed_bfloat16`, the
  gradients of the output's mean with respect to the input and every
  trainable weight are finite on a map with one all-zero channel, a
  constant map and a large one (100, on 64x64), where a square root, a
  variance or a float16 sum would break (other backends: float32, the
  zero-channel map);
- channels_first: equal weights give the transposed output;
- global channels_first: under `keras.config.set_image_data_format(
  "channels_first")` the layer's own `data_format` decides (the same
  weight shapes and outputs as under the default global format);
- empty batch: a batch of 0 maps gives 0 outputs and 0 rows of every map,
  in training and inference, and moves no statistic;
- saved artifacts: `.keras` reloads in another process that imports only
  keras_chattn (default `safe_mode`), and the `model.export()` SavedModel
  reloads with `tf.saved_model.load` in a process that never imported
  keras_chattn; both give the same outputs (two loader processes serve
  every case of a session).

Weights are randomised before every numerical comparison: fresh CBAM spatial
gates start as a constant 0.5 (BatchNorm gamma = 0), which would hide bugs.
"""

import dataclasses
import inspect
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()


@dataclasses.dataclass
class LayerCase:
    """One configuration of a layer and what the contract expects of it.

    Attributes:
        layer_cls: the layer class.
        init_kwargs: constructor arguments (no `data_format`: the harness
            sets it).
        input_shape: channels_last shape without the batch dimension, or a
            list of such shapes for a layer called on a list of maps: 3-D
            `(height, width, channels)` for images, 2-D `(length, channels)`
            for sequences, 4-D `(depth, height, width, channels)` for
            volumes (every check runs on each rank).
        trainable: exact number of trainable parameters on `input_shape`.
        non_trainable: exact number of non-trainable parameters.
        dynamic_spatial: whether height and width may be unknown.
        output_shape: shape without batch of the output, when it is not the
            (last) input's; or a function of the input shape (without
            batch) giving it, for a layer that strides.
        gradient_free: endings of weight paths that provably get no
            gradient (a bias right before a BatchNorm, which subtracts it,
            or under a softmax, which ignores a shift): the fit check
            asserts that they stay put and every other weight moves.
        id: test id suffix.
    """

    layer_cls: type
    init_kwargs: dict
    input_shape: object
    trainable: int
    non_trainable: int = 0
    dynamic_spatial: bool = True
    output_shape: tuple = None
    gradient_free: tuple = ()
    id: str = ""

    def __str__(self):
        return self.id or self.layer_cls.__name__

    @property
    def multi(self):
        return isinstance(self.input_shape, list)

    def shapes(self, spec=None):
        """The input shapes (without batch) as a list."""
        spec = self.input_shape if spec is None else spec
        return list(spec) if isinstance(spec, list) else [tuple(spec)]

    def pack(self, items):
        """A list for a multi-input case, the single item otherwise."""
        return list(items) if self.multi else items[0]

    def unpack(self, value):
        """The inverse of `pack`: always a list."""
        return list(value) if self.multi else [value]

    @property
    def spatial_dims(self):
        return len(self.shapes()[0]) - 1

    def with_spatial(self, height, width):
        """The case's input shapes with another spatial size: `height x
        width` for images; a sequence of `height * width` positions and a
        volume of `4 x height/2 x width/2` (about the same number: the
        large maps of the checks keep their 4096 positions)."""
        return self.pack(
            [(*spatial_size(self.spatial_dims, height, width), s[-1])
             for s in self.shapes()]
        )  # fmt: skip

    def batch_shape(self, spec=None, batch=None):
        return self.pack([(batch, *s) for s in self.shapes(spec)])

    def expected_output_shape(self, spec=None):
        """Output shape without batch for inputs of shape `spec`."""
        if callable(self.output_shape):
            return tuple(self.output_shape(tuple(self.shapes(spec)[-1])))
        if self.output_shape is not None:
            return tuple(self.output_shape)
        return tuple(self.shapes(spec)[-1])

    def make(self, **overrides):
        return self.layer_cls(**{**self.init_kwargs, **overrides})

    def inputs(self, batch=3, spec=None, seed=0, low=-1.0, high=1.0):
        arrays = []
        for index, shape in enumerate(self.shapes(spec)):
            rng = np.random.default_rng(seed + 100 * index)
            arrays.append(
                rng.uniform(low, high, size=(batch, *shape)).astype("float32")
            )
        return self.pack(arrays)


def spatial_size(dims, height, width):
    """What `LayerCase.with_spatial` gives for `dims` spatial axes."""
    if dims == 2:
        return (height, width)
    if dims == 1:
        return (None if height is None else height * width,)
    if height is None:
        return (None, None, None)
    return (4, max(1, height // 2), max(1, width // 2))


def randomize_weights(layer, seed=1):
    """Gives every weight a random value (variances stay positive).

    Kernels get a standard deviation of 1 / sqrt(fan_in), as a trained
    network's roughly have (so activations keep their scale through stacked
    Dense layers); vectors (biases, BatchNorm parameters) get 0.5.
    """
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.path:
            value = rng.uniform(0.5, 1.5, size=shape)
        elif len(shape) > 1:
            fan_in = int(np.prod(shape[:-1]))
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
        else:
            value = rng.normal(0.0, 0.5, size=shape)
        weight.assign(value.astype(weight.dtype))


def built_model(case, layer, spec=None):
    """`Input(s) -> layer` as a functional model (no other layers)."""
    inputs = case.pack([keras.Input(shape) for shape in case.shapes(spec)])
    return keras.Model(inputs, layer(inputs))


def init_arg_names(layer_cls):
    """Constructor argument names across the class hierarchy."""
    names = set()
    for klass in layer_cls.__mro__:
        if klass is keras.layers.Layer:
            break
        if "__init__" in vars(klass):
            for param in inspect.signature(klass.__init__).parameters.values():
                if param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                    names.add(param.name)
    names.discard("self")
    return names


def to_numpy(tensor):
    """A backend tensor as NumPy (torch tensors that need grad included)."""
    return keras.ops.convert_to_numpy(tensor)


def to_channels_first(array):
    """A channels_last map (rank 3 to 5) as channels_first; other arrays
    (vectors of weights, per-channel gates) unchanged."""
    if array.ndim < 3:
        return array
    return np.transpose(array, (0, array.ndim - 1, *range(1, array.ndim - 1)))


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


# ---------------------------------------------------------------- checks


def check_config(case, tmp_path):
    layer = case.make()
    config = layer.get_config()
    missing = init_arg_names(case.layer_cls) - set(config)
    assert not missing, f"get_config lacks constructor arguments {missing}"
    clone = case.layer_cls.from_config(config)
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
        config, sort_keys=True
    )


def check_serialization(case, tmp_path):
    layer = case.make()
    serialized = keras.saving.serialize_keras_object(layer)
    expected = f"keras_chattn>{case.layer_cls.__name__}"
    assert serialized["registered_name"] == expected
    json.dumps(serialized)  # must be plain JSON
    clone = keras.saving.deserialize_keras_object(serialized)
    assert type(clone) is case.layer_cls
    assert clone.get_config() == layer.get_config()


def check_weight_counts(case, tmp_path):
    layer = case.make()
    layer.build(case.batch_shape())
    assert count(layer.trainable_weights) == case.trainable
    assert count(layer.non_trainable_weights) == case.non_trainable
    for weight in layer.weights:
        assert keras.backend.standardize_dtype(weight.dtype) == "float32"


def check_macs(case, tmp_path):
    # Counted from the traced graph (keras_chattn.models.costs): the
    # papers' weighted count, and ours at least as large; None with an
    # unknown spatial size.
    from keras_chattn.models import costs

    layer = case.make()
    layer.build(case.batch_shape())
    weighted, macs = costs.block_macs(layer, case.batch_shape())
    assert isinstance(macs, int) and macs > 0
    assert isinstance(weighted, int) and 0 <= weighted <= macs
    unknown = case.batch_shape(case.with_spatial(None, None))
    assert costs.block_macs(layer, unknown) == (None, None)


def check_output_shapes(case, tmp_path):
    layer = case.make()
    inputs = case.pack([keras.Input(s) for s in case.shapes()])
    expected = (None, *case.expected_output_shape())
    assert tuple(layer(inputs).shape) == expected
    assert tuple(layer.compute_output_shape(case.batch_shape())) == expected
    eager = layer(case.inputs(batch=2))
    assert tuple(eager.shape) == (2, *case.expected_output_shape())


def check_dynamic_spatial(case, tmp_path):
    unknown = case.with_spatial(None, None)
    layer = case.make()
    if not case.dynamic_spatial:
        with pytest.raises(ValueError, match="spatial|height|width"):
            built_model(case, layer, unknown)
        return
    model = built_model(case, layer, unknown)
    for height, width in [(5, 9), (12, 4)]:
        spec = case.with_spatial(height, width)
        x = case.inputs(batch=2, spec=spec)
        y = model.predict(x, verbose=0)
        assert y.shape == (2, *case.expected_output_shape(spec))
        np.testing.assert_allclose(y, to_numpy(layer(x)), rtol=1e-5, atol=1e-6)


def _train_one_step(case, model, jit_compile):
    x = case.inputs(batch=4, spec=model_input_spec(case, model), seed=2)
    rng = np.random.default_rng(3)
    y = rng.uniform(-1, 1, size=(4, *model.output_shape[1:])).astype("float32")
    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=jit_compile
    )
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    loss = history.history["loss"][0]
    assert np.isfinite(loss), f"training loss is {loss}"


def model_input_spec(case, model):
    return case.pack([tuple(t.shape[1:]) for t in model.inputs])


def check_fit(case, tmp_path):
    layer = case.make()
    model = built_model(case, layer)
    randomize_weights(layer)
    before = [np.array(w) for w in layer.trainable_weights]
    _train_one_step(case, model, jit_compile=False)
    for old, weight in zip(before, layer.trainable_weights, strict=True):
        moved = not np.allclose(old, np.array(weight))
        if weight.path.endswith(case.gradient_free):
            assert not moved, f"{weight.path} moved, though it has no gradient"
        else:
            assert moved, f"{weight.path} did not change in a training step"


def check_jit_compile(case, tmp_path):
    layer = case.make()
    model = built_model(case, layer)
    randomize_weights(layer)
    _train_one_step(case, model, jit_compile=True)


# (rtol, atol) of a low-precision forward pass against float32 with equal
# weights: float16 keeps ~3 decimal digits, bfloat16 ~2 (its spacing at 1.0
# is 2**-7, so an output that cancels two terms of size ~2, as a residual
# block's can, is off by a few hundredths in absolute terms).
MIXED_TOLERANCE = {
    "mixed_float16": (1e-2, 1e-2),
    "mixed_bfloat16": (5e-2, 4e-2),
}


def _torch_cpu_float16(policy):
    """PyTorch cannot train a float16 Conv2D on the CPU.

    Its CPU convolution backward fails ("slow_conv2d: grad_weight must be
    contiguous") for a plain keras.layers.Conv2D as well, so the float16
    training step is left to GPUs there; the forward checks still run.
    """
    if BACKEND != "torch" or policy != "mixed_float16":
        return False
    import torch

    return not torch.cuda.is_available()


def _check_mixed_precision(case, policy):
    large = case.with_spatial(64, 64)
    # Positive inputs so that a sum over 4096 positions exceeds 2048.
    x = case.inputs(batch=2, spec=large, low=0.5, high=1.5)
    reference = case.make()
    reference.build(case.batch_shape(large))
    randomize_weights(reference)
    expected = to_numpy(reference(x))

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = case.make()
        model = built_model(case, layer, large)
        layer.set_weights(reference.get_weights())
        compute_dtype = layer.compute_dtype
        for sublayer in layer._flatten_layers(include_self=True):
            assert sublayer.dtype_policy.name == policy, sublayer.name
        for weight in layer.weights:
            assert keras.backend.standardize_dtype(weight.dtype) == "float32"
        output = layer(x)
        assert keras.backend.standardize_dtype(output.dtype) == compute_dtype
        output = keras.ops.convert_to_numpy(keras.ops.cast(output, "float32"))
        assert np.all(np.isfinite(output)), "non-finite output"
        rtol, atol = MIXED_TOLERANCE[policy]
        np.testing.assert_allclose(output, expected, rtol=rtol, atol=atol)
        if not _torch_cpu_float16(policy):
            small_model = built_model(case, case.make())
            randomize_weights(small_model.layers[-1])
            _train_one_step(case, small_model, jit_compile=False)
        del model
    finally:
        keras.config.set_dtype_policy(previous)


def check_mixed_float16(case, tmp_path):
    _check_mixed_precision(case, "mixed_float16")


def check_mixed_bfloat16(case, tmp_path):
    _check_mixed_precision(case, "mixed_bfloat16")


def gradients(layer, inputs):
    """d mean(layer(inputs)) / d (inputs, trainable weights), as NumPy.

    The mean, as a loss averages: a sum over every position of a large map
    has gradients beyond float16 without any fault of the layer (training
    scales its loss for that).
    """
    weights = layer.trainable_variables
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            total = tf.reduce_mean(
                tf.cast(layer(case_value(tensors), training=True), "float32")
            )
        grads = tape.gradient(total, [*tensors, *weights])
        return [np.asarray(g) for g in grads if g is not None]
    if BACKEND == "jax":
        import jax

        def total(values, tensors):
            with keras.StatelessScope(
                state_mapping=list(zip(weights, values, strict=True))
            ):
                y = layer(case_value(tensors), training=True)
            return keras.ops.mean(keras.ops.cast(y, "float32"))

        values = [w.value for w in weights]
        weight_grads, input_grads = jax.grad(total, argnums=(0, 1))(
            values, [jax.numpy.asarray(x) for x in inputs]
        )
        return [np.asarray(g) for g in [*input_grads, *weight_grads]]
    import torch

    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    total = layer(case_value(tensors), training=True).float().mean()
    total.backward()
    grads = [t.grad for t in tensors] + [w.value.grad for w in weights]
    return [g.detach().cpu().numpy() for g in grads if g is not None]


def case_value(tensors):
    """A list for several inputs, the tensor itself for one."""
    return tensors if len(tensors) > 1 else tensors[0]


GRADIENT_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def gradient_inputs(case, label, large):
    """The maps of the gradient check: one channel all zero (the rest
    random), constant, and large."""
    if label == "zero channel":
        inputs = case.unpack(case.inputs(batch=2, seed=4))
        for x in inputs:
            x[..., 0] = 0.0
        return None, inputs
    spec, value = (None, 0.5) if label == "constant" else (large, 100.0)
    return spec, [
        np.full((2, *shape), value, "float32") for shape in case.shapes(spec)
    ]


def check_gradients(case, tmp_path):
    large = case.with_spatial(64, 64)
    previous = keras.config.dtype_policy()
    # Other backends run the float32 check on the zero-channel map only:
    # their eager gradients are slow, and the policies' numerics are the
    # layers' own (keras.ops), checked here on TensorFlow.
    full = BACKEND == "tensorflow"
    policies = GRADIENT_POLICIES if full else ("float32",)
    labels = (
        ("zero channel", "constant", "large") if full else ("zero channel",)
    )
    try:
        for policy in policies:
            if _torch_cpu_float16(policy):
                continue
            keras.config.set_dtype_policy(policy)
            for label in labels:
                spec, inputs = gradient_inputs(case, label, large)
                layer = case.make()
                layer.build(case.batch_shape(spec))
                randomize_weights(layer)
                for grad in gradients(layer, inputs):
                    assert np.all(np.isfinite(grad)), (
                        f"non-finite gradient under {policy} on a {label} map"
                    )
    finally:
        keras.config.set_dtype_policy(previous)


def check_channels_first(case, tmp_path):
    last = case.make(data_format="channels_last")
    last.build(case.batch_shape())
    randomize_weights(last)
    first = case.make(data_format="channels_first")
    first_shapes = [(s[-1], *s[:-1]) for s in case.shapes()]
    first.build(case.pack([(None, *s) for s in first_shapes]))
    first.set_weights(last.get_weights())
    x = case.inputs(batch=2)
    expected = to_numpy(last(x))
    x_first = case.pack([to_channels_first(a) for a in case.unpack(x)])
    output = to_numpy(first(x_first))
    np.testing.assert_allclose(
        output, to_channels_first(expected), rtol=1e-5, atol=1e-5
    )
    if case.dynamic_spatial:
        inputs = case.pack(
            [keras.Input((s[0], *[None] * (len(s) - 1))) for s in first_shapes]
        )
        symbolic = first(inputs)
        assert symbolic.shape[0] is None


def check_global_channels_first(case, tmp_path):
    # Under the global image_data_format "channels_first", a layer's own
    # data_format decides everything: the same weights (shapes and values)
    # give the same outputs as under the default global format.
    reference = case.make(data_format="channels_last")
    reference.build(case.batch_shape())
    randomize_weights(reference)
    x = case.inputs(batch=2)
    expected = to_numpy(reference(x))
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        last = case.make(data_format="channels_last")
        last.build(case.batch_shape())
        assert [tuple(w.shape) for w in last.weights] == [
            tuple(w.shape) for w in reference.weights
        ]
        last.set_weights(reference.get_weights())
        np.testing.assert_allclose(
            to_numpy(last(x)), expected, rtol=1e-5, atol=1e-5
        )
        first = case.make(data_format="channels_first")
        first.build(case.pack([(None, s[-1], *s[:-1]) for s in case.shapes()]))
        first.set_weights(reference.get_weights())
        x_first = case.pack([to_channels_first(a) for a in case.unpack(x)])
        np.testing.assert_allclose(
            to_numpy(first(x_first)),
            to_channels_first(expected),
            rtol=1e-5,
            atol=1e-5,
        )
    finally:
        keras.config.set_image_data_format(previous)


def check_empty_batch(case, tmp_path):
    # A batch of 0 maps gives a batch of 0 outputs (and 0 rows of every
    # map), in both modes, and moves no BatchNorm statistic.
    layer = case.make()
    layer.build(case.batch_shape())
    randomize_weights(layer)
    before = [to_numpy(w).copy() for w in layer.non_trainable_weights]
    x = case.pack([a[:0] for a in case.unpack(case.inputs(batch=1))])
    for training in (False, True):
        y = layer(x, training=training)
        assert tuple(y.shape) == (0, *case.expected_output_shape())
        if hasattr(layer, "attend"):
            _, maps = layer(x, training=training, return_attention=True)
            for name, value in maps.items():
                # (IdentityStart's gate is its own weight, not per image.)
                assert name == "gate" or value.shape[0] == 0, name
    for old, weight in zip(before, layer.non_trainable_weights, strict=True):
        np.testing.assert_array_equal(to_numpy(weight), old)


# Two loader processes serve every case of a test session, one request per
# line of JSON on stdin, one "RESULT" line back: the SavedModel loader never
# imports keras_chattn (asserted at every request), the .keras loader
# imports only keras_chattn and Keras; neither made the models. Starting one
# process per case instead cost a TensorFlow import each (~8 s).
_SAVED_MODEL_LOADER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    for line in sys.stdin:
        request = json.loads(line)
        arrays = np.load(request["x"])
        x = [arrays[f"x{i}"] for i in range(len(arrays.files))]
        loaded = tf.saved_model.load(request["path"])
        output = loaded.serve(x if len(x) > 1 else x[0])
        print("RESULT" + json.dumps({
            "output": np.asarray(output).tolist(),
            "imported_keras_chattn": "keras_chattn" in sys.modules,
        }), flush=True)
    """
)
_KERAS_LOADER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import keras_chattn
    for line in sys.stdin:
        request = json.loads(line)
        arrays = np.load(request["x"])
        x = [arrays[f"x{i}"] for i in range(len(arrays.files))]
        model = keras.saving.load_model(request["path"])
        output = model.predict(x if len(x) > 1 else x[0], verbose=0)
        print("RESULT" + json.dumps({
            "output": np.asarray(output).tolist(),
            "layer_classes": [type(l).__module__ for l in model.layers],
        }), flush=True)
    """
)


class LoaderProcess:
    """A Python process that loads saved models on request (see above)."""

    _running = {}

    def __init__(self, script):
        self.script = script
        self.process = None

    @classmethod
    def get(cls, script):
        loader = cls._running.get(script)
        if loader is None or loader.process.poll() is not None:
            loader = cls._running[script] = cls(script)
            loader.start()
        return loader

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )

    def load(self, path, x_path):
        self.process.stdin.write(json.dumps({"path": path, "x": x_path}) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("RESULT"):
                return json.loads(line[len("RESULT") :])
        raise AssertionError(
            f"the loader process died loading {path} (exit code "
            f"{self.process.wait()})"
        )

    @classmethod
    def stop_all(cls):
        for loader in cls._running.values():
            loader.process.stdin.close()
            loader.process.wait(timeout=60)
        cls._running.clear()


def can_export():
    """`model.export` needs TensorFlow (it uses jax2tf on the JAX backend)."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return BACKEND in ("tensorflow", "jax")


def check_saved_artifacts(case, tmp_path):
    layer = case.make()
    model = built_model(case, layer)
    randomize_weights(layer)
    x = case.inputs(batch=2, seed=5)
    expected = model.predict(x, verbose=0)
    keras_path = os.fspath(tmp_path / "model.keras")
    model.save(keras_path)
    export_path = "-"
    if can_export():
        export_path = os.fspath(tmp_path / "exported")
        model.export(export_path, verbose=False)
    x_path = os.fspath(tmp_path / "x.npz")
    np.savez(x_path, **{f"x{i}": a for i, a in enumerate(case.unpack(x))})
    result = LoaderProcess.get(_KERAS_LOADER).load(keras_path, x_path)
    np.testing.assert_allclose(result["output"], expected, rtol=1e-5, atol=1e-6)
    assert "keras_chattn.layers" in " ".join(result["layer_classes"])
    if export_path != "-":
        result = LoaderProcess.get(_SAVED_MODEL_LOADER).load(
            export_path, x_path
        )
        assert result["imported_keras_chattn"] is False
        np.testing.assert_allclose(
            result["output"], expected, rtol=1e-5, atol=1e-5
        )


CHECKS = [
    check_config,
    check_serialization,
    check_weight_counts,
    check_macs,
    check_output_shapes,
    check_dynamic_spatial,
    check_fit,
    check_jit_compile,
    check_mixed_float16,
    check_mixed_bfloat16,
    check_gradients,
    check_channels_first,
    check_global_channels_first,
    check_empty_batch,
    check_saved_artifacts,
]


# The checks whose outcome depends on the backend's kernels, autodiff and
# saving: on JAX and PyTorch only these run. The others (config, weight
# counts, MACs, output shapes) are backend-independent Python; SavedModel
# artifacts are TensorFlow's; on JAX every fit is already compiled.
BACKEND_CHECKS = [
    check_serialization,
    check_dynamic_spatial,
    check_fit,
    check_mixed_float16,
    check_mixed_bfloat16,
    check_gradients,
    check_channels_first,
    check_global_channels_first,
    check_empty_batch,
]


def contract_test(cases, slow_checks=()):
    """A pytest test running every check on every case.

    On TensorFlow, every check on every case; on the other backends (JAX,
    PyTorch), the backend-dependent checks (`BACKEND_CHECKS`) on the first
    case of each layer, which keeps their run to a representative subset
    (the numerical reference tests of each layer still run there).
    `slow_checks` (check functions) are marked `slow` for these cases: they
    run with `-m slow` (in CI) instead of in the default run.
    """
    checks = CHECKS
    if BACKEND != "tensorflow":
        cases = cases[:1]
        checks = BACKEND_CHECKS
    ids = [c.__name__[len("check_") :] for c in checks]
    checks = [
        pytest.param(c, marks=pytest.mark.slow) if c in slow_checks else c
        for c in checks
    ]

    @pytest.mark.parametrize("check", checks, ids=ids)
    @pytest.mark.parametrize("case", cases, ids=str)
    def test_contract(case, check, tmp_path):
        keras.utils.set_random_seed(0)
        check(case, tmp_path)

    return test_contract
