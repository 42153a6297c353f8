"""Scribble colours on a grey photo and watch Levin's colorization follow (ipycanvas + ipywidgets).

Drag on the left image (the grey photo) to draw a stroke in the picked colour; when the
mouse is released the stroke is added and the colorization on the right is solved again
(:func:`colorkit.levin.colorize`). *undo* removes the last stroke, *clear* all of them.

From the kernel, :meth:`ScribbleWidget.apply_stroke` adds a stroke exactly as a mouse
release does (same code path), which is how tests drive it; :attr:`ScribbleWidget.result_rgb`
is the current colorization and :attr:`ScribbleWidget.strokes` the strokes, in the JSON
format of :func:`colorkit.levin.load_strokes` (:meth:`ScribbleWidget.save` writes them).

DOM classes for browser tests: the whole widget ``colorkit-scribble``, the drawing canvas
``colorkit-scribble-canvas``, the result image ``colorkit-scribble-result``, the colour
picker ``colorkit-scribble-color``, the brush slider ``colorkit-scribble-width``, the
buttons ``colorkit-scribble-undo`` / ``colorkit-scribble-clear``, the status line
``colorkit-scribble-status``.
"""

from __future__ import annotations

import time

import ipywidgets as w
import numpy as np

from colorkit import levin
from colorkit.errors import ColorkitError
from colorkit.widgets import png_bytes


def _hex(colour: str) -> str:
    """Any CSS colour the picker may hold -> '#rrggbb'."""
    from matplotlib.colors import to_hex

    try:
        return to_hex(colour)
    except ValueError:
        raise ColorkitError(f"not a colour: {colour!r}") from None


def _fit(gray: np.ndarray, max_side: int) -> np.ndarray:
    """Grey uint8 (H, W), shrunk so that its long side is at most ``max_side`` (keeps solving interactive)."""
    from PIL import Image

    H, W = gray.shape
    if max(H, W) <= max_side:
        return gray
    s = max_side / max(H, W)
    return np.asarray(Image.fromarray(gray).resize((max(1, round(W * s)), max(1, round(H * s))), Image.LANCZOS))


class ScribbleWidget(w.VBox):
    """Grey photo on the left (draw here), its colorization on the right; re-solved on each stroke."""

    def __init__(self, gray, strokes: list[dict] | None = None, size: tuple[int, int] | None = None,
                 color: str = "#d9a066", width: int = 6, max_side: int = 384, method: str = "amg"):
        from ipycanvas import Canvas

        Y = levin.as_gray(gray)
        self.gray = _fit(np.round(Y * 255).astype(np.uint8), max_side)  # (H, W) uint8, the image drawn on
        H, W = self.gray.shape
        self.method = method
        self.strokes: list[dict] = []
        self.result_rgb = np.repeat(self.gray[:, :, None], 3, axis=2)
        self._points: list[tuple[float, float]] | None = None

        self.canvas = Canvas(width=W, height=H, layout=w.Layout(width=f"{W}px", height=f"{H}px"))
        self.canvas.add_class("colorkit-scribble-canvas")
        self.result = w.Image(format="png", width=W, height=H,
                              layout=w.Layout(width=f"{W}px", height=f"{H}px", margin="0 0 0 12px"))
        self.result.add_class("colorkit-scribble-result")
        self.picker = w.ColorPicker(value=_hex(color), description="colour", concise=False,
                                    layout=w.Layout(width="220px"))
        self.picker.add_class("colorkit-scribble-color")
        self.brush = w.IntSlider(value=width, min=1, max=30, description="width", continuous_update=False)
        self.brush.add_class("colorkit-scribble-width")
        self.undo_button = w.Button(description="undo", icon="undo", layout=w.Layout(width="90px"))
        self.undo_button.add_class("colorkit-scribble-undo")
        self.clear_button = w.Button(description="clear", icon="trash", layout=w.Layout(width="90px"))
        self.clear_button.add_class("colorkit-scribble-clear")
        self.status = w.Label()
        self.status.add_class("colorkit-scribble-status")
        super().__init__([
            w.HBox([self.picker, self.brush, self.undo_button, self.clear_button]),
            w.HBox([self.canvas, self.result]),
            self.status,
        ])
        self.add_class("colorkit-scribble")

        self.canvas.on_mouse_down(self._on_down)
        self.canvas.on_mouse_move(self._on_move)
        self.canvas.on_mouse_up(self._on_up)
        self.canvas.on_mouse_out(self._on_up)  # leaving the canvas ends the stroke too
        self.undo_button.on_click(lambda _: self.undo())
        self.clear_button.on_click(lambda _: self.clear())

        if strokes:  # e.g. loaded from a file, in the pixel coordinates of an image of ``size``
            sx, sy = (1.0, 1.0) if size is None else (W / size[0], H / size[1])
            for s in strokes:
                self.strokes.append({"color": _hex(s["color"]), "width": float(s["width"]) * 0.5 * (sx + sy),
                                     "points": [[float(x) * sx, float(y) * sy] for x, y in s["points"]]})
        self._redraw_canvas()
        self.update()

    # -- drawing --------------------------------------------------------------

    def _draw_stroke(self, stroke: dict) -> None:
        c = self.canvas
        c.stroke_style = stroke["color"]
        c.fill_style = stroke["color"]
        c.line_width = stroke["width"]
        c.line_cap = "round"
        c.line_join = "round"
        pts = [tuple(p) for p in stroke["points"]]
        if len(pts) == 1:
            c.fill_circle(pts[0][0], pts[0][1], stroke["width"] / 2)
        else:
            c.stroke_lines(pts)

    def _redraw_canvas(self) -> None:
        from ipycanvas import hold_canvas

        with hold_canvas():
            self.canvas.clear()
            self.canvas.put_image_data(np.repeat(self.gray[:, :, None], 3, axis=2), 0, 0)
            for stroke in self.strokes:
                self._draw_stroke(stroke)

    # -- mouse ----------------------------------------------------------------

    def _on_down(self, x: float, y: float) -> None:
        self._points = [(x, y)]
        c = self.canvas
        c.stroke_style = c.fill_style = _hex(self.picker.value)
        c.line_width = self.brush.value
        c.line_cap = c.line_join = "round"
        c.fill_circle(x, y, self.brush.value / 2)

    def _on_move(self, x: float, y: float) -> None:
        if self._points is None:
            return
        x0, y0 = self._points[-1]
        self.canvas.stroke_line(x0, y0, x, y)  # immediate feedback while drawing
        self._points.append((x, y))

    def _on_up(self, x: float, y: float) -> None:
        if self._points is None:
            return
        points, self._points = self._points, None
        if (x, y) != points[-1] and 0 <= x <= self.gray.shape[1] and 0 <= y <= self.gray.shape[0]:
            points.append((x, y))
        self.apply_stroke(points)

    # -- the kernel-side API ------------------------------------------------------

    def apply_stroke(self, points, color: str | None = None, width: float | None = None) -> np.ndarray:
        """Add one stroke and solve again; the path a mouse release takes. Returns the new colorization.

        ``points`` are (x, y) in pixels of the widget's image (:attr:`gray`); ``color`` and
        ``width`` default to the picker and the brush slider.
        """
        pts = [[float(x), float(y)] for x, y in points]
        if not pts:
            raise ColorkitError("apply_stroke: a stroke needs at least one point")
        stroke = {"color": _hex(color or self.picker.value), "width": float(width or self.brush.value), "points": pts}
        self.strokes.append(stroke)
        self._draw_stroke(stroke)
        return self.update()

    def undo(self) -> np.ndarray:
        """Remove the last stroke and solve again."""
        if self.strokes:
            self.strokes.pop()
            self._redraw_canvas()
        return self.update()

    def clear(self) -> np.ndarray:
        """Remove every stroke: the result is the grey photo again."""
        self.strokes = []
        self._redraw_canvas()
        return self.update()

    def scribbles(self) -> tuple[np.ndarray, np.ndarray]:
        """(scribble_rgb uint8 (H, W, 3), mask (H, W)) of the current strokes."""
        return levin.rasterize_strokes(self.gray.shape, self.strokes)

    def update(self) -> np.ndarray:
        """Solve for the current strokes and show the result (the grey photo when there are none)."""
        t0 = time.perf_counter()
        rgb, mask = self.scribbles()
        if mask.any():
            out = levin.colorize(self.gray, rgb, mask, method=self.method)
            self.result_rgb = np.round(out * 255).astype(np.uint8)
            self.status.value = (f"{len(self.strokes)} stroke(s), {100 * mask.mean():.2f}% of the pixels scribbled; "
                                 f"solved in {time.perf_counter() - t0:.2f} s")
        else:
            self.result_rgb = np.repeat(self.gray[:, :, None], 3, axis=2)
            self.status.value = "no strokes yet: drag on the grey photo to scribble a colour"
        self.result.value = png_bytes(self.result_rgb)
        return self.result_rgb

    def save(self, path) -> None:
        """Write the strokes as JSON (:func:`colorkit.levin.load_strokes` reads them back)."""
        levin.save_strokes(path, self.strokes, size=(self.gray.shape[1], self.gray.shape[0]))


def scribble_widget(gray, strokes: list[dict] | None = None, size: tuple[int, int] | None = None,
                    **kwargs) -> ScribbleWidget:
    """A :class:`ScribbleWidget` on ``gray`` (any grey image :func:`colorkit.levin.as_gray` accepts)."""
    return ScribbleWidget(gray, strokes=strokes, size=size, **kwargs)
