"""Semi-supervised GAN (Odena 2016; Salimans et al. 2016) and its supervised baseline. Example:

python experiments/sgan.py --flagfile=experiments/flags/sgan_fashion_mnist.flags --workdir=/tmp/sgan
python experiments/sgan.py --flagfile=experiments/flags/sgan_fashion_mnist.flags \\
    --objective=supervised --workdir=/tmp/sup
"""

from jaxgan import experiment
from jaxgan.methods import sgan

if __name__ == "__main__":
  experiment.main(sgan)
