"""Speed paths of the blocks, each chosen at one call site by one rule.

Each path computes what a Keras layer or a few `keras.ops` compute (the
direct form), faster where a benchmark showed it, and is tested equal to
the direct form, values and gradients:

- `spatial_conv(conv, x)` (`banded_conv`): CBAM's and the spatial
  attention's 7 x 7 convolution from 2 maps to 1, as banded matrix
  products over the rows on TensorFlow and JAX for maps at most
  `BANDED_MAX_WIDTH` wide, else the `Conv2D` itself
  (`benchmarks/spatial_conv_forms.py`);
- `grouped_conv2d(conv, x)` (`grouped_conv`): SK's grouped branches, as
  a depthwise convolution and a sum on TensorFlow (Keras' grouped
  `Conv2D` runs there only under XLA, which tf2onnx cannot read), the
  block-diagonal dense convolution on JAX, PyTorch's own grouped one
  (`benchmarks/block_profile.py --block sk`);
- `neighbour_affinity(means, excluded)` (`affinity`): C3's affinity
  softmax with its gradient written out on TensorFlow and JAX, automatic
  differentiation on PyTorch (`benchmarks/network_overhead.py`, C3 rows).

Inside `direct_forms()` every rule picks the direct form: what the block
computes, not how (the cost counts of `keras_chattn.models.summary_table`
are taken there, and tests compare the two forms with it).
"""

from keras_chattn.layers._kernels.affinity import neighbour_affinity
from keras_chattn.layers._kernels.banded_conv import spatial_conv
from keras_chattn.layers._kernels.choice import direct_forms
from keras_chattn.layers._kernels.grouped_conv import grouped_conv2d

__all__ = [
    "direct_forms",
    "grouped_conv2d",
    "neighbour_affinity",
    "spatial_conv",
]
