"""SinGAN (Shaham et al. 2019): learn a generative model from one image, then use it.

  python experiments/singan.py --image=balloons --workdir=/tmp/balloons    # SinGAN's shipped Input/Images
  python experiments/singan.py --image=... --workdir=/tmp/balloons --mode=random_samples --gen_start_scale=2
  python experiments/singan.py --image=... --workdir=/tmp/balloons --mode=random_samples --scale_h=2
  python experiments/singan.py --image=... --workdir=/tmp/starry --mode=harmonization \\
      --ref_image=starry_night_naive --mask=starry_night_naive_mask --inject_scale=6
  python experiments/singan.py --flagfile=experiments/flags/singan_sr.flags --image=LR.png --workdir=/tmp/sr --mode=sr
  (modes: train, random_samples, sr, paint2image, editing, harmonization, animation; the
  applications need a finished --mode=train of the workdir, or --allow_partial)
"""

from jaxgan import experiment
from jaxgan.methods import singan_apps

if __name__ == "__main__":
  experiment.main(singan_apps)
