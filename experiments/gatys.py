"""Neural style by pixel optimisation (Gatys et al. 2016). Example (run from the repository root):

  python experiments/gatys.py --content_image=../shared/data/style/content/amber.jpg \\
      --style_image=../shared/data/style/styles/candy.jpg \\
      --vgg_weights=../shared/data/vgg16/vgg16_conv_keras_imagenet.npz --image_size=256 --workdir=/tmp/gatys
  (--optimizer=lbfgs|adam, --init=noise|content, --num_steps; writes result.png and result.json)
"""

from jaxgan import experiment
from jaxgan.methods import gatys

if __name__ == "__main__":
  experiment.main(gatys, gatys.MODES)
