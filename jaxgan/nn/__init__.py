"""Layers, initialisers and helpers shared by the jaxgan models."""

from jaxgan.nn.conv_transpose import ConvTranspose
from jaxgan.nn.conv_transpose import conv_transpose
from jaxgan.nn.init import DCGAN_INIT_STDDEV
from jaxgan.nn.init import batchnorm_scale_init
from jaxgan.nn.init import normal_init
from jaxgan.nn.init import symmetric_uniform_init
from jaxgan.nn.layers import LEAKY_RELU_SLOPE
from jaxgan.nn.layers import TORCH_BATCHNORM_EPSILON
from jaxgan.nn.layers import TORCH_BATCHNORM_MOMENTUM
from jaxgan.nn.layers import Maxout
from jaxgan.nn.layers import leaky_relu
from jaxgan.nn.layers import torch_conv_padding
from jaxgan.nn.padding import PADDINGS
from jaxgan.nn.padding import pad
from jaxgan.nn.padding import reflect_pad
from jaxgan.nn.padding import replicate_pad
from jaxgan.nn.padding import zero_pad
from jaxgan.nn.params import count_params
from jaxgan.nn.weight_norm import WeightNormDense

__all__ = [
    'ConvTranspose',
    'conv_transpose',
    'DCGAN_INIT_STDDEV',
    'LEAKY_RELU_SLOPE',
    'TORCH_BATCHNORM_EPSILON',
    'TORCH_BATCHNORM_MOMENTUM',
    'Maxout',
    'PADDINGS',
    'WeightNormDense',
    'batchnorm_scale_init',
    'count_params',
    'leaky_relu',
    'normal_init',
    'pad',
    'reflect_pad',
    'replicate_pad',
    'symmetric_uniform_init',
    'torch_conv_padding',
    'zero_pad',
]
