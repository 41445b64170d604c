"""DCGAN (Radford et al. 2015). Example:

python experiments/dcgan.py --flagfile=experiments/flags/dcgan_digits.flags --workdir=/tmp/dcgan
python experiments/dcgan.py --flagfile=experiments/flags/dcgan_digits.flags --workdir=/tmp/dcgan --mode=interpolate
"""

from jaxgan import experiment
from jaxgan.methods import dcgan

if __name__ == "__main__":
  experiment.main(dcgan)
