"""Shared fixtures for the pytest suite: where the built binaries and the models are."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DUET_BUILD_DIR", ROOT / "build"))
MODELS = Path(os.environ.get("DUET_MODELS", ROOT / "models"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long check; runs in CI too")


@pytest.fixture(scope="session")
def duet_bin() -> Path:
    path = BUILD / "duet"
    if not path.exists():
        pytest.fail(f"{path} is not built; run make build")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


def run_duet(duet_bin, *args, env=None, check=True, timeout=600):
    """Runs build/duet with args; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run([str(duet_bin), *map(str, args)], capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"duet {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc
