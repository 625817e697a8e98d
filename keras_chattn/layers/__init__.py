"""Attention layers: one public block per module, plus the registry."""

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.bridge_attention import BridgeAttention
from keras_chattn.layers.cbam import CBAM
from keras_chattn.layers.channel_attention import ChannelAttention
from keras_chattn.layers.contextual_conv import ContextualConv
from keras_chattn.layers.cross_channel_comm import CrossChannelComm
from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling
from keras_chattn.layers.registry import ATTENTION_LAYERS
from keras_chattn.layers.registry import create_attention
from keras_chattn.layers.registry import get_attention
from keras_chattn.layers.spatial_attention import SpatialAttention
from keras_chattn.layers.squeeze_excite import SqueezeExcite

__all__ = [
    "ATTENTION_LAYERS",
    "AttentionLayer",
    "BridgeAttention",
    "CBAM",
    "ChannelAttention",
    "ContextualConv",
    "CrossChannelComm",
    "CrossLayerPooling",
    "SpatialAttention",
    "SqueezeExcite",
    "create_attention",
    "get_attention",
]
