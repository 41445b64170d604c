"""Layers, initialisers and helpers shared by the jaxgan models."""

from jaxgan.nn.conv import Conv, conv2d, conv_general_dilated, space_to_depth_conv
from jaxgan.nn.conv_transpose import ConvTranspose, conv_transpose
from jaxgan.nn.init import (
  DCGAN_INIT_STDDEV,
  batchnorm_scale_init,
  normal_init,
  symmetric_uniform_init,
)
from jaxgan.nn.layers import (
  LEAKY_RELU_SLOPE,
  TORCH_BATCHNORM_EPSILON,
  TORCH_BATCHNORM_MOMENTUM,
  Maxout,
  leaky_relu,
  torch_conv_padding,
)
from jaxgan.nn.padding import PADDINGS, pad, reflect_pad, replicate_pad, zero_pad
from jaxgan.nn.params import count_params
from jaxgan.nn.pixel_shuffle import PReLU, pixel_shuffle, pixel_unshuffle
from jaxgan.nn.weight_norm import WeightNormDense

__all__ = [
  "DCGAN_INIT_STDDEV",
  "LEAKY_RELU_SLOPE",
  "PADDINGS",
  "TORCH_BATCHNORM_EPSILON",
  "TORCH_BATCHNORM_MOMENTUM",
  "Conv",
  "ConvTranspose",
  "Maxout",
  "PReLU",
  "WeightNormDense",
  "batchnorm_scale_init",
  "conv2d",
  "conv_general_dilated",
  "conv_transpose",
  "count_params",
  "leaky_relu",
  "normal_init",
  "pad",
  "pixel_shuffle",
  "pixel_unshuffle",
  "reflect_pad",
  "space_to_depth_conv",
  "replicate_pad",
  "symmetric_uniform_init",
  "torch_conv_padding",
  "zero_pad",
]
