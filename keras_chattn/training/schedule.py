"""`WarmupSchedule`, the schedule of files saved by earlier versions.

The recipe now uses Keras' own schedules (`CosineDecay` with its warm-up,
`PiecewiseConstantDecay`); this class stays registered so that a `.keras`
file whose optimizer was saved with it still loads.
"""

import math
from collections.abc import Sequence

import keras

from keras_chattn.utils import validation

DECAYS = ("cosine", "step")


@keras.saving.register_keras_serializable(package="keras_chattn")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to a peak, then cosine decay to zero or step decay.

    Step `s` (0-based) of `total_steps`:
    - warm-up, `s < warmup_steps`: `peak * (s + 1) / warmup_steps`;
    - "cosine": `peak * (1 + cos(pi * p)) / 2` with
      `p = (s - warmup_steps) / (total_steps - warmup_steps)`;
    - "step" (He et al., 2016: 0.1, divided by 10 at 32k and 48k of 64k
      iterations): `peak * factor ** k`, `k` the number of `boundaries`
      (fractions of `total_steps`) already passed.

    Args:
        peak_learning_rate: the learning rate after warm-up.
        total_steps: steps of the whole run (epochs x steps per epoch).
        warmup_steps: steps of linear warm-up. Defaults to 0.
        decay: "cosine" or "step". Defaults to "cosine".
        boundaries: for "step", fractions of `total_steps`. Defaults to
            (0.5, 0.75).
        factor: for "step", the multiplier at each boundary. Defaults to 0.1.

    Examples:

        >>> from keras_chattn.training import WarmupSchedule
        >>> schedule = WarmupSchedule(0.1, total_steps=100, warmup_steps=10)
        >>> [round(float(schedule(s)), 4) for s in (0, 9, 10, 55, 100)]
        [0.01, 0.1, 0.1, 0.05, 0.0]
    """

    def __init__(
        self,
        peak_learning_rate: float,
        total_steps: int,
        warmup_steps: int = 0,
        decay: str = "cosine",
        boundaries: Sequence[float] = (0.5, 0.75),
        factor: float = 0.1,
    ) -> None:
        self.peak_learning_rate = validation.number_in_range(
            "peak_learning_rate", peak_learning_rate, 0.0, None
        )
        self.total_steps = validation.positive_int("total_steps", total_steps)
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int):
            raise ValueError(
                "warmup_steps must be a non-negative integer. "
                f"Received: warmup_steps={warmup_steps!r}"
            )
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                "warmup_steps must be >= 0 and smaller than total_steps "
                f"({total_steps}). Received: warmup_steps={warmup_steps}"
            )
        self.warmup_steps = warmup_steps
        self.decay = validation.choice("decay", decay, DECAYS)
        boundaries = tuple(float(b) for b in boundaries)
        if any(not 0.0 < b < 1.0 for b in boundaries) or list(
            boundaries
        ) != sorted(boundaries):
            raise ValueError(
                "boundaries must be increasing fractions of total_steps in "
                f"(0, 1). Received: boundaries={boundaries}"
            )
        self.boundaries = boundaries
        self.factor = validation.number_in_range("factor", factor, 0.0, None)
        if self.factor >= 1.0:
            raise ValueError(
                "factor must be a number in (0, 1). "
                f"Received: factor={factor!r}"
            )

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        peak = self.peak_learning_rate
        if self.decay == "cosine":
            span = float(self.total_steps - self.warmup_steps)
            progress = keras.ops.clip((step - self.warmup_steps) / span, 0, 1)
            decayed = peak * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        else:
            decayed = keras.ops.convert_to_tensor(peak, "float32")
            for boundary in self.boundaries:
                passed = keras.ops.cast(
                    step >= boundary * self.total_steps, "float32"
                )
                decayed = decayed * (1.0 - passed * (1.0 - self.factor))
        if not self.warmup_steps:
            return decayed
        warm = peak * (step + 1.0) / self.warmup_steps
        return keras.ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "decay": self.decay,
            "boundaries": list(self.boundaries),
            "factor": self.factor,
        }
