"""CatGAN (Springenberg 2016), semi-supervised or (--supervised_weight=0) unsupervised. Example:

python experiments/catgan.py --flagfile=experiments/flags/catgan_fashion_mnist.flags --workdir=/tmp/catgan
python experiments/catgan.py --flagfile=experiments/flags/catgan_fashion_mnist.flags \\
    --supervised_weight=0 --workdir=/tmp/catgan_unsup
"""

from jaxgan import experiment
from jaxgan.methods import catgan

if __name__ == "__main__":
  experiment.main(catgan)
