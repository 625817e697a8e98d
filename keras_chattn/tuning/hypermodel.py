"""A Keras Tuner hypermodel over the attention blocks and their settings."""

import inspect
import json
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers import registry
from keras_chattn.models import build_model
from keras_chattn.models import get_model_builder
from keras_chattn.training import cifar_recipe
from keras_chattn.tuning.spaces import search_space
from keras_chattn.utils import validation

try:
    import keras_tuner
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "keras_chattn.tuning needs Keras Tuner: "
        "pip install 'keras_chattn[tune]'"
    ) from None

NO_BLOCK = "none"


def block_defaults(block):
    """{argument: constructor default} for the block's search space."""
    parameters = inspect.signature(registry.ATTENTION_LAYERS[block]).parameters
    return {name: parameters[name].default for name in search_space(block)}


def hyperparameter_name(block, argument):
    return f"{block}_{argument}"


class AttentionHyperModel(keras_tuner.HyperModel):
    """Searches the attention block of a model builder and its settings.

    `build(hp)` declares:
    - `attention`: a choice over `blocks` (default "none" when present);
    - for each block, its search space (`keras_chattn.tuning.spaces`; e.g.
      SE/CBAM/BA
      `reduction` in {4, 8, 16, 32}, CBAM `spatial_kernel_size` in {3, 5, 7},
      CC `emp` and `variant`, C3 `reduction` in {4, 8, 16}), named
      `<block>_<argument>` with the block's constructor default, inside
      `hp.conditional_scope("attention", [block])` so that only the chosen
      block's settings are active. A new block joins the search with its
      entry there (`keras_chattn.register_block`); nothing here changes;
    - `learning_rate` (log scale, 0.01 to 0.3, default 0.1) and
      `weight_decay` (log scale, 1e-5 to 1e-3, default 5e-4) when asked;
    and builds the model with `keras_chattn.models.build_model` (the
    builders' graphs, never a copy), compiled with
    `keras_chattn.training.cifar_recipe`.

    Bayesian optimisation does not understand conditional hyperparameters;
    `conditional=False` declares every block's settings unconditionally (a
    flat space, of which only the chosen block's values are used).
    `keras_chattn.tuning.search` does that for `tuner="bayesian"`.

    Args:
        builder: a model builder name (`keras_chattn.models.MODEL_BUILDERS`).
            Defaults to "cifar_resnet20".
        input_shape: the image shape. Defaults to (32, 32, 3).
        classes: number of classes. Defaults to 10.
        blocks: block names to choose from (registry names and "none").
            Defaults to None: every registered block and "none".
        search_learning_rate: search the peak learning rate. Defaults to
            True.
        search_weight_decay: search the weight decay. Defaults to False.
        epochs: epochs each trial trains (for the learning-rate schedule).
            Defaults to 1.
        steps_per_epoch: batches per epoch (for the schedule). Defaults to 1.
        conditional: declare block settings in conditional scopes. Defaults
            to True.
        builder_kwargs: more keyword arguments for the builder (e.g.
            `{"stem": "cifar"}`). Defaults to None.
        **kwargs: `keras_tuner.HyperModel` arguments (`name`, `tunable`).

    Examples:

        >>> import keras_tuner
        >>> from keras_chattn.tuning import AttentionHyperModel
        >>> hp = keras_tuner.HyperParameters()
        >>> hp.Fixed("attention", "se")
        'se'
        >>> model = AttentionHyperModel(blocks=["se", "cbam"]).build(hp)
        >>> block = model.get_layer("conv2_block1_attention")
        >>> hp.get("se_reduction"), type(block).__name__, block.reduction
        (16, 'SqueezeExcite', 16)
    """

    def __init__(
        self,
        builder: str | Callable[..., keras.Model] = "cifar_resnet20",
        input_shape: tuple[int | None, ...] = (32, 32, 3),
        classes: int = 10,
        blocks: Sequence[str] | None = None,
        search_learning_rate: bool = True,
        search_weight_decay: bool = False,
        epochs: int = 1,
        steps_per_epoch: int = 1,
        conditional: bool = True,
        builder_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # What flattened() rebuilds the hypermodel from.
        self._arguments = {
            "builder": builder,
            "input_shape": input_shape,
            "classes": classes,
            "blocks": blocks,
            "search_learning_rate": search_learning_rate,
            "search_weight_decay": search_weight_decay,
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "conditional": conditional,
            "builder_kwargs": builder_kwargs,
            **kwargs,
        }
        get_model_builder(builder)
        if blocks is None:
            blocks = [NO_BLOCK, *sorted(registry.ATTENTION_LAYERS)]
        blocks = [
            block.strip().lower() if isinstance(block, str) else block
            for block in blocks
        ]
        known = [NO_BLOCK, *sorted(registry.ATTENTION_LAYERS)]
        unknown = [block for block in blocks if block not in known]
        if not blocks or unknown:
            raise ValueError(
                f"blocks must be a non-empty list of {known}. "
                f"Received: blocks={blocks!r}"
            )
        self.builder = builder
        self.input_shape = tuple(input_shape)
        self.classes = validation.positive_int("classes", classes)
        self.blocks = blocks
        self.search_learning_rate = validation.boolean(
            "search_learning_rate", search_learning_rate
        )
        self.search_weight_decay = validation.boolean(
            "search_weight_decay", search_weight_decay
        )
        self.epochs = validation.positive_int("epochs", epochs)
        self.steps_per_epoch = validation.positive_int(
            "steps_per_epoch", steps_per_epoch
        )
        self.conditional = validation.boolean("conditional", conditional)
        self.builder_kwargs = dict(builder_kwargs or {})

    def settings(self):
        """The arguments this hypermodel was made with, as JSON values (a
        resumed search must be made with the same)."""
        settings = {**self._arguments, "blocks": self.blocks}
        return json.loads(json.dumps(settings, default=repr))

    def flattened(self):
        """The same hypermodel with `conditional=False`, for tuners (like
        Bayesian optimisation) that do not understand conditional scopes."""
        return type(self)(**{**self._arguments, "conditional": False})

    def declare_block(self, hp, block):
        """Declares `block`'s settings; returns its constructor kwargs."""
        defaults = block_defaults(block)
        return {
            argument: hp.Choice(
                hyperparameter_name(block, argument),
                list(values),
                default=defaults[argument],
            )
            for argument, values in search_space(block).items()
        }

    def build(self, hp):
        default = NO_BLOCK if NO_BLOCK in self.blocks else self.blocks[0]
        block = hp.Choice("attention", self.blocks, default=default)
        chosen = {}
        for candidate in self.blocks:
            if not search_space(candidate):
                continue
            if not self.conditional:
                values = self.declare_block(hp, candidate)
            elif candidate == block:
                with hp.conditional_scope("attention", [candidate]):
                    values = self.declare_block(hp, candidate)
            else:
                continue
            if candidate == block:
                chosen = values
        learning_rate = None
        if self.search_learning_rate:
            learning_rate = hp.Float(
                "learning_rate", 0.01, 0.3, sampling="log", default=0.1
            )
        weight_decay = 5e-4
        if self.search_weight_decay:
            weight_decay = hp.Float(
                "weight_decay", 1e-5, 1e-3, sampling="log", default=5e-4
            )
        model = build_model(
            self.builder,
            input_shape=self.input_shape,
            classes=self.classes,
            attention=None if block == NO_BLOCK else block,
            attention_kwargs=chosen or None,
            **self.builder_kwargs,
        )
        cifar_recipe(
            epochs=self.epochs,
            steps_per_epoch=self.steps_per_epoch,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            classes=self.classes,
        ).compile(model)
        return model

    def fit(self, hp, model, *args, **kwargs):
        callbacks = list(kwargs.pop("callbacks", []))
        callbacks.append(keras.callbacks.TerminateOnNaN())
        history = model.fit(*args, callbacks=callbacks, **kwargs)
        losses = history.history.get("loss", [])
        if not all(math.isfinite(loss) for loss in losses):
            raise keras_tuner.errors.FailedTrialError("the loss became NaN")
        # keras-tuner's oracle records every logged value with the trial.
        history.history["parameters"] = [model.count_params()] * len(losses)
        return history
