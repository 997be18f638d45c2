"""Shared helpers of the ASR checks: the test utterances (pocketsphinx-testdata human recordings
with their transcripts, espeak-ng sentences and sentences spoken by the Piper voice through
piper-tts), the asr_dump driver and text normalisation."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from conftest import BUILD, MODELS

PS = Path("/usr/share/pocketsphinx/test/data")
WHISPER_DIR = MODELS / "whisper-tiny.en"
WHISPER_GGUF = WHISPER_DIR / "whisper-tiny.en.gguf"
ASR_DUMP = BUILD / "tests" / "asr_dump"

ESPEAK_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please turn off the lights in the kitchen.",
    "What time is the meeting tomorrow morning?",
    "I would like a cup of coffee with milk.",
    "The weather today is sunny and warm.",
    "Can you tell me the way to the train station?",
    "She sells sea shells by the sea shore.",
    "My favourite colour is blue.",
    "Set a timer for ten minutes.",
    "The children are playing in the garden.",
    "How far is it to the nearest hospital?",
    "Open the window, it is too hot in here.",
    "We are going to the beach on Saturday.",
    "Remind me to call my mother this evening.",
    "The book is on the table next to the lamp.",
    "Music makes the long drive much shorter.",
    "Do you know where I left my keys?",
    "The library closes at six o'clock.",
    "He plays the guitar every night.",
    "Add eggs and bread to the shopping list.",
]

PIPER_SENTENCES = [
    "Good morning, how did you sleep last night?",
    "Please send the report to my office before noon.",
    "The train to the city leaves every twenty minutes.",
    "Could you play some quiet music while I read?",
    "It is going to rain later this afternoon.",
    "I need to buy a new pair of running shoes.",
    "Turn the volume down a little, please.",
    "Our neighbours are painting their house green.",
    "What is the capital city of Australia?",
    "Let us meet at the cafe near the old bridge.",
]
PIPER_VOICE = MODELS / "piper-en_US-joe-medium" / "en_US-joe-medium.onnx"


def _read_wav16(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def _transcripts(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if m:
            out[m.group(2).strip()] = m.group(1).strip()
    return out


@lru_cache(maxsize=None)
def human_utterances() -> list[tuple[str, np.ndarray, str]]:
    out = []
    for sub, tfile in (("cards", "cards.transcription"), ("librivox", "transcription")):
        refs = _transcripts(PS / sub / tfile)
        for uid, text in sorted(refs.items()):
            wav = PS / sub / f"{uid}.wav"
            if wav.exists():
                out.append((f"{sub}/{uid}", _read_wav16(wav), text))
    raw = PS / "goforward.raw"
    if raw.exists():
        out.append(("goforward", np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0,
                    "go forward ten meters"))
    return out


@lru_cache(maxsize=None)
def espeak_utterances() -> list[tuple[str, np.ndarray, str]]:
    if not shutil.which("espeak-ng"):
        return []
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i, s in enumerate(ESPEAK_SENTENCES):
            wav = Path(d) / f"{i}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), s], check=True,
                           capture_output=True)
            with wave.open(str(wav)) as w:
                rate = w.getframerate()
                x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
            out.append((f"espeak/{i}", resample(x, rate, 16000), s))
    return out


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling through scipy if present, else linear (test audio only)."""
    if src == dst:
        return x.astype(np.float32)
    try:
        from scipy.signal import resample_poly
        from math import gcd

        g = gcd(src, dst)
        return resample_poly(x, dst // g, src // g).astype(np.float32)
    except ImportError:
        n = int(round(len(x) * dst / src))
        return np.interp(np.arange(n) * src / dst, np.arange(len(x)), x).astype(np.float32)


@lru_cache(maxsize=None)
def piper_utterances() -> list[tuple[str, np.ndarray, str]]:
    """The Piper voice (piper-tts on onnxruntime) with zero noise, so the audio is reproducible."""
    try:
        import piper
        from piper import SynthesisConfig
    except ImportError:
        return []
    if not PIPER_VOICE.exists():
        return []
    voice = piper.PiperVoice.load(str(PIPER_VOICE))
    cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    out = []
    for i, s in enumerate(PIPER_SENTENCES):
        chunks = list(voice.synthesize(s, syn_config=cfg))
        x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        out.append((f"piper/{i}", resample(x, chunks[0].sample_rate, 16000), s))
    return out


def all_utterances() -> list[tuple[str, np.ndarray, str]]:
    return human_utterances() + espeak_utterances() + piper_utterances()


def asr_dump_transcribe(audios: list[np.ndarray], *extra: str, threads: int = 2) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i, a in enumerate(audios):
            p = Path(d) / f"{i}.f32"
            np.asarray(a, dtype=np.float32).tofile(p)
            files.append(str(p))
        proc = subprocess.run([str(ASR_DUMP), "transcribe", str(WHISPER_GGUF), *files,
                               "--threads", str(threads), *extra],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line)["text"] for line in proc.stdout.splitlines() if line.strip()]


_NUM = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
        "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


def normalize(text: str) -> str:
    t = text.lower().replace("'", "")
    t = re.sub(r"[^a-z0-9 ]+", " ", t)
    words = [_NUM.get(w, w) for w in t.split()]
    return " ".join(words)


def need_model():
    import pytest

    if not WHISPER_GGUF.exists():
        pytest.skip(f"{WHISPER_GGUF} missing: run tools/convert_whisper.py {WHISPER_DIR}")
    if not ASR_DUMP.exists():
        pytest.skip(f"{ASR_DUMP} is not built")


def threads() -> int:
    return int(os.environ.get("DUET_ASR_THREADS", "2"))
