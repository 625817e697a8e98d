"""Attention layers: one public block per module, plus the registry.

- `base`: `AttentionLayer` (rank, layout, the calling convention);
- `sublayers`: the Dense, convolution and BatchNorm sublayers blocks build;
- `channel_excitation`: `ChannelExcitation`, the SE-style channel MLP;
- one module per block: `squeeze_excite`, `channel_attention`,
  `spatial_attention`, `cbam`, `cross_channel_comm`, `contextual_conv`,
  `bridge_attention`, `eca`, `coordinate_attention`, `global_context`,
  `selective_kernel`, `triplet_attention`, `bam`, `simam`,
  `dual_attention`, `effective_squeeze_excite`, `gather_excite`,
  `efficient_local_attention`, `non_local`, `concurrent_squeeze_excite`,
  `gated_channel_transform`, `multi_spectral_attention`,
  `spatial_group_enhance`, `split_attention`, and `cross_layer_pooling`
  (the bridge head);
- `excitation_maps`: the CC-block's excitation map producers;
- `maps`: per-channel reshaping and nearest resizing for C3 and CC;
- `pooled_batch_norm`: `PooledBatchNormalization`, BatchNorm of pooled
  vectors that stays right at a training batch of one image;
- `identity_start`: `IdentityStart`, a block wrapped to start as the
  identity (for blocks inserted into trained networks);
- `_kernels`: the speed paths (banded and grouped convolutions, C3's
  written-out gradient), each chosen at one call site;
- `registry`: `ATTENTION_LAYERS`, `get_attention`, `create_attention`.

Layers know their maths only: where builders put a block
(`keras_chattn.models.block_table`), what a tuner tries
(`keras_chattn.tuning.spaces`) and what it costs
(`keras_chattn.models.costs`) live with the code that uses them. Layers
import only each other and `keras_chattn.utils`.
"""

from keras_chattn.layers.bam import BAM
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.bridge_attention import BridgeAttention
from keras_chattn.layers.cbam import CBAM
from keras_chattn.layers.channel_attention import ChannelAttention
from keras_chattn.layers.concurrent_squeeze_excite import (
    ConcurrentSqueezeExcite,
)
from keras_chattn.layers.contextual_conv import ContextualConv
from keras_chattn.layers.coordinate_attention import CoordinateAttention
from keras_chattn.layers.cross_channel_comm import CrossChannelComm
from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling
from keras_chattn.layers.dual_attention import DualAttention
from keras_chattn.layers.eca import ECA
from keras_chattn.layers.effective_squeeze_excite import EffectiveSqueezeExcite
from keras_chattn.layers.efficient_local_attention import (
    EfficientLocalAttention,
)
from keras_chattn.layers.gated_channel_transform import GatedChannelTransform
from keras_chattn.layers.gather_excite import GatherExcite
from keras_chattn.layers.global_context import GlobalContext
from keras_chattn.layers.identity_start import IdentityStart
from keras_chattn.layers.multi_spectral_attention import MultiSpectralAttention
from keras_chattn.layers.non_local import NonLocal
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.layers.registry import ATTENTION_LAYERS
from keras_chattn.layers.registry import create_attention
from keras_chattn.layers.registry import get_attention
from keras_chattn.layers.selective_kernel import SelectiveKernel
from keras_chattn.layers.simam import SimAM
from keras_chattn.layers.spatial_attention import SpatialAttention
from keras_chattn.layers.spatial_group_enhance import SpatialGroupEnhance
from keras_chattn.layers.split_attention import SplitAttention
from keras_chattn.layers.squeeze_excite import SqueezeExcite
from keras_chattn.layers.triplet_attention import TripletAttention

__all__ = [
    "ATTENTION_LAYERS",
    "AttentionLayer",
    "BAM",
    "CoordinateAttention",
    "DualAttention",
    "ECA",
    "GlobalContext",
    "IdentityStart",
    "PooledBatchNormalization",
    "SelectiveKernel",
    "SimAM",
    "TripletAttention",
    "BridgeAttention",
    "CBAM",
    "ChannelAttention",
    "ContextualConv",
    "CrossChannelComm",
    "CrossLayerPooling",
    "SpatialAttention",
    "SqueezeExcite",
    "EffectiveSqueezeExcite",
    "GatherExcite",
    "EfficientLocalAttention",
    "NonLocal",
    "ConcurrentSqueezeExcite",
    "GatedChannelTransform",
    "MultiSpectralAttention",
    "SpatialGroupEnhance",
    "SplitAttention",
    "create_attention",
    "get_attention",
]
