"""tools/convert_whisper.py: the real CTranslate2 tiny.en model, and tiny random Hugging Face
safetensors / openai .pt checkpoints generated here (none is available offline; the .pt one is
also written in torch.save's zip layout with pickle alone and read without torch). The GGUF is read
back with gguf-py and loaded and run by Duet (asr_dump)."""
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import asr_common as a

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import convert_whisper as cw  # noqa: E402

gguf = pytest.importorskip("gguf")

D, HEADS, FF, N_MELS, N_AUDIO, N_TEXT = 64, 2, 128, 80, 1500, 64
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
N_BASE = 200
N_VOCAB = N_BASE + len(SPECIALS) + 40


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]):
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        b = np.ascontiguousarray(v, dtype=np.float32).tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def random_hf(d: Path, rng) -> dict[str, np.ndarray]:
    r = lambda *s: (0.05 * rng.standard_normal(s)).astype(np.float32)  # noqa: E731
    t = {"model.encoder.conv1.weight": r(D, N_MELS, 3), "model.encoder.conv1.bias": r(D),
         "model.encoder.conv2.weight": r(D, D, 3), "model.encoder.conv2.bias": r(D),
         "model.encoder.embed_positions.weight": r(N_AUDIO, D),
         "model.encoder.layer_norm.weight": 1 + r(D), "model.encoder.layer_norm.bias": r(D),
         "model.decoder.embed_tokens.weight": r(N_VOCAB, D),
         "model.decoder.embed_positions.weight": r(N_TEXT, D),
         "model.decoder.layer_norm.weight": 1 + r(D), "model.decoder.layer_norm.bias": r(D)}
    for side in ("encoder", "decoder"):
        p = f"model.{side}.layers.0"
        attns = ["self_attn"] + (["encoder_attn"] if side == "decoder" else [])
        for at in attns:
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                t[f"{p}.{at}.{proj}.weight"] = r(D, D)
                if proj != "k_proj":
                    t[f"{p}.{at}.{proj}.bias"] = r(D)
            t[f"{p}.{at}_layer_norm.weight"] = 1 + r(D)
            t[f"{p}.{at}_layer_norm.bias"] = r(D)
        t[f"{p}.fc1.weight"], t[f"{p}.fc1.bias"] = r(FF, D), r(FF)
        t[f"{p}.fc2.weight"], t[f"{p}.fc2.bias"] = r(D, FF), r(D)
        t[f"{p}.final_layer_norm.weight"], t[f"{p}.final_layer_norm.bias"] = 1 + r(D), r(D)
    write_safetensors(d / "model.safetensors", t)
    (d / "config.json").write_text(json.dumps({
        "num_mel_bins": N_MELS, "vocab_size": N_VOCAB, "max_source_positions": N_AUDIO,
        "max_target_positions": N_TEXT, "d_model": D, "encoder_attention_heads": HEADS,
        "decoder_attention_heads": HEADS, "encoder_layers": 1, "decoder_layers": 1}))
    b2u = cw._byte_to_unicode()
    vocab = {b2u[i]: i for i in range(N_BASE)}
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "added_tokens.json").write_text(json.dumps({s: N_BASE + i for i, s in enumerate(SPECIALS)}))
    return t


def read_gguf(path: Path):
    r = gguf.GGUFReader(str(path))
    tensors = {t.name: np.array(t.data) for t in r.tensors}
    return r, tensors


def run_duet(model: Path):
    if not a.ASR_DUMP.exists():
        pytest.skip(f"{a.ASR_DUMP} is not built")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    tmp = model.parent / "noise.f32"
    audio.tofile(tmp)
    proc = subprocess.run([str(a.ASR_DUMP), "transcribe", str(model), str(tmp), "--threads", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_hf_safetensors_checkpoint(tmp_path):
    t = random_hf(tmp_path, np.random.default_rng(1))
    out = tmp_path / "w.gguf"
    assert cw.main([str(tmp_path), "-o", str(out)]) == 0
    r, g = read_gguf(out)
    np.testing.assert_allclose(g["enc.0.attn_q.w"], t["model.encoder.layers.0.self_attn.q_proj.weight"], atol=1e-3)
    np.testing.assert_array_equal(g["dec.0.cross_k.b"], np.zeros(D, np.float32))
    np.testing.assert_allclose(g["dec.0.cross_v.b"], t["model.decoder.layers.0.encoder_attn.v_proj.bias"], atol=1e-7)
    np.testing.assert_allclose(g["enc.conv2.w"], t["model.encoder.conv2.weight"], atol=1e-7)
    assert g["mel_filters"].shape == (N_MELS, 201)
    assert int(r.fields["whisper.token.eot"].parts[-1][0]) == N_BASE
    assert int(r.fields["whisper.token.timestamp_begin"].parts[-1][0]) == N_BASE + len(SPECIALS)
    run_duet(out)


def test_openai_pt_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    t = random_hf(tmp_path, np.random.default_rng(2))
    sd = {k: torch.from_numpy(v) for k, v in cw.hf_to_pt_names(t).items()}
    dims = {"n_mels": N_MELS, "n_vocab": N_VOCAB, "n_audio_ctx": N_AUDIO, "n_audio_state": D,
            "n_audio_head": HEADS, "n_audio_layer": 1, "n_text_ctx": N_TEXT, "n_text_state": D,
            "n_text_head": HEADS, "n_text_layer": 1}
    pt = tmp_path / "tiny-random.pt"
    torch.save({"dims": dims, "model_state_dict": sd}, pt)
    out = tmp_path / "p.gguf"
    assert cw.main([str(pt), "-o", str(out), "--tokenizer", str(tmp_path / "vocab.json")]) == 0
    run_duet(out)


def torch_save_layout(path: Path, obj, monkeypatch, transpose: frozenset = frozenset()):
    """Writes obj (dicts of numpy float32 arrays and ints) as torch.save() lays a checkpoint out,
    built with pickle alone: a zip with archive/data.pkl (protocol 2; each tensor a
    torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) call on a
    persistent ('storage', torch.FloatStorage, key, 'cpu', numel) id), archive/data/KEY raw
    little-endian storages, archive/version and archive/byteorder. The tensors named in
    `transpose` are stored column-major (a transposed view, as torch saves t.T)."""
    import collections
    import pickle
    import types
    import zipfile

    # pickle writes globals by module and name; these stand-ins carry the names torch uses.
    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only written, never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2
    FloatStorage = type("FloatStorage", (), {"__module__": "torch", "__qualname__": "FloatStorage"})
    torch_mod.FloatStorage, torch_mod._utils = FloatStorage, utils_mod
    monkeypatch.setitem(sys.modules, "torch", torch_mod)
    monkeypatch.setitem(sys.modules, "torch._utils", utils_mod)

    storages = []

    class Storage:
        def __init__(self, data):
            self.key, self.data = str(len(storages)), data
            storages.append(self)

    class Tensor:
        def __init__(self, a, col_major):
            self.a, self.col_major = np.asarray(a, np.float32), col_major

        def __reduce__(self):
            a = self.a
            if self.col_major and a.ndim == 2:
                flat = np.ascontiguousarray(a.T).reshape(-1)
                stride = (1, a.shape[0])
            else:
                flat = np.ascontiguousarray(a).reshape(-1)
                stride = tuple(int(np.prod(a.shape[i + 1:])) for i in range(a.ndim))
            return (_rebuild_tensor_v2, (Storage(flat), 0, tuple(a.shape), stride, False,
                                         collections.OrderedDict()))

    def wrap(o, name=""):
        if isinstance(o, dict):
            return {k: wrap(v, k) for k, v in o.items()}
        if isinstance(o, np.ndarray):
            return Tensor(o, name in transpose)
        return o

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, Storage):
                return ("storage", FloatStorage, o.key, "cpu", o.data.size)
            return None

    import io
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(wrap(obj))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for st in storages:
            z.writestr(f"archive/data/{st.key}", st.data.astype("<f4").tobytes())
        z.writestr("archive/version", "3\n")


def test_openai_pt_checkpoint_read_without_torch(tmp_path, monkeypatch):
    t = random_hf(tmp_path, np.random.default_rng(3))
    sd = cw.hf_to_pt_names(t)
    dims = {"n_mels": N_MELS, "n_vocab": N_VOCAB, "n_audio_ctx": N_AUDIO, "n_audio_state": D,
            "n_audio_head": HEADS, "n_audio_layer": 1, "n_text_ctx": N_TEXT, "n_text_state": D,
            "n_text_head": HEADS, "n_text_layer": 1}
    pt = tmp_path / "tiny-random.pt"
    q = next(k for k in sd if k.endswith("attn.query.weight") and k.startswith("encoder"))
    torch_save_layout(pt, {"dims": dims, "model_state_dict": sd}, monkeypatch, frozenset({q}))
    monkeypatch.delitem(sys.modules, "torch")  # the converter must not need it
    monkeypatch.delitem(sys.modules, "torch._utils")
    back = cw.read_torch_zip(pt)
    assert back["dims"] == dims
    for k, v in sd.items():
        np.testing.assert_array_equal(back["model_state_dict"][k], v)
    out = tmp_path / "p.gguf"
    assert cw.main([str(pt), "-o", str(out), "--tokenizer", str(tmp_path / "vocab.json")]) == 0
    _, g = read_gguf(out)
    np.testing.assert_allclose(g["enc.0.attn_q.w"], t["model.encoder.layers.0.self_attn.q_proj.weight"], atol=1e-3)
    run_duet(out)


def test_pt_reader_refuses_foreign_globals(tmp_path):
    import pickle
    import zipfile

    pt = tmp_path / "evil.pt"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"x": print}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global .*print"):
        cw.read_torch_zip(pt)


def test_ctranslate2_tiny_en(tmp_path):
    if not (a.WHISPER_DIR / "model.bin").exists():
        pytest.skip("models/whisper-tiny.en is not pulled")
    out = tmp_path / "tiny.gguf"
    assert cw.main([str(a.WHISPER_DIR), "-o", str(out)]) == 0
    ct2 = cw.read_ct2(a.WHISPER_DIR / "model.bin")
    r, g = read_gguf(out)
    qkv = ct2["encoder/layer_2/self_attention/linear_0/weight"]
    np.testing.assert_array_equal(g["enc.2.attn_v.w"], qkv[768:])
    np.testing.assert_array_equal(g["dec.tok"], ct2["decoder/embeddings/weight"])
    assert int(r.fields["whisper.token.no_speech"].parts[-1][0]) == 50361
    assert len(r.fields["whisper.suppress_tokens"].data) == 90
    text = run_duet(out)["text"]
    assert len(text) < 64  # noise: little or no text, and no crash
