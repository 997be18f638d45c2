"""Duet's GGUF reader against the reference reader, the PyPI gguf package, on the real models:
the same metadata and the same tensor table."""
import json
import subprocess

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

MODELS = [("smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
          ("gemma3-270m", "gemma-3-270m-q4_k_m.gguf")]


def reference_value(field):
    parts = field.parts
    if field.types[0] == gguf.GGUFValueType.ARRAY:
        if field.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(parts[i]).decode("utf-8", errors="replace") for i in field.data]
        return [parts[i].tolist()[0] for i in field.data]
    if field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(parts[field.data[0]]).decode("utf-8", errors="replace")
    return parts[field.data[0]].tolist()[0]


@pytest.mark.parametrize("model,filename", MODELS)
def test_metadata_and_tensors_match_the_reference_reader(duet_bin, models_dir, model, filename):
    path = models_dir / model / filename
    if not path.exists():
        pytest.skip(f"{path} not pulled")
    ours = json.loads(subprocess.run([str(duet_bin), "inspect", "--json", str(path)], check=True,
                                     capture_output=True, text=True).stdout)
    ref = gguf.GGUFReader(str(path))
    ref_meta = {k: reference_value(f) for k, f in ref.fields.items() if not k.startswith("GGUF.")}
    assert set(ours["metadata"]) == set(ref_meta)
    for key, value in ref_meta.items():
        got = ours["metadata"][key]
        if isinstance(value, float) or (isinstance(value, list) and value and isinstance(value[0], float)):
            np.testing.assert_allclose(got, value, rtol=1e-6, err_msg=key)
        else:
            assert got == value, key
    assert [t["name"] for t in ours["tensors"]] == [t.name for t in ref.tensors]
    for mine, theirs in zip(ours["tensors"], ref.tensors):
        assert mine["type"] == theirs.tensor_type.name, mine["name"]
        assert mine["shape"] == [int(x) for x in theirs.shape], mine["name"]
        assert mine["nbytes"] == int(theirs.n_bytes), mine["name"]
