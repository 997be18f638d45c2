"""`duet say` end to end: a real espeak-ng voice writes a WAV a person can play."""
import wave

import numpy as np

from conftest import run_duet


def read_wav(path):
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        assert w.getsampwidth() == 2
        return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, w.getframerate()


def test_say_writes_non_silent_speech_of_plausible_length(duet_bin, tmp_path):
    out = tmp_path / "hello.wav"
    text = "Hello there, this is a test of the fallback voice."
    proc = run_duet(duet_bin, "say", text, "-o", out)
    assert str(out) in proc.stdout
    samples, rate = read_wav(out)
    seconds = len(samples) / rate
    words = len(text.split())
    assert 0.2 * words < seconds < 1.0 * words, seconds
    assert np.sqrt(np.mean(samples ** 2)) > 0.01, "speech, not silence"


def test_say_resamples_to_the_rate_asked_for(duet_bin, tmp_path):
    out = tmp_path / "r.wav"
    run_duet(duet_bin, "say", "Resampled speech.", "-o", out, "--rate", "16000")
    samples, rate = read_wav(out)
    assert rate == 16000 and len(samples) > 16000 * 0.3


def test_say_rejects_empty_text_with_a_clear_error(duet_bin, tmp_path):
    proc = run_duet(duet_bin, "say", "   ", "-o", tmp_path / "x.wav", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("duet: error:") and "text" in proc.stderr.lower()
    assert not (tmp_path / "x.wav").exists()


def test_say_rejects_an_unknown_voice(duet_bin, tmp_path):
    proc = run_duet(duet_bin, "say", "hi", "--voice", "nosuchvoice", "-o", tmp_path / "x.wav", check=False)
    assert proc.returncode == 1 and "voice" in proc.stderr.lower()
