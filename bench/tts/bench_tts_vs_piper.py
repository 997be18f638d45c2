#!/usr/bin/env python3
"""Duet's Piper voice against piper-tts (onnxruntime) in the same run with the same threads: time
to the first audio chunk for a typical reply and real-time factor. piper-tts hands out audio a
sentence at a time, so its first chunk is its first sentence. Prints both and the ratios, also of
CPU time (all threads; the fairer figure when other work shares the cores); never asserts on
timings.

Usage: .venv/bin/python bench/tts/bench_tts_vs_piper.py [--build build] [--threads 2] [--runs 3]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VOICE = ROOT / "models" / "piper-en_US-joe-medium" / "en_US-joe-medium"
REPLY = ("Sure, I can help with that. The quickest way is to open the settings, choose the network "
         "tab, and switch the connection off and on again. If that does not work, let me know and "
         "we will try something else.")


def bench_piper(threads: int, runs: int) -> dict:
    import onnxruntime
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(str(VOICE) + ".onnx")
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    voice.session = onnxruntime.InferenceSession(str(VOICE) + ".onnx", sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
    best_first, best_first_cpu, best_total, best_cpu, audio_s = 1e9, 1e9, 1e9, 1e9, 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        c0 = time.process_time()
        first, samples = None, 0
        for chunk in voice.synthesize(REPLY, SynthesisConfig()):
            if first is None:
                first = time.perf_counter() - t0
                best_first_cpu = min(best_first_cpu, time.process_time() - c0)
            samples += len(chunk.audio_int16_array)
        total = time.perf_counter() - t0
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_first, best_total = min(best_first, first), min(best_total, total)
        audio_s = samples / voice.config.sample_rate
    return {"engine": "piper-tts", "threads": threads, "first_chunk_ms": best_first * 1e3,
            "first_chunk_cpu_ms": best_first_cpu * 1e3,
            "total_s": best_total, "audio_s": audio_s, "rtf": best_total / audio_s,
            "cpu_s": best_cpu, "cpu_rtf": best_cpu / audio_s}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tool = Path(args.build) / "bench" / "bench_tts"
    out = subprocess.run([str(tool), "--model", str(VOICE) + ".gguf", "--threads", str(args.threads),
                          "--runs", str(args.runs), "--text", REPLY],
                         capture_output=True, text=True, check=True)
    duet = json.loads(out.stdout)
    peer = bench_piper(args.threads, args.runs)
    for r in (duet, peer):
        print(json.dumps(r))
    print(json.dumps({"first_chunk_speedup": peer["first_chunk_ms"] / duet["first_chunk_ms"],
                      "first_chunk_cpu_speedup": peer["first_chunk_cpu_ms"] / duet["first_chunk_cpu_ms"],
                      "rtf_speedup": peer["rtf"] / duet["rtf"],
                      "cpu_rtf_speedup": peer["cpu_rtf"] / duet["cpu_rtf"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
