"""Silero VAD on Duet's runtime against the real peer: onnxruntime running the original
silero_vad.onnx the way silero-vad's OnnxWrapper feeds it (zero context and state at the start,
then the last 64/32 samples of each input as the next context). Per-frame speech probabilities of
real recordings (pocketsphinx-testdata), espeak-ng speech and noise, at 16 kHz and 8 kHz, must
agree within 1e-3. Duet's side is tests/tools/vad_dump on the converted GGUF."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from conftest import BUILD, MODELS, ROOT

ONNX = MODELS / "silero-vad" / "silero_vad.onnx"
GGUF = MODELS / "silero-vad" / "silero_vad.gguf"
VAD_DUMP = BUILD / "tests" / "vad_dump"
PS = Path("/usr/share/pocketsphinx/test/data")
TOLERANCE = 1e-3
WINDOW = {16000: 512, 8000: 256}
CONTEXT = {16000: 64, 8000: 32}


def need_everything():
    if not ONNX.exists() or not GGUF.exists():
        pytest.skip("Silero VAD is not in the model store; run: build/duet models pull silero-vad")
    if not VAD_DUMP.exists():
        pytest.fail(f"{VAD_DUMP} is not built; build the vad_dump target")


def read_pcm16_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def halve_rate(x: np.ndarray) -> np.ndarray:
    """16 kHz -> 8 kHz: a windowed-sinc low-pass at 3.6 kHz, then every other sample."""
    n = np.arange(-48, 49)
    h = 0.45 * np.sinc(0.45 * n) * np.blackman(len(n))
    return np.convolve(x, h / h.sum(), mode="same")[::2]


def espeak(text: str) -> np.ndarray | None:
    if not shutil.which("espeak-ng"):
        return None
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True,
                       capture_output=True)
        pcm, rate = read_pcm16_wav(out)
    x = pcm.astype(np.float64) / 32768.0
    # espeak-ng speaks at 22050 Hz; linear interpolation to 16 kHz is enough for test audio.
    t = np.arange(int(len(x) * 16000 / rate)) * rate / 16000
    return np.interp(t, np.arange(len(x)), x)


@lru_cache(maxsize=None)
def clips() -> list[tuple[str, np.ndarray]]:
    """(name, float64 audio at 16 kHz) for every test clip available here."""
    out = []
    for sub in ("cards", "librivox"):
        for wav in sorted((PS / sub).glob("*.wav")):
            pcm, rate = read_pcm16_wav(wav)
            assert rate == 16000, wav
            out.append((f"{sub}/{wav.stem}", pcm.astype(np.float64) / 32768.0))
    for raw in sorted(PS.glob("*.raw")):
        out.append((raw.stem, np.fromfile(raw, dtype="<i2").astype(np.float64) / 32768.0))
    rng = np.random.default_rng(1234)
    speech = []
    for i, text in enumerate(["The quick brown fox jumps over the lazy dog.",
                              "Please set a timer for ten minutes, then remind me to call home."]):
        s = espeak(text)
        if s is not None:
            out.append((f"espeak/{i}", s))
            speech.append(s)
    out.append(("white-noise", rng.normal(0.0, 0.05, 16000 * 3)))
    brown = np.cumsum(rng.normal(0.0, 1.0, 16000 * 3))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")  # keep it from drifting off
    out.append(("brown-noise", 0.3 * brown / np.abs(brown).max()))
    out.append(("silence-then-clicks", np.where(np.arange(16000 * 2) % 4000 == 0, 0.9, 0.0)))
    if speech:
        s = speech[0]
        out.append(("espeak-in-noise", s + rng.normal(0.0, 0.02, len(s))))
    return out


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


@lru_cache(maxsize=None)
def onnx_session():
    ort = pytest.importorskip("onnxruntime")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(ONNX), sess_options=opts, providers=["CPUExecutionProvider"])


def onnx_probs(audio: np.ndarray, rate: int) -> np.ndarray:
    sess = onnx_session()
    win, ctx = WINDOW[rate], CONTEXT[rate]
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, ctx), dtype=np.float32)
    sr = np.array(rate, dtype=np.int64)
    out = []
    for at in range(0, len(audio) - win + 1, win):
        x = np.concatenate([context, audio[None, at:at + win]], axis=1)
        prob, state = sess.run(None, {"input": x, "state": state, "sr": sr})
        context = x[:, -ctx:]
        out.append(float(prob[0, 0]))
    return np.array(out)


def duet_probs(wav: Path) -> np.ndarray:
    proc = subprocess.run([str(VAD_DUMP), str(GGUF), str(wav)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return np.array([float(v) for v in proc.stdout.split()])


def compare(rate: int) -> dict[str, float]:
    need_everything()
    worst = {}
    with tempfile.TemporaryDirectory() as d:
        for name, audio16 in clips():
            audio = audio16 if rate == 16000 else halve_rate(audio16)
            pcm = to_pcm16(audio)
            wav = Path(d) / "clip.wav"
            write_wav(wav, pcm, rate)
            # Exactly the floats Duet reads from the 16-bit WAV (s / 32768).
            ref = onnx_probs(pcm.astype(np.float32) / np.float32(32768.0), rate)
            got = duet_probs(wav)
            assert len(got) == len(ref) == len(pcm) // WINDOW[rate], name
            worst[name] = float(np.abs(got - ref).max())
    return worst


@pytest.mark.parametrize("rate", [16000, 8000])
def test_probabilities_match_onnxruntime(rate):
    worst = compare(rate)
    real = [n for n in worst if n.startswith(("cards/", "librivox/")) or "/" not in n and
            (PS / f"{n}.raw").exists()]
    assert len(worst) >= 10, f"only {len(worst)} clips available: {sorted(worst)}"
    assert len(real) >= 5, f"only {len(real)} real recordings: {real}"
    print(f"\n{rate} Hz: max |duet - onnxruntime| over {len(worst)} clips = "
          f"{max(worst.values()):.2e} ({max(worst, key=worst.get)})")
    bad = {n: d for n, d in worst.items() if d > TOLERANCE}
    assert not bad, f"clips over {TOLERANCE}: {bad}"


def test_the_recordings_are_mostly_detected_as_speech():
    """A sanity check on the peer itself: speech is found where the recordings have it."""
    need_everything()
    with tempfile.TemporaryDirectory() as d:
        for name, audio in clips():
            if not name.startswith(("cards/", "librivox/", "espeak/")):
                continue
            wav = Path(d) / "clip.wav"
            write_wav(wav, to_pcm16(audio), 16000)
            assert duet_probs(wav).max() > 0.8, name


def test_converter_is_reproducible_and_matches_the_manifest(tmp_path):
    """tools/convert_silero.py makes exactly the bytes the manifest pins."""
    if not ONNX.exists():
        pytest.skip("run: build/duet models pull silero-vad")
    out = tmp_path / "silero_vad.gguf"
    proc = subprocess.run([sys.executable, str(ROOT / "tools/convert_silero.py"), str(ONNX), "-o",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((ROOT / "tools/models/manifest.json").read_text())
    spec = next(f for m in manifest["models"] if m["name"] == "silero-vad" for f in m["files"]
                if f["path"] == "silero_vad.gguf")
    assert out.stat().st_size == spec["size"]
    assert hashlib.sha256(out.read_bytes()).hexdigest() == spec["sha256"]


def test_converter_refuses_a_graph_that_is_not_silero(tmp_path):
    """An unexpected graph is an error with one line of why, and no output file."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    bogus = tmp_path / "bogus.onnx"
    onnx.save(helper.make_model(graph), str(bogus))
    proc = subprocess.run([sys.executable, str(ROOT / "tools/convert_silero.py"), str(bogus), "-o",
                           str(tmp_path / "out.gguf")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "convert_silero:" in proc.stderr and "Silero" in proc.stderr
    assert not (tmp_path / "out.gguf").exists()
