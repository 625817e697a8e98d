"""What the tuner tries for each block: constructor argument -> values.

Keyed by registry name (`keras_chattn.ATTENTION_LAYERS`); each block's
constructor default is one of its values (the hypermodel's default). A
block registered with `keras_chattn.register_block(..., search_space=...)`
joins the search here. This module needs no Keras Tuner.
"""

SEARCH_SPACES = {
    "se": {"reduction": (4, 8, 16, 32)},
    "cbam": {"reduction": (4, 8, 16, 32), "spatial_kernel_size": (3, 5, 7)},
    "c3": {"reduction": (4, 8, 16)},
    "cc": {
        "emp": ("bilinear", "gaussian", "sine"),
        "variant": (
            "reduced",
            "full",
            "full_no_mix",
            "input_independent",
            "scalar",
            "static_scalar",
        ),
    },
    "ba": {"reduction": (4, 8, 16, 32)},
    "eca": {"gamma": (1, 2, 3)},
    "coord": {"reduction": (8, 16, 32)},
    "gc": {"reduction": (4, 8, 16, 32), "fusion": ("add", "multiply")},
    "sk": {"reduction": (8, 16, 32)},
    "triplet": {"kernel_size": (3, 5, 7)},
    "bam": {"reduction": (8, 16, 32), "dilation": (2, 4)},
    "simam": {"e_lambda": (1e-4, 1e-3, 1e-2, 1e-1)},
    "danet": {"reduction": (4, 8, 16)},
    "ese": {"add_maxpool": (False, True)},
    "ge": {"extent": (0, 2, 4, 8), "parametric": (False, True)},
    "ela": {"kernel_size": (3, 5, 7)},
    "nl": {"reduction": (2, 4, 8), "sub_sample": (False, True)},
    "scse": {"reduction": (4, 8, 16, 32)},
    "gct": {"mode": ("l2", "l1")},
    "fca": {"reduction": (4, 8, 16, 32)},
    "sge": {"groups": (4, 8, 16)},
    "splat": {"radix": (1, 2, 4), "reduction": (2, 4, 8)},
}


def search_space(block):
    """The block's search space (empty for "none" and for a registered
    block without one).

    Examples:

        >>> search_space("cbam")["spatial_kernel_size"]
        (3, 5, 7)
        >>> search_space("none")
        {}
    """
    return dict(SEARCH_SPACES.get(block, {}))
