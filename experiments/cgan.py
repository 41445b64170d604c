"""Conditional GAN (Mirza & Osindero 2014). Example:

python experiments/cgan.py --flagfile=experiments/flags/cgan_fashion_mnist.flags --workdir=/tmp/cgan
python experiments/cgan.py --flagfile=experiments/flags/cgan_fashion_mnist.flags \\
    --workdir=/tmp/cgan --mode=generate --class=7
"""

from jaxgan import experiment
from jaxgan.methods import cgan

if __name__ == "__main__":
  experiment.main(cgan)
