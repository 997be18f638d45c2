#!/usr/bin/env python3
"""Convert Silero VAD (the v5-architecture ONNX shipped by the PyPI package silero-vad, with its
16 kHz and 8 kHz branches) into one GGUF file that Duet's runtime loads (src/models/silero_vad.*).

Must never guess: every weight is read from the Constant nodes of the graph's two `If` branches,
and the hyperparameters (STFT filter length and hop, reflect padding, encoder kernels, strides and
paddings, LSTM size) are read off the nodes that use them; a graph of another shape is an error,
not a silently wrong file. The output is deterministic (same input, same bytes) because the model
store checks its sha256.

Tensors (float32, ONNX/PyTorch shapes; GGUF stores them with ne0 = the last axis), for R in 16k, 8k:
  R.stft.basis            [2*bins, 1, filter]   rows 0..bins-1 real part, bins.. imaginary part
  R.encoder.{0-3}.weight  [Cout, Cin, 3]        R.encoder.{0-3}.bias  [Cout]
  R.lstm.weight_ih/hh     [4*H, H]              R.lstm.bias_ih/hh     [4*H]  (PyTorch gates i,f,g,o)
  R.decoder.weight        [1, H, 1]             R.decoder.bias        [1]

Usage: convert_silero.py silero_vad.onnx [-o silero_vad.gguf]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
    import gguf
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"convert_silero: missing package ({exc}); run: .venv/bin/pip install -r tools/requirements.txt")

ARCH = "silero_vad"
# What the reference wrapper (silero_vad/utils_vad.py, OnnxWrapper) feeds per call; not in the graph.
WINDOW = {16000: 512, 8000: 256}
CONTEXT = {16000: 64, 8000: 32}
PREFIX = {16000: "16k", 8000: "8k"}


class ConvertError(Exception):
    pass


def attrs_of(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def walk(graph):
    """Every node of a graph and of its nested subgraphs, depth first."""
    for node in graph.node:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from walk(a.g)


def branches(model) -> dict[int, onnx.GraphProto]:
    """{16000: subgraph, 8000: subgraph} from the top-level `If (sr == 16000)`."""
    g = model.graph
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in g.node if n.op_type == "Constant"}
    equal = [n for n in g.node if n.op_type == "Equal" and "sr" in n.input]
    ifs = [n for n in g.node if n.op_type == "If"]
    if len(equal) != 1 or len(ifs) != 1 or ifs[0].input[0] != equal[0].output[0]:
        raise ConvertError("the graph does not branch once on `sr == constant`; is this Silero VAD v5?")
    other = [i for i in equal[0].input if i != "sr"]
    if len(other) != 1 or other[0] not in consts or int(consts[other[0]]) != 16000:
        raise ConvertError("the top-level branch does not test sr == 16000")
    a = attrs_of(ifs[0])
    return {16000: a["then_branch"], 8000: a["else_branch"]}


def branch_constants(sub) -> dict[str, np.ndarray]:
    """Constant tensors of a branch under their short names ('encoder.0.reparam_conv.weight')."""
    out = {}
    for n in walk(sub):
        if n.op_type != "Constant" or n.attribute[0].type != onnx.AttributeProto.TENSOR:
            continue
        name = n.output[0]
        if "Inline_0__" in name:  # 'If_0_then_branch__Inline_0__encoder.0...' -> 'encoder.0...'
            name = name.split("Inline_0__", 1)[1]
        out[name] = numpy_helper.to_array(n.attribute[0].t)
    return out


def consumer_of(sub, tensor_suffix: str, op_type: str):
    found = [n for n in walk(sub) if n.op_type == op_type and any(i.endswith(tensor_suffix) for i in n.input)]
    if len(found) != 1:
        raise ConvertError(f"expected one {op_type} reading {tensor_suffix}, found {len(found)}")
    return found[0]


def reflect_pad_right(sub, consts) -> int:
    pads = [n for n in walk(sub) if n.op_type == "Pad"]
    if len(pads) != 1 or attrs_of(pads[0]).get("mode", b"").decode() != "reflect":
        raise ConvertError("expected one reflect Pad before the STFT")
    # The exporter builds the pads from a constant [left, right] of the last axis.
    pairs = [v for k, v in consts.items() if k.endswith("stft/padding/Constant_1_output_0")]
    if len(pairs) != 1 or pairs[0].shape != (2,) or int(pairs[0][0]) != 0:
        raise ConvertError("cannot read the STFT padding (expected [0, right])")
    return int(pairs[0][1])


def convert_branch(sr: int, sub) -> tuple[dict, dict]:
    consts = branch_constants(sub)
    need = ["stft.forward_basis_buffer", "decoder.rnn.weight_ih", "decoder.rnn.weight_hh",
            "decoder.rnn.bias_ih", "decoder.rnn.bias_hh", "decoder.decoder.2.weight",
            "decoder.decoder.2.bias"]
    need += [f"encoder.{i}.reparam_conv.{p}" for i in range(4) for p in ("weight", "bias")]
    missing = [k for k in need if k not in consts]
    if missing:
        raise ConvertError(f"the {sr} Hz branch lacks {', '.join(missing)}")
    f32 = {k: np.ascontiguousarray(v) for k, v in consts.items() if v.dtype == np.float32}

    basis = f32["stft.forward_basis_buffer"]
    stft = consumer_of(sub, "stft.forward_basis_buffer", "Conv")
    sa = attrs_of(stft)
    filter_length = int(sa["kernel_shape"][0])
    hop = int(sa["strides"][0])
    # The exporter keeps one of the STFT module's scalars, depending on the branch; it must agree.
    for key, value in (("self.stft.filter_length", filter_length), ("self.stft.hop_length", hop)):
        if key in consts and int(consts[key]) != value:
            raise ConvertError(f"{key} is {int(consts[key])} but the STFT Conv uses {value}")
    if basis.shape[1] != 1 or basis.shape[2] != filter_length or basis.shape[0] % 2:
        raise ConvertError(f"STFT basis has shape {basis.shape}, filter length {filter_length}")
    if list(sa.get("pads", [0, 0])) != [0, 0] or list(sa.get("dilations", [1])) != [1]:
        raise ConvertError("the STFT Conv pads or dilates")
    bins = basis.shape[0] // 2
    pad_right = reflect_pad_right(sub, consts)
    n_in = WINDOW[sr] + CONTEXT[sr]
    frames = (n_in + pad_right - filter_length) // hop + 1

    hp = {"sample_rate": sr, "window": WINDOW[sr], "context": CONTEXT[sr],
          "filter_length": filter_length, "hop": hop, "pad_right": pad_right, "n_bins": bins,
          "stft_frames": frames}
    tensors = {"stft.basis": basis}
    strides, pads, kernels, channels = [], [], [], []
    c_prev = bins
    for i in range(4):
        w = f32[f"encoder.{i}.reparam_conv.weight"]
        b = f32[f"encoder.{i}.reparam_conv.bias"]
        node = consumer_of(sub, f"encoder.{i}.reparam_conv.weight", "Conv")
        a = attrs_of(node)
        p = list(a.get("pads", [0, 0]))
        if w.ndim != 3 or w.shape[1] != c_prev or b.shape != (w.shape[0],) or p[0] != p[1]:
            raise ConvertError(f"encoder.{i} has weight {w.shape} after {c_prev} channels, pads {p}")
        if a.get("group", 1) != 1 or list(a.get("dilations", [1])) != [1]:
            raise ConvertError(f"encoder.{i} is grouped or dilated")
        strides.append(int(a["strides"][0]))
        pads.append(int(p[0]))
        kernels.append(int(w.shape[2]))
        channels.append(int(w.shape[0]))
        c_prev = w.shape[0]
        tensors[f"encoder.{i}.weight"] = w
        tensors[f"encoder.{i}.bias"] = b
    hp.update(encoder_strides=strides, encoder_pads=pads, encoder_kernels=kernels,
              encoder_channels=channels)

    # One LSTM per inner branch (the exporter's batched and unbatched paths), all the same size.
    sizes = {int(attrs_of(n)["hidden_size"]) for n in walk(sub) if n.op_type == "LSTM"}
    if len(sizes) != 1:
        raise ConvertError(f"the {sr} Hz branch has LSTM sizes {sorted(sizes)}, expected one size")
    hidden = sizes.pop()
    for k in ("weight_ih", "weight_hh"):
        w = f32[f"decoder.rnn.{k}"]
        if w.shape != (4 * hidden, hidden if k == "weight_hh" else c_prev):
            raise ConvertError(f"decoder.rnn.{k} has shape {w.shape}, hidden {hidden}")
        tensors[f"lstm.{k}"] = w
    for k in ("bias_ih", "bias_hh"):
        if f32[f"decoder.rnn.{k}"].shape != (4 * hidden,):
            raise ConvertError(f"decoder.rnn.{k} has shape {f32[f'decoder.rnn.{k}'].shape}")
        tensors[f"lstm.{k}"] = f32[f"decoder.rnn.{k}"]
    dw = f32["decoder.decoder.2.weight"]
    db = f32["decoder.decoder.2.bias"].reshape(1)
    if dw.shape != (1, hidden, 1):
        raise ConvertError(f"decoder.decoder.2.weight has shape {dw.shape}")
    tensors["decoder.weight"] = dw
    tensors["decoder.bias"] = db
    hp["hidden"] = hidden
    return hp, tensors


def write_gguf(out: Path, source_sha256: str, per_rate: dict) -> None:
    w = gguf.GGUFWriter(str(out), ARCH)
    w.add_name("silero_vad")
    w.add_string("general.source", "silero-vad (PyPI), data/silero_vad.onnx")
    w.add_string(f"{ARCH}.source_sha256", source_sha256)
    w.add_array(f"{ARCH}.sample_rates", sorted(per_rate, reverse=True))
    for sr, (hp, _) in sorted(per_rate.items(), reverse=True):
        p = f"{ARCH}.{PREFIX[sr]}"
        for key in ("sample_rate", "window", "context", "filter_length", "hop", "pad_right",
                    "n_bins", "stft_frames", "hidden"):
            w.add_uint32(f"{p}.{key}", int(hp[key]))
        for key in ("encoder_strides", "encoder_pads", "encoder_kernels", "encoder_channels"):
            w.add_array(f"{p}.{key}", [int(x) for x in hp[key]])
    for sr, (_, tensors) in sorted(per_rate.items(), reverse=True):
        for name in sorted(tensors):
            w.add_tensor(f"{PREFIX[sr]}.{name}", tensors[name])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def convert(onnx_path: Path, out_path: Path) -> dict:
    raw = onnx_path.read_bytes()
    model = onnx.load_from_string(raw)
    per_rate = {sr: convert_branch(sr, sub) for sr, sub in branches(model).items()}
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    write_gguf(tmp, hashlib.sha256(raw).hexdigest(), per_rate)
    tmp.replace(out_path)
    return {sr: hp for sr, (hp, _) in per_rate.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx", type=Path, help="silero_vad.onnx (16 and 8 kHz branches)")
    ap.add_argument("-o", "--output", type=Path, help="output .gguf (default: next to the .onnx)")
    args = ap.parse_args(argv)
    out = args.output or args.onnx.with_suffix(".gguf")
    try:
        if not args.onnx.is_file():
            raise ConvertError(f"no such file: {args.onnx}")
        hps = convert(args.onnx, out)
    except (ConvertError, OSError, KeyError, ValueError) as exc:
        print(f"convert_silero: {exc}", file=sys.stderr)
        return 1
    desc = ", ".join(f"{sr} Hz: {hp['n_bins']} bins, hop {hp['hop']}, LSTM {hp['hidden']}"
                     for sr, hp in sorted(hps.items(), reverse=True))
    print(f"convert_silero: wrote {out} ({desc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
