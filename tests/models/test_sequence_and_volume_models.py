"""resnet1d (sequences) and resnet3d (volumes) with attention blocks."""

import json

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.layers.registry import ATTENTION_LAYERS
from tests.models.helpers import attention_layers
from tests.processes import run_python

IMAGE_ONLY = tuple(
    name for name, block in ATTENTION_LAYERS.items() if 3 not in block.ranks
)
ANY_RANK = sorted(set(ATTENTION_LAYERS) - set(IMAGE_ONLY))


def conv_bn(kernel, c_in, c_out):
    """Trainable weights of a biased Conv1D and its BatchNorm."""
    return kernel * c_in * c_out + c_out + 2 * c_out


def test_resnet1d_is_the_baseline_architecture():
    model = keras_chattn.models.resnet1d(input_shape=(150, 1), classes=2)
    expected = 0
    for c_in, c_out in [(1, 64), (64, 128), (128, 128)]:
        expected += conv_bn(8, c_in, c_out) + conv_bn(5, c_out, c_out)
        expected += conv_bn(3, c_out, c_out)
        # The shortcut: 1x1 conv + BN where the width changes, else BN.
        expected += conv_bn(1, c_in, c_out) if c_in != c_out else 2 * c_out
    expected += 128 * 2 + 2
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == expected
    convs = [x for x in model.layers if isinstance(x, keras.layers.Conv1D)]
    assert [c.kernel_size[0] for c in convs if c.kernel_size[0] > 1] == [
        8, 5, 3, 8, 5, 3, 8, 5, 3,
    ]  # fmt: skip
    assert model.output_shape == (None, 2)


@pytest.mark.parametrize("block", ANY_RANK)
def test_resnet1d_takes_every_block_that_takes_sequences(block):
    model = keras_chattn.models.resnet1d(
        input_shape=(40, 3), classes=4, attention=block
    )
    assert attention_layers(model), block
    y = model(np.random.default_rng(0).normal(size=(2, 40, 3)))
    assert np.isfinite(keras.ops.convert_to_numpy(y)).all()


@pytest.mark.parametrize("block", IMAGE_ONLY)
def test_image_only_blocks_are_refused_with_the_reason(block):
    with pytest.raises(ValueError, match=r"4-D input|2-D convolution"):
        keras_chattn.models.resnet1d(
            input_shape=(40, 3), classes=4, attention=block
        )


def test_c3_never_sees_the_raw_series():
    model = keras_chattn.models.resnet1d(
        input_shape=(40, 1), classes=2, attention="c3"
    )
    first = model.get_layer("block1_input_attention")
    assert first.input.shape[-1] == 64  # after the first convolution


def test_resnet1d_learns_gunpoint():
    pytest.importorskip("aeon")
    data = keras_chattn.data.load_ucr("GunPoint")
    keras.utils.set_random_seed(0)
    model = keras_chattn.models.resnet1d(
        input_shape=data.input_shape,
        classes=2,
        attention="eca",
        filters=(16, 32, 32),
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(
        data.train.x, data.train.y, batch_size=10, epochs=8, verbose=0
    )
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.8 * losses[0]


def small_resnet3d(attention):
    return keras_chattn.models.resnet3d(
        10,
        input_shape=(4, 16, 16, 1),
        classes=3,
        attention=attention,
        widths=(8, 8, 16, 16),
    )


def train_small_resnet3d(block):
    """Three SGD steps on random volumes: the losses and the outputs."""
    model = small_resnet3d(block)
    assert len(attention_layers(model)) == 4
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4, 16, 16, 1)).astype("float32")
    y = rng.integers(0, 3, size=8)
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0)
    return history.history["loss"], model.predict(x, verbose=0)


@pytest.mark.parametrize("block", ["se", "cbam"])
def test_resnet3d_trains_under_mixed_float16(block):
    keras.config.set_dtype_policy("mixed_float16")
    losses, outputs = train_small_resnet3d(block)
    assert np.isfinite(losses).all() and np.isfinite(outputs).all()


@pytest.mark.slow
def test_resnet3d_trains_under_mixed_bfloat16_on_jax():
    # TensorFlow 2.21's CPU kernels crash (a double free) training even the
    # plain resnet3d under mixed_bfloat16; JAX trains it, in a process of
    # its own.
    pytest.importorskip("jax")
    code = """
import keras, numpy as np
from tests.models.test_sequence_and_volume_models import train_small_resnet3d
keras.config.set_dtype_policy("mixed_bfloat16")
for block in ("se", "cbam"):
    losses, outputs = train_small_resnet3d(block)
    assert np.isfinite(losses).all() and np.isfinite(outputs).all(), block
print("OK")
"""
    assert "OK" in run_python(code, env={"KERAS_BACKEND": "jax"}).stdout


def test_resnet3d_refuses_what_has_no_3d_form():
    with pytest.raises(ValueError, match=r"no 3-D form"):
        small_resnet3d("sk")
    with pytest.raises(ValueError, match=r"depth must be one of"):
        keras_chattn.models.resnet3d(50)
    with pytest.raises(ValueError, match=r"takes volumes"):
        keras_chattn.models.resnet3d(18, input_shape=(16, 16, 1))


@pytest.mark.parametrize(
    "build",
    [
        lambda: keras_chattn.models.resnet1d((150, 1), 2),
        lambda: keras_chattn.models.cifar_resnet(20, (32, 32, 3)),
    ],
)
def test_input_shape_passed_first_is_named(build):
    with pytest.raises(ValueError, match="include_top must be True or Fa") as e:
        build()
    assert "pass input_shape= and classes= by keyword" in str(e.value)


def test_saved_models_of_both_reload_in_fresh_processes(tmp_path):
    rng = np.random.default_rng(0)
    cases = {
        "sequence": (
            keras_chattn.models.resnet1d(input_shape=(30, 2), classes=3,
                                         attention="cbam",
                                         filters=(8, 16, 16)),
            rng.normal(size=(2, 30, 2)).astype("float32"),
        ),
        "volume": (small_resnet3d("se"), rng.normal(size=(2, 4, 16, 16, 1))
                   .astype("float32")),
    }  # fmt: skip
    expected = {}
    for name, (model, x) in cases.items():
        model.save(tmp_path / f"{name}.keras")
        model.export(tmp_path / f"{name}_saved", verbose=False)
        np.save(tmp_path / f"{name}.npy", x)
        expected[name] = model.predict(x, verbose=0).tolist()
    code = f"""
import json, pathlib, sys
import numpy as np, keras, tensorflow as tf
import keras_chattn
folder = pathlib.Path({str(tmp_path)!r})
out = {{}}
for name in ("sequence", "volume"):
    x = np.load(folder / f"{{name}}.npy")
    model = keras.saving.load_model(folder / f"{{name}}.keras")
    loaded = tf.saved_model.load(str(folder / f"{{name}}_saved"))
    out[name] = [model.predict(x, verbose=0).tolist(),
                 np.asarray(loaded.serve(x)).tolist()]
print("RESULT" + json.dumps(out))
"""
    stdout = run_python(code).stdout
    result = json.loads(stdout.split("RESULT", 1)[1])
    for name, (keras_output, saved_output) in result.items():
        np.testing.assert_allclose(keras_output, expected[name], atol=1e-5)
        np.testing.assert_allclose(saved_output, expected[name], atol=1e-5)
