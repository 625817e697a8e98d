"""Starts examples/cifar10_resnet50.py as a multi-worker run on 127.0.0.1.

Each worker is its own process with the cluster in its environment, as on
separate machines: `TF_CONFIG` on TensorFlow, Keras' `KERAS_DISTRIBUTION_*`
variables on JAX. Every process is bounded by a timeout and killed at the
end, whatever happened.
"""

import dataclasses
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

from tests.data.shared import DATA

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "cifar10_resnet50.py"
# The run every test trains: small, 8 steps per epoch, BatchNorm in it.
RUN = [
    "--model", "cifar_resnet20", "--attention", "se", "--limit", "512",
    "--batch-size", "64", "--epochs", "3", "--verbose", "2",
]  # fmt: skip
RUN_TIMEOUT_S = 240


@dataclasses.dataclass
class Finished:
    returncode: int
    output: str
    seconds: float


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(backend, index, count, ports):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["CUDA_VISIBLE_DEVICES"] = ""
    if count == 1:
        return env
    if backend == "tensorflow":
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        task = {"type": "worker", "index": index}
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": task})
    else:
        env["KERAS_DISTRIBUTION_JOB_ADDRESSES"] = f"127.0.0.1:{ports[0]}"
        env["KERAS_DISTRIBUTION_NUM_PROCESSES"] = str(count)
        env["KERAS_DISTRIBUTION_PROCESS_ID"] = str(index)
    return env


def start(backend, output_dir, count, extra=()):
    ports = [free_port() for _ in range(count)]
    command = [sys.executable, str(SCRIPT), *RUN, "--data-dir", str(DATA)]
    command += ["--output-dir", str(output_dir), *extra]
    if count > 1:
        command += ["--distribute", "multiworker"]
    return [
        subprocess.Popen(
            command,
            env=environment(backend, index, count, ports),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        for index in range(count)
    ]


def finish(process, deadline):
    try:
        output, _ = process.communicate(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        output += "\n[killed by the test: past its timeout]"
    return process.returncode, output


def train(backend, output_dir, count, extra=()):
    """Runs `count` workers to the end; their `Finished`, worker 0 first."""
    started = time.time()
    processes = start(backend, output_dir, count, extra)
    deadline = started + RUN_TIMEOUT_S
    results = [finish(process, deadline) for process in processes]
    return [Finished(rc, out, time.time() - started) for rc, out in results]


def train_and_kill(backend, output_dir, epochs_done=1, after_s=1.0):
    """Two workers; worker 1 is SIGKILLed `after_s` seconds after the
    chief's backup holds `epochs_done` epochs (mid-epoch). Returns worker
    0's `Finished`, its `seconds` counted from the kill."""
    processes = start(backend, output_dir, 2)
    record = pathlib.Path(output_dir) / "backup" / "training_metadata.json"
    deadline = time.time() + RUN_TIMEOUT_S
    try:
        while time.time() < deadline and processes[0].poll() is None:
            if record.is_file() and f'"epoch": {epochs_done},' in _read(record):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the chief never finished the first epoch")
        time.sleep(after_s)
        processes[1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        returncode, output = finish(processes[0], killed_at + 120)
        return Finished(returncode, output, time.time() - killed_at)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()


def _read(path):
    try:
        return path.read_text()
    except OSError:
        return ""
