"""Serving benchmark: how many concurrent Realtime sessions `duet serve` keeps in real time.

Starts `duet serve --port 0`, then for each N in --sessions opens N concurrent sessions at
/v1/realtime (OpenAI Realtime protocol, GA event names, raw `websockets` client). Every session
streams a spoken question (espeak-ng, made once, 24 kHz pcm16) followed by silence, in 20-40 ms
appends paced by the wall clock, with server_vad or semantic_vad turn detection, for a few turns.
Per N it reports whether every session kept up in real time (appends never fell behind the wall
clock by more than --max-lag-ms, every turn answered), p50/p90 voice-to-voice latency (the
server's duet.latency_trace events, and client-side: first answer audio delta minus the moment
the question's last speech sample was sent), the server's CPU-seconds per minute of conversation
per session (/proc/<pid>/stat), and its resident memory (VmRSS) with 0, 1 and N sessions open.
Writes report.json and report.md into --out (default out/bench-serve/) and prints the table.

It must never make timed assertions or fail because the engine is slow (the figures depend on the
machine and its load), and never stop any process but the server it started itself.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from conversation_audio import RATE as ESPEAK_RATE, espeak  # noqa: E402
from serve_common import DuetServer, resample_linear, to_pcm16  # noqa: E402

RATE = 24000
QUESTIONS = ["What is the capital of France?",
             "How many legs does a spider have?",
             "What color is the sky on a clear day?"]
INSTRUCTIONS = "Answer in one short sentence."
CLK_TCK = os.sysconf("SC_CLK_TCK")
GOAL_SESSIONS, GOAL_P90_MS, GOAL_RSS1_MB, GOAL_EXTRA_MB = 8, 500.0, 500.0, 60.0


# ---------------------------------------------------------------------------------------------
# The server process, seen from /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # fields after the command name
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler:
    """Samples the server's VmRSS every 0.2 s in a thread; peak() over a window of samples."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), rss_mb(self.pid)))
            except OSError:
                return
            self._stop.wait(0.2)

    def peak(self, since: float) -> float:
        vals = [v for t, v in self.samples if t >= since]
        return max(vals) if vals else float("nan")

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)


# ---------------------------------------------------------------------------------------------
# Audio


def question_pcm(text: str) -> bytes:
    """The spoken question at 24 kHz pcm16 (espeak-ng, trimmed of silence)."""
    return to_pcm16(resample_linear(espeak(text), ESPEAK_RATE, RATE))


# ---------------------------------------------------------------------------------------------
# One session


def percentile(values: list[float], q: float):
    vals = [v for v in values if v is not None]
    return round(float(np.percentile(vals, q)), 1) if vals else None


async def run_session(idx: int, url: str, questions: list[bytes], args, phase: dict) -> dict:
    """One Realtime session: configure, stream `args.turns` questions in real time, wait for
    each answer; returns per-turn client timings, the server's traces and the append lag."""
    res = {"session": idx, "turns": [], "traces": [], "errors": [], "max_lag_ms": 0.0,
           "stream_s": 0.0, "opened": False, "idle_before_stream_ms": 0.0}
    chunk = RATE * 2 * args.chunk_ms // 1000
    chunk_s = args.chunk_ms / 1000
    silence = bytes(chunk)
    state = {"turn": None}

    async def receive(ws):
        async for msg in ws:
            now = time.monotonic()
            ev = json.loads(msg)
            kind = ev.get("type", "")
            turn = state["turn"]
            if kind == "duet.latency_trace":
                res["traces"].append(ev.get("trace"))
            elif kind == "error":
                res["errors"].append(ev.get("error", {}).get("message", ""))
            elif turn is None or turn["speech_end_t"] is None:
                continue
            elif kind in ("response.output_audio.delta", "response.audio.delta"):
                if turn["first_audio_t"] is None:
                    turn["first_audio_t"] = now
                turn["audio_bytes"] += len(base64.b64decode(ev.get("delta", "")))
            elif kind == "input_audio_buffer.speech_stopped" and turn["speech_stopped_t"] is None:
                turn["speech_stopped_t"] = now
            elif kind == "response.done":
                status = ev.get("response", {}).get("status")
                if turn["first_audio_t"] is not None and turn["done_t"] is None:
                    turn["done_t"], turn["status"] = now, status
                    turn["done"].set()

    try:
        async with websockets.connect(f"{url}/v1/realtime?model=duet", max_size=None,
                                      ping_interval=None, open_timeout=60) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            created_t = time.monotonic()
            assert first["type"] == "session.created", first
            td = {"type": args.turn_detection, "create_response": True, "interrupt_response": True}
            await ws.send(json.dumps({"type": "session.update", "session": {
                "type": "realtime", "output_modalities": ["audio"], "instructions": INSTRUCTIONS,
                "max_output_tokens": args.max_tokens,
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": RATE},
                                    "turn_detection": td, "transcription": {"model": "whisper-1"}},
                          "output": {"format": {"type": "audio/pcm", "rate": RATE}}}}}))
            while True:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if ev["type"] == "session.updated":
                    break
                if ev["type"] == "error":
                    raise RuntimeError(f"session.update refused: {ev}")
            res["opened"] = True
            receiver = asyncio.create_task(receive(ws))
            phase["opened"].append(idx)
            await phase["go"].wait()
            await asyncio.sleep(idx * args.stagger_ms / 1000)

            start = time.monotonic()
            # The engine's trace puts speech_end_ms on the input-audio timeline but first_audio_ms
            # on the wall clock since the session began, so the wait before streaming inflates it.
            res["idle_before_stream_ms"] = round((start - created_t) * 1000, 1)
            k = 0  # chunks sent so far; chunk k is due when its audio has been "recorded"

            async def send(data: bytes) -> float:
                nonlocal k
                due = start + (k + 1) * chunk_s
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                          "audio": base64.b64encode(data).decode()}))
                now = time.monotonic()
                res["max_lag_ms"] = max(res["max_lag_ms"], (now - due) * 1000)
                k += 1
                return now

            for t in range(args.turns):
                q = questions[(idx + t) % len(questions)]
                buf = bytes(int(RATE * 0.3) * 2) + q
                turn = {"turn": t, "speech_end_t": None, "first_audio_t": None, "done_t": None,
                        "speech_stopped_t": None, "status": None, "audio_bytes": 0,
                        "done": asyncio.Event()}
                state["turn"] = turn
                for i in range(0, len(buf), chunk):
                    piece = buf[i:i + chunk]
                    sent = await send(piece + bytes(chunk - len(piece)))
                turn["speech_end_t"] = sent
                # The microphone keeps going: silence until the answer is complete and has had
                # time to play, or the turn times out.
                deadline = sent + args.turn_timeout_s
                while time.monotonic() < deadline:
                    if turn["done"].is_set():
                        played = turn["first_audio_t"] + turn["audio_bytes"] / (RATE * 2) + 0.3
                        if time.monotonic() >= min(played, turn["done_t"] + 15):
                            break
                    await send(silence)
                res["turns"].append(turn)
            for _ in range(int(0.3 / chunk_s)):
                await send(silence)
            res["stream_s"] = time.monotonic() - start
            phase["finished"].append(idx)
            await phase["close"].wait()
            receiver.cancel()
    except Exception as e:  # a broken session is a finding, not a crash of the benchmark
        res["errors"].append(f"{type(e).__name__}: {e}")
        if not res["opened"]:
            phase["opened"].append(idx)
        phase["finished"].append(idx)
    for turn in res["turns"]:
        turn.pop("done", None)
    return res


# ---------------------------------------------------------------------------------------------
# One phase: N sessions at once


async def wait_count(lst: list, n: int, timeout: float):
    end = time.monotonic() + timeout
    while len(lst) < n and time.monotonic() < end:
        await asyncio.sleep(0.05)


async def run_phase(n: int, server: DuetServer, sampler: RssSampler, questions, args) -> dict:
    pid = server.proc.pid
    phase = {"opened": [], "finished": [], "go": asyncio.Event(), "close": asyncio.Event()}
    rss_before = rss_mb(pid)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    tasks = [asyncio.create_task(run_session(i, server.ws, questions, args, phase))
             for i in range(n)]
    await wait_count(phase["opened"], n, 120)
    await asyncio.sleep(0.5)
    rss_connected = rss_mb(pid)
    phase["go"].set()
    await wait_count(phase["finished"], n, args.turns * (args.turn_timeout_s + 30) + 60)
    rss_open = rss_mb(pid)
    phase["close"].set()
    sessions = await asyncio.gather(*tasks)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(1.0)
    rss_after = rss_mb(pid)

    v2v_server = [tr["voice_to_voice_ms"] for s in sessions for tr in s["traces"]
                  if isinstance(tr, dict) and tr.get("voice_to_voice_ms") is not None]
    v2v_client, turns_total, answered = [], 0, 0
    for s in sessions:
        for turn in s["turns"]:
            turns_total += 1
            if turn["first_audio_t"] is not None:
                answered += 1
                v2v_client.append((turn["first_audio_t"] - turn["speech_end_t"]) * 1000)
            turn["client_v2v_ms"] = (round((turn["first_audio_t"] - turn["speech_end_t"]) * 1000, 1)
                                     if turn["first_audio_t"] is not None else None)
            turn["speech_stopped_after_ms"] = (
                round((turn["speech_stopped_t"] - turn["speech_end_t"]) * 1000, 1)
                if turn["speech_stopped_t"] is not None else None)
            turn["answer_audio_s"] = round(turn.pop("audio_bytes") / (RATE * 2), 2)
            for key in ("speech_end_t", "first_audio_t", "done_t", "speech_stopped_t"):
                turn.pop(key)
    max_lag = max((s["max_lag_ms"] for s in sessions), default=0.0)
    all_opened = all(s["opened"] for s in sessions)
    expected = n * args.turns
    realtime = (all_opened and max_lag <= args.max_lag_ms and answered == expected
                and turns_total == expected)
    minutes = sum(s["stream_s"] for s in sessions) / 60
    cpu = cpu1 - cpu0
    return {
        "sessions": n, "turns_expected": expected, "turns_answered": answered,
        "realtime": realtime, "max_append_lag_ms": round(max_lag, 1),
        "v2v_server_ms": {"p50": percentile(v2v_server, 50), "p90": percentile(v2v_server, 90),
                          "count": len(v2v_server)},
        "v2v_client_ms": {"p50": percentile(v2v_client, 50), "p90": percentile(v2v_client, 90),
                          "count": len(v2v_client)},
        "cpu_s": round(cpu, 2), "wall_s": round(t1 - t0, 2),
        "conversation_min_per_session": round(minutes / n, 3),
        "cpu_s_per_min_per_session": round(cpu / minutes, 2) if minutes > 0 else None,
        "rss_mb": {"before": round(rss_before, 1), "connected": round(rss_connected, 1),
                   "open_after_turns": round(rss_open, 1), "peak": round(sampler.peak(t0), 1),
                   "after_close": round(rss_after, 1)},
        "errors": sorted({e for s in sessions for e in s["errors"]}),
        "per_session": sessions,
    }


# ---------------------------------------------------------------------------------------------
# Report


def summarize(report: dict) -> dict:
    phases = {p["sessions"]: p for p in report["phases"]}
    rss1 = phases[1]["rss_mb"]["open_after_turns"] if 1 in phases else None
    for n, p in phases.items():
        p["extra_session_mb"] = (round((p["rss_mb"]["open_after_turns"] - rss1) / (n - 1), 1)
                                 if rss1 is not None and n > 1 else None)
    good = [n for n, p in phases.items() if p["realtime"] and p["v2v_client_ms"]["p90"] is not None
            and p["v2v_client_ms"]["p90"] < GOAL_P90_MS
            and (p["v2v_server_ms"]["p90"] is None or p["v2v_server_ms"]["p90"] < GOAL_P90_MS)]
    extras = [p["extra_session_mb"] for p in phases.values() if p["extra_session_mb"] is not None]
    return {
        "max_sessions_realtime_p90_under_500ms": max(good) if good else 0,
        "sessions_goal_met": bool(good) and max(good) >= GOAL_SESSIONS,
        "sessions_goal_tested": max(phases) >= GOAL_SESSIONS,
        "rss_0_sessions_mb": report["rss_idle_mb"],
        "rss_1_session_mb": rss1,
        "rss_1_session_goal_met": rss1 is not None and rss1 <= GOAL_RSS1_MB,
        "max_extra_session_mb": max(extras) if extras else None,
        "extra_session_goal_met": (max(extras) <= GOAL_EXTRA_MB) if extras else None,
    }


def fmt(v, digits=0):
    return "-" if v is None else f"{v:.{digits}f}"


def markdown(report: dict) -> str:
    s = report["summary"]
    lines = [f"Serving benchmark ({report['date']}, {report['cpus']} CPUs, {report['duet']}, "
             f"{report['turn_detection']}, {report['turns']} turn(s) per session, "
             f"{report['chunk_ms']} ms appends)", "",
             "| sessions | real time | answered | max append lag | v2v p50 / p90 (server) "
             "| v2v p50 / p90 (client) | CPU-s per conv-min per session | RSS open (MB) "
             "| RSS peak (MB) | per extra session (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in report["phases"]:
        vs, vc = p["v2v_server_ms"], p["v2v_client_ms"]
        lines.append(
            f"| {p['sessions']} | {'yes' if p['realtime'] else 'no'} "
            f"| {p['turns_answered']}/{p['turns_expected']} | {p['max_append_lag_ms']:.0f} ms "
            f"| {fmt(vs['p50'])} / {fmt(vs['p90'])} ms "
            f"| {fmt(vc['p50'])} / {fmt(vc['p90'])} ms "
            f"| {fmt(p['cpu_s_per_min_per_session'], 1)} "
            f"| {p['rss_mb']['open_after_turns']:.0f} | {p['rss_mb']['peak']:.0f} "
            f"| {fmt(p['extra_session_mb'])} |")
    lines += ["", f"Resident memory with 0 sessions: {report['rss_idle_mb']:.0f} MB; "
              f"with 1 session open: {fmt(s['rss_1_session_mb'])} MB.",
              "Goals (issue 8): >= 8 sessions in real time with p90 < 500 ms: "
              + ("met" if s["sessions_goal_met"] else
                 f"not met (best: {s['max_sessions_realtime_p90_under_500ms']} session(s)"
                 + ("" if s["sessions_goal_tested"] else "; 8 not tested in this run") + ")")
              + f"; 1 session <= 500 MB: {'met' if s['rss_1_session_goal_met'] else 'not met'}"
              + "; each further session <= 60 MB: "
              + {True: "met", False: "not met", None: "not measured"}[s["extra_session_goal_met"]]
              + "."]
    lines += ["", "Server v2v: the duet.latency_trace figure as sent, from where the voice's "
              "energy fell (the engine maps that point of the input audio to its clock by when "
              "those samples arrived). "
              "Client v2v: first answer audio delta received minus the send of the question's "
              "last speech sample. The goals are judged on both."]
    errors = sorted({e for p in report["phases"] for e in p["errors"]})
    if errors:
        lines += ["", "Errors seen: " + "; ".join(errors[:5])]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duet", type=Path, default=ROOT / "build" / "duet")
    ap.add_argument("--sessions", default="1,2,4,8", help="comma-separated N to run, in order")
    ap.add_argument("--turns", type=int, default=3, help="questions per session")
    ap.add_argument("--short", action="store_true", help="N=1,2 and one turn each (~90 s)")
    # semantic_vad: Duet's own turn-taking (server_vad waits its fixed silence_duration_ms, 500 ms
    # by default, before it even starts, so its latency is that plus the answer's).
    ap.add_argument("--turn-detection", choices=["server_vad", "semantic_vad"], default="semantic_vad")
    ap.add_argument("--chunk-ms", type=int, default=40, choices=[20, 30, 40])
    ap.add_argument("--max-lag-ms", type=float, default=200.0)
    ap.add_argument("--stagger-ms", type=int, default=250,
                    help="start offset between sessions (250: their turns end close together; "
                         "a cycle over N, e.g. 700 for 8: spread like independent users)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--turn-timeout-s", type=float, default=45.0)
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench-serve")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra argument for duet serve (repeatable), e.g. --server-arg=--threads=2")
    args = ap.parse_args(argv)
    if args.short:
        args.sessions, args.turns = "1,2", 1
        args.turn_timeout_s = min(args.turn_timeout_s, 30.0)
    args.session_list = [int(x) for x in args.sessions.split(",") if x.strip()]
    if not args.session_list or min(args.session_list) < 1:
        ap.error("--sessions needs positive integers")
    return args


async def main_async(args) -> dict:
    questions = [question_pcm(q) for q in QUESTIONS]
    max_n = max(args.session_list)
    server = DuetServer(args.duet, "--rate", "0", "--max-sessions", str(max(16, max_n)),
                        *args.server_arg)
    sampler = RssSampler(server.proc.pid)
    try:
        await asyncio.sleep(1.0)
        report = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  "duet": str(args.duet), "cpus": os.cpu_count(), "turns": args.turns,
                  "turn_detection": args.turn_detection, "chunk_ms": args.chunk_ms,
                  "max_lag_ms": args.max_lag_ms, "max_tokens": args.max_tokens,
                  "rss_idle_mb": round(rss_mb(server.proc.pid), 1), "phases": []}
        for n in args.session_list:
            print(f"[bench-serve] {n} session(s)...", file=sys.stderr, flush=True)
            p = await run_phase(n, server, sampler, questions, args)
            report["phases"].append(p)
            print(f"[bench-serve]   real time: {p['realtime']}, answered {p['turns_answered']}/"
                  f"{p['turns_expected']}, client v2v p90 {p['v2v_client_ms']['p90']} ms",
                  file=sys.stderr, flush=True)
            if not server.alive():
                report["server_died"] = server.log()[-2000:]
                break
        report["summary"] = summarize(report)
        return report
    finally:
        sampler.stop()
        server.stop()


def main(argv=None) -> int:
    args = parse_args(argv)
    report = asyncio.run(main_async(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    md = markdown(report)
    (args.out / "report.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
