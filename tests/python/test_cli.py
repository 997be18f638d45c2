"""The `duet` command line: version, help on every subcommand, and clean errors."""
import re

from conftest import run_duet

SUBCOMMANDS = [["say"], ["models"], ["models", "list"], ["models", "pull"], ["models", "verify"],
               ["models", "path"], ["llm"], ["inspect"], ["transcribe"], ["listen"], ["converse"],
               ["chat"], ["serve"]]


def test_version_prints_the_project_version(duet_bin):
    out = run_duet(duet_bin, "--version").stdout
    assert re.fullmatch(r"duet \d+\.\d+\.\d+\s*", out), out


def test_top_level_help_lists_the_subcommands(duet_bin):
    out = run_duet(duet_bin, "--help").stdout
    for name in ("say", "models", "llm", "inspect", "transcribe", "listen", "converse", "chat",
                 "serve"):
        assert name in out


def test_every_subcommand_has_help(duet_bin):
    for sub in SUBCOMMANDS:
        proc = run_duet(duet_bin, *sub, "--help")
        assert "Usage" in proc.stdout or "usage" in proc.stdout.lower(), sub


def test_unknown_subcommand_fails_without_crashing(duet_bin):
    proc = run_duet(duet_bin, "frobnicate", check=False)
    assert proc.returncode not in (0, -11, -6, 134, 139)


def test_llm_answers_a_prompt_through_the_chat_template(duet_bin, models_dir):
    if not (models_dir / "smollm2-135m-instruct").exists():
        import pytest
        pytest.skip("SmolLM2 is not pulled")
    proc = run_duet(duet_bin, "llm", "-p", "Name a colour.", "-n", "12", "--temp", "0", "-v", "-t", "1")
    assert proc.stdout.strip(), "some text was generated"
    assert "prompt tokens" in proc.stderr and "tok/s" in proc.stderr


def test_llm_with_a_missing_model_file_names_the_fix(duet_bin, tmp_path):
    proc = run_duet(duet_bin, "llm", "-p", "hi", env={"DUET_MODELS": str(tmp_path)}, check=False)
    assert proc.returncode == 1
    assert "duet models pull smollm2-135m-instruct" in proc.stderr


def test_llm_rejects_a_file_that_is_not_gguf(duet_bin, tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"RIFF....WAVEfmt " + bytes(64))
    proc = run_duet(duet_bin, "llm", "-m", bogus, "-p", "hi", check=False)
    assert proc.returncode == 1 and "not a GGUF file" in proc.stderr
