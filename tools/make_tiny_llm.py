"""Writes tiny random-weight GGUF LLMs (llama, qwen2, qwen3, gemma3 variants) for checking Duet's
LLM runtime against llama.cpp on architectures no registry package carries weights for.

The tokenizer metadata is copied from a real GGUF (SmolLM2's byte-level BPE by default), so both
engines tokenize alike; weights are seeded random numbers scaled so greedy decoding has clear
winners. Usage: make_tiny_llm.py ARCH OUT.gguf --tokenizer-from REAL.gguf [--seed N] [--types ...]
"""
import argparse
import sys

import numpy as np
import gguf

T = gguf.GGMLQuantizationType

ARCHS = {
    # arch: dict of layout switches
    # (llama.cpp derives qwen2's head size from n_embd / n_head; the others read key_length.)
    "llama": dict(qkv_bias=False, qk_norm=False, post_norms=False, head_dim=32, tied=False),
    "qwen2": dict(qkv_bias=True, qk_norm=False, post_norms=False, head_dim=64, tied=False),
    "qwen3": dict(qkv_bias=False, qk_norm=True, post_norms=False, head_dim=64, tied=True),
    "gemma3": dict(qkv_bias=False, qk_norm=True, post_norms=True, head_dim=64, tied=True),
}


def copy_tokenizer(writer, source):
    reader = gguf.GGUFReader(source)
    n_vocab = 0
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                values = [bytes(field.parts[i]) for i in field.data]
                if key == "tokenizer.ggml.tokens":
                    n_vocab = len(values)
                writer.add_array(key, values)
            else:
                writer.add_array(key, [field.parts[i].tolist()[0] for i in field.data])
        elif vtype == gguf.GGUFValueType.STRING:
            writer.add_string(key, bytes(field.parts[field.data[0]]).decode())
        elif vtype == gguf.GGUFValueType.BOOL:
            writer.add_bool(key, bool(field.parts[field.data[0]][0]))
        elif vtype in (gguf.GGUFValueType.FLOAT32, gguf.GGUFValueType.FLOAT64):
            writer.add_float32(key, float(field.parts[field.data[0]][0]))
        else:
            writer.add_uint32(key, int(field.parts[field.data[0]][0]))
    return n_vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("arch", choices=sorted(ARCHS))
    ap.add_argument("out")
    ap.add_argument("--tokenizer-from", required=True, help="a real GGUF whose tokenizer to copy")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matrix-type", default="F16", help="type of the projection matrices")
    ap.add_argument("--embd-type", default="F16", help="type of the token embeddings")
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()

    spec = ARCHS[args.arch]
    rng = np.random.default_rng(args.seed)
    n_embd, n_head, n_head_kv, n_ff = 256, 4, 2, 512
    hd = spec["head_dim"]
    w = gguf.GGUFWriter(args.out, args.arch)
    w.add_name(f"tiny-random-{args.arch}")
    n_vocab = copy_tokenizer(w, args.tokenizer_from)
    w.add_block_count(args.layers)
    w.add_context_length(2048)
    w.add_embedding_length(n_embd)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(10000.0 if args.arch != "qwen3" else 1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(n_vocab)
    if args.arch == "gemma3":
        w.add_sliding_window(8)

    def tensor(name, shape, kind, scale):
        # shape is (rows, cols) = (n_out, n_in) in numpy order
        data = (rng.standard_normal(shape) * scale).astype(np.float32)
        qtype = T[kind]
        if qtype == T.F32:
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)

    def norm(name, n):
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    mt = args.matrix_type
    tensor("token_embd.weight", (n_vocab, n_embd), args.embd_type, 1.0)
    if not spec["tied"]:
        tensor("output.weight", (n_vocab, n_embd), mt, 0.3)
    norm("output_norm.weight", n_embd)
    for il in range(args.layers):
        p = f"blk.{il}."
        norm(p + "attn_norm.weight", n_embd)
        tensor(p + "attn_q.weight", (n_head * hd, n_embd), mt, 0.08)
        tensor(p + "attn_k.weight", (n_head_kv * hd, n_embd), mt, 0.08)
        tensor(p + "attn_v.weight", (n_head_kv * hd, n_embd), mt, 0.08)
        tensor(p + "attn_output.weight", (n_embd, n_head * hd), mt, 0.05)
        if spec["qkv_bias"]:
            for part, n in (("q", n_head * hd), ("k", n_head_kv * hd), ("v", n_head_kv * hd)):
                w.add_tensor(p + f"attn_{part}.bias", (0.1 * rng.standard_normal(n)).astype(np.float32))
        if spec["qk_norm"]:
            norm(p + "attn_q_norm.weight", hd)
            norm(p + "attn_k_norm.weight", hd)
        if spec["post_norms"]:
            norm(p + "post_attention_norm.weight", n_embd)
            norm(p + "post_ffw_norm.weight", n_embd)
        norm(p + "ffn_norm.weight", n_embd)
        tensor(p + "ffn_gate.weight", (n_ff, n_embd), mt, 0.06)
        tensor(p + "ffn_up.weight", (n_ff, n_embd), mt, 0.06)
        tensor(p + "ffn_down.weight", (n_embd, n_ff), mt, 0.04)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    sys.exit(main())
