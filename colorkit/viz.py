"""Figures shared by several notebooks: image grids, the ab plane with the sRGB gamut, ab histograms."""

from __future__ import annotations

import numpy as np
import torch

from colorkit.color import lab_in_gamut, lab_to_rgb


def show_images(images, titles=None, ncols=None, size=3.0, suptitle=None):
    """Show uint8 / float images (H, W, 3) or (H, W) in a grid; returns the figure."""
    import matplotlib.pyplot as plt

    n = len(images)
    ncols = ncols or n
    nrows = (n + ncols - 1) // ncols
    first = np.asarray(images[0])
    aspect = first.shape[0] / first.shape[1]
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * aspect * nrows + (0.4 if titles else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.flat[i]
        img = np.asarray(img)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255 if img.dtype == np.uint8 else 1)
        if titles:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def ab_plane(L: float, lim: float = 110.0, n: int = 221) -> tuple[np.ndarray, np.ndarray]:
    """The ab plane at lightness ``L``: (rgb (n, n, 3) float in [0, 1], in_gamut (n, n) bool).

    Row 0 is b = +lim (top), column 0 is a = -lim (left), as in the usual ab-plane drawings.
    Out-of-gamut colours have no sRGB display; callers paint them grey.
    """
    a = torch.linspace(-lim, lim, n, dtype=torch.float64)
    b = torch.linspace(lim, -lim, n, dtype=torch.float64)
    bb, aa = torch.meshgrid(b, a, indexing="ij")
    lab = torch.stack([torch.full_like(aa, float(L)), aa, bb])[None]  # (1, 3, n, n)
    rgb = lab_to_rgb(lab)[0].permute(1, 2, 0).numpy()
    inside = lab_in_gamut(lab)[0, 0].numpy()
    return rgb, inside


def ab_plane_image(L: float, lim: float = 110.0, n: int = 221, outside=(0.85, 0.85, 0.85)) -> np.ndarray:
    """``ab_plane`` as one displayable image, out-of-gamut cells painted ``outside``."""
    rgb, inside = ab_plane(L, lim, n)
    rgb = rgb.copy()
    rgb[~inside] = outside
    return rgb


def gamut_area(L: float, lim: float = 128.0, n: int = 257) -> float:
    """Area (in ab units²) of the sRGB gamut's slice at lightness ``L``."""
    _, inside = ab_plane(L, lim, n)
    cell = (2 * lim / (n - 1)) ** 2
    return float(inside.sum() * cell)


def draw_ab_plane(ax, L: float, lim: float = 110.0, n: int = 221, title: str | None = None):
    """Draw the ab slice at ``L`` on ``ax`` with labelled a/b axes."""
    ax.imshow(ab_plane_image(L, lim, n), extent=(-lim, lim, -lim, lim))
    ax.axhline(0, color="k", lw=0.4)
    ax.axvline(0, color="k", lw=0.4)
    ax.set_xlabel("a  (green − / red +)")
    ax.set_ylabel("b  (blue − / yellow +)")
    ax.set_title(title or f"L = {L:g}")
    return ax


def draw_ab_hist(ax, counts: np.ndarray, edges: np.ndarray, lim: float = 110.0, title: str | None = None):
    """A 2-D ab histogram (counts[a_index, b_index]) on a log colour scale."""
    from matplotlib.colors import LogNorm

    c = np.asarray(counts, dtype=float)
    image = ax.imshow(np.ma.masked_equal(c.T, 0), origin="lower", extent=(edges[0], edges[-1], edges[0], edges[-1]),
                      norm=LogNorm(vmin=max(c[c > 0].min(), 1), vmax=c.max()), cmap="magma")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    if title:
        ax.set_title(title)
    return image


def swatches(ax, rgbs, labels):
    """A row of flat colour patches with labels underneath."""
    for i, (rgb, label) in enumerate(zip(rgbs, labels)):
        ax.add_patch(__import__("matplotlib").patches.Rectangle((i, 0), 0.9, 1, color=np.clip(rgb, 0, 1)))
        ax.text(i + 0.45, -0.1, label, ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.1, len(rgbs))
    ax.set_ylim(-0.6, 1.05)
    ax.axis("off")
    return ax


def show_jpeg(fig, quality: int = 85) -> None:
    """Display a figure of photos as JPEG (a notebook stays small; use plain ``plt.show()`` for plots)."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", pil_kwargs={"quality": quality})
    plt.close(fig)
    display(Image(buf.getvalue()))
