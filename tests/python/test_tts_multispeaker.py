"""Multi-speaker Piper voices: tools/convert_piper.py and Duet's VITS take the speaker table
(emb_g) and the conditioning layers of the duration predictor, the flow and the decoder, and
`duet say --speaker N` picks a speaker. No multi-speaker Piper voice is published on PyPI, so the
voice is the real en_US-joe-medium given Piper's multi-speaker graph layout
(piper_multispeaker.py); the peer, piper-tts on onnxruntime, runs the same file. With noise scales
at zero, every speaker must give the peer's audio length (within one 256-sample frame) and a
waveform correlation of at least 0.99, and different speakers different audio.
"""
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import BUILD, MODELS, ROOT, run_duet

piper = pytest.importorskip("piper")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

VOICE = MODELS / "piper-en_US-joe-medium" / "en_US-joe-medium"
TOOL = BUILD / "tests" / "tts_dump"
SENTENCES = ["Hello world, how are you today?", "The train leaves at noon.",
             "Could you please turn off the lights?"]
SPEAKERS = [0, 1, 3]


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    for p in (Path(str(VOICE) + ".onnx"), TOOL):
        if not p.exists():
            pytest.skip(f"{p} is missing (duet models pull, build)")
    import piper_multispeaker

    d = tmp_path_factory.mktemp("multi")
    onnx_path = piper_multispeaker.build(Path(str(VOICE) + ".onnx"),
                                         Path(str(VOICE) + ".onnx.json"), d, speakers=4)
    gguf_path = onnx_path.with_suffix(".gguf")
    subprocess.run([sys.executable, str(ROOT / "tools" / "convert_piper.py"), str(onnx_path),
                    "-o", str(gguf_path)], check=True, capture_output=True, timeout=300)
    return onnx_path, gguf_path


def test_duet_matches_piper_for_every_speaker(voice, tmp_path):
    onnx_path, gguf_path = voice
    peer = piper.PiperVoice.load(str(onnx_path))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    peer.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    assert peer.config.num_speakers == 4
    ids = [peer.phonemes_to_ids(p) for t in SENTENCES for p in peer.phonemize(t)]
    by_speaker = {}
    for sp in SPEAKERS:
        out = tmp_path / str(sp)
        out.mkdir()
        proc = subprocess.run([str(TOOL), "synth", str(gguf_path), str(out), "0", "1", "0", "2",
                               str(sp)], input="\n".join(" ".join(map(str, i)) for i in ids) + "\n",
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        cfg = piper.SynthesisConfig(speaker_id=sp, noise_scale=0.0, noise_w_scale=0.0,
                                    length_scale=1.0)
        for n, seq in enumerate(ids):
            ref = np.asarray(peer.phoneme_ids_to_audio(seq, cfg), dtype=np.float32).reshape(-1)
            ours = np.fromfile(out / f"{n}.f32", dtype=np.float32)
            assert abs(len(ours) - len(ref)) <= 256, (sp, n, len(ours), len(ref))
            m = min(len(ours), len(ref))
            corr = float(np.corrcoef(ours[:m], ref[:m])[0, 1])
            assert corr >= 0.99, (sp, n, corr)
            by_speaker.setdefault(sp, []).append(ours)
    # The speaker really changes the voice: not the same audio for speakers 0 and 1.
    a, b = by_speaker[0][0], by_speaker[1][0]
    m = min(len(a), len(b))
    assert len(a) != len(b) or float(np.corrcoef(a[:m], b[:m])[0, 1]) < 0.9


def read_wav(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def test_say_speaker_picks_the_speaker_and_rejects_unknown_ones(duet_bin, voice, tmp_path):
    _, gguf_path = voice
    name = f"piper:{gguf_path}"
    run_duet(duet_bin, "say", "Good morning.", "--voice", name, "--speaker", "2", "-o", tmp_path / "a.wav")
    run_duet(duet_bin, "say", "Good morning.", "--voice", name, "--speaker", "0", "-o", tmp_path / "b.wav")
    a, b = read_wav(tmp_path / "a.wav"), read_wav(tmp_path / "b.wav")
    assert np.sqrt(np.mean(a ** 2)) > 0.01 and np.sqrt(np.mean(b ** 2)) > 0.01
    assert len(a) != len(b) or not np.allclose(a, b, atol=1e-3)
    proc = run_duet(duet_bin, "say", "Hi.", "--voice", name, "--speaker", "4", "-o", tmp_path / "c.wav",
                    check=False)
    assert proc.returncode == 1 and "speaker 4" in proc.stderr and not (tmp_path / "c.wav").exists()
    proc = run_duet(duet_bin, "say", "Hi.", "--voice", "espeak", "--speaker", "1", "-o", tmp_path / "d.wav",
                    check=False)
    assert proc.returncode == 1 and "--speaker" in proc.stderr
