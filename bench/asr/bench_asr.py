#!/usr/bin/env python3
"""ASR benchmark (never asserts timings): real-time factor and end-of-speech -> final latency for
2, 5 and 10 s utterances, Duet (offline and streaming, `duet transcribe`) against faster-whisper
(CTranslate2, int8 and float32, beam 1 and its default beam 5) and whisper.cpp (pywhispercpp,
f16, greedy, weights written by ggml_whisper.py), same audio, same thread count,
same run; and the time of a peek (speculative final) after streamed partials with and without
the previous hypothesis as a speculative draft, and of a relook (a second peek after 200 ms more
silence, drafting from the first one's words). Audio: pocketsphinx-testdata librivox
recordings, cut or joined to length.

Usage: .venv/bin/python bench/asr/bench_asr.py [--build build] [--threads 2] [--repeat 2]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import asr_common as a  # noqa: E402


def utterance(seconds: float) -> np.ndarray:
    pool = np.concatenate([x for name, x, _ in a.human_utterances() if name.startswith("librivox")])
    return pool[: int(seconds * 16000)].copy()


def write_wav(path: Path, x: np.ndarray):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def duet(bin_: Path, wav: Path, threads: int, stream: bool, beam: int = 1) -> dict:
    args = [str(bin_), "transcribe", str(wav), "--json", "-t", str(threads)]
    if stream:
        args += ["--stream"]
    if beam > 1:
        args += ["--beam", str(beam)]
    proc = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def peek_timing(build: Path, x: np.ndarray, threads: int) -> dict:
    """asr_dump peek: streams with 300 ms partials, then times peek() with and without the
    previous hypothesis as a speculative draft (same recogniser state, best of 5 each)."""
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "x.f32"
        x.astype(np.float32).tofile(f)
        proc = subprocess.run([str(build / "tests" / "asr_dump"), "peek", str(a.WHISPER_GGUF), str(f),
                               "--threads", str(threads), "--partial-ms", "300", "--repeat", "5"],
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def whisper_cpp(tmp: Path, threads: int):
    """whisper.cpp through pywhispercpp on the same tiny.en weights, written here in its ggml
    format (bench/asr/ggml_whisper.py; nothing is downloaded); None when not installed."""
    try:
        from pywhispercpp.model import Model
    except ImportError:
        return None
    import ggml_whisper

    path = tmp / "ggml-tiny.en.bin"
    ggml_whisper.write_ggml(a.WHISPER_DIR, path)
    return Model(str(path), n_threads=threads, redirect_whispercpp_logs_to=None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    bin_ = Path(args.build) / "duet"
    from faster_whisper import WhisperModel

    peers = {ct: WhisperModel(str(a.WHISPER_DIR), device="cpu", compute_type=ct, cpu_threads=args.threads)
             for ct in ("int8", "float32")}
    rows = []
    with tempfile.TemporaryDirectory() as d:
        wcpp = whisper_cpp(Path(d), args.threads)
        for secs in (2, 5, 10):
            x = utterance(secs)
            wav = Path(d) / f"{secs}.wav"
            write_wav(wav, x)
            best = {}
            for _ in range(args.repeat):
                off = duet(bin_, wav, args.threads, False)
                st = duet(bin_, wav, args.threads, True)
                b5 = duet(bin_, wav, args.threads, False, beam=5)
                pk = peek_timing(Path(args.build), x, args.threads)
                best["duet offline rtf"] = min(best.get("duet offline rtf", 1e9), off["rtf"])
                best["duet offline beam5 rtf"] = min(best.get("duet offline beam5 rtf", 1e9), b5["rtf"])
                best["peek plain s"] = min(best.get("peek plain s", 1e9), pk["peek_plain_s"])
                best["peek speculative s"] = min(best.get("peek speculative s", 1e9),
                                                 pk["peek_speculative_s"])
                best["peek decode plain s"] = min(best.get("peek decode plain s", 1e9), pk["decode_plain_s"])
                best["peek decode speculative s"] = min(best.get("peek decode speculative s", 1e9),
                                                        pk["decode_speculative_s"])
                for k in ("relook_plain_s", "relook_speculative_s"):
                    best[k] = min(best.get(k, 1e9), pk[k])
                best["duet stream final latency s"] = min(best.get("duet stream final latency s", 1e9),
                                                          st["final_latency_s"])
                for ct, m in peers.items():
                    for beam in (1, 5):
                        t = time.perf_counter()
                        list(m.transcribe(x, language="en", beam_size=beam)[0])
                        el = time.perf_counter() - t
                        k = f"faster-whisper {ct} beam{beam}"
                        best[k] = min(best.get(k, 1e9), el)
                if wcpp is not None:
                    t = time.perf_counter()
                    wcpp.transcribe(x, language="en", print_progress=False)
                    el = time.perf_counter() - t
                    best["whisper.cpp f16 greedy"] = min(best.get("whisper.cpp f16 greedy", 1e9), el)
            rows.append((secs, best, off["text"]))
    print(f"threads {args.threads}; faster-whisper figures are seconds from end of speech to the final "
          f"result (= its whole transcribe call); RTF = that / audio seconds")
    for secs, best, text in rows:
        print(f"\n{secs} s utterance: {text.strip()[:70]!r}")
        print(f"  duet offline           RTF {best['duet offline rtf']:.3f}  "
              f"(final after {best['duet offline rtf'] * secs * 1000:.0f} ms)")
        print(f"  duet offline beam 5    RTF {best['duet offline beam5 rtf']:.3f}")
        print(f"  duet streaming         final {best['duet stream final latency s'] * 1000:.0f} ms after end of speech")
        print(f"  duet peek after partials: {best['peek plain s'] * 1000:.0f} ms plain, "
              f"{best['peek speculative s'] * 1000:.0f} ms with the speculative draft "
              f"(x{best['peek plain s'] / max(best['peek speculative s'], 1e-9):.2f}); its decoder part "
              f"{best['peek decode plain s'] * 1000:.0f} ms -> {best['peek decode speculative s'] * 1000:.0f} ms "
              f"(x{best['peek decode plain s'] / max(best['peek decode speculative s'], 1e-9):.2f})")
        print(f"  duet relook (a peek after a peek, 200 ms more silence): "
              f"{best['relook_plain_s'] * 1000:.0f} ms plain, {best['relook_speculative_s'] * 1000:.0f} ms "
              f"drafting from the first peek's words")
        for k, v in best.items():
            if k.startswith("faster") or k.startswith("whisper.cpp"):
                print(f"  {k:22s} RTF {v / secs:.3f}  (final after {v * 1000:.0f} ms)")
    if wcpp is None:
        print("\nwhisper.cpp (pywhispercpp): not measured (not installed in this environment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
