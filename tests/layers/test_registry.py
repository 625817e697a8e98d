import keras
import pytest

import keras_chattn
from keras_chattn.layers import registry


def test_registry_names_are_lowercase_and_classes_registered():
    assert {"se", "cbam"} <= set(registry.ATTENTION_LAYERS)
    for name, cls in registry.ATTENTION_LAYERS.items():
        assert name == name.lower()
        assert issubclass(cls, keras.layers.Layer)
        registered = keras.saving.get_registered_name(cls)
        assert registered == f"keras_chattn>{cls.__name__}"


@pytest.mark.parametrize("spec", [None, "none", "None", " NONE "])
def test_no_attention(spec):
    assert keras_chattn.get_attention(spec) is None
    assert keras_chattn.create_attention(spec, reduction=4) is None


@pytest.mark.parametrize("name", sorted(registry.ATTENTION_LAYERS))
def test_names_are_case_insensitive(name):
    cls = registry.ATTENTION_LAYERS[name]
    assert keras_chattn.get_attention(name.upper()) is cls
    # A block that is a convolution needs the convolution's filters.
    kwargs = {"filters": 8} if name in ("sk", "splat") else {}
    layer = keras_chattn.create_attention(
        name, name="block1_attention", **kwargs
    )
    assert type(layer) is cls and layer.name == "block1_attention"


def test_class_and_factory_pass_through():
    assert keras_chattn.get_attention(keras_chattn.CBAM) is keras_chattn.CBAM

    def factory(**kwargs):
        return keras_chattn.SqueezeExcite(reduction=2, **kwargs)

    assert keras_chattn.get_attention(factory) is factory
    layer = keras_chattn.create_attention(factory, name="x_attention")
    assert layer.reduction == 2 and layer.name == "x_attention"


def test_kwargs_reach_the_block():
    layer = keras_chattn.create_attention(
        "cbam", reduction=8, use_spatial=False
    )
    assert layer.reduction == 8 and layer.spatial_attention is None


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as error:
        keras_chattn.get_attention("sqeeze")
    message = str(error.value)
    assert "'sqeeze'" in message
    assert str(sorted(registry.ATTENTION_LAYERS)) in message


def test_layer_instance_is_refused():
    with pytest.raises(ValueError, match=r"not a layer instance.*share"):
        keras_chattn.get_attention(keras_chattn.SqueezeExcite())


@pytest.mark.parametrize("spec", [16, 2.5, ["se"], {"name": "se"}])
def test_non_callable_spec_is_refused(spec):
    with pytest.raises(ValueError, match=r"attention must be None, a name"):
        keras_chattn.get_attention(spec)


def test_factory_must_return_a_layer():
    with pytest.raises(ValueError, match=r"must return a keras.layers.Layer"):
        keras_chattn.create_attention(lambda **kwargs: "not a layer")


def test_bad_kwargs_give_the_block_error():
    with pytest.raises(ValueError, match=r"reduction must be a positive"):
        keras_chattn.create_attention("se", reduction=0)


def test_no_block_shadows_a_torch_module_attribute():
    # On the PyTorch backend a layer is a torch.nn.Module: a method named
    # like one of its attributes (`_modules`, `_parameters`, ...) breaks
    # every call there.
    torch = pytest.importorskip("torch")
    # Class attributes and those every instance sets (`_modules` is one).
    reserved = set(dir(torch.nn.Module)) | set(vars(torch.nn.Module()))
    import keras

    ours = {}
    for cls in [
        *registry.ATTENTION_LAYERS.values(),
        *keras_chattn.layers.__dict__.values(),
    ]:
        if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
            continue
        for klass in cls.__mro__:
            if klass.__module__.startswith("keras_chattn"):
                for name in vars(klass):
                    if name in reserved and not name.startswith("__"):
                        ours.setdefault(name, []).append(klass.__name__)
    allowed = {"call", "build", "get_config", "compute_output_shape"}
    clashes = {k: v for k, v in ours.items() if k not in allowed}
    assert not clashes, clashes
