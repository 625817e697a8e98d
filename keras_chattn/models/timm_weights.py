"""timm checkpoints into our timm ResNets: `from_timm`.

A checkpoint is timm's state dict: a `.safetensors` file (what the
Hugging Face hub holds as `timm/<name>.<tag>/model.safetensors`, read with
safetensors' NumPy API, no torch needed) or a PyTorch `.pth`/`.bin`/`.pt`
file (torch needed, read with `weights_only=True`). Every key is moved to
the layer our builder names for it; a key with no place, a weight with no
key or a shape that differs is refused, naming them: nothing loads
partly.
"""

import pathlib
import re

import keras
import numpy as np

from keras_chattn.models.timm_resnets import architecture
from keras_chattn.models.timm_resnets import base_name
from keras_chattn.models.timm_resnets import timm_resnet
from keras_chattn.utils.types import PathLike

# The pretrained tag timm loads for a name without one (timm 1.0's first).
DEFAULT_TAGS = {
    "resnet18": "a1_in1k",
    "resnet18d": "ra2_in1k",
    "resnet26": "bt_in1k",
    "resnet26d": "bt_in1k",
    "resnet34": "a1_in1k",
    "resnet34d": "ra2_in1k",
    "resnet50": "a1_in1k",
    "resnet50d": "ra2_in1k",
    "resnet101": "a1h_in1k",
    "resnet101d": "ra2_in1k",
    "resnet152": "a1h_in1k",
    "resnet152d": "ra2_in1k",
    "seresnet50": "a1_in1k",
    "seresnet152d": "ra2_in1k",
    "seresnext26d_32x4d": "bt_in1k",
    "seresnext26t_32x4d": "bt_in1k",
    "seresnext50_32x4d": "racm_in1k",
    "seresnext101_32x4d": "gluon_in1k",
    "legacy_seresnet18": "in1k",
    "legacy_seresnet34": "in1k",
    "legacy_seresnet50": "in1k",
    "legacy_seresnet101": "in1k",
    "legacy_seresnet152": "in1k",
    "legacy_seresnext26_32x4d": "in1k",
    "legacy_seresnext50_32x4d": "in1k",
    "legacy_seresnext101_32x4d": "in1k",
    "ecaresnet26t": "ra2_in1k",
    "ecaresnet50d": "miil_in1k",
    "ecaresnet50t": "ra2_in1k",
    "ecaresnet101d": "miil_in1k",
    "ecaresnet269d": "ra2_in1k",
    "skresnet18": "ra_in1k",
    "skresnet34": "ra_in1k",
    "skresnext50_32x4d": "ra_in1k",
    "resnest14d": "gluon_in1k",
    "resnest26d": "gluon_in1k",
    "resnest50d": "in1k",
}
TORCH_SUFFIXES = (".pth", ".bin", ".pt")
BLOCK = r"layer(\d)\.(\d+)\."
# (timm module path pattern, our layer name): the first that matches names
# the layer; in the name, {b} is the residual block (conv3_block2) and
# {g[i]} the pattern's i-th group.
RULES = [
    (r"(?:layer0\.)?conv1", "conv1_conv"),
    (r"conv1\.0", "stem1_conv"),
    (r"conv1\.1", "stem1_bn"),
    (r"conv1\.3", "stem2_conv"),
    (r"conv1\.4", "stem2_bn"),
    (r"conv1\.6", "conv1_conv"),
    (r"(?:layer0\.)?bn1", "conv1_bn"),
    (BLOCK + r"conv(\d)(?:\.conv)?", "{b}_{g[2]}_conv"),
    (BLOCK + r"(?:bn(\d)|conv(\d)\.bn)", "{b}_{g[2]}{g[3]}_bn"),
    (
        BLOCK + r"conv(\d)\.paths\.(\d)\.(conv|bn)",
        "{b}_{g[2]}_attention/branch{g[3]}_{g[4]}",
    ),
    (BLOCK + r"conv(\d)\.attn\.fc_reduce", "{b}_{g[2]}_attention/fuse"),
    (BLOCK + r"conv(\d)\.attn\.bn", "{b}_{g[2]}_attention/fuse_bn"),
    (BLOCK + r"conv(\d)\.attn\.fc_select", "{b}_{g[2]}_attention/select"),
    (BLOCK + r"se(?:_module)?\.fc1", "{b}_attention/reduce"),
    (BLOCK + r"se(?:_module)?\.fc2", "{b}_attention/expand"),
    (BLOCK + r"se\.conv", "{b}_attention/conv"),
    (BLOCK + r"downsample\.(\d)", "{b}_0_{g[2]}"),
    (r"fc|last_linear", "predictions"),
]
# ResNeSt's split attention (timm's SplitAttn) in the 3x3 convolution's
# place: its convolution, BatchNorms and attention 1x1s, tried first for
# the networks built with it ("conv2.conv" is a plain convolution in the
# others).
SPLAT_RULES = [
    (BLOCK + r"conv(\d)\.conv", "{b}_{g[2]}_attention/conv"),
    (BLOCK + r"conv(\d)\.bn0", "{b}_{g[2]}_attention/conv_bn"),
    (BLOCK + r"conv(\d)\.fc1", "{b}_{g[2]}_attention/fc1"),
    (BLOCK + r"conv(\d)\.bn1", "{b}_{g[2]}_attention/fc1_bn"),
    (BLOCK + r"conv(\d)\.fc2", "{b}_{g[2]}_attention/fc2"),
]
BATCHNORM = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}


class CheckpointError(ValueError):
    """A checkpoint that does not fit the network, named with what differs."""


def keras_path(
    key: str, avg_down: bool, attention: str | None = None
) -> str | None:
    """Our weight's path (`layer/variable`) for timm's state-dict `key`,
    or None for a key with no place in our network (`attention`: the
    network's block, "splat" for ResNeSt)."""
    module, _, parameter = key.rpartition(".")
    rules = SPLAT_RULES + RULES if attention == "splat" else RULES
    for pattern, target in rules:
        match = re.fullmatch(pattern, module)
        if match is None:
            continue
        groups = [g or "" for g in match.groups()]
        block = ""
        if pattern.startswith(BLOCK):
            stage, index = int(groups[0]) + 1, int(groups[1]) + 1
            block = f"conv{stage}_block{index}"
        if "downsample" in module:
            # (conv, bn), or (pool, conv, bn) with average-pool shortcuts
            position = int(groups[2]) - (1 if avg_down else 0)
            if position not in (0, 1):
                return None
            groups[2] = ("conv", "bn")[position]
        layer = target.format(b=block, g=groups)
        if layer.endswith("_bn"):
            name = BATCHNORM.get(parameter)
        else:
            name = {"weight": "kernel", "bias": "bias"}.get(parameter)
        return None if name is None else f"{layer}/{name}"
    return None


def to_keras(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    """timm's tensor in our variable's layout, or None when no layout of
    it has `shape`."""
    if value.ndim == 4 and len(shape) == 4:  # (O, I, kh, kw) -> (kh, kw, I, O)
        value = value.transpose(2, 3, 1, 0)
    elif value.ndim in (2, 4) and len(shape) == 2:  # a Linear or 1x1 conv
        value = value.reshape(value.shape[0], -1).T
    elif value.ndim == 3 and len(shape) == 3:  # ECA's Conv1d (1, 1, k)
        value = value.transpose(2, 1, 0)
    return value if tuple(value.shape) == tuple(shape) else None


def read_checkpoint(checkpoint: PathLike) -> dict[str, np.ndarray]:
    """timm's state dict from a `.safetensors` or PyTorch file."""
    path = pathlib.Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint must be a .safetensors or PyTorch (.pth, .bin, .pt) "
            f"file. Received: checkpoint={str(checkpoint)!r}, which is not a "
            "file"
        )
    if path.suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise ImportError(
                "Reading .safetensors checkpoints needs safetensors: "
                "pip install 'keras_chattn[pretrained]'"
            ) from None
        try:
            state = load_file(str(path))
        except Exception as error:  # safetensors' own error types
            raise CheckpointError(
                f"{path} is not a readable .safetensors file: {error}"
            ) from None
    elif path.suffix in TORCH_SUFFIXES:
        state = _read_torch(path)
    else:
        raise CheckpointError(
            f"checkpoint must end in .safetensors, .pth, .bin or .pt. "
            f"Received: checkpoint={str(checkpoint)!r}"
        )
    return {
        key.removeprefix("module."): np.asarray(value)
        for key, value in state.items()
    }


def _read_torch(path):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path.name} needs torch; or convert it to .safetensors "
            "where torch is installed."
        ) from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # torch's unpickler refuses
        raise CheckpointError(
            f"{path} is not a PyTorch state dict torch loads with "
            f"weights_only=True: {error}"
        ) from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds no state dict")
    return {
        key: value.detach().float().numpy()
        for key, value in state.items()
        if hasattr(value, "detach")
    }


def load_timm_state(
    model: keras.Model, state: dict[str, np.ndarray], name: str, where: str
) -> None:
    """Moves every weight of timm's `state` into `model`, or raises
    `CheckpointError` naming every key and weight that does not fit."""
    arch = architecture(name)
    variables = {
        v.path: v
        for v in model.weights
        if not v.path.startswith("preprocessing")
    }
    include_top = any(path.startswith("predictions/") for path in variables)
    unexpected, mismatched, assigned = [], [], {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        path = keras_path(key, arch.avg_down, arch.attention)
        if (
            path is not None
            and path.startswith("predictions/")
            and not include_top
        ):
            continue
        if path not in variables:
            unexpected.append(key)
            continue
        converted = to_keras(value, tuple(variables[path].shape))
        if converted is None:
            mismatched.append(
                f"{key} {tuple(value.shape)} for {path} "
                f"{tuple(variables[path].shape)}"
            )
            continue
        assigned[path] = converted
    missing = [path for path in variables if path not in assigned]
    problems = []
    for title, items in (
        ("keys with no place in the network", unexpected),
        ("shapes that differ", mismatched),
        ("weights the checkpoint has no key for", missing),
    ):
        if items:
            shown = "; ".join(items[:5])
            more = f" and {len(items) - 5} more" if len(items) > 5 else ""
            problems.append(f"{len(items)} {title}: {shown}{more}")
    if problems:
        raise CheckpointError(
            f"{where} is not a checkpoint of timm's {name} as built here ("
            + ". ".join(problems)
            + "). Nothing was loaded."
        )
    for path, value in assigned.items():
        variables[path].assign(value.astype(variables[path].dtype))


def download(name: str) -> pathlib.Path:
    """`model.safetensors` of `timm/<name>` from the Hugging Face hub (the
    `huggingface_hub` package; cached by it)."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ImportError(
            "Downloading timm weights needs huggingface_hub: pip install "
            "'keras_chattn[pretrained]'; or pass checkpoint= a local "
            ".safetensors file."
        ) from None
    return pathlib.Path(
        hf_hub_download(repo_id=f"timm/{name}", filename="model.safetensors")
    )


def from_timm(
    name: str,
    checkpoint: PathLike | None = None,
    *,
    include_top: bool = True,
    classes: int | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    include_preprocessing: bool = False,
) -> keras.Model:
    """timm's network `name` with its weights, as a keras_chattn model.

    Args:
        name: a timm name of `keras_chattn.models.TIMM_ARCHITECTURES`,
            with an optional pretrained tag ("seresnet50.a1_in1k").
        checkpoint: timm's state dict as a `.safetensors` file (or a
            PyTorch file where torch is installed). None downloads
            `timm/<name>.<tag>` from the Hugging Face hub (the tag timm
            loads by default when `name` has none; needs huggingface_hub).
        include_top: keep the classifier.
        classes: its classes; None takes the checkpoint's. With
            `include_top=False` it is not used.
        input_shape: channels_last; height and width may be None.
        pooling: without the top: None, "avg" or "max".
        classifier_activation: of `predictions`; None for timm's logits.
        include_preprocessing: take 0-255 images and normalise them as
            timm does (`keras_chattn.models.timm_preprocessing(name)`).

    Returns:
        A functional channels_last `keras.Model` built by `timm_resnet`.

    Raises:
        CheckpointError: the checkpoint does not fit, naming the keys,
            weights and shapes that differ; nothing is loaded.

    Example:

        ```python
        model = keras_chattn.models.from_timm("seresnet50.a1_in1k")
        features = keras_chattn.models.from_timm(
            "ecaresnet50d", "model.safetensors", include_top=False,
            pooling="avg",
        )
        ```
    """
    base = base_name(name)
    if checkpoint is None:
        tag = name.split(".", 1)[1] if "." in name else DEFAULT_TAGS[base]
        checkpoint = download(f"{base}.{tag}")
    state = read_checkpoint(checkpoint)
    if classes is None:
        head = state.get("fc.weight", state.get("last_linear.weight"))
        classes = 1000 if head is None else int(head.shape[0])
    model = timm_resnet(
        base,
        include_top=include_top,
        classes=classes,
        input_shape=input_shape,
        pooling=pooling,
        classifier_activation=classifier_activation,
        include_preprocessing=include_preprocessing,
    )
    load_timm_state(model, state, base, str(checkpoint))
    return model
