"""Proves the latency benchmark (bench/latency/run.py --short) runs end to end and writes a
complete report: both modes, every scripted turn accounted for, a valid SVG chart. It must never
assert anything about timing (the numbers depend on the machine and its load)."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "latency" / "run.py"


@pytest.mark.slow
def test_short_latency_benchmark(duet_bin, tmp_path):
    out = tmp_path / "latency"
    proc = subprocess.run([sys.executable, str(RUN), "--short", "--duet", str(duet_bin), "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    report = json.loads((out / "report.json").read_text())
    assert set(report["modes"]) == {"duet", "cascade"}
    scripted = [t["id"] for conv in report["conversations"] for t in conv["turns"]]
    assert len(scripted) >= 2 and len(set(scripted)) == len(scripted)
    for name, mode in report["modes"].items():
        ids = [t["id"] for t in mode["turns"]]
        assert ids == scripted, f"{name}: turns {ids} != script {scripted}"
        for t in mode["turns"]:
            # Every turn is either answered (with a latency) or counted as missed.
            assert t["answered"] == (t["latency_ms"] is not None)
            assert t["end_s"] > t["start_s"]
        s = mode["summary"]
        assert s["turns"] == len(scripted)
        assert s["answered"] + s["missed"] == s["turns"]
        for key in ("p50_ms", "p90_ms", "min_ms", "max_ms", "premature", "false_barge_ins"):
            assert key in s
    assert {"p50", "p90"} <= set(report["speedup"])

    md = (out / "report.md").read_text()
    assert "| metric | Duet (duplex) | cascade baseline |" in md
    for tid in scripted:
        assert tid in md

    svg = out / "latency.svg"
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text()
    assert "232 ms" in text and "320 ms" in text and "200 ms" in text


def test_a_recordings_end_of_speech_ignores_rumble_below_the_voice():
    """The script's true end of a real recording is where its voice band falls silent: a trailing
    microphone thump or room rumble (here 25 Hz, as loud as the words at its peak) is not speech,
    and counting it would make answers look faster and call honest answers premature."""
    sys.path.insert(0, str(ROOT / "bench" / "latency"))
    import suite

    rate = suite.RATE
    t = np.arange(rate) / rate
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1200 * t))
    n = rate * 3 // 10
    rumble = 0.3 * np.sin(2 * np.pi * 25 * np.arange(n) / rate) * np.hanning(n)  # swells and fades
    clip = np.concatenate([voice, rumble]).astype(np.float32)
    end = suite._last_loud(suite._voice_band(clip), 25)
    assert abs(end - rate) <= rate // 100, f"end of speech at {end / rate:.3f} s, voice ends at 1.000 s"
    # Without the rumble the end is the same: the voice band keeps the voice.
    assert suite._last_loud(suite._voice_band(voice.astype(np.float32)), 25) == rate
