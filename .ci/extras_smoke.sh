#!/usr/bin/env bash
# Builds the wheel, then for the plain install and for each extra: a fresh
# virtual environment with only `wheel[extra]` in it, and the path the docs
# give for that extra, run for real with a small budget. Usage:
#   .ci/extras_smoke.sh [extra ...]     (default: every extra but test)
#
# The plain install goes first; each extra's environment then sees the plain
# one's site-packages (a .pth file) and installs only what the extra adds,
# so TensorFlow and Keras are unpacked once instead of once per extra. What
# an extra's path finds is still exactly the plain install plus that extra:
# a package an extra forgets is missing there as it would be for a user.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
data="$(cd .. && pwd)/shared/data/cifar-10-batches-py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TF_CPP_MIN_LOG_LEVEL=3 MPLBACKEND=Agg NO_MKDOCS_2_WARNING=1

python3 -m pip wheel --quiet --no-deps -w "$work/dist" .
wheel="$(ls "$work"/dist/keras_chattn-*.whl)"
# zipfile, not `unzip -l | grep -q`: grep -q exits at the first match, so
# unzip can die of SIGPIPE and pipefail then fails a wheel that is fine
# (CI's stop 28 run). The check reads the whole listing.
python3 - "$wheel" <<'PY' || exit 1
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
if "keras_chattn/py.typed" not in names:
    sys.exit(f"the wheel {sys.argv[1]} has no keras_chattn/py.typed")
PY

extras=("$@")
if [ ${#extras[@]} -eq 0 ]; then
    extras=(plain data timeseries examples plot tune export docs)
fi

site_packages() {  # site_packages <venv>: its site-packages folder
    "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

fresh() {  # fresh <name> <pip requirement>: a venv with only that installed
    python3 -m venv "$work/$1"
    if [ "$1" != plain ]; then  # layered on the plain install (see above)
        site_packages "$work/plain" >"$(site_packages "$work/$1")/plain_install.pth"
    fi
    "$work/$1/bin/python" -m pip install --quiet --upgrade pip
    "$work/$1/bin/python" -m pip install --quiet --no-compile "$2"
}

smoke() {  # smoke <extra>: install it fresh and run its documented path
    local extra="$1" started=$SECONDS spec
    if [ "$extra" = plain ]; then spec="$wheel"; else spec="$wheel[$extra]"; fi
    fresh "$extra" "$spec"
    py="$work/$extra/bin/python"
    # Run from an empty folder: the installed package, not the checkout.
    mkdir -p "$work/run-$extra" && cd "$work/run-$extra"
    case "$extra" in
    plain)
        "$py" - <<'PY'
import numpy as np, keras, keras_chattn
model = keras_chattn.models.cifar_resnet(20, attention="cbam")
model.compile("adam", "sparse_categorical_crossentropy")
x = np.random.default_rng(0).random((8, 32, 32, 3), dtype="float32")
model.fit(x, np.arange(8) % 10, epochs=1, verbose=0)
model.save("m.keras")
again = keras_chattn.saving.load_model("m.keras")
np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
model.export("saved")
import tensorflow as tf
loaded = tf.saved_model.load("saved")
assert loaded.serve(x).shape == (8, 10)
print("plain install: trains, saves, reloads, exports")
PY
        ;;
    data)
        "$py" - <<'PY'
import tempfile
import tensorflow_datasets as tfds
from keras_chattn import data
from keras_chattn.data import locate
locate.reachable = lambda host, timeout=0: True  # tfds' mock needs no network
with tfds.testing.mock_data(num_examples=16):
    dataset = data.cifar_dataset(source="tfds", data_dir=tempfile.mkdtemp(), batch_size=8)
    shapes = [tuple(x.shape) for x, _ in dataset]
assert shapes == [(8, 32, 32, 3), (8, 32, 32, 3)], shapes
print("data extra: the tensorflow-datasets source")
PY
        ;;
    timeseries)
        "$py" - <<'PY'
import keras_chattn
from keras_chattn.data import load_ucr
data = load_ucr("GunPoint")
model = keras_chattn.models.resnet1d(input_shape=data.input_shape, classes=data.num_classes, attention="eca")
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(data.train.x, data.train.y, batch_size=16, epochs=1, verbose=0)
print("timeseries extra: GunPoint", data.train.x.shape)
PY
        ;;
    examples | tune)
        if [ ! -d "$data" ]; then
            echo "== $extra: no CIFAR-10 files at $data, its example not run"
            cd "$repo"
            return 0
        fi
        ;;&
    examples)
        "$py" "$repo/examples/cifar10_resnet50.py" --data-dir "$data" \
            --model cifar_resnet20 --attention se --epochs 1 --limit 128 \
            --batch-size 64 --output-dir run --verbose 0
        test -f run/curves.png && test -d run/logs && test -f run/best_model.keras
        ;;
    plot)
        "$py" - <<'PY'
import numpy as np
from keras_chattn import analysis, models, plotting
model = models.cifar_resnet(20, attention="cbam")
images = np.random.default_rng(0).random((2, 32, 32, 3), dtype="float32")
maps = analysis.attention_maps(model, images)
name = next(iter(maps))
figure = plotting.spatial_maps(images, {name: maps[name]["spatial"]})
figure.savefig("maps.png")
print("plot extra: spatial maps of", name)
PY
        ;;
    tune)
        "$py" "$repo/examples/tune_cifar10.py" --data-dir "$data" \
            --max-trials 2 --epochs 1 --limit 128 --batch-size 64 \
            --blocks none,se --directory tune --verbose 0
        test -f tune/results.csv && test -f tune/trials.png
        ;;
    export)
        "$py" - <<'PY'
import numpy as np
import keras_chattn
from keras_chattn.export import export_model
model = keras_chattn.models.cifar_resnet(20, attention="cbam")
images = np.random.default_rng(0).random((8, 32, 32, 3), dtype="float32")
for path, fmt in (("m.onnx", "onnx"), ("m.tflite", "litert")):
    report = export_model(model, path, fmt, check_data=images)
    print("export extra:", fmt, report.max_abs_diff)
PY
        ;;
    docs)
        cd "$repo"
        "$work/docs/bin/mkdocs" build --strict --site-dir "$work/site"
        ;;
    *) echo "no smoke test for extra $extra"; exit 1 ;;
    esac
    cd "$repo"
    echo "== $extra passed in $((SECONDS - started)) s"
}

# Two at a time (installing is mostly unpacking; the machines have 2 cores),
# each into its own log, printed when it ends.
running=0
# The plain install first, alone (whichever extras were asked for): the
# others are layered on it.
( smoke plain; touch "$work/plain.ok" ) > "$work/plain.log" 2>&1 || true
[ -f "$work/plain.ok" ] || { cat "$work/plain.log"; echo "== plain FAILED"; exit 1; }
for extra in "${extras[@]}"; do
    [ "$extra" = plain ] && continue
    # set -e (inherited) ends the subshell at the first failure, before
    # the .ok file is written.
    ( smoke "$extra"; touch "$work/$extra.ok" ) > "$work/$extra.log" 2>&1 &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true
failed=0
for extra in "${extras[@]}"; do
    grep -v "^I0000\|^W0000\|^WARNING: All log\|^WARNING: Location" \
        "$work/$extra.log" | tail -n 12
    if [ ! -f "$work/$extra.ok" ]; then
        echo "== $extra FAILED (the end of its log is above)"
        failed=1
    fi
done
[ "$failed" -eq 0 ] || exit 1
rm -rf "$work"
