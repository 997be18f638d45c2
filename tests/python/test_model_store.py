"""The model store: every default model present and verified, real pulls from the registry, and a
one-line error naming the file and the fixing command for a missing or corrupt model."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_duet

MANIFEST = json.loads((ROOT / "tools/models/manifest.json").read_text())
NAMES = [m["name"] for m in MANIFEST["models"]]


def test_every_default_model_is_present_and_verified(duet_bin, models_dir):
    out = run_duet(duet_bin, "models", "list", env={"DUET_MODELS": str(models_dir)}).stdout
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert set(rows) == set(NAMES), out
    for name, row in rows.items():
        assert " verified " in row, row
        assert "==" in row, "the source package is shown"


def test_list_with_verify_rehashes_and_agrees(duet_bin, models_dir):
    out = run_duet(duet_bin, "models", "list", "--verify", env={"DUET_MODELS": str(models_dir)}).stdout
    assert out.count(" verified ") == len(NAMES), out


def test_missing_model_gives_one_line_naming_file_and_fix(duet_bin, tmp_path):
    proc = run_duet(duet_bin, "models", "path", "smollm2-135m-instruct",
                    env={"DUET_MODELS": str(tmp_path)}, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in lines[0] and "missing" in lines[0]
    assert "duet models pull smollm2-135m-instruct" in lines[0]


def test_truncated_model_is_reported_corrupt(duet_bin, models_dir, tmp_path):
    src = models_dir / "silero-vad" / "silero_vad.onnx"
    dst = tmp_path / "silero-vad" / "silero_vad.onnx"
    dst.parent.mkdir()
    dst.write_bytes(src.read_bytes()[:1000])
    proc = run_duet(duet_bin, "models", "path", "silero-vad", env={"DUET_MODELS": str(tmp_path)},
                    check=False)
    assert proc.returncode == 1
    assert "corrupt" in proc.stderr and "silero_vad.onnx" in proc.stderr
    assert "duet models pull silero-vad" in proc.stderr
    listing = run_duet(duet_bin, "models", "list", env={"DUET_MODELS": str(tmp_path)}).stdout
    assert "corrupt" in listing and "missing" in listing


def test_same_size_tampering_is_caught_by_verify(duet_bin, models_dir, tmp_path):
    shutil.copytree(models_dir / "silero-vad", tmp_path / "silero-vad")
    target = tmp_path / "silero-vad" / "silero_vad_16k_op15.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    proc = run_duet(duet_bin, "models", "verify", "silero-vad", env={"DUET_MODELS": str(tmp_path)},
                    check=False)
    assert proc.returncode == 1
    assert "corrupt" in proc.stdout and "sha256" in proc.stdout


def test_unknown_model_lists_the_known_ones(duet_bin):
    proc = run_duet(duet_bin, "models", "path", "gpt-9", check=False)
    assert proc.returncode == 1
    assert "unknown model 'gpt-9'" in proc.stderr and "smollm2-135m-instruct" in proc.stderr


def test_pull_fetches_from_the_registry_then_skips(duet_bin, tmp_path):
    env = {"DUET_MODELS": str(tmp_path)}
    first = run_duet(duet_bin, "models", "pull", "silero-vad", env=env)
    assert "installed and verified" in first.stderr
    assert (tmp_path / "silero-vad" / "silero_vad.onnx").stat().st_size == 2327524
    assert not (tmp_path / ".cache" / "silero-vad-6.2.3").exists(), "the wheel is cleaned up"
    second = run_duet(duet_bin, "models", "pull", "silero-vad", env=env)
    assert "nothing to do" in second.stderr and "installed" not in second.stderr
