"""Neural style by pixel optimisation (Gatys et al. 2016). Example:

  python experiments/gatys.py --content_image=amber --style_image=candy --vgg_weights=vgg16 \\
      --image_size=256 --workdir=/tmp/gatys
  (amber and candy are shipped with jaxgan; VGG16 comes with `python -m jaxgan.download vgg16`)
  (--optimizer=lbfgs|adam, --init=noise|content, --num_steps; writes result.png and result.json)
"""

from jaxgan import experiment
from jaxgan.methods import gatys

if __name__ == "__main__":
  experiment.main(gatys)
