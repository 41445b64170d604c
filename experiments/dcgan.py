"""DCGAN (Radford et al. 2015). Example:

python experiments/dcgan.py --flagfile=experiments/flags/dcgan_digits.flags --workdir=/tmp/dcgan
python experiments/dcgan.py --flagfile=experiments/flags/dcgan_digits.flags --workdir=/tmp/dcgan --mode=interpolate
"""

from jaxgan import experiment
from jaxgan.methods import dcgan, noise_to_image

if __name__ == "__main__":
  experiment.main(
    dcgan, {mode: (lambda config, run=run: run(dcgan.build(config))) for mode, run in noise_to_image.MODES.items()}
  )
