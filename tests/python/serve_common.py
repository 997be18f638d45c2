"""Helpers for the `duet serve` tests: start the server on a free port, wait until it listens, make
the audio of a spoken question, and stop the server (checking that it never crashed)."""
import os
import re
import signal
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np

LISTEN_RE = re.compile(r"listening on http://([^ ]+):(\d+)")


class DuetServer:
    """One `duet serve` process; stdout/stderr are collected for failure messages."""

    def __init__(self, duet_bin: Path, *args: str, env=None, startup_timeout: float = 180.0):
        full_env = dict(os.environ)
        full_env.pop("DUET_API_KEY", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen([str(duet_bin), "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=full_env)
        self.output: list[str] = []
        self.port = None
        self._ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True).start()
        deadline = time.time() + startup_timeout
        while time.time() < deadline and not self._ready.is_set():
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(f"duet serve exited ({self.proc.returncode}):\n{self.log()}")
            self._ready.wait(0.1)
        if not self._ready.is_set():
            self.stop()
            raise AssertionError(f"duet serve did not start listening:\n{self.log()}")

    def _pump(self, stream):
        for line in stream:
            self.output.append(line)
            m = LISTEN_RE.search(line)
            if m and self.port is None:
                self.port = int(m.group(2))
                self._ready.set()

    def log(self) -> str:
        return "".join(self.output[-200:])

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        """Stops the server with SIGTERM; fails if it had crashed before."""
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            return
        assert code in (0, -signal.SIGTERM), f"duet serve died ({code}):\n{self.log()}"


def conversation_server(duet_bin: Path, models_dir: Path):
    """Yields a `duet serve` with the conversation models and no rate limit, for a module fixture
    (`yield from`); skips the module when a model is not pulled, stops the server afterwards."""
    import pytest

    for name in ("whisper-tiny.en", "smollm2-135m-instruct"):
        if not (models_dir / name).exists():
            pytest.skip(f"{name} is not pulled")
    srv = DuetServer(duet_bin, "--rate", "0")
    yield srv
    srv.stop()


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        channels = w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data, rate


def resample_linear(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or len(x) == 0:
        return x
    n = int(round(len(x) * target / rate))
    return np.interp(np.arange(n) * rate / target, np.arange(len(x)), x).astype(np.float32)


def to_pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def spoken_question(duet_bin: Path, tmp: Path, text: str = "What is the capital of France?",
                    voice: str = "espeak") -> Path:
    """A WAV of `text` spoken by Duet's own voice (espeak-ng: fast and always there)."""
    out = tmp / "question.wav"
    if not out.exists():
        subprocess.run([str(duet_bin), "say", text, "-o", str(out), "--voice", voice],
                       check=True, capture_output=True, timeout=120)
    return out


def pcm24k_of(wav: Path, lead_silence_s: float = 0.3, tail_silence_s: float = 1.5) -> bytes:
    x, rate = read_wav_mono(wav)
    x = resample_linear(x, rate, 24000)
    pad_a = np.zeros(int(24000 * lead_silence_s), np.float32)
    pad_b = np.zeros(int(24000 * tail_silence_s), np.float32)
    return to_pcm16(np.concatenate([pad_a, x, pad_b]))
