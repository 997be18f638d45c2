#!/usr/bin/env python3
"""Writes Duet's Whisper weights (the CTranslate2 tiny.en directory that tools/convert_whisper.py
reads) in whisper.cpp's legacy ggml .bin format, so the benchmark can run whisper.cpp
(pywhispercpp) on the same weights without it downloading anything. Never used by the engine.

Format (whisper.cpp, models/convert-pt-to-ggml.py): i32 magic 0x67676d6c; i32 n_vocab,
n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head,
n_text_layer, n_mels, ftype; mel filters (i32 n_mels, i32 n_fft_bins, f32 data); the base
vocabulary (i32 count, then i32 length + raw bytes each; whisper.cpp adds the specials itself);
then each tensor: i32 n_dims, i32 name length, i32 type (0 f32, 1 f16), i32 dims innermost
first, the name, the data. Tensors use openai-whisper's names; 1-D tensors, conv biases (as
[n, 1]) and positional embeddings stay f32.

Usage: .venv/bin/python bench/asr/ggml_whisper.py models/whisper-tiny.en OUT.bin [--f32]
"""
import argparse
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import convert_whisper as cw  # noqa: E402


def openai_names(t: dict, hp: dict) -> dict:
    """Duet's common tensor names (convert_whisper.ct2_to_common) -> openai-whisper's."""
    sd = {
        "encoder.positional_embedding": t["enc.pos"],
        "encoder.conv1.weight": t["enc.conv1.w"], "encoder.conv1.bias": t["enc.conv1.b"],
        "encoder.conv2.weight": t["enc.conv2.w"], "encoder.conv2.bias": t["enc.conv2.b"],
        "encoder.ln_post.weight": t["enc.norm.w"], "encoder.ln_post.bias": t["enc.norm.b"],
        "decoder.positional_embedding": t["dec.pos"],
        "decoder.token_embedding.weight": t["dec.tok"],
        "decoder.ln.weight": t["dec.norm.w"], "decoder.ln.bias": t["dec.norm.b"],
    }
    for side, src, n in (("enc", "encoder", hp["n_audio_layer"]), ("dec", "decoder", hp["n_text_layer"])):
        for i in range(n):
            p, q = f"{src}.blocks.{i}", f"{side}.{i}"
            kinds = [("attn", "attn", "attn_ln", "attn_norm")]
            if side == "dec":
                kinds.append(("cross_attn", "cross", "cross_attn_ln", "cross_norm"))
            for name, dst, ln, norm in kinds:
                for a, b in (("query", "q"), ("key", "k"), ("value", "v"), ("out", "o")):
                    sd[f"{p}.{name}.{a}.weight"] = t[f"{q}.{dst}_{b}.w"]
                    if a != "key":  # openai's keys have no bias (a key bias never changes softmax)
                        sd[f"{p}.{name}.{a}.bias"] = t[f"{q}.{dst}_{b}.b"]
                sd[f"{p}.{ln}.weight"], sd[f"{p}.{ln}.bias"] = t[f"{q}.{norm}.w"], t[f"{q}.{norm}.b"]
            sd[f"{p}.mlp_ln.weight"], sd[f"{p}.mlp_ln.bias"] = t[f"{q}.ffn_norm.w"], t[f"{q}.ffn_norm.b"]
            sd[f"{p}.mlp.0.weight"], sd[f"{p}.mlp.0.bias"] = t[f"{q}.ffn_up.w"], t[f"{q}.ffn_up.b"]
            sd[f"{p}.mlp.2.weight"], sd[f"{p}.mlp.2.bias"] = t[f"{q}.ffn_down.w"], t[f"{q}.ffn_down.b"]
    return sd


def write_ggml(src: Path, out: Path, f16: bool = True) -> None:
    t, hp = cw.ct2_to_common(cw.read_ct2(src / "model.bin"))
    sd = openai_names(t, hp)
    n_vocab = t["dec.tok"].shape[0]
    n_mels = t["enc.conv1.w"].shape[1]
    toks = cw.vocab_from_files(src, None, n_vocab)
    eot = cw.specials(toks)["eot"]
    u2b = {u: b for b, u in cw._byte_to_unicode().items()}
    filters = cw.mel_filters(n_mels=n_mels).astype(np.float32)
    with open(out, "wb") as f:
        f.write(struct.pack("<i", 0x67676D6C))
        f.write(struct.pack("<11i", n_vocab, t["enc.pos"].shape[0], t["enc.pos"].shape[1], hp["n_audio_head"],
                            hp["n_audio_layer"], t["dec.pos"].shape[0], t["dec.pos"].shape[1],
                            hp["n_text_head"], hp["n_text_layer"], n_mels, 1 if f16 else 0))
        f.write(struct.pack("<2i", *filters.shape))
        f.write(filters.tobytes())
        f.write(struct.pack("<i", eot))
        for tok in toks[:eot]:
            raw = bytes(u2b[c] for c in tok)
            f.write(struct.pack("<i", len(raw)))
            f.write(raw)
        for name, a in sd.items():
            a = np.asarray(a, dtype=np.float32)
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                a = a.reshape(a.shape[0], 1)
            keep32 = (not f16 or a.ndim < 2 or name.endswith("conv1.bias") or name.endswith("conv2.bias")
                      or name.endswith("positional_embedding"))
            data = a if keep32 else a.astype(np.float16)
            key = name.encode()
            f.write(struct.pack("<3i", a.ndim, len(key), 0 if keep32 else 1))
            f.write(struct.pack(f"<{a.ndim}i", *reversed(a.shape)))
            f.write(key)
            f.write(np.ascontiguousarray(data).tobytes())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--f32", action="store_true", help="all tensors f32 (default: f16 matrices)")
    args = ap.parse_args()
    write_ggml(args.src, args.out, f16=not args.f32)
    return 0


if __name__ == "__main__":
    sys.exit(main())
