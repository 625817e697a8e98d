"""Runs examples/cifar10_resnet50.py and SIGKILLs itself at a chosen write.

    python tests/reliability/kill_driver.py NAME WHEN COUNT -- ARGS...

Every file the run writes goes through `keras_chattn.utils.files
.atomic_write`, except the history's rows, which `EpochLog` (Keras'
CSVLogger) appends; this wraps both. The process kills itself (SIGKILL: no
cleanup, no flush, as the OOM killer or a pre-empted machine would) at the
COUNT-th write (1-based) of the file named NAME: with WHEN = "during", after
the writer has filled the temporary file and before it is renamed into
place, having first cut the temporary file to half its size (for the
history: after appending the row, cut to half of it), which is what a kill
in the middle of writing leaves; with WHEN = "after", just after the
rename (the append). With COUNT = 0 it never kills (the reference run).
"""

import contextlib
import importlib.util
import os
import pathlib
import signal
import sys

from keras_chattn.training.history import EpochLog
from keras_chattn.utils import files

SCRIPT = (
    pathlib.Path(__file__).resolve().parents[2]
    / "examples"
    / ("cifar10_resnet50.py")
)


def main():
    name, when, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    original = files.atomic_write
    seen = {"writes": 0}

    @contextlib.contextmanager
    def killing_atomic_write(path):
        path = pathlib.Path(path)
        target = path.name == name
        if target:
            seen["writes"] += 1
        hit = target and seen["writes"] == count
        with original(path) as temporary:
            yield temporary
            if hit and when == "during":
                size = temporary.stat().st_size
                with open(temporary, "r+b") as handle:
                    handle.truncate(size // 2)
                os.kill(os.getpid(), signal.SIGKILL)
        if hit and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    files.atomic_write = killing_atomic_write
    append_row = EpochLog.on_epoch_end

    def killing_append_row(self, epoch, logs=None):
        target = pathlib.Path(self.filename).name == name
        if target:
            seen["writes"] += 1
        hit = target and seen["writes"] == count
        before = pathlib.Path(self.filename).stat().st_size
        append_row(self, epoch, logs)
        if hit and when == "during":
            after = pathlib.Path(self.filename).stat().st_size
            os.truncate(self.filename, before + (after - before) // 2)
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)

    EpochLog.on_epoch_end = killing_append_row
    spec = importlib.util.spec_from_file_location("cifar10_resnet50", SCRIPT)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(argv)


if __name__ == "__main__":
    main()
