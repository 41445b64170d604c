"""Pix2Pix (Isola et al. 2017). Examples:

python experiments/pix2pix.py --workdir=/tmp/p2p                 # embedded grey -> colour pairs
python experiments/pix2pix.py --flagfile=experiments/flags/pix2pix_facades.flags --data_dir=... --workdir=/tmp/facades
python experiments/pix2pix.py --flagfile=... --workdir=/tmp/facades --mode=test   # HTML page of translations
"""

from jaxgan import experiment
from jaxgan.methods import pix2pix

if __name__ == "__main__":
  experiment.main(pix2pix)
