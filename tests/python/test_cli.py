"""The `duet` command line: version, help on every subcommand, and clean errors."""
import re

from conftest import run_duet

SUBCOMMANDS = [["say"], ["models"], ["models", "list"], ["models", "pull"], ["models", "verify"],
               ["models", "path"]]


def test_version_prints_the_project_version(duet_bin):
    out = run_duet(duet_bin, "--version").stdout
    assert re.fullmatch(r"duet \d+\.\d+\.\d+\s*", out), out


def test_top_level_help_lists_the_subcommands(duet_bin):
    out = run_duet(duet_bin, "--help").stdout
    for name in ("say", "models"):
        assert name in out


def test_every_subcommand_has_help(duet_bin):
    for sub in SUBCOMMANDS:
        proc = run_duet(duet_bin, *sub, "--help")
        assert "Usage" in proc.stdout or "usage" in proc.stdout.lower(), sub


def test_unknown_subcommand_fails_without_crashing(duet_bin):
    proc = run_duet(duet_bin, "frobnicate", check=False)
    assert proc.returncode not in (0, -11, -6, 134, 139)
