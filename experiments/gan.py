"""GAN (Goodfellow et al. 2014), MLP generator and maxout discriminator. Example:

python experiments/gan.py --flagfile=experiments/flags/gan_fashion_mnist.flags --workdir=/tmp/gan
"""

from jaxgan import experiment
from jaxgan.methods import gan, noise_to_image

if __name__ == "__main__":
  experiment.main(
    gan, {mode: (lambda config, run=run: run(gan.build(config))) for mode, run in noise_to_image.MODES.items()}
  )
