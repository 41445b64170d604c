"""Sample grids."""

import base64
import re

import numpy as np
import pytest
from PIL import Image

from jaxgan import visualize


def test_grid_places_each_image_in_row_major_order():
  images = np.stack([np.full((3, 4, 1), v, np.float32) for v in np.linspace(-1, 1, 5)])
  grid = visualize.make_grid(images, ncol=2, pad=1)
  assert grid.shape == (3 * 4 + 1, 2 * 5 + 1, 1)
  for i, v in enumerate(np.linspace(-1, 1, 5)):
    r, c = divmod(i, 2)
    tile = grid[1 + r * 4 : 1 + r * 4 + 3, 1 + c * 5 : 1 + c * 5 + 4]
    assert np.all(tile == np.uint8(np.rint((v + 1) * 127.5)))
  assert np.all(grid[-4:, 6:] == 255)  # the empty sixth cell keeps the padding colour


def test_five_d_input_keeps_rows_and_columns():
  strips = np.zeros((2, 3, 4, 4, 3), np.float32)
  assert visualize.make_grid(strips, pad=0).shape == (8, 12, 3)


def test_bad_shapes_are_rejected():
  with pytest.raises(ValueError, match="channels"):
    visualize.make_grid(np.zeros((2, 4, 4, 2)))
  with pytest.raises(ValueError, match="shape"):
    visualize.make_grid(np.zeros((4, 4)))


def test_png_round_trip(tmp_path):
  grid = visualize.make_grid(np.random.default_rng(0).uniform(-1, 1, (4, 5, 5, 3)))
  path = visualize.save_png(tmp_path / "sub" / "g.png", grid)
  np.testing.assert_array_equal(np.asarray(Image.open(path)), grid)
  gray = visualize.make_grid(np.zeros((1, 5, 5, 1)))
  assert np.asarray(Image.open(visualize.save_png(tmp_path / "g1.png", gray))).shape == gray.shape[:2]


def test_inline_html_embeds_the_images_and_keeps_the_first_rows(tmp_path):
  rng = np.random.default_rng(0)
  rows = []
  for i in range(3):
    paths = []
    for column in ("in", "out"):
      rel = f"images/x{i}_{column}.png"
      visualize.save_png(tmp_path / rel, visualize.make_grid(rng.uniform(-1, 1, (1, 4, 4, 3))))
      paths.append(rel)
    rows.append((f"x{i} & co", paths))
  page = visualize.save_html_table(tmp_path / "index.html", title="t", columns=["in", "out"], rows=rows)
  full = visualize.inline_html(page)
  sources = re.findall(r'src="([^"]*)"', full)
  assert len(sources) == 6 and all(s.startswith("data:image/png;base64,") for s in sources)
  assert base64.b64decode(sources[0].split(",", 1)[1]) == (tmp_path / "images/x0_in.png").read_bytes()
  assert "<a href" not in full and "x2 &amp; co" in full
  short = visualize.inline_html(page, max_rows=1)
  assert len(re.findall(r"<img ", short)) == 2 and "x1" not in short
  assert f"2 more rows in {page}" in short and short.rstrip().endswith("</html>")
  (tmp_path / "images/x0_in.png").unlink()  # a source that is not there is left as it is
  assert 'src="images/x0_in.png"' in visualize.inline_html(page)
