"""`duet listen`: speech segments and voice features of a recording. A real recording gives
segments inside the file with the full feature set in JSON; --aec-ref (an echo of espeak speech
mixed in) is accepted; bad audio (silence, NaN, DC, clipping, 8 kHz, very loud floats, not a WAV)
gives sensible output or a clear one-line error, never a crash."""
import json
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import run_duet

READER = Path("/usr/share/pocketsphinx/test/data/librivox/"
              "sense_and_sensibility_01_austen_64kb-0870.wav")
FEATURE_KEYS = {
    "duration_s", "pitch_median_hz", "pitch_low_hz", "pitch_high_hz", "pitch_slope_st_per_s",
    "pitch_final_rise_st", "voiced_fraction", "loudness_dbfs", "clipped_fraction",
    "speaking_rate_sps", "pauses", "pause_seconds", "hesitations", "background_dbfs", "background",
    "speaker", "speaker_changed", "pitch_vs_usual_st",
}


def read_wav(path: Path):
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        return x.reshape(-1, w.getnchannels()).mean(axis=1), rate


def pcm_wav(path: Path, x: np.ndarray, rate: int):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def float_wav(path: Path, x: np.ndarray, rate: int):
    data = x.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data)) + data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def listen(duet_bin, path: Path, *extra, check=True, vad="webrtc"):
    proc = run_duet(duet_bin, "listen", path, "--json", "--vad", vad, *extra, check=check,
                    timeout=120)
    return proc, (json.loads(proc.stdout) if proc.returncode == 0 else None)


@pytest.fixture(scope="module")
def reader():
    if not READER.exists():
        pytest.skip("pocketsphinx-testdata is not installed")
    return read_wav(READER)


def test_real_recording_gives_segments_with_features(duet_bin, reader):
    _, out = listen(duet_bin, READER)
    assert set(out) >= {"file", "duration_s", "source_rate", "vad", "aec", "segments"}
    assert out["source_rate"] == 16000 and out["aec"] is False
    assert abs(out["duration_s"] - len(reader[0]) / 16000) < 0.01
    segs = out["segments"]
    assert segs, "no speech found in a read sentence"
    speech_s = sum(s["end_s"] - s["start_s"] for s in segs)
    assert speech_s > 0.5 * out["duration_s"]
    last_end = 0.0
    for s in segs:
        assert last_end <= s["audio_start_s"] <= s["start_s"] < s["end_s"]
        assert s["end_s"] <= out["duration_s"] + 1e-6
        last_end = s["end_s"]
        assert set(s["features"]) == FEATURE_KEYS
        assert isinstance(s["annotation"], str)
        f = s["features"]
        if f["duration_s"] > 1.0:
            assert 60 < f["pitch_median_hz"] < 300
            assert 1.0 < f["speaking_rate_sps"] < 8.0
            assert -40 < f["loudness_dbfs"] < -10
    text = run_duet(duet_bin, "listen", READER, "--vad", "webrtc").stdout
    assert len(text.strip().splitlines()) == len(segs)
    assert " s  [" in text


def test_endpointer_options_are_used(duet_bin, reader):
    _, short = listen(duet_bin, READER, "--hangover-ms", "100", "--min-speech-ms", "100")
    _, long = listen(duet_bin, READER, "--hangover-ms", "2000", "--padding-ms", "0")
    assert len(short["segments"]) >= len(long["segments"]) >= 1
    for s in long["segments"]:
        assert s["audio_start_s"] == s["start_s"]
    _, adaptive = listen(duet_bin, READER, "--adaptive", "--threshold", "0.6", vad="energy")
    assert adaptive["vad"] == "energy"
    proc, _ = listen(duet_bin, READER, check=False, vad="nonsense")
    assert proc.returncode == 1 and "nonsense" in proc.stderr


def test_aec_reference_is_accepted(duet_bin, reader, tmp_path):
    played = tmp_path / "played.wav"
    run_duet(duet_bin, "say", "This is what the assistant said over the loudspeaker.", "-o", played,
             "--voice", "espeak:en-us", "--rate", "16000")
    far, rate = read_wav(played)
    assert rate == 16000
    near = reader[0].copy()
    echo = np.zeros_like(near)
    n = min(len(near) - 800, len(far))
    echo[800:800 + n] = 0.3 * far[:n]
    mic = tmp_path / "mic.wav"
    pcm_wav(mic, near + echo, 16000)
    _, out = listen(duet_bin, mic, "--aec-ref", played)
    assert out["aec"] is True and out["segments"]
    proc, _ = listen(duet_bin, mic, "--aec-ref", tmp_path / "missing.wav", check=False)
    assert proc.returncode == 1 and "missing.wav" in proc.stderr


def test_bad_audio_never_crashes(duet_bin, reader, tmp_path):
    x = reader[0]
    cases = {
        "silence": (np.zeros(32000, np.float32), 16000, False),
        "nan": (np.where(np.arange(len(x)) % 50 == 0, np.nan, x).astype(np.float32), 16000, True),
        "dc": (x * 0.5 + 0.4, 16000, False),
        "clipped": (np.clip(x * 40, -1, 1), 16000, False),
        "loud": (x * 60, 16000, True),
        "narrow": (x[::2], 8000, False),
        "empty": (np.zeros(0, np.float32), 16000, False),
    }
    results = {}
    for name, (signal, rate, as_float) in cases.items():
        path = tmp_path / f"{name}.wav"
        (float_wav if as_float else pcm_wav)(path, np.asarray(signal, np.float32), rate)
        proc, out = listen(duet_bin, path, check=False)
        assert proc.returncode in (0, 1), f"{name}: {proc.returncode} {proc.stderr}"
        if proc.returncode == 1:
            assert proc.stderr.startswith("duet: error:") and proc.stderr.count("\n") == 1, name
        results[name] = out
    assert results["silence"]["segments"] == []
    for name in ("nan", "dc", "clipped", "loud", "narrow"):
        assert results[name] is not None and results[name]["segments"], name
    assert any("clipped" in s["annotation"] for s in results["clipped"]["segments"])
    assert results["narrow"]["source_rate"] == 8000
    text = run_duet(duet_bin, "listen", tmp_path / "silence.wav", "--vad", "webrtc").stdout
    assert "no speech" in text


def test_not_a_wav_is_a_clear_error(duet_bin, tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all")
    proc = run_duet(duet_bin, "listen", junk, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("duet: error:") and "junk.wav" in proc.stderr
    proc = run_duet(duet_bin, "listen", tmp_path / "absent.wav", check=False)
    assert proc.returncode != 0 and "absent.wav" in proc.stderr


def test_conversation_speakers_and_background(duet_bin, tmp_path):
    lines = [("espeak:en+m3", "Hello there, I would like to book a table for two tonight."),
             ("espeak:en+f4", "Are you sure you want to come at eight?"),
             ("espeak:en+m3", "Yes, eight o'clock is perfect for us, thank you very much.")]
    parts = [np.zeros(16000, np.float32)]
    for i, (voice, text) in enumerate(lines):
        path = tmp_path / f"line{i}.wav"
        run_duet(duet_bin, "say", text, "-o", path, "--voice", voice, "--rate", "16000")
        parts += [read_wav(path)[0], np.zeros(16000, np.float32)]
    talk = np.concatenate(parts)
    rng = np.random.default_rng(3)
    for noisy in (False, True):
        mix = talk + (rng.normal(0, 0.006, len(talk)).astype(np.float32) if noisy else 0)
        path = tmp_path / f"talk_{noisy}.wav"
        pcm_wav(path, mix, 16000)
        _, out = listen(duet_bin, path)
        segs = out["segments"]
        assert len(segs) == 3, segs
        assert [s["features"]["speaker"] for s in segs] == [0, 1, 0]
        assert "second speaker" in segs[1]["annotation"]
        assert "rising pitch" in segs[1]["annotation"]
        assert "first speaker" in segs[2]["annotation"]
        kinds = {s["features"]["background"] for s in segs}
        assert kinds == ({"noise"} if noisy else {"quiet"}), kinds
        assert all(("background: noise" in s["annotation"]) == noisy for s in segs)
