"""A grid of images with a caption each, saved as a PNG (the worst mistakes, suspected labels)."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # drawn with Agg; no pyplot, no global backend

from jaxdiag.report.figure_file import save_figure


def save_image_grid(path: str | Path, images: np.ndarray, captions: Sequence[str],
                    title: str = "", columns: int = 8) -> Path:
    """Draws ``images`` (m, h, w) or (m, h, w, c) in rows of ``columns`` and writes a PNG.

    Grey images (one channel) are drawn with a grey colormap, each scaled to its own range.

    Returns:
      The path written.

    Raises:
      ValueError: images that are not (m, h, w[, c]) with m >= 1, or a caption count that
        differs from m.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"images: expected shape (m, h, w) or (m, h, w, c) with m >= 1, found "
                         f"{images.shape}.")
    if len(captions) != len(images):
        raise ValueError(f"captions: expected {len(images)}, found {len(captions)}.")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    rows = -(-len(images) // columns)
    cols = min(columns, len(images))
    figure = Figure(figsize=(1.6 * cols, 1.9 * rows + 0.4))
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions, strict=False):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
        ax.set_title(caption, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)
