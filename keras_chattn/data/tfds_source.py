"""CIFAR through tensorflow-datasets, for the pipeline and the arrays.

Imported only when a tfds copy is read, so that the rest of the package works
without tensorflow-datasets.
"""


def import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ImportError(
            "Reading CIFAR through tensorflow-datasets needs it installed: "
            "pip install 'keras_chattn[data]'. Or pass source='files' with "
            "data_dir pointing at the official CIFAR files."
        ) from None
    return tfds


def tfds_examples(layout, split, found):
    """(uint8 image, label) examples of a tfds data dir, in file order."""
    tfds = import_tfds()
    builder = tfds.builder(layout.name, data_dir=str(found.path))
    if not builder.is_prepared():
        builder.download_and_prepare()
    return builder.as_dataset(
        split=split, as_supervised=True, shuffle_files=False
    )
