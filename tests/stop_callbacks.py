"""Callbacks that interrupt a run or record where it started, for tests."""

import keras


class StopAfterEpoch(keras.callbacks.Callback):
    """Raises at the end of `epoch`, as a run killed there would stop."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"stopped after epoch {epoch}")


class EpochRecorder(keras.callbacks.Callback):
    """Records the index of every epoch that starts."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
