#!/usr/bin/env python3
"""Whisper checkpoint -> Duet GGUF converter.

Reads a CTranslate2 Whisper directory (model.bin + config.json + vocabulary.txt/json), an
openai-whisper PyTorch checkpoint (.pt) or a Hugging Face directory (model.safetensors +
config.json + tokenizer.json/vocab.json) and writes one GGUF holding the hyperparameters, the
vocabulary, the special token ids, the suppress lists, the Slaney mel filters and the weights
(matrices F16, everything else F32; Q,K,V stored unfused). Must never write a partial file: the
output is written to a temporary name and renamed only when complete.

Usage:
  convert_whisper.py SRC [-o OUT.gguf] [--tokenizer tokenizer.json]
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover
    sys.exit("convert_whisper: the 'gguf' package is missing (pip install -r tools/requirements.txt)")

ARCH = "whisper"


# ---------------------------------------------------------------- mel filters (librosa slaney)
def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mel = f / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mel)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters(sr: int = 16000, n_fft: int = 400, n_mels: int = 80) -> np.ndarray:
    """[n_mels, n_fft/2+1] float32, as librosa.filters.mel(sr, n_fft, n_mels) (slaney, slaney norm)."""
    fft_freqs = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2)
    mel_f = _mel_to_hz(mels)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, n_fft // 2 + 1))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights.astype(np.float32)


# ---------------------------------------------------------------- CTranslate2 model.bin
_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    def string():
        nonlocal pos
        (n,) = take("H")
        s = data[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    (version,) = take("I")
    if version < 4 or version > 6:
        raise ValueError(f"{path}: CTranslate2 binary version {version} is not supported (4..6)")
    spec = string()
    if spec != "WhisperSpec":
        raise ValueError(f"{path}: spec is {spec!r}, not WhisperSpec")
    take("I")  # spec revision
    (n_vars,) = take("I")
    out: dict[str, np.ndarray] = {}
    for _ in range(n_vars):
        name = string()
        (rank,) = take("B")
        dims = take("I" * rank) if rank else ()
        (dtype_id,) = take("B")
        (nbytes,) = take("I")
        if dtype_id not in _CT2_DTYPES:
            raise ValueError(f"{path}: variable {name} has unsupported dtype id {dtype_id}")
        dt = np.dtype(_CT2_DTYPES[dtype_id])
        if nbytes != int(np.prod(dims, dtype=np.int64)) * dt.itemsize:
            raise ValueError(f"{path}: variable {name} size {nbytes} does not match its shape {dims}")
        arr = np.frombuffer(data, dtype=dt, count=nbytes // dt.itemsize, offset=pos).reshape(dims)
        pos += nbytes
        out[name] = arr
    (n_alias,) = take("I")
    for _ in range(n_alias):
        alias = string()
        target = string()
        out[alias] = out[target]
    # int8 models: dequantise weights that carry a per-row scale.
    for name in [n for n in out if n.endswith("_scale")]:
        base = name[: -len("_scale")]
        if base in out and out[base].dtype == np.int8:
            out[base] = out[base].astype(np.float32) / out[name].astype(np.float32).reshape(-1, 1)
    return out


def ct2_to_common(v: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
    """CT2 names -> the common (openai-like) names used below, plus hyperparameters."""
    t: dict[str, np.ndarray] = {}
    t["enc.conv1.w"], t["enc.conv1.b"] = v["encoder/conv1/weight"], v["encoder/conv1/bias"]
    t["enc.conv2.w"], t["enc.conv2.b"] = v["encoder/conv2/weight"], v["encoder/conv2/bias"]
    t["enc.pos"] = v["encoder/position_encodings/encodings"]
    t["enc.norm.w"], t["enc.norm.b"] = v["encoder/layer_norm/gamma"], v["encoder/layer_norm/beta"]
    t["dec.tok"] = v["decoder/embeddings/weight"]
    t["dec.pos"] = v["decoder/position_encodings/encodings"]
    t["dec.norm.w"], t["dec.norm.b"] = v["decoder/layer_norm/gamma"], v["decoder/layer_norm/beta"]
    d = t["enc.pos"].shape[1]

    def split3(w, b):
        return np.split(w, 3, axis=0), np.split(b, 3, axis=0)

    def layers(prefix):
        n = 0
        while f"{prefix}/layer_{n}/self_attention/linear_0/weight" in v:
            n += 1
        return n

    n_enc, n_dec = layers("encoder"), layers("decoder")
    for side, n in (("enc", n_enc), ("dec", n_dec)):
        src = "encoder" if side == "enc" else "decoder"
        for i in range(n):
            p, q = f"{src}/layer_{i}", f"{side}.{i}"
            sa = f"{p}/self_attention"
            t[f"{q}.attn_norm.w"], t[f"{q}.attn_norm.b"] = v[f"{sa}/layer_norm/gamma"], v[f"{sa}/layer_norm/beta"]
            (wq, wk, wv), (bq, bk, bv) = split3(v[f"{sa}/linear_0/weight"], v[f"{sa}/linear_0/bias"])
            t[f"{q}.attn_q.w"], t[f"{q}.attn_q.b"] = wq, bq
            t[f"{q}.attn_k.w"], t[f"{q}.attn_k.b"] = wk, bk
            t[f"{q}.attn_v.w"], t[f"{q}.attn_v.b"] = wv, bv
            t[f"{q}.attn_o.w"], t[f"{q}.attn_o.b"] = v[f"{sa}/linear_1/weight"], v[f"{sa}/linear_1/bias"]
            if side == "dec":
                ca = f"{p}/attention"
                t[f"{q}.cross_norm.w"], t[f"{q}.cross_norm.b"] = v[f"{ca}/layer_norm/gamma"], v[f"{ca}/layer_norm/beta"]
                t[f"{q}.cross_q.w"], t[f"{q}.cross_q.b"] = v[f"{ca}/linear_0/weight"], v[f"{ca}/linear_0/bias"]
                wk, wv = np.split(v[f"{ca}/linear_1/weight"], 2, axis=0)
                bk, bv = np.split(v[f"{ca}/linear_1/bias"], 2, axis=0)
                t[f"{q}.cross_k.w"], t[f"{q}.cross_k.b"] = wk, bk
                t[f"{q}.cross_v.w"], t[f"{q}.cross_v.b"] = wv, bv
                t[f"{q}.cross_o.w"], t[f"{q}.cross_o.b"] = v[f"{ca}/linear_2/weight"], v[f"{ca}/linear_2/bias"]
            f = f"{p}/ffn"
            t[f"{q}.ffn_norm.w"], t[f"{q}.ffn_norm.b"] = v[f"{f}/layer_norm/gamma"], v[f"{f}/layer_norm/beta"]
            t[f"{q}.ffn_up.w"], t[f"{q}.ffn_up.b"] = v[f"{f}/linear_0/weight"], v[f"{f}/linear_0/bias"]
            t[f"{q}.ffn_down.w"], t[f"{q}.ffn_down.b"] = v[f"{f}/linear_1/weight"], v[f"{f}/linear_1/bias"]
    hp = {
        "n_audio_layer": n_enc, "n_text_layer": n_dec,
        "n_audio_head": int(v["encoder/num_heads"]), "n_text_head": int(v["decoder/num_heads"]),
        "d": d,
    }
    return t, hp


# ---------------------------------------------------------------- openai-whisper .pt / HF safetensors
def pt_to_common(sd: dict[str, np.ndarray], dims: dict) -> tuple[dict[str, np.ndarray], dict]:
    t: dict[str, np.ndarray] = {}
    t["enc.conv1.w"], t["enc.conv1.b"] = sd["encoder.conv1.weight"], sd["encoder.conv1.bias"]
    t["enc.conv2.w"], t["enc.conv2.b"] = sd["encoder.conv2.weight"], sd["encoder.conv2.bias"]
    t["enc.pos"] = sd["encoder.positional_embedding"]
    t["enc.norm.w"], t["enc.norm.b"] = sd["encoder.ln_post.weight"], sd["encoder.ln_post.bias"]
    t["dec.tok"] = sd["decoder.token_embedding.weight"]
    t["dec.pos"] = sd["decoder.positional_embedding"]
    t["dec.norm.w"], t["dec.norm.b"] = sd["decoder.ln.weight"], sd["decoder.ln.bias"]
    for side, src, n in (("enc", "encoder", dims["n_audio_layer"]), ("dec", "decoder", dims["n_text_layer"])):
        for i in range(n):
            p, q = f"{src}.blocks.{i}", f"{side}.{i}"

            def attn(src_name, dst):
                for a, b in (("query", "q"), ("key", "k"), ("value", "v"), ("out", "o")):
                    w = sd[f"{p}.{src_name}.{a}.weight"]
                    t[f"{q}.{dst}_{b}.w"] = w
                    t[f"{q}.{dst}_{b}.b"] = sd.get(f"{p}.{src_name}.{a}.bias", np.zeros(w.shape[0], np.float32))

            attn("attn", "attn")
            t[f"{q}.attn_norm.w"], t[f"{q}.attn_norm.b"] = sd[f"{p}.attn_ln.weight"], sd[f"{p}.attn_ln.bias"]
            if side == "dec":
                attn("cross_attn", "cross")
                t[f"{q}.cross_norm.w"], t[f"{q}.cross_norm.b"] = sd[f"{p}.cross_attn_ln.weight"], sd[f"{p}.cross_attn_ln.bias"]
            t[f"{q}.ffn_norm.w"], t[f"{q}.ffn_norm.b"] = sd[f"{p}.mlp_ln.weight"], sd[f"{p}.mlp_ln.bias"]
            t[f"{q}.ffn_up.w"], t[f"{q}.ffn_up.b"] = sd[f"{p}.mlp.0.weight"], sd[f"{p}.mlp.0.bias"]
            t[f"{q}.ffn_down.w"], t[f"{q}.ffn_down.b"] = sd[f"{p}.mlp.2.weight"], sd[f"{p}.mlp.2.bias"]
    hp = {"n_audio_layer": dims["n_audio_layer"], "n_text_layer": dims["n_text_layer"],
          "n_audio_head": dims["n_audio_head"], "n_text_head": dims["n_text_head"], "d": dims["n_audio_state"]}
    return t, hp


_HF_TO_PT = [
    ("model.encoder.embed_positions.weight", "encoder.positional_embedding"),
    ("model.decoder.embed_positions.weight", "decoder.positional_embedding"),
    ("model.decoder.embed_tokens.weight", "decoder.token_embedding.weight"),
    ("model.encoder.layer_norm.", "encoder.ln_post."),
    ("model.decoder.layer_norm.", "decoder.ln."),
    (".self_attn_layer_norm.", ".attn_ln."),
    (".encoder_attn_layer_norm.", ".cross_attn_ln."),
    (".final_layer_norm.", ".mlp_ln."),
    (".self_attn.", ".attn."),
    (".encoder_attn.", ".cross_attn."),
    (".q_proj.", ".query."), (".k_proj.", ".key."), (".v_proj.", ".value."), (".out_proj.", ".out."),
    (".fc1.", ".mlp.0."), (".fc2.", ".mlp.2."),
    (".layers.", ".blocks."),
    ("model.encoder.", "encoder."), ("model.decoder.", "decoder."),
]


def hf_to_pt_names(sd: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for k, val in sd.items():
        if k == "proj_out.weight":
            continue  # tied to the token embedding
        for a, b in _HF_TO_PT:
            k = k.replace(a, b)
        out[k] = val
    return out


_TORCH_STORAGES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
                   "BFloat16Storage": np.uint16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_}


class _StorageType:
    def __init__(self, name: str):
        self.name = name
        self.dtype = _TORCH_STORAGES[name]


def read_torch_zip(path: Path) -> dict:
    """A torch.save() zip checkpoint without torch: ARCHIVE/data.pkl is a pickle whose tensors are
    torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) calls over persistent
    storages ('storage', torch.XStorage, key, location, numel) held in ARCHIVE/data/KEY. Only
    those globals (and OrderedDict) are accepted; tensors come back as float32/int numpy arrays."""
    import collections
    import pickle
    import zipfile

    with zipfile.ZipFile(path) as zf:
        pkls = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise ValueError(f"{path}: not a torch zip checkpoint (no single data.pkl)")
        prefix = pkls[0][: -len("data.pkl")]

        def rebuild(storage, offset, size, stride, *_rest):
            arr, is_bf16 = storage
            n = int(np.prod(size)) if len(size) else 1
            if n == 0:
                out = np.zeros(size, arr.dtype)
            else:
                out = np.lib.stride_tricks.as_strided(
                    arr[offset:], shape=tuple(size), strides=tuple(s * arr.itemsize for s in stride)).copy()
            if is_bf16:
                out = (out.astype(np.uint32) << 16).view(np.float32)
            return out

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return rebuild
                if module == "torch" and name in _TORCH_STORAGES:
                    return _StorageType(name)
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                raise pickle.UnpicklingError(f"{path}: refusing to load global {module}.{name}")

            def persistent_load(self, pid):
                if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                    raise pickle.UnpicklingError(f"{path}: unexpected persistent id {pid!r}")
                _, stype, key, _location, numel = pid
                raw = zf.read(f"{prefix}data/{key}")
                arr = np.frombuffer(raw, dtype=np.dtype(stype.dtype).newbyteorder("<"), count=numel)
                return arr, stype.name == "BFloat16Storage"

        with zf.open(pkls[0]) as f:
            return Unpickler(f).load()


def load_pt(path: Path):
    import zipfile

    if zipfile.is_zipfile(path):
        ck = read_torch_zip(path)  # the format of every openai-whisper checkpoint; no torch needed
        sd = {k: np.asarray(v, dtype=np.float32) for k, v in ck["model_state_dict"].items()}
        return sd, dict(ck["dims"])
    import torch  # legacy (pre-zip) torch.save format only

    ck = torch.load(str(path), map_location="cpu", weights_only=True)
    sd = {k: val.float().numpy() for k, val in ck["model_state_dict"].items()}
    return sd, dict(ck["dims"])


_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """A .safetensors file: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, data."""
    raw = path.read_bytes()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _ST_DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        b, e = info["data_offsets"]
        a = np.frombuffer(raw, dtype=_ST_DTYPES[info["dtype"]], count=(e - b) // np.dtype(_ST_DTYPES[info["dtype"]]).itemsize,
                          offset=base + b)
        if info["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = a.reshape(info["shape"]).astype(np.float32)
    return out


def load_hf(d: Path):
    sd: dict[str, np.ndarray] = {}
    files = sorted(d.glob("*.safetensors"))
    if not files:
        raise ValueError(f"{d}: no *.safetensors files")
    for f in files:
        sd.update(read_safetensors(f))
    cfg = json.loads((d / "config.json").read_text())
    dims = {
        "n_mels": cfg["num_mel_bins"], "n_vocab": cfg["vocab_size"],
        "n_audio_ctx": cfg["max_source_positions"], "n_audio_state": cfg["d_model"],
        "n_audio_head": cfg["encoder_attention_heads"], "n_audio_layer": cfg["encoder_layers"],
        "n_text_ctx": cfg["max_target_positions"], "n_text_state": cfg["d_model"],
        "n_text_head": cfg["decoder_attention_heads"], "n_text_layer": cfg["decoder_layers"],
    }
    return hf_to_pt_names(sd), dims, cfg


# ---------------------------------------------------------------- vocabulary and specials
def vocab_from_files(src: Path, tokenizer: Path | None, n_vocab: int) -> list[str]:
    toks: list[str | None] = [None] * n_vocab
    cands = [tokenizer] if tokenizer else []
    cands += [src / "vocabulary.json", src / "vocabulary.txt", src / "tokenizer.json", src / "vocab.json"]
    found = False
    for c in cands:
        if c is None or not c.exists():
            continue
        if c.name == "vocabulary.txt":
            lines = c.read_text(encoding="utf-8").split("\n")
            for i, s in enumerate(lines[:n_vocab]):
                toks[i] = s
        elif c.name == "vocabulary.json":
            for i, s in enumerate(json.loads(c.read_text(encoding="utf-8"))[:n_vocab]):
                toks[i] = s
        else:
            j = json.loads(c.read_text(encoding="utf-8"))
            vocab = j["model"]["vocab"] if "model" in j else j
            for s, i in vocab.items():
                if i < n_vocab:
                    toks[i] = s
            for a in j.get("added_tokens", []):
                if a["id"] < n_vocab:
                    toks[a["id"]] = a["content"]
            if c.name == "vocab.json":
                added = c.parent / "added_tokens.json"
                if added.exists():
                    for s, i in json.loads(added.read_text()).items():
                        if i < n_vocab:
                            toks[i] = s
        found = True
        break
    if not found:
        raise ValueError(f"{src}: no vocabulary found (vocabulary.txt/json, tokenizer.json or vocab.json); "
                         "pass --tokenizer")
    # Timestamp tokens follow <|notimestamps|>; fill any the source left out.
    if "<|notimestamps|>" in toks:
        ts0 = toks.index("<|notimestamps|>") + 1
        for i in range(ts0, n_vocab):
            if toks[i] is None:
                toks[i] = "<|%.2f|>" % ((i - ts0) * 0.02)
    missing = [i for i, s in enumerate(toks) if s is None]
    if missing:
        raise ValueError(f"vocabulary has no text for {len(missing)} ids (first {missing[0]})")
    return toks  # type: ignore[return-value]


def specials(toks: list[str]) -> dict[str, int]:
    idx = {s: i for i, s in enumerate(toks)}

    def get(*names):
        for n in names:
            if n in idx:
                return idx[n]
        raise ValueError(f"vocabulary has none of {names}")

    sp = {
        "eot": get("<|endoftext|>"), "sot": get("<|startoftranscript|>"),
        "translate": get("<|translate|>"), "transcribe": get("<|transcribe|>"),
        "sot_lm": get("<|startoflm|>"), "sot_prev": get("<|startofprev|>"),
        "no_speech": get("<|nospeech|>", "<|nocaptions|>"), "no_timestamps": get("<|notimestamps|>"),
    }
    sp["timestamp_begin"] = sp["no_timestamps"] + 1
    return sp


# GPT-2 byte-level unicode mapping, to look symbols up in the vocabulary.
def _byte_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def non_speech_tokens(toks: list[str]) -> list[int]:
    """openai/faster-whisper non_speech_tokens, for single-token symbols found in the vocabulary."""
    b2u = _byte_to_unicode()
    enc = lambda s: "".join(b2u[b] for b in s.encode("utf-8"))  # noqa: E731
    idx = {s: i for i, s in enumerate(toks)}
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
    misc = set("♩♪♫♬♭♮♯")
    out = {idx[enc(" -")], idx[enc(" '")]} if enc(" -") in idx and enc(" '") in idx else set()
    for s in symbols + list(misc):
        for form in (s, " " + s):
            e = enc(form)
            if e in idx:
                out.add(idx[e])
            elif s in misc:
                # first token of a multi-token encoding: the longest vocabulary prefix
                for k in range(len(e) - 1, 0, -1):
                    if e[:k] in idx:
                        out.add(idx[e[:k]])
                        break
    return sorted(out)


# ---------------------------------------------------------------- GGUF writing
def write_gguf(out: Path, t: dict[str, np.ndarray], hp: dict, toks: list[str], sp: dict[str, int],
               suppress: list[int], suppress_begin: list[int], lang: list[tuple[str, int]],
               alignment_heads: list[list[int]], name: str) -> None:
    n_mels = t["enc.conv1.w"].shape[1]
    tmp = out.with_suffix(out.suffix + ".tmp")
    w = gguf.GGUFWriter(str(tmp), ARCH)
    w.add_name(name)
    kv = {
        "n_mels": n_mels, "n_audio_ctx": t["enc.pos"].shape[0], "n_audio_state": t["enc.pos"].shape[1],
        "n_audio_head": hp["n_audio_head"], "n_audio_layer": hp["n_audio_layer"],
        "n_text_ctx": t["dec.pos"].shape[0], "n_text_state": t["dec.pos"].shape[1],
        "n_text_head": hp["n_text_head"], "n_text_layer": hp["n_text_layer"],
        "n_vocab": t["dec.tok"].shape[0],
        "sample_rate": 16000, "n_fft": 400, "hop_length": 160,
    }
    for k, val in kv.items():
        w.add_uint32(f"{ARCH}.{k}", int(val))
    w.add_bool(f"{ARCH}.multilingual", len(lang) > 0)
    for k, val in sp.items():
        w.add_uint32(f"{ARCH}.token.{k}", int(val))
    w.add_array(f"{ARCH}.suppress_tokens", [int(x) for x in suppress])
    w.add_array(f"{ARCH}.suppress_tokens_begin", [int(x) for x in suppress_begin])
    if lang:
        w.add_array(f"{ARCH}.language_codes", [c for c, _ in lang])
        w.add_array(f"{ARCH}.language_ids", [int(i) for _, i in lang])
    if alignment_heads:
        w.add_array(f"{ARCH}.alignment_heads", [int(x) for pair in alignment_heads for x in pair])
    w.add_array(f"{ARCH}.vocab", toks)
    w.add_float32(f"{ARCH}.layer_norm_eps", 1e-5)

    w.add_tensor("mel_filters", mel_filters(16000, 400, n_mels))
    for k in sorted(t):
        a = np.ascontiguousarray(t[k])
        if a.ndim == 2 and not k.endswith(".pos"):
            a = a.astype(np.float16)  # matrices (and the token table): F16 as in the source
        else:
            a = a.astype(np.float32)  # norms, biases, convolutions, position tables
        w.add_tensor(k, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out)


def lang_codes(n_langs: int) -> list[str]:
    # openai/whisper tokenizer.LANGUAGES order (the first 99 + yue for large-v3).
    codes = ("en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th "
             "ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr "
             "pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt "
             "haw ln ha ba jw su yue").split()
    return codes[:n_langs]


def convert(src: Path, out: Path, tokenizer: Path | None) -> None:
    cfg: dict = {}
    if src.is_dir() and (src / "model.bin").exists():
        t, hp = ct2_to_common(read_ct2(src / "model.bin"))
        if (src / "config.json").exists():
            cfg = json.loads((src / "config.json").read_text())
        vocab_dir = src
    elif src.suffix == ".pt":
        sd, dims = load_pt(src)
        t, hp = pt_to_common(sd, dims)
        vocab_dir = src.parent
    elif src.is_dir() and list(src.glob("*.safetensors")):
        sd, dims, cfg = load_hf(src)
        t, hp = pt_to_common(sd, dims)
        gen = src / "generation_config.json"
        if gen.exists():
            g = json.loads(gen.read_text())
            cfg.setdefault("suppress_tokens", g.get("suppress_tokens"))
            cfg.setdefault("alignment_heads", g.get("alignment_heads"))
        vocab_dir = src
    else:
        raise ValueError(f"{src}: not a CTranslate2 directory, a .pt checkpoint or a safetensors directory")
    n_vocab = t["dec.tok"].shape[0]
    toks = vocab_from_files(vocab_dir, tokenizer, n_vocab)
    sp = specials(toks)
    # Language tokens sit between sot and translate.
    n_langs = sp["translate"] - sp["sot"] - 1
    multilingual = n_vocab >= 51865
    lang = list(zip(lang_codes(n_langs), range(sp["sot"] + 1, sp["translate"]))) if multilingual else []
    base = cfg.get("suppress_ids") or cfg.get("suppress_tokens") or non_speech_tokens(toks)
    extra = [sp["transcribe"], sp["translate"], sp["sot"], sp["sot_prev"], sp["sot_lm"], sp["no_speech"]]
    suppress = sorted(set(int(x) for x in base if int(x) >= 0) | set(extra))
    blank = [i for i, s in enumerate(toks) if s == "Ġ"]
    suppress_begin = cfg.get("suppress_ids_begin") or (blank[:1] + [sp["eot"]])
    out.parent.mkdir(parents=True, exist_ok=True)
    write_gguf(out, t, hp, toks, sp, suppress, suppress_begin, lang, cfg.get("alignment_heads") or [],
               src.stem if src.is_file() else src.name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path, help="CTranslate2 dir, openai .pt file, or HF safetensors dir")
    ap.add_argument("-o", "--out", type=Path, help="output .gguf (default: SRC/<name>.gguf)")
    ap.add_argument("--tokenizer", type=Path, help="tokenizer.json / vocab.json when not beside SRC")
    a = ap.parse_args(argv)
    out = a.out or ((a.src if a.src.is_dir() else a.src.parent) / f"{a.src.stem if a.src.is_file() else a.src.name}.gguf")
    try:
        convert(a.src, out, a.tokenizer)
    except (ValueError, KeyError, OSError) as e:
        print(f"convert_whisper: {e}", file=sys.stderr)
        return 1
    print(f"convert_whisper: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
