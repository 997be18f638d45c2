"""LLM benchmark: Duet against llama.cpp (llama-cpp-python) on the same GGUF files in the same run.

For each default model and thread count: prefill tokens/s for a 512-token prompt, decode tokens/s
for 128 tokens, and peak resident memory, each engine in its own process, alternating engines
over several rounds and keeping each one's best (this machine is shared and noisy). Prints a
Markdown table with the ratios and the decode memory bandwidth (weight bytes read per token x
tokens/s) beside the machine's streaming read bandwidth with as many threads, measured in the same
run (build/bench/bench_read_bandwidth). A benchmark, never a test: it asserts nothing.

    .venv/bin/python bench/llm/bench_llm.py [--rounds 3] [--models smollm2-135m-instruct ...]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DUET_BUILD_DIR", ROOT / "build"))
MODELS = Path(os.environ.get("DUET_MODELS", ROOT / "models"))
FILES = {"smollm2-135m-instruct": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m": "gemma-3-270m-q4_k_m.gguf"}

LLAMA_CPP = r'''
import json, resource, sys, time
import llama_cpp
path, threads, n_prefill, n_decode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = llama_cpp.Llama(model_path=path, n_ctx=n_prefill + n_decode + 8, n_batch=512, n_ubatch=512,
                    n_threads=threads, n_threads_batch=threads, verbose=False)
n_vocab = m.n_vocab()
prompt = [(1000 + i * 7919) % min(n_vocab, 30000) for i in range(n_prefill)]
m.eval(prompt[:8]); m.reset()
t0 = time.perf_counter(); m.eval(prompt); t1 = time.perf_counter()
import numpy as np
for _ in range(n_decode):
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(m.ctx, -1), shape=(n_vocab,))
    m.eval([int(row.argmax())])
t2 = time.perf_counter()
print(json.dumps({"prefill_tok_s": n_prefill / (t1 - t0), "decode_tok_s": n_decode / (t2 - t1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def weight_bytes_per_token(path):
    import gguf
    reader = gguf.GGUFReader(str(path))
    total = 0
    for t in reader.tensors:
        if t.name == "token_embd.weight" and any(x.name == "output.weight" for x in reader.tensors):
            continue  # an untied embedding table is only gathered, not read whole
        total += int(t.n_bytes)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=list(FILES))
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--decode", type=int, default=128)
    args = ap.parse_args()
    rows = []
    for name in args.models:
        path = MODELS / name / FILES[name]
        wbytes = weight_bytes_per_token(path)
        for threads in args.threads:
            best = {"duet": {}, "llama.cpp": {}}
            read_gb_s = 0.0
            for _ in range(args.rounds):
                bw = run([str(BUILD / "bench" / "bench_read_bandwidth"), str(threads)])
                read_gb_s = max(read_gb_s, bw["read_gb_s"])
                for engine, cmd in (
                    ("duet", [str(BUILD / "bench" / "bench_llm"), str(path), str(threads), str(args.prefill), str(args.decode)]),
                    ("llama.cpp", [sys.executable, "-c", LLAMA_CPP, str(path), str(threads), str(args.prefill), str(args.decode)]),
                ):
                    r = run(cmd)
                    b = best[engine]
                    b["prefill_tok_s"] = max(b.get("prefill_tok_s", 0), r["prefill_tok_s"])
                    b["decode_tok_s"] = max(b.get("decode_tok_s", 0), r["decode_tok_s"])
                    b["peak_rss_mb"] = min(b.get("peak_rss_mb", 1e9), r["peak_rss_mb"])
            best["machine"] = {"read_gb_s": read_gb_s}
            rows.append((name, threads, best, wbytes))
    print("| model | threads | prefill tok/s Duet / llama.cpp (ratio) | decode tok/s Duet / llama.cpp (ratio) | peak RSS MB Duet / llama.cpp (ratio) | Duet decode bandwidth / machine read bandwidth |")
    print("|---|---|---|---|---|---|")
    for name, threads, best, wbytes in rows:
        used, machine = wbytes * best["duet"]["decode_tok_s"] / 1e9, best["machine"]["read_gb_s"]
        d, l = best["duet"], best["llama.cpp"]
        print(f"| {name} | {threads} | {d['prefill_tok_s']:.0f} / {l['prefill_tok_s']:.0f} ({d['prefill_tok_s'] / l['prefill_tok_s']:.2f}x) "
              f"| {d['decode_tok_s']:.1f} / {l['decode_tok_s']:.1f} ({d['decode_tok_s'] / l['decode_tok_s']:.2f}x) "
              f"| {d['peak_rss_mb']:.0f} / {l['peak_rss_mb']:.0f} ({d['peak_rss_mb'] / l['peak_rss_mb']:.2f}x) "
              f"| {used:.1f} / {machine:.1f} GB/s ({used / machine:.0%}) |")
    print(json.dumps([{"model": n, "threads": t, **{e: best[e] for e in best}} for n, t, best, _ in rows]))


if __name__ == "__main__":
    main()
