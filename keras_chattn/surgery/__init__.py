"""Attention blocks inserted into a Keras model someone else built.

- `insert`: `add_attention`, which reads the same placement table as the
  builders (`keras_chattn.models.block_table`) and puts each block where
  a builder would;
- `graph`: reading a functional model's graph (residual branches, stage
  ends, the head map), which Grad-CAM uses too;
- `IdentityStart` (a layer, `keras_chattn.layers.IdentityStart`): a block
  wrapped to start as the identity, for trained networks.
"""

from keras_chattn.layers.identity_start import IdentityStart
from keras_chattn.surgery.graph import head_map
from keras_chattn.surgery.graph import residual_branches
from keras_chattn.surgery.insert import add_attention

__all__ = ["IdentityStart", "add_attention", "head_map", "residual_branches"]
