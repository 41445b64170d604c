"""Super-resolution: SRResNet / SRGAN (Ledig et al. 2017) and Johnson et al.'s perceptual SR. Examples:

  python experiments/sr.py --flagfile=experiments/flags/srresnet_bsd68.flags --workdir=/tmp/srresnet
  python experiments/sr.py --flagfile=experiments/flags/srresnet_bsd68.flags --workdir=/tmp/srresnet \
      --time_budget_minutes=30                                    # stop (and checkpoint) after 30 minutes
  python experiments/sr.py --flagfile=experiments/flags/srgan_bsd68.flags --workdir=/tmp/srgan \
      --init_from=/tmp/srresnet                                   # SRGAN from the MSE SRResNet
  python experiments/sr.py --flagfile=experiments/flags/srresnet_bsd68.flags --workdir=/tmp/srresnet \
      --mode=test --test_input=set14                              # SR outputs, bicubic, metrics.json
"""

from jaxgan import experiment
from jaxgan.methods import sr

if __name__ == "__main__":
  experiment.main(sr)
