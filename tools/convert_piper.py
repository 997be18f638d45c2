#!/usr/bin/env python3
"""Convert a Piper voice (VITS exported to ONNX, plus its .onnx.json config) into one GGUF file
that Duet's runtime loads (src/models/vits.*): every weight under its PyTorch layer name, the
hyperparameters read off the graph, and the voice config (phoneme-id map, sample rate, inference
defaults, speakers).

Never guesses a shape or hyperparameter: everything comes from the graph or the config, and an
unexpected graph is an error, not a silently wrong file.

Layouts written (time-major inference in C++):
  Conv1d weight  [Cout, Cin, K]         ->  GGUF [K][Cin][Cout]  (ne0 = Cout; runtime
                                            conv1d_direct reads output channels contiguously)
  ConvTranspose1d weight [Cin, Cout, K] ->  GGUF [Cin][K][Cout]          (ne0 = Cout)
  Depthwise Conv1d (groups = C) [C, 1, K] -> GGUF [K][C]
Everything else keeps its ONNX shape. All tensors are float32.

Usage: convert_piper.py VOICE.onnx [--config VOICE.onnx.json] [-o VOICE.gguf]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
    import gguf
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"convert_piper: missing package ({exc}); run: .venv/bin/pip install -r tools/requirements.txt")

ARCH = "vits"


class ConvertError(Exception):
    pass


def attrs_of(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def layer_name_from_node(node_name: str) -> str | None:
    """'/flow/flows.0/enc/in_layers.0/Conv' -> 'flow.flows.0.enc.in_layers.0'."""
    if not node_name.startswith("/"):
        return None
    parts = node_name.strip("/").split("/")[:-1]
    return ".".join(parts) if parts else None


def collect_weights(model) -> tuple[dict, dict]:
    """Returns ({layer tensor name: np.ndarray}, {tensor name: onnx node that consumes it})."""
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    named: dict[str, np.ndarray] = {}
    consumer: dict[str, object] = {}
    producer_free = set(inits)

    def is_layer_name(name: str) -> bool:
        return bool(re.match(r"^(enc_p|dec|flow|dp|emb_g)\.", name))

    for name, arr in inits.items():
        if is_layer_name(name):
            named[name] = arr

    for node in graph.node:
        for idx, inp in enumerate(node.input):
            if inp not in producer_free:
                continue
            if node.op_type in ("Conv", "ConvTranspose") and idx == 1:
                # A weight: name it after the layer (bias name, else node path).
                if is_layer_name(inp):
                    consumer[inp] = node
                    continue
                bias = node.input[2] if len(node.input) > 2 else ""
                if bias and is_layer_name(bias) and bias.endswith(".bias"):
                    new = bias[: -len(".bias")] + ".weight"
                else:
                    layer = layer_name_from_node(node.name)
                    if layer is None:
                        raise ConvertError(f"cannot name the weight {inp} of node {node.name!r}")
                    new = layer + ".weight"
                if new in named and named[new] is not inits[inp]:
                    raise ConvertError(f"two tensors resolve to {new}")
                named[new] = inits[inp]
                consumer[new] = node
            elif node.op_type in ("Conv", "ConvTranspose") and is_layer_name(inp):
                consumer[inp] = node
            elif node.op_type == "Gather" and idx == 0:
                layer = layer_name_from_node(node.name)
                if layer is None:
                    raise ConvertError(f"cannot name the table {inp} of node {node.name!r}")
                named[layer + ".weight"] = inits[inp]
            elif node.name == "/dp/flows.0/Mul" and idx == 1:
                # The exporter folded exp(-logs) of the duration predictor's affine flow.
                named["dp.flows.0.exp_neg_logs"] = inits[inp]
    if "dp.flows.0.logs" in named and "dp.flows.0.exp_neg_logs" not in named:
        named["dp.flows.0.exp_neg_logs"] = np.exp(-named.pop("dp.flows.0.logs"))
    return named, consumer


def relayout(named: dict, consumer: dict) -> dict:
    out = {}
    for name, arr in named.items():
        arr = np.asarray(arr, dtype=np.float32)
        node = consumer.get(name)
        if node is not None and name.endswith(".weight"):
            a = attrs_of(node)
            if node.op_type == "Conv":
                groups = int(a.get("group", 1))
                if groups > 1 and arr.shape[1] == 1 and groups == arr.shape[0]:
                    arr = np.ascontiguousarray(arr[:, 0, :].T)  # [K][C]
                elif groups == 1:
                    arr = np.ascontiguousarray(arr.transpose(2, 1, 0))  # [K][Cin][Cout]
                else:
                    raise ConvertError(f"{name}: grouped conv with {groups} groups is not supported")
            else:
                if int(a.get("group", 1)) != 1:
                    raise ConvertError(f"{name}: grouped transposed conv is not supported")
                arr = np.ascontiguousarray(arr.transpose(0, 2, 1))  # [Cin][K][Cout]
        out[name] = arr
    return out


def conv_attrs(consumer: dict, name: str) -> dict:
    node = consumer.get(name)
    if node is None:
        raise ConvertError(f"no Conv node uses {name}")
    return attrs_of(node)


def count_indexed(named: dict, pattern: str) -> list[int]:
    rx = re.compile(pattern)
    found = {int(m.group(1)) for n in named if (m := rx.match(n))}
    return sorted(found)


def hyperparameters(named: dict, consumer: dict) -> dict:
    hp: dict = {}
    emb = named["enc_p.emb.weight"]
    hp["n_vocab"], hp["hidden_channels"] = int(emb.shape[0]), int(emb.shape[1])
    layers = count_indexed(named, r"^enc_p\.encoder\.attn_layers\.(\d+)\.conv_q\.weight$")
    if layers != list(range(len(layers))) or not layers:
        raise ConvertError("encoder attention layers are missing or not numbered 0..n-1")
    hp["n_layers"] = len(layers)
    rel = named["enc_p.encoder.attn_layers.0.emb_rel_k"]
    head_dim = int(rel.shape[2])
    hp["n_heads"] = hp["hidden_channels"] // head_dim
    hp["window_size"] = (int(rel.shape[1]) - 1) // 2
    ffn = named["enc_p.encoder.ffn_layers.0.conv_1.weight"]
    hp["filter_channels"], hp["ffn_kernel"] = int(ffn.shape[0]), int(ffn.shape[2])
    hp["inter_channels"] = int(named["enc_p.proj.weight"].shape[0]) // 2

    # Duration predictor.
    hp["dp_filter_channels"] = int(named["dp.pre.weight"].shape[0])
    hp["dp_kernel"] = int(named["dp.convs.convs_sep.0.weight"].shape[2])
    hp["dp_n_layers"] = len(count_indexed(named, r"^dp\.convs\.convs_sep\.(\d+)\.weight$"))
    dp_flows = count_indexed(named, r"^dp\.flows\.(\d+)\.pre\.weight$")
    hp["dp_flows"] = dp_flows
    hp["dp_num_bins"] = (int(named[f"dp.flows.{dp_flows[0]}.proj.weight"].shape[0]) + 1) // 3
    hp["dp_tail_bound"] = 5.0

    # Coupling flow.
    flows = count_indexed(named, r"^flow\.flows\.(\d+)\.pre\.weight$")
    hp["flows"] = flows
    wn = count_indexed(named, rf"^flow\.flows\.{flows[0]}\.enc\.in_layers\.(\d+)\.weight$")
    hp["wn_layers"] = len(wn)
    a = conv_attrs(consumer, f"flow.flows.{flows[0]}.enc.in_layers.0.weight")
    hp["wn_kernel"] = int(a["kernel_shape"][0])
    hp["wn_dilations"] = [
        int(conv_attrs(consumer, f"flow.flows.{flows[0]}.enc.in_layers.{i}.weight")["dilations"][0])
        for i in wn
    ]

    # HiFi-GAN decoder.
    ups = count_indexed(named, r"^dec\.ups\.(\d+)\.weight$")
    hp["upsample_rates"], hp["upsample_kernels"], hp["upsample_paddings"] = [], [], []
    for i in ups:
        a = conv_attrs(consumer, f"dec.ups.{i}.weight")
        hp["upsample_rates"].append(int(a["strides"][0]))
        hp["upsample_kernels"].append(int(a["kernel_shape"][0]))
        pads = a.get("pads", [0, 0])
        if pads[0] != pads[1] or any(x != 0 for x in a.get("output_padding", [0])):
            raise ConvertError(f"dec.ups.{i}: asymmetric padding / output_padding is not supported")
        hp["upsample_paddings"].append(int(pads[0]))
    hp["upsample_initial_channel"] = int(named["dec.conv_pre.weight"].shape[0])
    hp["conv_pre_kernel"] = int(named["dec.conv_pre.weight"].shape[2])
    hp["conv_post_kernel"] = int(named["dec.conv_post.weight"].shape[2])
    hp["conv_post_bias"] = "dec.conv_post.bias" in named
    blocks = count_indexed(named, r"^dec\.resblocks\.(\d+)\.")
    if len(blocks) % len(ups) != 0:
        raise ConvertError("resblock count is not a multiple of the upsample count")
    per_stage = len(blocks) // len(ups)
    hp["resblock_type"] = 1 if f"dec.resblocks.0.convs1.0.weight" in named else 2
    kernels, dilations = [], []
    for j in range(per_stage):
        if hp["resblock_type"] == 1:
            convs = count_indexed(named, rf"^dec\.resblocks\.{j}\.convs1\.(\d+)\.weight$")
            key = f"dec.resblocks.{j}.convs1.{{}}.weight"
        else:
            convs = count_indexed(named, rf"^dec\.resblocks\.{j}\.convs\.(\d+)\.weight$")
            key = f"dec.resblocks.{j}.convs.{{}}.weight"
        kernels.append(int(named[key.format(0)].shape[2]))
        d = [int(conv_attrs(consumer, key.format(c))["dilations"][0]) for c in convs]
        if len(d) != (3 if hp["resblock_type"] == 1 else 2):
            raise ConvertError(f"dec.resblocks.{j}: unexpected number of convs {len(d)}")
        dilations.append(d)
    hp["resblock_kernels"] = kernels
    hp["resblock_dilations"] = [x for d in dilations for x in d]
    hp["resblock_n_dilations"] = len(dilations[0])
    hp["gin_channels"] = int(named["emb_g.weight"].shape[1]) if "emb_g.weight" in named else 0
    return hp


def write_gguf(out: Path, name: str, tensors: dict, hp: dict, config: dict,
               config_text: str) -> None:
    w = gguf.GGUFWriter(str(out), ARCH)
    w.add_name(name)
    w.add_string("general.source", "piper")
    for key in ("n_vocab", "hidden_channels", "n_layers", "n_heads", "window_size",
                "filter_channels", "ffn_kernel", "inter_channels", "dp_filter_channels",
                "dp_kernel", "dp_n_layers", "dp_num_bins", "wn_layers", "wn_kernel",
                "upsample_initial_channel", "conv_pre_kernel", "conv_post_kernel",
                "resblock_type", "resblock_n_dilations", "gin_channels"):
        w.add_uint32(f"{ARCH}.{key}", int(hp[key]))
    w.add_float32(f"{ARCH}.dp_tail_bound", float(hp["dp_tail_bound"]))
    w.add_bool(f"{ARCH}.conv_post_bias", bool(hp["conv_post_bias"]))
    for key in ("dp_flows", "flows", "wn_dilations", "upsample_rates", "upsample_kernels",
                "upsample_paddings", "resblock_kernels", "resblock_dilations"):
        w.add_array(f"{ARCH}.{key}", [int(x) for x in hp[key]])

    audio = config.get("audio", {})
    inference = config.get("inference", {})
    w.add_uint32(f"{ARCH}.sample_rate", int(audio.get("sample_rate", 22050)))
    w.add_string(f"{ARCH}.quality", str(audio.get("quality", "")))
    hop = 1
    for r in hp["upsample_rates"]:
        hop *= r
    w.add_uint32(f"{ARCH}.hop_length", int(config.get("hop_length", hop)))
    w.add_float32(f"{ARCH}.noise_scale", float(inference.get("noise_scale", 0.667)))
    w.add_float32(f"{ARCH}.length_scale", float(inference.get("length_scale", 1.0)))
    w.add_float32(f"{ARCH}.noise_w", float(inference.get("noise_w", 0.8)))
    if "phoneme_silence" in inference:
        keys = list(inference["phoneme_silence"].keys())
        w.add_array(f"{ARCH}.phoneme_silence.keys", keys)
        w.add_array(f"{ARCH}.phoneme_silence.seconds",
                    [float(inference["phoneme_silence"][k]) for k in keys])
    w.add_string(f"{ARCH}.phoneme_type", str(config.get("phoneme_type", "espeak")))
    w.add_string(f"{ARCH}.espeak_voice", str(config.get("espeak", {}).get("voice", "en-us")))

    id_map = config.get("phoneme_id_map")
    if not id_map:
        raise ConvertError("the config has no phoneme_id_map")
    keys, counts, ids = [], [], []
    for k, v in id_map.items():
        if len(k) != 1:
            raise ConvertError(f"phoneme_id_map key {k!r} is not a single codepoint")
        keys.append(k)
        counts.append(len(v))
        ids.extend(int(x) for x in v)
    w.add_array(f"{ARCH}.phoneme_id_map.keys", keys)
    w.add_array(f"{ARCH}.phoneme_id_map.counts", counts)
    w.add_array(f"{ARCH}.phoneme_id_map.ids", ids)

    num_speakers = int(config.get("num_speakers", 1))
    w.add_uint32(f"{ARCH}.num_speakers", num_speakers)
    speakers = config.get("speaker_id_map") or {}
    if speakers:
        names = sorted(speakers, key=lambda s: speakers[s])
        w.add_array(f"{ARCH}.speaker_names", names)
        w.add_array(f"{ARCH}.speaker_ids", [int(speakers[n]) for n in names])
    w.add_uint32(f"{ARCH}.default_speaker_id", int(config.get("default_speaker_id", 0)))
    w.add_string(f"{ARCH}.config_json", config_text)

    for name in sorted(tensors):
        w.add_tensor(name, tensors[name])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def convert(onnx_path: Path, config_path: Path, out_path: Path) -> dict:
    model = onnx.load(str(onnx_path))
    config_text = config_path.read_text(encoding="utf-8")
    config = json.loads(config_text)
    named, consumer = collect_weights(model)
    required = ["enc_p.emb.weight", "enc_p.proj.weight", "dp.pre.weight", "dec.conv_pre.weight",
                "dec.conv_post.weight", "dp.flows.0.m", "dp.flows.0.exp_neg_logs"]
    missing = [r for r in required if r not in named]
    if missing:
        raise ConvertError(f"the graph lacks {', '.join(missing)}; is this a Piper VITS voice?")
    hp = hyperparameters(named, consumer)
    n_speakers = int(config.get("num_speakers", 1))
    if n_speakers > 1 and hp["gin_channels"] == 0:
        raise ConvertError("config says several speakers but the graph has no speaker embedding")
    tensors = relayout(named, consumer)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    write_gguf(tmp, out_path.name.removesuffix(".gguf"), tensors, hp, config, config_text)
    tmp.replace(out_path)
    return hp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx", type=Path, help="the voice's .onnx file")
    ap.add_argument("--config", type=Path, help="its .onnx.json (default: next to the .onnx)")
    ap.add_argument("-o", "--output", type=Path, help="output .gguf (default: next to the .onnx)")
    args = ap.parse_args(argv)
    config = args.config or args.onnx.with_name(args.onnx.name + ".json")
    out = args.output or args.onnx.with_suffix(".gguf")
    try:
        if not args.onnx.is_file():
            raise ConvertError(f"no such file: {args.onnx}")
        if not config.is_file():
            raise ConvertError(f"no config next to the voice: {config}")
        hp = convert(args.onnx, config, out)
    except (ConvertError, OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"convert_piper: {exc}", file=sys.stderr)
        return 1
    print(f"convert_piper: wrote {out} (hidden {hp['hidden_channels']}, {hp['n_layers']} layers, "
          f"upsample {hp['upsample_rates']}, gin {hp['gin_channels']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
