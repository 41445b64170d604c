"""CycleGAN (Zhu et al. 2017). Examples:

python experiments/cyclegan.py --workdir=/tmp/cyclegan     # official defaults, embedded digits 3 <-> 8
python experiments/cyclegan.py --flagfile=experiments/flags/cyclegan_digits.flags \\
    --workdir=/tmp/cg   # the same at 32x32, for a CPU
"""

from jaxgan import experiment
from jaxgan.methods import cyclegan

if __name__ == "__main__":
  experiment.main(cyclegan)
