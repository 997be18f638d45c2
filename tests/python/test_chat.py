"""`duet chat` on a machine without a sound card: it must say so in one clear line that points to
`duet converse`, before loading any model, and exit with an error status."""
from pathlib import Path

import pytest

from conftest import run_duet


def has_sound_card() -> bool:
    cards = Path("/proc/asound/cards")
    return cards.exists() and "no soundcards" not in cards.read_text() and cards.read_text().strip() != ""


@pytest.mark.skipif(has_sound_card(), reason="this machine has a sound card; chat would start")
def test_chat_without_a_sound_device_says_so_and_points_to_converse(duet_bin, tmp_path):
    proc = run_duet(duet_bin, "chat", check=False, timeout=60,
                    env={"DUET_MODELS": str(tmp_path / "no-models")})
    assert proc.returncode != 0
    assert "no sound device" in proc.stderr, proc.stderr
    assert "duet converse" in proc.stderr, proc.stderr
