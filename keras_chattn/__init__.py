"""keras_chattn: channel and spatial attention blocks for Keras 3 CNNs.

Importing the package registers every layer with Keras' serialization under
the package name `keras_chattn`, which `.keras` files written by these layers
refer to: import keras_chattn before `keras.saving.load_model`, or load
with `keras_chattn.saving.load_model`, which does it for you.

Subpackages: `layers` (the blocks and their registry), `models` (builders),
`data` (CIFAR pipelines), `training` (the CIFAR recipe), `tuning` (Keras
Tuner, imported on its own: `import keras_chattn.tuning`), `analysis`
(the papers' measures), `saving` (loading `.keras` files), `utils`
(argument checks, axes, environment, atomic files).
"""

from keras_chattn import analysis
from keras_chattn import data
from keras_chattn import layers
from keras_chattn import models
from keras_chattn import plotting
from keras_chattn import saving
from keras_chattn import training
from keras_chattn.blocks import register_block
from keras_chattn.blocks import unregister_block
from keras_chattn.layers import ATTENTION_LAYERS
from keras_chattn.layers import BAM
from keras_chattn.layers import CBAM
from keras_chattn.layers import ECA
from keras_chattn.layers import BridgeAttention
from keras_chattn.layers import ChannelAttention
from keras_chattn.layers import ConcurrentSqueezeExcite
from keras_chattn.layers import ContextualConv
from keras_chattn.layers import CoordinateAttention
from keras_chattn.layers import CrossChannelComm
from keras_chattn.layers import CrossLayerPooling
from keras_chattn.layers import DualAttention
from keras_chattn.layers import EffectiveSqueezeExcite
from keras_chattn.layers import EfficientLocalAttention
from keras_chattn.layers import GatedChannelTransform
from keras_chattn.layers import GatherExcite
from keras_chattn.layers import GlobalContext
from keras_chattn.layers import MultiSpectralAttention
from keras_chattn.layers import NonLocal
from keras_chattn.layers import SelectiveKernel
from keras_chattn.layers import SimAM
from keras_chattn.layers import SpatialAttention
from keras_chattn.layers import SpatialGroupEnhance
from keras_chattn.layers import SplitAttention
from keras_chattn.layers import SqueezeExcite
from keras_chattn.layers import TripletAttention
from keras_chattn.layers import create_attention
from keras_chattn.layers import get_attention

__version__ = "0.1.0"

__all__ = [
    "ATTENTION_LAYERS",
    "BAM",
    "CoordinateAttention",
    "DualAttention",
    "ECA",
    "GlobalContext",
    "SelectiveKernel",
    "SimAM",
    "TripletAttention",
    "EffectiveSqueezeExcite",
    "GatherExcite",
    "EfficientLocalAttention",
    "NonLocal",
    "ConcurrentSqueezeExcite",
    "GatedChannelTransform",
    "MultiSpectralAttention",
    "SpatialGroupEnhance",
    "SplitAttention",
    "BridgeAttention",
    "CBAM",
    "ChannelAttention",
    "ContextualConv",
    "CrossChannelComm",
    "CrossLayerPooling",
    "SpatialAttention",
    "SqueezeExcite",
    "__version__",
    "analysis",
    "create_attention",
    "data",
    "get_attention",
    "layers",
    "models",
    "plotting",
    "register_block",
    "saving",
    "training",
    "unregister_block",
]
