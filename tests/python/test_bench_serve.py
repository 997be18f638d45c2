"""Proves the serving benchmark (bench/serve/run.py --short) runs end to end against `duet serve`
and writes a complete report: one phase per session count, every turn accounted for, CPU and
memory figures present, a Markdown table. It must never assert anything about timing or resource
figures (they depend on the machine and its load)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "serve" / "run.py"

pytest.importorskip("websockets")


@pytest.mark.slow
def test_short_serve_benchmark(duet_bin, models_dir, tmp_path):
    for name in ("whisper-tiny.en", "smollm2-135m-instruct"):
        if not (models_dir / name).exists():
            pytest.skip(f"{name} is not pulled")
    out = tmp_path / "bench-serve"
    proc = subprocess.run([sys.executable, str(RUN), "--short", "--duet", str(duet_bin),
                           "--out", str(out)], capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    report = json.loads((out / "report.json").read_text())
    assert report["turns"] == 1
    assert isinstance(report["rss_idle_mb"], float)
    assert [p["sessions"] for p in report["phases"]] == [1, 2]
    for p in report["phases"]:
        n = p["sessions"]
        assert p["turns_expected"] == n
        assert 0 <= p["turns_answered"] <= n
        assert isinstance(p["realtime"], bool)
        assert p["max_append_lag_ms"] >= 0
        for key in ("v2v_server_ms", "v2v_client_ms"):
            assert {"p50", "p90", "count"} <= set(p[key])
        assert p["v2v_client_ms"]["count"] == p["turns_answered"]
        assert p["cpu_s"] >= 0 and p["wall_s"] > 0
        assert "cpu_s_per_min_per_session" in p
        assert {"before", "connected", "open_after_turns", "peak", "after_close"} <= set(p["rss_mb"])
        assert len(p["per_session"]) == n
        for s in p["per_session"]:
            assert len(s["turns"]) <= 1
            for t in s["turns"]:
                if t["client_v2v_ms"] is None:
                    assert t["status"] is None and t["answer_audio_s"] == 0
    assert report["phases"][0]["extra_session_mb"] is None
    assert report["phases"][1]["extra_session_mb"] is not None
    summary = report["summary"]
    for key in ("max_sessions_realtime_p90_under_500ms", "sessions_goal_met", "rss_0_sessions_mb",
                "rss_1_session_mb", "rss_1_session_goal_met", "max_extra_session_mb",
                "extra_session_goal_met"):
        assert key in summary

    md = (out / "report.md").read_text()
    assert "| sessions | real time |" in md
    assert md.count("\n| 1 |") == 1 and md.count("\n| 2 |") == 1
    assert md in proc.stdout
