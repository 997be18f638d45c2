"""Builds a multi-speaker Piper voice for tests from a real single-speaker one (no multi-speaker
Piper voice is published on PyPI): the ONNX graph gets what Piper's exporter emits for
num_speakers > 1, with Piper's names: a `sid` input, the speaker table `emb_g.weight` read by
node /emb_g/Gather, and the 1x1 conditioning convolutions dp.cond (added after dp.pre),
flow.flows.N.enc.cond_layer (sliced per WaveNet layer, added where the single-speaker export adds
zeros) and dec.cond (added after dec.conv_pre). Their weights are seeded random numbers, small
enough that every speaker still sounds like speech; the config gains num_speakers and a
speaker_id_map. Test-only; never writes next to the source voice.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

GIN = 64  # Piper's multi-speaker voices use 512; smaller keeps the test file small


def _consumers(graph):
    out = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def _node(graph, name):
    for n in graph.node:
        if n.name == name:
            return n
    raise KeyError(f"the voice graph has no node {name}; not a Piper VITS export?")


def build(onnx_path: Path, config_path: Path, out_dir: Path, speakers: int = 4,
          seed: int = 7) -> Path:
    """Writes out_dir/<name>.onnx and its .onnx.json; returns the .onnx path."""
    rng = np.random.default_rng(seed)
    model = onnx.load(str(onnx_path))
    g = model.graph
    cons = _consumers(g)
    new_nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))

    def cond_conv(prefix, c_out, scale):
        init(f"{prefix}.weight", rng.normal(0, scale, (c_out, GIN, 1)))
        init(f"{prefix}.bias", rng.normal(0, scale, (c_out,)))
        out = f"/{prefix.replace('.', '/')}/Conv_output_0"
        new_nodes.append(helper.make_node("Conv", ["g", f"{prefix}.weight", f"{prefix}.bias"],
                                          [out], name=f"/{prefix.replace('.', '/')}/Conv",
                                          kernel_shape=[1]))
        return out

    # The single-speaker exporter may have named the phoneme table "sid"; free the name.
    for t in g.initializer:
        if t.name == "sid":
            t.name = "enc_p.emb.weight"
            for n in cons.get("sid", []):
                n.input[list(n.input).index("sid")] = "enc_p.emb.weight"
    g.input.append(helper.make_tensor_value_info("sid", TensorProto.INT64, ["batch_size"]))
    init("emb_g.weight", rng.normal(0, 1.0, (speakers, GIN)))
    new_nodes.append(helper.make_node("Gather", ["emb_g.weight", "sid"], ["/emb_g/Gather_output_0"],
                                      name="/emb_g/Gather"))
    g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "g_axes"))
    new_nodes.append(helper.make_node("Unsqueeze", ["/emb_g/Gather_output_0", "g_axes"], ["g"],
                                      name="/Unsqueeze_g"))

    def add_after(node_name, cond_out):
        node = _node(g, node_name)
        src = node.output[0]
        summed = src + "_cond"
        for c in cons.get(src, []):
            for k, name in enumerate(c.input):
                if name == src:
                    c.input[k] = summed
        new_nodes.append(helper.make_node("Add", [src, cond_out], [summed],
                                          name=node_name.rsplit("/", 1)[0] + "/AddCond"))

    hidden = numpy_helper.to_array(
        next(i for i in g.initializer if i.name == "dp.pre.bias")).shape[0]
    add_after("/dp/pre/Conv", cond_conv("dp.cond", hidden, 0.05))
    up0 = numpy_helper.to_array(
        next(i for i in g.initializer if i.name == "dec.conv_pre.bias")).shape[0]
    add_after("/dec/conv_pre/Conv", cond_conv("dec.cond", up0, 0.05))

    flows = sorted({int(n.name.split("/")[2].split(".")[1]) for n in g.node
                    if n.name.startswith("/flow/flows.") and "/enc/in_layers." in n.name})
    for f in flows:
        layers = sorted({int(n.name.split("/")[4].split(".")[1]) for n in g.node
                         if n.name.startswith(f"/flow/flows.{f}/enc/in_layers.")})
        two_h = numpy_helper.to_array(next(
            i for i in g.initializer if i.name == f"flow.flows.{f}.enc.in_layers.0.bias")).shape[0]
        gc = cond_conv(f"flow.flows.{f}.enc.cond_layer", two_h * len(layers), 0.05)
        for li in layers:
            conv = _node(g, f"/flow/flows.{f}/enc/in_layers.{li}/Conv")
            zero_adds = [c for c in cons.get(conv.output[0], []) if c.op_type == "Add"]
            if len(zero_adds) != 1:
                raise ValueError(f"flow {f} layer {li}: expected one Add of the zero conditioning")
            for name, v in ((f"gs{f}_{li}", [li * two_h]), (f"ge{f}_{li}", [(li + 1) * two_h]),
                            (f"ga{f}_{li}", [1])):
                g.initializer.append(numpy_helper.from_array(np.array(v, dtype=np.int64), name))
            sl = f"/flow/flows.{f}/enc/Slice_cond_{li}_output_0"
            new_nodes.append(helper.make_node("Slice", [gc, f"gs{f}_{li}", f"ge{f}_{li}", f"ga{f}_{li}"],
                                              [sl], name=f"/flow/flows.{f}/enc/Slice_cond_{li}"))
            add = zero_adds[0]
            add.input[1 if add.input[0] == conv.output[0] else 0] = sl

    g.initializer.extend(inits)
    # Nodes must stay topologically sorted: the new ones go first where their inputs allow.
    first = [n for n in new_nodes if n.op_type in ("Gather", "Unsqueeze") or
             (n.op_type == "Conv") or n.op_type == "Slice"]
    later = [n for n in new_nodes if n not in first]
    old = list(g.node)
    del g.node[:]
    g.node.extend(first)
    placed = set()
    for n in old:
        g.node.append(n)
        for a in later:
            if id(a) not in placed and a.input[0] in n.output:
                g.node.append(a)
                placed.add(id(a))
    onnx.checker.check_model(model)

    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["num_speakers"] = speakers
    config["speaker_id_map"] = {f"speaker_{i}": i for i in range(speakers)}
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "test_multi-medium.onnx"
    onnx.save(model, str(out))
    (out_dir / "test_multi-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return out
