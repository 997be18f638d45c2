"""Builds the person's side of a scripted conversation: espeak-ng speech in voices other than
Duet's own, silences, noise, coughs and music, with the exact start and end time of every part,
so tests and bench/latency know when the person truly stopped speaking. Must never use Duet's own
voice for the person, nor report a part's time other than where its samples really are."""
from __future__ import annotations

import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000


def espeak(text: str, voice: str = "en-us+m3", wpm: int = 165, pitch: int = 50) -> np.ndarray:
    """Speech from espeak-ng at 16 kHz (resampled by sox), trimmed of leading/trailing silence."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        out = Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(raw), text],
                       check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
                       check=True, capture_output=True)
        audio = read_wav(out)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    if loud.size:
        audio = audio[loud[0]:loud[-1] + 1]
    return audio


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
    return data


def read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """(left, right, rate) of a 16-bit stereo WAV such as `duet converse` writes."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        data = data.reshape(-1, w.getnchannels())
    return data[:, 0], data[:, 1], rate


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def cough(seed: int = 0) -> np.ndarray:
    """A cough-like burst: band-limited noise, sharp attack, fast decay, ~0.3 s."""
    rng = np.random.default_rng(seed)
    n = int(0.3 * RATE)
    noise = rng.standard_normal(n)
    kernel = np.ones(6) / 6  # a gentle low-pass
    noise = np.convolve(noise, kernel, mode="same")
    t = np.arange(n) / RATE
    env = np.minimum(t / 0.01, 1.0) * np.exp(-t / 0.07)
    return (0.5 * noise * env / np.max(np.abs(noise))).astype(np.float32)


def music(seconds: float, level: float = 0.2, seed: int = 0) -> np.ndarray:
    """Chords of harmonic tones changing every half second."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n, dtype=np.float64)
    roots = [220.0, 246.9, 261.6, 293.7, 329.6]
    step = int(0.5 * RATE)
    for start in range(0, n, step):
        root = roots[rng.integers(len(roots))]
        seg = slice(start, min(n, start + step))
        for ratio in (1.0, 1.25, 1.5):
            for h in range(1, 5):
                out[seg] += np.sin(2 * np.pi * root * ratio * h * t[seg]) / (h * 3)
    return (level * out / np.max(np.abs(out))).astype(np.float32)


def noise(seconds: float, level: float = 0.02, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (level * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


@dataclass
class Script:
    """A timeline being built; `parts` records (kind, text, start_s, end_s) of every part."""
    audio: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    length: int = 0

    def _add(self, kind: str, text: str, samples: np.ndarray) -> None:
        start = self.length
        self.audio.append(samples.astype(np.float32))
        self.length += samples.size
        self.parts.append({"kind": kind, "text": text, "start_s": start / RATE, "end_s": self.length / RATE})

    def say(self, text: str, **voice) -> "Script":
        self._add("speech", text, espeak(text, **voice))
        return self

    def silence(self, seconds: float) -> "Script":
        self._add("silence", "", np.zeros(int(seconds * RATE), dtype=np.float32))
        return self

    def sound(self, kind: str, samples: np.ndarray) -> "Script":
        self._add(kind, "", samples)
        return self

    def speech_parts(self) -> list:
        return [p for p in self.parts if p["kind"] == "speech"]

    def write(self, path: Path) -> Path:
        write_wav(path, np.concatenate(self.audio) if self.audio else np.zeros(1, np.float32))
        return path
