"""Fast style transfer (Johnson et al. 2016): train one network per style, then stylise. Examples:

  python experiments/style_transfer.py --flagfile=experiments/flags/style_candy.flags --workdir=/tmp/candy
  python experiments/style_transfer.py --flagfile=experiments/flags/style_candy.flags --workdir=/tmp/candy \\
      --mode=stylize --input=amber                                  # -> /tmp/candy/stylized/amber.png
  python experiments/style_transfer.py --content_dir=DIR --style_image=STYLE.jpg --vgg_weights=VGG.npz --workdir=...
"""

from jaxgan import experiment
from jaxgan.methods import style_transfer

if __name__ == "__main__":
  experiment.main(style_transfer)
