import matplotlib.image
import numpy as np
import pytest

from jaxdiag.report import save_image_grid
from jaxdiag.report.figure_file import DPI


def test_grid_png_has_one_cell_per_image(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((10, 8, 8, 1))
    path = save_image_grid(tmp_path / "grid.png", images, [f"#{i}" for i in range(10)],
                           title="worst mistakes", columns=4)
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 0 and pixels.shape[1] == round(4 * 1.6 * DPI)  # 4 columns of 1.6 in
    assert pixels[..., :3].std() > 0.05  # something is drawn
    with pytest.raises(ValueError, match="captions: expected 10, found 2"):
        save_image_grid(tmp_path / "bad.png", images, ["a", "b"])
    with pytest.raises(ValueError, match="images: expected shape"):
        save_image_grid(tmp_path / "bad.png", images[:, 0, 0, 0], ["a"] * 10)
    assert not (tmp_path / "bad.png").exists()
