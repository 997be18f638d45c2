"""Writes small valid GGUF files (with the PyPI gguf package) as the fuzzer's seed corpus."""
import sys
from pathlib import Path

import numpy as np
import gguf

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
for i, arch in enumerate(["llama", "gemma3"]):
    w = gguf.GGUFWriter(str(out / f"seed{i}.gguf"), arch)
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["a", "b", "ab", "<s>"])
    w.add_token_types([1, 1, 1, 3])
    w.add_array("test.floats", [1.5, 2.5])
    w.add_bool("test.flag", True)
    w.add_tensor("f32", rng.standard_normal((2, 8), dtype=np.float32))
    q = gguf.quants.quantize(rng.standard_normal((2, 32), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("q8", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
