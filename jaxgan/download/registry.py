"""What jaxgan can fetch by name: official URLs, sizes and published checksums.

An :class:`Entry` is one dataset, weights file or example folder. Its :class:`Remote` files are
the official downloads; ``size`` / ``sha256`` are given only where the publisher (or a catalogue
that checks them, tensorflow-datasets' ``url_checksums``) publishes them. torchvision and
pytorch-fid publish the first hex digits of the SHA-256 in the file name (``sha256_prefix``);
Keras publishes an MD5. Where nothing is published, the first download records the SHA-256 in
the cache and every later download (or mirror copy) is checked against that record
(:mod:`jaxgan.download.store`).

The result of an entry is ``path`` inside its cache folder: the downloaded file itself, or a
folder of an extracted archive (``extract``), optionally reduced to the ``members`` named.
``mirror`` lists ready-made results (folders or files) that a mirror folder may hold instead of
the downloads, relative to the mirror root. ``shipped`` is a folder inside ``jaxgan/assets``.
``alternatives`` are other entries that serve the same purpose when this one is absent (the
Keras form of VGG16 for ``vgg16``).
"""

from __future__ import annotations

import dataclasses
import posixpath
import urllib.parse

KINDS = ("dataset", "weights", "example")


@dataclasses.dataclass(frozen=True)
class Remote:
  """One official download."""

  url: str
  size: int | None = None
  sha256: str | None = None
  sha256_prefix: str | None = None
  md5: str | None = None
  filename: str = ""
  subdir: str = ""  # where the file goes inside the entry folder (per-file datasets)

  @property
  def name(self) -> str:
    return self.filename or posixpath.basename(urllib.parse.urlparse(self.url).path)

  @property
  def published(self) -> bool:
    """Whether a published checksum exists (otherwise: recorded at first download)."""
    return bool(self.sha256 or self.sha256_prefix or self.md5)


@dataclasses.dataclass(frozen=True)
class Entry:
  name: str
  kind: str
  description: str
  source: str
  remotes: tuple[Remote, ...] = ()
  path: str = ""
  extract: bool = False
  members: tuple[str, ...] = ()
  mirror: tuple[str, ...] = ()
  shipped: str = ""
  alternatives: tuple[str, ...] = ()

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
    if not (self.remotes or self.shipped):
      raise ValueError(f"{self.name}: an entry needs remotes or a shipped folder")
    if self.remotes and not self.path:
      raise ValueError(f"{self.name}: path (the result inside the entry folder) is required")

  @property
  def total_size(self) -> int | None:
    sizes = [r.size for r in self.remotes]
    return sum(sizes) if sizes and all(s is not None for s in sizes) else None


# -- the official sources --------------------------------------------------------------------------

_PIX2PIX_DATA = "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{}.tar.gz"
_PIX2PIX_MODEL = "https://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{}.pth"
_CYCLEGAN_MODEL = "https://efrosgans.eecs.berkeley.edu/cyclegan/pytorch/{}.pth"
# tensorflow-datasets' cycle_gan url_checksums (size, SHA-256) for the official CycleGAN sets.
_CYCLEGAN_DATA = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip"
_CYCLEGAN_SETS = {
  "apple2orange": (78456409, "845a191e9af8926408ea597001cd03a452e3300a1f44a79fe329b3d59f6e3eb8"),
  "cezanne2photo": (279885071, "3a6c10ca21f9485862f1cbd707744b9dc258954a04631271d23a3605eeb63cff"),
  "cityscapes": (279601602, "d2f6910fd056c1ee9873777ae838e7ac4a2c833598ae62a04188e5ab2f4ea036"),
  "facades": (35135868, "9a31ebf3a31b9b5cd195dd5bf62e9308e00cb94604d1019e3889ac84248695c0"),
  "horse2zebra": (116867962, "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1"),
  "iphone2dslr_flower": (339964458, "8fcb5e374d631b107e1d961b8c4cd0a186aa2a4ff3e279923f4c426128de7113"),
  "maps": (1476754427, "639534f69dbf9f36bef8d6292a7698006361221f83f0285d7c9ca78afe6e8a9e"),
  "monet2photo": (305231073, "88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04"),
  "summer2winter_yosemite": (132640856, "167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9"),
  "ukiyoe2photo": (292946532, "02a2a2fb5ecf425ca1bf86aca7304377da64a2a1d3b86df54eb65e4068bf3b08"),
  "vangogh2photo": (306590349, "362c3473e70be0944bda08d49d660eafdc2854df55d697835b8186d1d79caaff"),
}
_PIX2PIX_SETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")
_PIX2PIX_MODELS = ("facades_label2photo", "sat2map", "map2sat", "edges2shoes", "day2night")
_CYCLEGAN_MODELS = (
  "apple2orange",
  "orange2apple",
  "summer2winter_yosemite",
  "winter2summer_yosemite",
  "horse2zebra",
  "zebra2horse",
  "monet2photo",
  "style_monet",
  "style_cezanne",
  "style_ukiyoe",
  "style_vangogh",
  "sat2map",
  "map2sat",
  "cityscapes_photo2label",
  "cityscapes_label2photo",
  "facades_photo2label",
  "facades_label2photo",
  "iphone2dslr_flower",
)
# The SR benchmark images, file by file, from a public collection pinned at one commit.
_SR_COLLECTION = (
  "https://raw.githubusercontent.com/majedelhelou/denoising_datasets/d3636716c8e3fb806f4395bbb3f2e4c0fde50700/{}"
)
_SET14 = (
  "baboon",
  "barbara",
  "bridge",
  "coastguard",
  "comic",
  "face",
  "flowers",
  "foreman",
  "lenna",
  "man",
  "monarch",
  "pepper",
  "ppt3",
  "zebra",
)
# BSDS300 (Martin et al. 2001): BSD100 is its 100-image test split; BSD68 (Roth & Black 2005) the
# 68 of them used by the denoising / SR literature.
_BSDS300 = Remote("https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/BSDS300-images.tgz")
_BSD68_IDS = (
  "3096",
  "12084",
  "14037",
  "16077",
  "19021",
  "21077",
  "24077",
  "33039",
  "101085",
  "101087",
  "102061",
  "103070",
  "105025",
  "106024",
  "108005",
  "108070",
  "108082",
  "109053",
  "119082",
  "123074",
  "126007",
  "130026",
  "134035",
  "143090",
  "145086",
  "147091",
  "148026",
  "148089",
  "157055",
  "159008",
  "160068",
  "163085",
  "167062",
  "167083",
  "170057",
  "175032",
  "175043",
  "182053",
  "189080",
  "196073",
  "197017",
  "208001",
  "210088",
  "216081",
  "219090",
  "220075",
  "223061",
  "227092",
  "229036",
  "236037",
  "241004",
  "241048",
  "253027",
  "253055",
  "260058",
  "271035",
  "285079",
  "291000",
  "295087",
  "296007",
  "296059",
  "299086",
  "300091",
  "302008",
  "304034",
  "304074",
  "306005",
  "351093",
)
_DIV2K = "https://data.vision.ee.ethz.ch/cvl/DIV2K/{}.zip"
_KERAS_VGG = "https://storage.googleapis.com/tensorflow/keras-applications"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{}"


def _keras_vgg(depth: int, size: int | None, md5: str) -> Entry:
  """Keras' ImageNet VGG``depth`` convolutional base (keras-applications publishes the MD5). A
  mirror may hold instead an .npz of the same convolutions in Keras names
  (:func:`jaxgan.interop.vgg.save_vgg_npz`)."""
  file = f"vgg{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5"
  return Entry(
    f"vgg{depth}_keras",
    "weights",
    f"Keras' ImageNet VGG{depth} convolutional base (reading it needs h5py)",
    "keras-applications",
    remotes=(Remote(f"{_KERAS_VGG}/vgg{depth}/{file}", size, md5=md5),),
    path=file,
    mirror=(f"vgg{depth}/vgg{depth}_conv_keras_imagenet.npz",),
  )


def _entries() -> list[Entry]:
  out = [
    # ---- shipped examples (jaxgan/assets)
    Entry(
      "singan_images",
      "example",
      "SinGAN's training images (balloons, birds, ..., zebra)",
      "github.com/tamarott/SinGAN Input/Images",
      shipped="singan/Images",
    ),
    Entry(
      "singan_editing",
      "example",
      "SinGAN's editing inputs and masks",
      "github.com/tamarott/SinGAN Input/Editing",
      shipped="singan/Editing",
    ),
    Entry(
      "singan_harmonization",
      "example",
      "SinGAN's harmonization inputs and masks",
      "github.com/tamarott/SinGAN Input/Harmonization",
      shipped="singan/Harmonization",
    ),
    Entry(
      "singan_paint",
      "example",
      "SinGAN's paint-to-image inputs",
      "github.com/tamarott/SinGAN Input/Paint",
      shipped="singan/Paint",
    ),
    Entry(
      "style_images",
      "example",
      "fast-neural-style style images (candy, mosaic, rain-princess, udnie)",
      "github.com/pytorch/examples fast_neural_style/images/style-images",
      shipped="style/styles",
    ),
    Entry(
      "style_content",
      "example",
      "a content photo (amber.jpg)",
      "github.com/pytorch/examples fast_neural_style/images/content-images",
      shipped="style/content",
    ),
    Entry("set5", "example", "Set5 SR benchmark, 5 HR colour images", "Bevilacqua et al. 2012", shipped="sr/Set5"),
    # ---- SR benchmarks
    Entry(
      "set14",
      "dataset",
      "Set14 SR benchmark, 14 HR images (bridge is grayscale)",
      "Zeyde et al. 2010",
      remotes=tuple(Remote(_SR_COLLECTION.format(f"Set14/{n}.png"), subdir="Set14") for n in _SET14),
      path="Set14",
      mirror=("sr/Set14",),
    ),
    Entry(
      "urban100",
      "dataset",
      "Urban100 SR benchmark, 100 HR images",
      "Huang et al. 2015",
      remotes=tuple(
        Remote(_SR_COLLECTION.format(f"Urban100/img_{i:03d}.png"), subdir="Urban100") for i in range(1, 101)
      ),
      path="Urban100",
      mirror=("sr/Urban100",),
    ),
    Entry(
      "bsd100",
      "dataset",
      "BSD100: the 100 test images of BSDS300 (481x321)",
      "Martin et al. 2001",
      remotes=(_BSDS300,),
      extract=True,
      path="BSDS300/images/test",
      mirror=("sr/BSD100",),
    ),
    Entry(
      "bsd68",
      "dataset",
      "BSD68: 68 of the BSDS300 test images (Roth & Black)",
      "Roth & Black 2005",
      remotes=(_BSDS300,),
      extract=True,
      path="BSDS300/images/test",
      members=tuple(f"{i}.jpg" for i in _BSD68_IDS),
      mirror=("sr/BSD68",),
    ),
    Entry(
      "div2k_train_hr",
      "dataset",
      "DIV2K training HR images (800, 2K)",
      "Agustsson & Timofte 2017",
      remotes=(
        Remote(
          _DIV2K.format("DIV2K_train_HR"),
          3530603713,
          "9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335",
        ),
      ),
      extract=True,
      path="DIV2K_train_HR",
      mirror=("sr/DIV2K_train_HR",),
    ),
    Entry(
      "div2k_valid_hr",
      "dataset",
      "DIV2K validation HR images (100, 2K)",
      "Agustsson & Timofte 2017",
      remotes=(
        Remote(
          _DIV2K.format("DIV2K_valid_HR"), 448993893, "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc"
        ),
      ),
      extract=True,
      path="DIV2K_valid_HR",
      mirror=("sr/DIV2K_valid_HR",),
    ),
    Entry(
      "fashion_mnist",
      "dataset",
      "Fashion-MNIST, IDX files (use as --dataset=idx:fashion_mnist)",
      "Xiao et al. 2017",
      remotes=(
        Remote(
          _FASHION.format("train-images-idx3-ubyte.gz"),
          26421880,
          "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        Remote(
          _FASHION.format("train-labels-idx1-ubyte.gz"),
          29515,
          "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
        Remote(
          _FASHION.format("t10k-images-idx3-ubyte.gz"),
          4422102,
          "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        Remote(
          _FASHION.format("t10k-labels-idx1-ubyte.gz"),
          5148,
          "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
      ),
      path=".",
      mirror=("fashion-mnist",),
    ),
    # ---- weights
    Entry(
      "vgg16",
      "weights",
      "torchvision's ImageNet VGG16 (reading it needs PyTorch)",
      "torchvision",
      remotes=(Remote("https://download.pytorch.org/models/vgg16-397923af.pth", sha256_prefix="397923af"),),
      path="vgg16-397923af.pth",
      alternatives=("vgg16_keras",),
    ),
    Entry(
      "vgg19",
      "weights",
      "torchvision's ImageNet VGG19 (reading it needs PyTorch)",
      "torchvision",
      remotes=(Remote("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", sha256_prefix="dcbb9e9d"),),
      path="vgg19-dcbb9e9d.pth",
      alternatives=("vgg19_keras",),
    ),
    _keras_vgg(16, 58889256, "6d6bbae143d832006294945121d1f1fc"),
    _keras_vgg(19, None, "253f8cb515780f3b799900260a226db6"),
    Entry(
      "fid_inception",
      "weights",
      "pytorch-fid's Inception-v3 (the 2015-12-05 TF graph, for FID)",
      "github.com/mseitzer/pytorch-fid",
      remotes=(
        Remote(
          "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
          sha256_prefix="6726825d",
        ),
      ),
      path="pt_inception-2015-12-05-6726825d.pth",
    ),
    Entry(
      "fid_inception_torch_fidelity",
      "weights",
      "torch-fidelity's Inception-v3 (the same 2015-12-05 TF graph, its own conversion)",
      "github.com/toshas/torch-fidelity",
      remotes=(
        Remote(
          "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
          sha256_prefix="6726825d",
        ),
      ),
      path="weights-inception-2015-12-05-6726825d.pth",
    ),
  ]
  for name in _PIX2PIX_SETS:
    out.append(
      Entry(
        name,
        "dataset",
        f"the official pix2pix {name} set (side-by-side AB images)",
        "github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
        remotes=(Remote(_PIX2PIX_DATA.format(name)),),
        extract=True,
        path=name,
        mirror=(f"pix2pix/{name}",),
      )
    )
  for name, (size, sha) in _CYCLEGAN_SETS.items():
    entry_name = name if name not in _PIX2PIX_SETS else f"cyclegan_{name}"
    out.append(
      Entry(
        entry_name,
        "dataset",
        f"the official CycleGAN {name} set (trainA/trainB/testA/testB)",
        "github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
        remotes=(Remote(_CYCLEGAN_DATA.format(name), size, sha),),
        extract=True,
        path=name,
        mirror=(f"cyclegan/{name}",),
      )
    )
  for name in _PIX2PIX_MODELS:
    out.append(
      Entry(
        f"pix2pix_{name}",
        "weights",
        f"official pretrained pix2pix generator {name}",
        "github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
        remotes=(Remote(_PIX2PIX_MODEL.format(name)),),
        path=f"{name}.pth",
      )
    )
  for name in _CYCLEGAN_MODELS:
    out.append(
      Entry(
        f"cyclegan_{name}_model",
        "weights",
        f"official pretrained CycleGAN generator {name}",
        "github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
        remotes=(Remote(_CYCLEGAN_MODEL.format(name)),),
        path=f"{name}.pth",
      )
    )
  return out


def _index(entries: list[Entry]) -> dict[str, Entry]:
  index: dict[str, Entry] = {}
  for entry in entries:
    if entry.name in index:
      raise ValueError(f"two registry entries are named {entry.name!r}")
    index[entry.name] = entry
  for entry in entries:
    for alt in entry.alternatives:
      if alt not in index:
        raise ValueError(f"{entry.name}: alternative {alt!r} is not an entry")
  return index


REGISTRY: dict[str, Entry] = _index(_entries())
