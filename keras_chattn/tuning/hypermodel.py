"""A Keras Tuner hypermodel over the attention blocks and their settings."""

import inspect
import json
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers import registry
from keras_chattn.models import attention_layout
from keras_chattn.models import build_model
from keras_chattn.models import get_model_builder
from keras_chattn.models.positions import FORM_POSITIONS
from keras_chattn.training import cifar_recipe
from keras_chattn.tuning.descriptions import NO_BLOCK
from keras_chattn.tuning.descriptions import hyperparameter_name
from keras_chattn.tuning.descriptions import movable
from keras_chattn.tuning.descriptions import parse_line
from keras_chattn.tuning.descriptions import per_block
from keras_chattn.tuning.descriptions import stage_names
from keras_chattn.tuning.spaces import search_space
from keras_chattn.utils import validation

try:
    import keras_tuner
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "keras_chattn.tuning needs Keras Tuner: "
        "pip install 'keras_chattn[tune]'"
    ) from None


def block_defaults(block):
    """{argument: constructor default} for the block's search space."""
    parameters = inspect.signature(registry.ATTENTION_LAYERS[block]).parameters
    return {name: parameters[name].default for name in search_space(block)}


class AttentionHyperModel(keras_tuner.HyperModel):
    """Searches the attention blocks of a model builder, where they go,
    and their settings.

    `build(hp)` declares, for the whole network (or, with
    `per_stage=True`, for each stage `s`, prefixed `stage{s}_`):
    - `attention`: a choice over `blocks` (default "none" when present);
    - the chosen block's search space (`keras_chattn.tuning.spaces`; e.g.
      SE/CBAM/BA `reduction` in {4, 8, 16, 32}, CBAM `spatial_kernel_size`
      in {3, 5, 7}, CC `emp` and `variant`), named `<block>_<argument>`
      with the block's constructor default;
    - `position`, a choice over `positions`, for a block that can move
      inside a residual block (`keras_chattn.models.positions`), when
      more than one position is searched;
    - `every` (blocks in every k-th residual block of a stage), a choice
      over `every`, for a block placed in each residual block, when more
      than one is searched;
    each inside `hp.conditional_scope` of its `attention`, so that only
    the chosen block's settings are active; then
    - `learning_rate` (log scale, 0.01 to 0.3, default 0.1) and
      `weight_decay` (log scale, 1e-5 to 1e-3, default 5e-4) when asked;
    and builds the model with `keras_chattn.models.build_model` (the
    builders' graphs, never a copy), compiled with
    `keras_chattn.training.cifar_recipe`. A new block joins the search
    with its entry in the spaces (`keras_chattn.register_block`).

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
        per_stage: a block (and its settings, position and every) per
            stage instead of one for the network. Defaults to False.
        positions: the positions to search, `"all"` for every one the
            builder's blocks have (`keras_chattn.models.attention_layout`).
            Defaults to None: `("standard",)`.
        every: the values of `attention_every` to search. Defaults to
            None: `(1,)`.
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
        >>> hypermodel = AttentionHyperModel(
        ...     blocks=["none", "se", "cbam"], per_stage=True,
        ...     positions="all", every=(1, 2),
        ... )
        >>> model = hypermodel.rebuild(
        ...     "stage1: none; stage2: se(reduction=4) at post every 2; "
        ...     "stage3: cbam; learning_rate=0.05"
        ... )
        >>> [l.name for l in model.layers if l.name.endswith("attention")]
        ['conv3_block1_attention', 'conv3_block3_attention', \
'conv4_block1_attention', 'conv4_block2_attention', 'conv4_block3_attention']
        >>> hypermodel.configurations()
        4173281
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
        per_stage: bool = False,
        positions: Sequence[str] | str | None = None,
        every: Sequence[int] | None = None,
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
            "per_stage": per_stage,
            "positions": positions,
            "every": every,
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
        self.per_stage = validation.boolean("per_stage", per_stage)
        form, self.num_stages = attention_layout(builder, **self.builder_kwargs)
        self.positions = _checked_positions(positions, form, builder)
        self.every = _checked_every(every)

    def settings(self):
        """The arguments this hypermodel was made with, as JSON values (a
        resumed search must be made with the same)."""
        settings = {**self._arguments, "blocks": self.blocks}
        return json.loads(json.dumps(settings, default=repr))

    def flattened(self):
        """The same hypermodel with `conditional=False`, for tuners (like
        Bayesian optimisation) that do not understand conditional scopes."""
        return type(self)(**{**self._arguments, "conditional": False})

    def configurations(self):
        """How many networks the space holds (blocks, their settings,
        positions and every; the learning rate and weight decay, which are
        continuous, not counted)."""
        one = 0
        for block in self.blocks:
            count = math.prod(len(v) for v in search_space(block).values())
            if movable(block):
                count *= len(self.positions)
            if per_block(block):
                count *= len(self.every)
            one += count
        return one ** (self.num_stages if self.per_stage else 1)

    def declare_block(self, hp, block, stage=None):
        """Declares `block`'s settings; returns its constructor kwargs."""
        defaults = block_defaults(block)
        return {
            argument: hp.Choice(
                hyperparameter_name(block, argument, stage),
                list(values),
                default=defaults[argument],
            )
            for argument, values in search_space(block).items()
        }

    def _declare(self, hp, stage):
        """(block, kwargs, position, every) for one stage (or all)."""
        attention, position_name, every_name = stage_names(stage)
        default = NO_BLOCK if NO_BLOCK in self.blocks else self.blocks[0]
        block = hp.Choice(attention, self.blocks, default=default)
        chosen = {}
        for candidate in self.blocks:
            if not search_space(candidate):
                continue
            if not self.conditional:
                values = self.declare_block(hp, candidate, stage)
            elif candidate == block:
                with hp.conditional_scope(attention, [candidate]):
                    values = self.declare_block(hp, candidate, stage)
            else:
                continue
            if candidate == block:
                chosen = values
        position = self._choose(
            hp, block, attention, position_name, self.positions, movable
        )
        every = self._choose(
            hp, block, attention, every_name, self.every, per_block
        )
        return block, chosen, position, every

    def _choose(self, hp, block, attention, name, options, applies):
        """A choice among `options` (positions or every) for the blocks
        `applies` to, declared when there is a choice to make; the
        builder's default ("standard", 1) for the other blocks."""
        fallback = "standard" if isinstance(options[0], str) else 1
        # The builder's default first: a best line leaves it out.
        default = fallback if fallback in options else options[0]
        takers = [b for b in self.blocks if applies(b)]
        if len(options) == 1 or not takers:
            return options[0] if applies(block) else fallback
        if not self.conditional:
            value = hp.Choice(name, list(options), default=default)
        elif applies(block):
            with hp.conditional_scope(attention, takers):
                value = hp.Choice(name, list(options), default=default)
        else:
            value = fallback
        return value if applies(block) else fallback

    def build(self, hp):
        stages = range(1, self.num_stages + 1) if self.per_stage else [None]
        choices = [self._declare(hp, stage) for stage in stages]
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
            **_placement_kwargs(choices, self.per_stage),
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

    def rebuild(self, best):
        """The model of a trial, from its values (a dict) or its line (a
        search's `best_line()`, see `keras_chattn.tuning.descriptions`),
        built and compiled as the search built it."""
        values = parse_line(best) if isinstance(best, str) else dict(best)
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)
        model = self.build(hp)
        declared = {h.name: h for h in hp.space}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} are not hyperparameters of this "
                f"hypermodel for these choices (it declared "
                f"{sorted(declared)}). Received: best={best!r}"
            )
        for name, value in values.items():
            _check_value(declared[name], value, best)
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


def _checked_positions(positions, form, builder):
    allowed = FORM_POSITIONS[form]
    if positions is None:
        return ("standard",)
    if positions == "all":
        return tuple(allowed)
    if isinstance(positions, str) or not isinstance(positions, (list, tuple)):
        positions = [positions]
    wrong = [p for p in positions if p not in allowed]
    if not positions or wrong or len(set(positions)) != len(positions):
        raise ValueError(
            f"positions must be 'all' or distinct positions of {builder!r}'s "
            f"{form} blocks, {list(allowed)}. Received: positions={positions!r}"
        )
    return tuple(positions)


def _checked_every(every):
    if every is None:
        return (1,)
    if not isinstance(every, (list, tuple)) or not every:
        raise ValueError(
            "every must be a non-empty list of positive ints (blocks in "
            f"every k-th residual block). Received: every={every!r}"
        )
    return tuple(validation.positive_int("every", value, 64) for value in every)


def _placement_kwargs(choices, per_stage):
    """The builder's attention arguments for one choice per stage (or one
    for the network)."""
    blocks = [None if b == NO_BLOCK else b for b, _, _, _ in choices]
    kwargs = [arguments or None for _, arguments, _, _ in choices]
    positions = [position for _, _, position, _ in choices]
    everies = [every for _, _, _, every in choices]
    pick = (lambda values: values) if per_stage else (lambda v: v[0])
    result = {"attention": pick(blocks), "attention_kwargs": pick(kwargs)}
    if any(position != "standard" for position in positions):
        result["attention_position"] = pick(positions)
    if any(every != 1 for every in everies):
        result["attention_every"] = pick(everies)
    return result


def _check_value(hyperparameter, value, best):
    """Refuses a value the search could not have chosen."""
    name = hyperparameter.name
    if type(hyperparameter).__name__ == "Choice":
        if value not in hyperparameter.values:
            raise ValueError(
                f"{name} must be one of {list(hyperparameter.values)}. "
                f"Received: {name}={value!r} in best={best!r}"
            )
    elif type(hyperparameter).__name__ == "Float":
        low, high = hyperparameter.min_value, hyperparameter.max_value
        if not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(
                f"{name} must be a number from {low} to {high}. "
                f"Received: {name}={value!r} in best={best!r}"
            )
