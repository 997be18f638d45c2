"""`duet transcribe` on bad audio: empty, silence, NaN/inf floats, clipped, 8 kHz, stereo 44.1 kHz.
Each gives a sensible result (or a clear one-line error), never a crash."""
import json
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

import asr_common as a


def pcm_wav(path: Path, x: np.ndarray, rate: int, channels: int = 1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def float_wav(path: Path, x: np.ndarray, rate: int):
    data = x.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def transcribe(duet_bin, path: Path, *extra):
    proc = subprocess.run([str(duet_bin), "transcribe", str(path), "--json", "-t", "2", *extra],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr  # never a crash or an abort
    if proc.returncode == 1:
        assert proc.stderr.strip() and "\n" not in proc.stderr.strip()
        return None
    return [json.loads(line) for line in proc.stdout.splitlines()][-1]


@pytest.fixture(scope="module")
def speech():
    a.need_model()
    return a.human_utterances()[4][1]  # "eight of spades four of clubs seven of hearts"


@pytest.mark.parametrize("stream", [False, True])
def test_bad_audio_never_crashes(duet_bin, tmp_path, speech, stream):
    extra = ["--stream", "--partial-ms", "1000"] if stream else []
    empty = tmp_path / "empty.wav"
    pcm_wav(empty, np.zeros(0, np.float32), 16000)
    r = transcribe(duet_bin, empty, *extra)
    assert r is None or r["text"].strip() == ""

    silence = tmp_path / "silence.wav"
    pcm_wav(silence, np.zeros(32000, np.float32), 16000)
    r = transcribe(duet_bin, silence, *extra)
    assert r is not None and len(r["text"].split()) <= 2

    bad = speech.copy()
    bad[1000:1100] = np.nan
    bad[2000:2100] = np.inf
    bad[3000:3100] = -np.inf
    f = tmp_path / "nan.wav"
    float_wav(f, bad, 16000)
    r = transcribe(duet_bin, f, *extra)
    assert r is not None and "spades" in r["text"].lower()

    clipped = tmp_path / "clipped.wav"
    pcm_wav(clipped, speech * 20, 16000)
    assert transcribe(duet_bin, clipped, *extra) is not None


def test_other_rates_and_stereo(duet_bin, tmp_path, speech):
    n8 = len(speech) // 2
    x8 = np.interp(np.arange(n8) * 2.0, np.arange(len(speech)), speech).astype(np.float32)
    f8 = tmp_path / "8k.wav"
    pcm_wav(f8, x8, 8000)
    r = transcribe(duet_bin, f8)
    assert r is not None and "spades" in r["text"].lower()

    n44 = int(len(speech) * 44100 / 16000)
    x44 = np.interp(np.arange(n44) * 16000 / 44100, np.arange(len(speech)), speech)
    st = tmp_path / "stereo.wav"
    pcm_wav(st, np.stack([x44, x44], axis=1).reshape(-1), 44100, channels=2)
    r = transcribe(duet_bin, st)
    assert r is not None and "spades" in r["text"].lower()
