"""Imports Keras with TensorFlow's start-up lines held back.

TensorFlow prints some lines from C++ before its logging is set up ("All
log messages before absl::InitializeLog() is called ...", "cudart_stub.cc:
Could not find cuda drivers" on a machine without a GPU, the oneDNN
notice): `TF_CPP_MIN_LOG_LEVEL` does not reach them. Every example imports
this module first: it imports keras (and so TensorFlow, on the TensorFlow
backend) with the process's standard error sent to a temporary file, then
restores it. If the import fails, what was held back is printed before the
error. `TF_CPP_MIN_LOG_LEVEL=0` shows everything, as without this module.
"""

import os
import sys
import tempfile


def import_keras_quietly():
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0" or "keras" in sys.modules:
        import keras  # noqa: F401

        return
    # TensorFlow's INFO lines after start-up too (its warnings still show).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


import_keras_quietly()
