"""The scripted conversations of the voice-to-voice latency benchmark (bench/latency/run.py).

Each conversation is the person's side only: speech by voices other than Duet's own (espeak-ng
variants, the Piper voice at clearly altered speed and pitch, real recordings from Debian's
pocketsphinx-testdata), pauses, a cough, noise and music, laid on one 16 kHz timeline. Every
spoken turn records where its speech truly starts and ends, so latency is measured against the
script, never against what the engine believed. This file must never run the engine, measure
anything or depend on the engine's behaviour: it only builds audio and the ground truth.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import conversation_audio as ca  # noqa: E402  (espeak-ng, WAV I/O, noise, music, cough)

RATE = ca.RATE
SPHINX = Path("/usr/share/pocketsphinx/test/data")

# One instruction for every conversation: answers stay one short sentence so the suite fits.
INSTRUCTIONS = ("You are Duet, a friendly voice assistant. Answer in one short sentence of at most "
                "fifteen words. Never use lists or markdown.")

# Silence left after a turn for the answer (both modes share the script; the cascade is slower).
GAP_S = 7.0


def piper(text: str, speed: int, pitch: int, duet: Path) -> np.ndarray:
    """The Piper voice, resynthesised at a speed and pitch far from Duet's own, at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "piper.wav"
        out = Path(tmp) / "out.wav"
        subprocess.run([str(duet), "say", "--voice", "piper", "--speed", str(speed), "--pitch", str(pitch),
                        "-o", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
                       check=True, capture_output=True)
        return trim(ca.read_wav(out))


def recording(name: str, text: str) -> tuple:
    """A real recording from pocketsphinx-testdata (16 kHz mono WAV or headerless PCM16):
    (text, audio, end of speech in samples). The clip keeps its natural tail down to -35 dB of
    its loudest frame, but its speech is taken to end where its voice band last rises above
    -25 dB of its loudest voice-band frame: a room's noise and breath are not speech."""
    path = SPHINX / name
    if path.suffix == ".raw":
        audio = np.fromfile(path, dtype="<i2").astype(np.float32) / 32768
    else:
        audio = ca.read_wav(path)
    clip = trim(audio, relative=True)
    return text, clip, _last_loud(_voice_band(clip), 25)


def _voice_band(audio: np.ndarray, low_hz: float = 150.0) -> np.ndarray:
    """The audio without what lies below `low_hz`. These recordings end in microphone thumps and
    room rumble at 10-60 Hz, as loud as the words in goforward.raw: measured on the full band,
    three of the four ends fell 140-270 ms after the last fricative, which made those answers look
    faster than they were and could call an answer premature when it was not."""
    size = 2 * audio.size  # zero-padded, so that the clip's abrupt start never rings into its end
    spectrum = np.fft.rfft(audio.astype(np.float64), size)
    spectrum[np.fft.rfftfreq(size, 1 / RATE) < low_hz] = 0
    return np.fft.irfft(spectrum, size)[: audio.size].astype(np.float32)


def _last_loud(audio: np.ndarray, below_db: float) -> int:
    """The sample after the last 10 ms frame within `below_db` of the loudest frame."""
    hop = RATE // 100
    frames = audio[: audio.size // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-below_db / 20))
    return int((loud[-1] + 1) * hop) if loud.size else audio.size


def trim(audio: np.ndarray, relative: bool = False) -> np.ndarray:
    """Cut leading and trailing silence by 10 ms frame RMS, so the clip's ends are its speech.

    Synthetic voices have digital silence (an absolute floor works); recordings have a room-noise
    floor, so their threshold is relative to the loudest frame (-35 dB)."""
    hop = RATE // 100
    frames = audio[: audio.size // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    floor = rms.max() * 10 ** (-35 / 20) if relative else 0.003
    loud = np.flatnonzero(rms > floor)
    if not loud.size:
        return audio
    return audio[loud[0] * hop:(loud[-1] + 1) * hop].copy()


@dataclass
class Conversation:
    """One person's timeline and its ground truth.

    turns: spoken turns Duet should answer, each {id, text, voice, tags, start_s, end_s, barge_in}
    (end_s is the true end of the speech; for a hesitation or a self-correction it is the end of
    the last piece). others: scripted sounds that are not turns (a backchannel, a cough)."""
    name: str
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    turns: list = field(default_factory=list)
    others: list = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.audio.size / RATE

    def _put(self, samples: np.ndarray, at: int) -> None:
        end = at + samples.size
        if end > self.audio.size:
            self.audio = np.concatenate([self.audio, np.zeros(end - self.audio.size, np.float32)])
        self.audio[at:end] += samples.astype(np.float32)

    def pause(self, seconds: float) -> "Conversation":
        self._put(np.zeros(int(seconds * RATE), np.float32), self.audio.size)
        return self

    def turn(self, tid: str, pieces: list, voice: str, tags: list, barge_in: bool = False,
             at_s: float | None = None, gap_s: float = GAP_S) -> "Conversation":
        """Speak `pieces` ((text, audio[, end of speech in samples]) tuples, or floats for pauses
        inside the turn) from the end of the timeline (or from `at_s`, over whatever is there),
        then leave `gap_s` of silence."""
        start = self.audio.size if at_s is None else int(at_s * RATE)
        pos = start
        speech_end = start
        texts = []
        for piece in pieces:
            if isinstance(piece, float):
                pos += int(piece * RATE)
                texts.append("...")
                continue
            text, samples = piece[0], piece[1]
            self._put(samples, pos)
            speech_end = pos + (piece[2] if len(piece) > 2 else samples.size)
            pos += samples.size
            texts.append(text)
        self.turns.append({"id": f"{self.name}/{tid}", "text": " ".join(texts), "voice": voice,
                           "tags": tags, "start_s": start / RATE, "end_s": speech_end / RATE,
                           "barge_in": barge_in})
        if gap_s > 0:
            self._put(np.zeros(int(gap_s * RATE), np.float32), pos)
        return self

    def say(self, tid: str, words, voice: str, wpm: int, pitch: int, tags: list, note: str = "",
            **turn_args) -> "Conversation":
        """A turn in one espeak-ng voice: `words` is the text, or a list of texts and pauses."""
        pieces = [w if isinstance(w, float) else es(w, voice, wpm, pitch)
                  for w in ([words] if isinstance(words, str) else words)]
        return self.turn(tid, pieces, f"espeak {voice} {wpm}wpm p{pitch}{note}", tags, **turn_args)

    def piper_says(self, tid: str, text: str, speed: int, pitch: int, duet: Path, tags: list,
                   note: str = "") -> "Conversation":
        """A turn in the Piper voice, resynthesised at `speed` and `pitch`."""
        return self.turn(tid, [(text, piper(text, speed, pitch, duet))],
                         f"piper {speed}wpm p{pitch}{note}", tags)

    @property
    def last_end_s(self) -> float:
        """Where the last turn's speech ends."""
        return self.turns[-1]["end_s"]

    def other(self, kind: str, text: str, samples: np.ndarray, at_s: float) -> "Conversation":
        at = int(at_s * RATE)
        self._put(samples, at)
        self.others.append({"kind": kind, "text": text, "start_s": at / RATE,
                            "end_s": (at + samples.size) / RATE})
        return self

    def under(self, samples: np.ndarray, from_s: float) -> "Conversation":
        """Mix a background (noise, music) into the timeline from `from_s` on."""
        at = int(from_s * RATE)
        room = max(0, self.audio.size - at)
        self._put(samples[:room], at)
        return self

    def truth(self) -> dict:
        return {"name": self.name, "duration_s": round(self.duration_s, 3), "turns": self.turns,
                "others": self.others}

    def write(self, path: Path) -> Path:
        peak = float(np.max(np.abs(self.audio))) if self.audio.size else 0.0
        audio = self.audio * (0.9 / peak) if peak > 0.9 else self.audio
        ca.write_wav(path, audio)
        return path


def es(text: str, voice: str, wpm: int, pitch: int) -> tuple:
    return text, trim(ca.espeak(text, voice=voice, wpm=wpm, pitch=pitch))


def opening(name: str) -> Conversation:
    """A conversation that starts with a second of silence."""
    return Conversation(name).pause(1.0)


def basics(duet: Path) -> Conversation:
    """The short conversation (also `run.py --short`): espeak-ng and altered Piper, 3 turns."""
    c = opening("basics")
    c.say("q-short", "What is the capital of France?", "en-us+f3", 175, 65, ["question", "short"])
    c.piper_says("s-piper", "I just got back from a long walk by the river.", 235, 80, duet,
                 ["statement", "short"])
    c.say("q-long", "Could you tell me what I should pack for a weekend camping trip in the "
                    "mountains if the forecast says it will rain?", "en-gb+m3", 150, 40,
          ["question", "long"])
    return c


def disfluent(duet: Path) -> Conversation:
    """Hesitations and a self-correction: pauses inside sentences that must not end the turn."""
    c = opening("disfluent")
    c.say("hesitation", ["I would like to bake", 0.6, "a chocolate cake for my sister."],
          "en-us+m7", 160, 45, ["statement", "hesitation"])
    c.say("self-correction", ["Remind me to call the dentist at seven,", 0.35,
                              "no, sorry, at eight tomorrow morning."],
          "en+f2", 170, 70, ["statement", "self-correction"])
    c.say("hesitation-q", ["How long does it take to", 0.5, "boil an egg?"],
          "en-gb-scotland", 150, 35, ["question", "hesitation"])
    c.say("q-fast", "Is it going to be cold tonight?", "en-us+f4", 230, 60, ["question", "short"])
    return c


def piper_voices(duet: Path) -> Conversation:
    """The Piper voice far from Duet's natural rate and pitch (fast and high, slow and low)."""
    c = opening("piper")
    lines = [("q-fast-high", "What is a good name for a small gray cat?", 240, 85, ["question", "short"]),
             ("s-slow-low", "My brother is moving to Canada next month for a new job.", 120, 20,
              ["statement", "long"]),
             ("q-slow-high", "Why is the sky blue?", 125, 80, ["question", "short"]),
             ("s-fast-low", "I think I left my umbrella on the train this morning.", 245, 25,
              ["statement", "short"])]
    for tid, text, speed, pitch, tags in lines:
        c.piper_says(tid, text, speed, pitch, duet, tags)
    return c


def recordings(duet: Path) -> Conversation:
    """Real people, recorded: pocketsphinx-testdata (transcripts from the files alongside)."""
    c = opening("recordings")
    austen = "librivox/sense_and_sensibility_01_austen_64kb-{}.wav"
    clips = [("goforward", "goforward.raw", "go forward ten meters", "goforward.raw", "short"),
             ("cards-005", "cards/005.wav", "eight of spades four of clubs seven of hearts",
              "cards/005.wav", "long"),
             ("austen-0880", austen.format("0880"), "he was not an ill-disposed young man",
              "librivox 0880", "short"),
             ("austen-0930", austen.format("0930"), "he might even have been made amiable himself",
              "librivox 0930", "short")]
    for tid, name, text, label, length in clips:
        c.turn(tid, [recording(name, text)], f"recording {label}", ["statement", length, "recorded"])
    return c


def noisy(duet: Path) -> Conversation:
    """Speech under background noise and music, and a cough after a turn (not speech)."""
    c = opening("noisy")
    c.say("q-noise", "Can you recommend a book for a long flight?", "en-us+m4", 165, 50,
          ["question", "noise"], note=" + noise")
    c.piper_says("s-noise", "It has been raining all week and the basement is wet.", 230, 75, duet,
                 ["statement", "noise"], note=" + noise")
    music_from = c.duration_s
    c.say("q-music", "What song should I play at a birthday party?", "en+f5", 160, 60,
          ["question", "music"], note=" + music", gap_s=0.0)
    end = c.last_end_s
    c.pause(GAP_S)
    c.under(ca.music(end + 0.5 - music_from, level=0.08, seed=3), music_from)  # music stops after
    c.say("q-cough", "Do you know any good soup recipes?", "en-gb+m2", 155, 40,
          ["question", "cough"], note=", cough after", gap_s=0.0)
    c.other("cough", "", ca.cough(seed=5), c.last_end_s + 0.15)
    c.pause(GAP_S)
    c.under(ca.noise(c.duration_s, level=0.01, seed=7), 0.0)  # a noise bed under everything
    return c


def overlap(duet: Path) -> Conversation:
    """A backchannel ("yeah") while Duet answers, then a barge-in over the next answer.

    The answer's start differs between modes, so the overlaps are placed where either mode is
    usually talking; run.py reports whether Duet was audible when each overlap began."""
    c = opening("overlap")
    c.say("q-story", "Tell me something interesting about octopuses.", "en-us+m1", 165, 55,
          ["question", "short"], gap_s=0.0)
    end = c.last_end_s
    c.pause(GAP_S)
    c.other("backchannel", "yeah", es("yeah", "en-us+m1", 165, 55)[1], end + 3.5)
    c.say("q-long-answer", "Explain how a rainbow forms.", "en+f3", 170, 65, ["question", "short"],
          gap_s=0.0)
    c.say("barge-in", "Wait, stop. Actually, what about a double rainbow?", "en-us+m3", 185, 50,
          ["question", "barge-in"], barge_in=True, at_s=c.last_end_s + 5.0)
    return c


CONVERSATIONS = [basics, disfluent, piper_voices, recordings, noisy, overlap]


def build(duet: Path, short: bool = False) -> list:
    """Every conversation of the suite (or only the short one)."""
    makers = CONVERSATIONS[:1] if short else CONVERSATIONS
    return [make(duet) for make in makers]


if __name__ == "__main__":
    import json
    convs = build(ROOT / "build-lead" / "duet", short="--short" in sys.argv)
    total = sum(c.duration_s for c in convs)
    for c in convs:
        print(json.dumps({"name": c.name, "duration_s": round(c.duration_s, 1), "turns": len(c.turns),
                          "others": len(c.others)}))
    print(f"{sum(len(c.turns) for c in convs)} turns, {total:.1f} s of audio per mode")
