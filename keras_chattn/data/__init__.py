"""CIFAR-10 and CIFAR-100 input pipelines.

`cifar_dataset` builds a tf.data pipeline (TensorFlow needed, imported only
then); `load_cifar_arrays` and `CifarBatches` need only NumPy and Keras, so
training also runs where only JAX or PyTorch is installed.

Modules: `cifar_files` (the official files, read safely; dataset layouts),
`pickle_reader` (their pickles, read without unpickling), `locate`
(finding or downloading the data), `tfds_source` (tensorflow-datasets
copies), `augmentation` (the one CIFAR augmentation, and its Keras-layer
form), `arrays` (NumPy arrays), `batches` (the batches both pipelines
serve), `pipeline` (tf.data). `ucr`: UCR/UEA time-series datasets from
`.ts` files (those shipped in the aeon or sktime wheels, offline).
"""

from keras_chattn.data.arrays import load_cifar_arrays
from keras_chattn.data.arrays import normalize
from keras_chattn.data.augmentation import augmentation_layers
from keras_chattn.data.batches import CifarBatches
from keras_chattn.data.cifar_files import LAYOUTS
from keras_chattn.data.cifar_files import CifarFileError
from keras_chattn.data.locate import ENV_VAR
from keras_chattn.data.locate import DataNotFoundError
from keras_chattn.data.pipeline import cifar_dataset
from keras_chattn.data.ucr import UCRFileError
from keras_chattn.data.ucr import available_datasets
from keras_chattn.data.ucr import load_ucr
from keras_chattn.utils.environment import tensorflow_available

__all__ = [
    "CifarBatches",
    "CifarFileError",
    "DataNotFoundError",
    "ENV_VAR",
    "LAYOUTS",
    "UCRFileError",
    "augmentation_layers",
    "available_datasets",
    "cifar_dataset",
    "load_cifar_arrays",
    "load_ucr",
    "normalize",
    "tensorflow_available",
]
