"""Duet's Whisper log-mel front end (src/audio/log_mel.cpp) against faster-whisper's
FeatureExtractor on real speech, 80 and 128 bins, whole and pushed in odd-sized chunks."""
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import asr_common as a

fw_fe = pytest.importorskip("faster_whisper.feature_extractor")


def duet_mel(audio: np.ndarray, n_mels: int, chunk: int | None = None) -> np.ndarray:
    if not a.ASR_DUMP.exists():
        pytest.skip(f"{a.ASR_DUMP} is not built")
    fe = fw_fe.FeatureExtractor(feature_size=n_mels)
    with tempfile.TemporaryDirectory() as d:
        filt, wav, out = Path(d) / "f.f32", Path(d) / "a.f32", Path(d) / "o.f32"
        fe.mel_filters.astype(np.float32).tofile(filt)
        audio.astype(np.float32).tofile(wav)
        args = [str(a.ASR_DUMP), "mel", str(filt), str(n_mels), str(wav), str(out)]
        if chunk:
            args.append(str(chunk))
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        n = int(proc.stdout.strip())
        return np.fromfile(out, dtype=np.float32).reshape(n_mels, n)


def cases():
    u = a.human_utterances()
    picked = [u[0][1], u[5][1], u[-1][1]]
    return picked + [x for _, x, _ in a.espeak_utterances()[:1]]


@pytest.mark.parametrize("n_mels", [80, 128])
def test_features_match_faster_whisper(n_mels):
    fe = fw_fe.FeatureExtractor(feature_size=n_mels)
    for audio in cases():
        ref = fe(audio)
        got = duet_mel(audio, n_mels)
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() < 1e-4


def test_chunked_push_gives_the_same_features():
    audio = a.human_utterances()[1][1]
    whole = duet_mel(audio, 80)
    for chunk in (157, 1600):
        assert np.array_equal(duet_mel(audio, 80, chunk), whole)
    assert np.array_equal(duet_mel(audio[:8000], 80, 1), duet_mel(audio[:8000], 80))


@pytest.mark.parametrize("n", [0, 1, 100, 199, 200, 401, 16000])
def test_short_audio_matches_faster_whisper(n):
    rng = np.random.default_rng(n)
    audio = (0.1 * rng.standard_normal(n)).astype(np.float32)
    if n < 2:
        got = duet_mel(audio, 80)  # numpy cannot reflect-pad these; Duet must not crash
        assert got.shape == (80, 1) and np.isfinite(got).all()
        return
    ref = fw_fe.FeatureExtractor()(audio)
    got = duet_mel(audio, 80)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-4
