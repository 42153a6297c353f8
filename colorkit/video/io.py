"""Reading and writing video with PyAV (FFmpeg): frames in as uint8 RGB, H.264 out, audio kept.

    info = probe("clip.avi")                     # VideoInfo: size, frame rate, frame count, codec, audio
    for rgb in read_frames("clip.avi"): ...      # uint8 (H, W, 3), in display order
    frames = read_video("clip.avi", max_frames=50)   # (T, H, W, 3)
    with VideoWriter("out.mp4", fps=info.fps, size=(w, h), audio_from="clip.avi") as w:
        w.write(rgb)                             # the file appears at out.mp4 only when the block ends well

Every failure of FFmpeg (not a video, a truncated file, no video stream, a codec this FFmpeg
cannot decode, zero frames) becomes one :class:`ColorkitError` that names the file. A
writer works in a hidden temp file beside its target and renames it at the end: an error or
Ctrl-C leaves nothing at the target, and an existing file there is never overwritten unless
asked.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from colorkit.errors import ColorkitError
from colorkit.io import file_mode

CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}  # what VideoWriter can write
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}  # audio codecs copied as they are into .mp4/.mov
AAC_FRAME = 1024  # samples per AAC frame
DEFAULT_CRF = 18  # x264 constant-rate factor: visually lossless at these sizes
TRUNCATED = 0.95  # a file whose frames stop before this share of its stated duration is truncated


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int  # from the container header; 0 when the container does not say (AVI counts dropped frames)
    codec: str
    has_audio: bool
    duration: float  # seconds of the video stream (else the container), 0 when unknown
    time_base: Fraction  # unit of the frames' presentation times (pts)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def _open(path: Path):
    if not path.exists():
        raise ColorkitError("no such file", path=path)
    if path.is_dir():
        raise ColorkitError("is a folder, not a video file", path=path)
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise ColorkitError(f"not a readable video ({_reason(exc)})", path=path) from exc


def _reason(exc: BaseException) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip() or type(exc).__name__


def _video_stream(container, path: Path):
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        raise ColorkitError(f"has no video stream ({kinds})", path=path)
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.width:
        name = getattr(stream.codec_context, "name", None) or "unknown"
        raise ColorkitError(f"its video codec ({name}) cannot be decoded by this FFmpeg", path=path)
    return stream


def _fps(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return Fraction(rate) if rate else Fraction(25)


def probe(path) -> VideoInfo:
    """Size, frame rate, frame count (header), codec and audio of a video file, without decoding it."""
    path = Path(path)
    with _open(path) as c:
        s = _video_stream(c, path)
        return VideoInfo(path, s.codec_context.width, s.codec_context.height, _fps(s), int(s.frames or 0),
                         s.codec_context.name, bool(c.streams.audio), _duration(c, s), Fraction(s.time_base))


def _duration(container, stream) -> float:
    """Seconds the header promises: the video stream's duration, else the container's, or (AVI, whose
    duration is estimated from what is there) the header's frame count at the frame rate, if longer."""
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = float(container.duration / av.time_base) if container.duration else 0.0
    return max(seconds, float((stream.frames or 0) / _fps(stream)))


def decode(path, max_frames: int | None = None, fmt: str = "rgb24") -> Iterator[tuple[np.ndarray, int | None]]:
    """(frame, pts) pairs of the first video stream: uint8 (H, W, 3) for ``rgb24``, (H, W) for ``gray``;
    ``pts`` in the stream's ``time_base`` (:func:`probe`), None if the file gives none.

    Raises :class:`ColorkitError` naming the file if it cannot be opened or decoded, holds zero
    frames, or stops well before the duration its header states (a truncated file). Frames keep
    their own times, so a clip with dropped frames (variable frame rate) keeps its timing.
    """
    path = Path(path)
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ColorkitError(f"max_frames must be a positive integer or None, got {max_frames!r}")
    with _open(path) as c:
        stream = _video_stream(c, path)
        stream.thread_type = "AUTO"
        duration, fps, tb = _duration(c, stream), _fps(stream), stream.time_base
        n, last = 0, 0.0
        try:
            for frame in c.decode(stream):
                if frame.pts is not None and tb:
                    last = float(frame.pts * tb)
                yield frame.to_ndarray(format=fmt), frame.pts
                n += 1
                if max_frames is not None and n >= max_frames:
                    return
        except av.error.FFmpegError as exc:
            raise ColorkitError(f"decoding failed after {n} frames ({_reason(exc)}): the file is damaged or "
                                "truncated", path=path) from exc
    if n == 0:
        raise ColorkitError("holds zero decodable frames", path=path)
    if duration and last + 1 / float(fps) < TRUNCATED * duration - 0.5:
        raise ColorkitError(f"stops at {last:.1f} s of the {duration:.1f} s its header states: the file is truncated",
                            path=path)


def read_frames(path, max_frames: int | None = None, fmt: str = "rgb24") -> Iterator[np.ndarray]:
    """The frames of :func:`decode` without their times."""
    for frame, _ in decode(path, max_frames, fmt):
        yield frame


def read_video(path, max_frames: int | None = None, fmt: str = "rgb24") -> np.ndarray:
    """All frames (or the first ``max_frames``) as one uint8 array (T, H, W, 3)."""
    return np.stack(list(read_frames(path, max_frames, fmt)))


def check_output(path, overwrite: bool = False, inputs=()) -> Path:
    """The output path, checked before any work: a known container suffix, not an input, not an existing file."""
    path = Path(path)
    if path.suffix.lower() not in CONTAINERS:
        raise ColorkitError(f"the output must end in one of {', '.join(CONTAINERS)} (H.264 in that container)",
                            path=path)
    for inp in inputs:
        if Path(inp).exists() and path.exists() and os.path.samefile(inp, path):
            raise ColorkitError("is the input: inputs are never overwritten", path=path)
    if path.is_dir():
        raise ColorkitError("is a folder: give an output file name", path=path)
    if path.exists() and not overwrite:
        raise ColorkitError("already exists (pass overwrite=True / --overwrite to replace it)", path=path)
    return path


class VideoWriter:
    """H.264 (libx264) into ``path``'s container at ``fps``; ``size`` = (width, height) of every frame.

    ``time_base``: the unit of the ``pts`` given to :meth:`write` (the input's, to keep its frame
    times, dropped frames included); without it frame i is shown at i / fps.
    ``audio_from``: a video file whose first audio stream is copied into the output (re-encoded
    to AAC when the container cannot hold its codec). Odd sizes use 4:4:4 chroma (4:2:0 needs
    even sides). Used as a context manager; the file appears at ``path`` only when the block
    ends without an exception.
    """

    def __init__(self, path, fps, size: tuple[int, int], audio_from=None, overwrite: bool = False,
                 crf: int = DEFAULT_CRF, preset: str = "veryfast", time_base=None):
        self.time_base = Fraction(time_base) if time_base else None
        self.path = check_output(path, overwrite, inputs=[audio_from] if audio_from else [])
        self.fps, self.size = Fraction(fps).limit_denominator(100000), (int(size[0]), int(size[1]))
        self.audio_from, self.crf, self.preset = audio_from, int(crf), preset
        self.frames = 0
        self._out = self._tmp = None

    def __enter__(self) -> VideoWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        try:
            self._out = av.open(tmp, "w", format=CONTAINERS[self.path.suffix.lower()])
            w, h = self.size
            self._v = self._out.add_stream("libx264", rate=self.fps)
            self._v.width, self._v.height = w, h
            self._v.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
            self._v.options = {"crf": str(self.crf), "preset": self.preset}
            self._v.codec_context.color_range = 1  # MPEG (limited) range, what players expect
            self._v.time_base = self.time_base or 1 / self.fps
            self._v.codec_context.time_base = self._v.time_base  # frame times are not rounded to 1 / fps
            self._last_pts = None
            self._add_audio()
        except BaseException:
            self._discard()
            raise
        return self

    def write(self, rgb: np.ndarray, pts: int | None = None) -> None:
        """One uint8 RGB frame (H, W, 3) of the writer's size; ``pts`` in ``time_base`` units (if one was given)."""
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.shape != (self.size[1], self.size[0], 3):
            got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
            raise ColorkitError(f"VideoWriter: expected uint8 frames of shape {(self.size[1], self.size[0], 3)}, "
                                f"got {got}", path=self.path)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if self.time_base is None or pts is None:
            frame.pts, frame.time_base = self.frames, 1 / self.fps
            if self.time_base is not None:  # a writer in the input's time base given a frame without a time
                frame.pts = round(self.frames / self.fps / self.time_base)
                frame.time_base = self.time_base
        else:
            frame.pts, frame.time_base = int(pts), self.time_base
        if self._last_pts is not None and frame.pts <= self._last_pts:
            raise ColorkitError(f"VideoWriter: frame times must increase (pts {frame.pts} after {self._last_pts})",
                                path=self.path)
        self._last_pts = frame.pts
        self._out.mux(self._v.encode(frame))
        self.frames += 1

    def _add_audio(self) -> None:
        """Add the output's audio stream now (FFmpeg needs every stream before the first packet): a copy of
        ``audio_from``'s first audio stream, or AAC when the container cannot hold its codec."""
        self._a = self._a_src = None
        if self.audio_from is None:
            return
        self._a_src = _open(Path(self.audio_from))
        if not self._a_src.streams.audio:
            self._a_src.close()
            self._a_src = None
            return
        a = self._a_src.streams.audio[0]
        self._copy = self._out.format.name == "matroska" or a.codec_context.name in MP4_AUDIO
        if self._copy:
            self._a = self._out.add_stream_from_template(a)
        else:
            rate, layout = a.codec_context.sample_rate, a.codec_context.layout
            layout = {1: "mono", 2: "stereo"}.get(len(layout.channels), layout.name)  # AVI: "1 channels", unnamed
            self._a = self._out.add_stream("aac", rate=rate, layout=layout, format="fltp")
            self._resample = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=AAC_FRAME)

    def _mux_audio(self) -> None:
        if self._a is None:
            return
        a = self._a_src.streams.audio[0]
        if self._copy:
            for packet in self._a_src.demux(a):
                if packet.dts is None:
                    continue
                packet.stream = self._a
                self._out.mux(packet)
        else:
            for frame in [*self._a_src.decode(a), None]:  # None: flush the resampler
                for chunk in self._resample.resample(frame):  # AAC takes frames of exactly 1024 samples
                    self._out.mux(self._a.encode(chunk))
            self._out.mux(self._a.encode(None))
        self._a_src.close()
        self._a_src = None

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            if self.frames == 0:
                raise ColorkitError("no frames were written", path=self.path)
            self._out.mux(self._v.encode(None))
            self._mux_audio()
            self._out.close()
            self._out = None
            os.chmod(self._tmp, file_mode())  # mkstemp makes 0600
            os.replace(self._tmp, self.path)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        if getattr(self, "_a_src", None) is not None:
            self._a_src.close()
            self._a_src = None
        if self._out is not None:
            try:
                self._out.close()
            except Exception:  # noqa: BLE001 - already failing; the temp file goes either way
                pass
            self._out = None
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()


def write_video(path, frames, fps, audio_from=None, overwrite: bool = False, crf: int = DEFAULT_CRF) -> Path:
    """Frames (T, H, W, 3) or an iterable of uint8 RGB frames, frame i at i / fps -> an H.264 file at ``path``
    (atomically)."""
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ColorkitError("write_video: no frames to write", path=Path(path))
    with VideoWriter(path, fps, (first.shape[1], first.shape[0]), audio_from, overwrite, crf) as w:
        w.write(first)
        for f in it:
            w.write(f)
    return Path(path)
