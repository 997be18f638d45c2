"""Peer check of Duet's dequantization against gguf-py (the reference Python implementation).

For each type: random floats are quantized with gguf-py where it can (else random valid blocks
are built in numpy), the raw blocks go through the C++ tool dequant_dump, and its float32 output
must equal gguf.quants.dequantize. Finds the tool via DUET_BUILD_DIR (default /work/main/build).
Must never skip silently: a missing tool is a failure that says how to build it.
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

BUILD_DIR = Path(os.environ.get("DUET_BUILD_DIR", "/work/main/build"))
TOOL = BUILD_DIR / "tests" / "dequant_dump"

# Types gguf-py can quantize itself.
QUANTIZABLE = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
# Types we build as random valid blocks: (fp16 field byte offsets to sanitize).
RANDOM_BLOCKS = {
    T.Q2_K: [80, 82],
    T.Q3_K: [108],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}


def run_tool(type_name: str, raw: bytes, tmp_path: Path) -> np.ndarray:
    if not TOOL.exists():
        pytest.fail(f"{TOOL} not found: build it with `cmake --build <build> --target dequant_dump` "
                    "and point DUET_BUILD_DIR at that build directory")
    src = tmp_path / f"{type_name}.bin"
    dst = tmp_path / f"{type_name}.f32"
    src.write_bytes(raw)
    subprocess.run([str(TOOL), type_name, str(src), str(dst)], check=True)
    return np.fromfile(dst, dtype="<f4")


def random_blocks(qtype: T, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in RANDOM_BLOCKS[qtype]:
        scales = rng.uniform(-0.1, 0.1, size=n_blocks).astype(np.float16)
        blocks[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return blocks


def compare(got: np.ndarray, want: np.ndarray, type_name: str) -> None:
    want = want.astype(np.float32).reshape(-1)
    assert got.shape == want.shape, type_name
    # Exact equality is expected; 1e-6 relative allows for a fused multiply-add on either side.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, err_msg=type_name)


@pytest.mark.parametrize("qtype", QUANTIZABLE, ids=lambda t: t.name)
def test_dequant_matches_gguf_py_quantized(qtype: T, tmp_path: Path) -> None:
    rng = np.random.default_rng(1234 + int(qtype))
    data = rng.standard_normal((8, 512)).astype(np.float32)
    data[0, :32] = 0.0  # an all-zero block
    data[1] *= 1000.0   # large values
    q = quants.quantize(data, qtype)
    want = quants.dequantize(q, qtype)
    got = run_tool(qtype.name, np.ascontiguousarray(q).tobytes(), tmp_path)
    compare(got, want, qtype.name)


@pytest.mark.parametrize("qtype", list(RANDOM_BLOCKS), ids=lambda t: t.name)
def test_dequant_matches_gguf_py_random_blocks(qtype: T, tmp_path: Path) -> None:
    rng = np.random.default_rng(99 + int(qtype))
    blocks = random_blocks(qtype, 64, rng)
    want = quants.dequantize(blocks, qtype)
    got = run_tool(qtype.name, blocks.tobytes(), tmp_path)
    compare(got, want, qtype.name)


@pytest.mark.parametrize("qtype", [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0], ids=lambda t: t.name)
def test_dequant_matches_gguf_py_random_legacy_blocks(qtype: T, tmp_path: Path) -> None:
    # Random bit patterns (not only what a quantizer produces) for the 32-element types.
    rng = np.random.default_rng(7 + int(qtype))
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(64, type_size), dtype=np.uint8)
    n_half = 2 if qtype in (T.Q4_1, T.Q5_1) else 1
    for k in range(n_half):
        blocks[:, 2 * k:2 * k + 2] = rng.uniform(-1, 1, 64).astype(np.float16).view(np.uint8).reshape(64, 2)
    want = quants.dequantize(blocks, qtype)
    got = run_tool(qtype.name, blocks.tobytes(), tmp_path)
    compare(got, want, qtype.name)
