"""GAN (Goodfellow et al. 2014), MLP generator and maxout discriminator. Example:

python experiments/gan.py --flagfile=experiments/flags/gan_fashion_mnist.flags --workdir=/tmp/gan
"""

from jaxgan import experiment
from jaxgan.methods import gan

if __name__ == "__main__":
  experiment.main(gan)
