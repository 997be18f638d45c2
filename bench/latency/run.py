"""Voice-to-voice latency benchmark: Duet's full-duplex mode against the old three-model cascade.

Builds the scripted conversations of bench/latency/suite.py, plays each one through
`duet converse` in real time in both modes (same run, one after the other), and measures on the
output WAV when Duet's answer became audible after the person's true end of speech (known from
the script). Per turn it also reads the engine's stage breakdown from the trace and classifies
missed turns, premature answers and barge-ins from the audio and the events. Writes
report.json, report.md and latency.svg into --out.

It must never make timed assertions or fail because the engine is slow (the numbers depend on
the machine and its load), and never take the engine's word for latency: the headline figure
comes from the audio timeline and the script alone (the engine's events only say which answer
belongs to which turn, and its trace only gives the stage breakdown).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402

ROOT = suite.ROOT
MODES = {"duet": [], "cascade": ["--cascade"]}
FRAME_S = 0.005        # analysis frame of the output's right channel
AUDIBLE_DBFS = -40.0   # a frame is Duet talking above this RMS (silence is digital zero)
MERGE_GAP_S = 0.7      # pauses shorter than this inside Duet's speech join one audible stretch
EVENT_SLACK_S = 2.0    # how far before its playback_started event an answer's audio may begin
OVERLAP_AFTER_S = 1.5  # an interrupt this soon after a turn's speech still belongs to it
REFERENCES = [(200, "human gap ~200 ms"), (232, "GPT-4o 232 ms"), (320, "GPT-4o 320 ms")]


# ---------------------------------------------------------------------------------------------
# Running


def converse(duet: Path, wav: Path, out: Path, mode: str, args) -> dict:
    """One conversation through `duet converse` in one mode; returns paths and wall time."""
    base = out / mode
    cmd = [str(duet), "converse", "--in", str(wav), "--out", f"{base}.wav", "--trace", f"{base}.trace.jsonl",
           "--events", f"{base}.events.jsonl", "--instructions", suite.INSTRUCTIONS,
           "--max-tokens", str(args.max_tokens), "--temperature", "0", "--seed", "1",
           "--max-tail-s", str(args.max_tail_s), "-q", *MODES[mode]]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"duet converse failed ({proc.returncode}) in {mode} mode on {wav}:\n"
                         f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return {"wav": Path(f"{base}.wav"), "trace": Path(f"{base}.trace.jsonl"),
            "events": Path(f"{base}.events.jsonl"), "wall_s": wall}


def read_jsonl(path: Path) -> list:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


# ---------------------------------------------------------------------------------------------
# Measuring


def right_channel(path: Path) -> tuple:
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    data = data.reshape(-1, channels)
    return data[:, 1 if channels > 1 else 0], rate


def duet_segments(right: np.ndarray, rate: int) -> tuple:
    """Stretches where Duet is audible: [(start_s, end_s)], merged across short pauses.

    start_s is the first sample above the threshold inside the first audible frame, so the
    onset is sample-accurate rather than frame-accurate."""
    hop = max(1, int(rate * FRAME_S))
    n = right.size // hop
    frames = right[: n * hop].reshape(n, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    floor = float(np.percentile(rms, 10)) if n else 0.0
    threshold = max(10 ** (AUDIBLE_DBFS / 20), floor * 10)
    loud = rms > threshold
    segs = []
    i = 0
    while i < n:
        if not loud[i]:
            i += 1
            continue
        j = i
        while j < n and loud[j]:
            j += 1
        peak_in = np.flatnonzero(np.abs(frames[i]) > threshold)
        start = (i * hop + (int(peak_in[0]) if peak_in.size else 0)) / rate
        end = j * hop / rate
        if segs and start - segs[-1][1] < MERGE_GAP_S:
            segs[-1] = (segs[-1][0], end)
        else:
            segs.append((start, end))
        i = j
    return segs, {"silence_floor_rms": floor, "threshold_rms": threshold}


def audible_at(segs: list, t: float) -> bool:
    return any(a <= t < b for a, b in segs)


def audible_during(segs: list, t0: float, t1: float) -> bool:
    return any(a < t1 and t0 < b for a, b in segs)


def stage_breakdown(trace: dict | None, end_s: float) -> dict:
    """The engine's milestones relative to the true end of speech, and the stage durations."""
    if not trace:
        return {}
    end_ms = end_s * 1000

    def at(key):
        v = trace.get(key)
        return None if v is None or v < 0 else float(v)

    ms = {k: at(k) for k in ("voice_end_ms", "speech_end_ms", "look_start_ms", "look_text_ms", "look_tone_ms",
                            "speculative_start_ms", "final_transcript_ms", "first_token_ms",
                            "first_tts_chunk_ms", "first_audio_ms")}
    rel = {k.replace("_ms", "_after_end_ms"): (None if v is None else round(v - end_ms, 1)) for k, v in ms.items()}

    def span(a, b):
        return None if ms[a] is None or ms[b] is None else round(ms[b] - ms[a], 1)

    # endpoint: from the detector's end of speech to the committed final transcript; llm: from the
    # commit (or the speculative start, if earlier) to the first token; tts and playout after it.
    think_from = "final_transcript_ms"
    if ms["speculative_start_ms"] is not None and ms["final_transcript_ms"] is not None \
            and ms["speculative_start_ms"] < ms["final_transcript_ms"]:
        think_from = "speculative_start_ms"
    stages = {"voice_end_ms": rel["voice_end_after_end_ms"],
              "vad_end_ms": rel["speech_end_after_end_ms"],
              "look_start_ms": rel["look_start_after_end_ms"],
              "look_ms": span("look_start_ms", "look_text_ms"),
              "endpoint_ms": span("speech_end_ms", "final_transcript_ms"),
              "llm_first_token_ms": span(think_from, "first_token_ms"),
              "tts_first_chunk_ms": span("first_token_ms", "first_tts_chunk_ms"),
              "playout_ms": span("first_tts_chunk_ms", "first_audio_ms")}
    return {"milestones_after_end": rel, "stages": stages, "trace_voice_to_voice_ms": trace.get("voice_to_voice_ms"),
            "rollbacks": trace.get("rollbacks", 0), "looks": trace.get("looks"), "early_look": trace.get("early_look"),
            "end_pitch": trace.get("end_pitch"),
            "interrupted": trace.get("interrupted", False),
            "transcript": trace.get("transcript", ""), "reply": trace.get("reply", "")}


def match_trace(traces: list, turn: dict, window_end: float, used: set) -> dict | None:
    """The trace whose detected end of speech is nearest the turn's true end, inside its window."""
    best, best_d = None, None
    for i, t in enumerate(traces):
        if i in used:
            continue
        end = t.get("speech_end_ms", -1)
        if end is None or end < 0:
            continue
        end_s = end / 1000
        if not (turn["start_s"] - 0.5 <= end_s < window_end):
            continue
        d = abs(end_s - turn["end_s"])
        if best_d is None or d < best_d:
            best, best_d = i, d
    if best is None:
        return None
    used.add(best)
    return traces[best]


def analyse(conv: dict, run: dict) -> dict:
    """Per-turn measurements of one conversation in one mode."""
    right, rate = right_channel(run["wav"])
    segs, levels = duet_segments(right, rate)
    traces = read_jsonl(run["trace"])
    events = read_jsonl(run["events"])
    duration = right.size / rate
    turns = conv["turns"]
    used: set = set()
    rows = []
    # Each new answer is one playback_started event; its onset is measured on the audio: the
    # start of the audible stretch nearest the event (event stamps can drift from the audio
    # timeline when the engine runs behind, so the audio decides), so pauses and underruns inside
    # an answer are never taken for a new answer. The answer belongs to the scripted turn that
    # was being spoken or had last ended when the engine committed the input it answers (the
    # transcript_final before its response_started, shifted by the same drift): an answer to an
    # earlier turn that comes late is never credited to the next one.
    def turn_at(t):
        return next((i for i in range(len(turns) - 1, -1, -1) if turns[i]["start_s"] <= t), None)

    committed, heard, started = None, {}, {}
    for e in events:
        kind, t = e.get("type"), e.get("time_ms", 0) / 1000
        if kind == "transcript_final":
            committed = (t, e.get("text", ""))
        elif kind == "response_started" and committed is not None:
            started[e.get("turn")] = committed
    answers: dict = {}
    for e in sorted((e for e in events if e.get("type") == "playback_started"), key=lambda e: e.get("time_ms", 0)):
        p = e.get("time_ms", 0) / 1000
        near = [a for a, _ in segs if p - EVENT_SLACK_S <= a <= p + 0.3]
        onset, source = (min(near, key=lambda a: abs(a - p)), "audio") if near else (p, "event")
        if e.get("turn") in started:
            c, text = started[e["turn"]]
            k = turn_at(c - (p - onset))
        else:  # no commit seen: the turn whose window holds the onset
            c, text = None, ""
            k = turn_at(onset)
            if k is not None and onset < turns[k]["end_s"] and k > 0 and (k - 1) not in answers:
                k -= 1
        if k is not None and k not in answers:
            answers[k] = (onset, source, text)
    for k, turn in enumerate(turns):
        window_end = turns[k + 1]["start_s"] if k + 1 < len(turns) else duration
        onset, source, text = answers.get(k, (None, None, None))
        row = {"id": turn["id"], "text": turn["text"], "voice": turn["voice"], "tags": turn["tags"],
               "start_s": turn["start_s"], "end_s": turn["end_s"], "barge_in": turn["barge_in"],
               "answered": onset is not None, "premature": onset is not None and onset < turn["end_s"],
               "late_into_next_turn": onset is not None and onset >= window_end,
               "latency_ms": round((onset - turn["end_s"]) * 1000, 1) if onset is not None else None,
               "answer_onset_s": round(onset, 4) if onset is not None else None, "onset_from": source,
               "answered_transcript": text,
               "duet_audible_at_start": audible_at(segs, turn["start_s"]),
               "duet_audible_during": audible_during(segs, turn["start_s"], turn["end_s"])}
        trace = match_trace(traces, turn, window_end, used)
        row.update(stage_breakdown(trace, turn["end_s"]))
        if trace and onset is not None and trace.get("first_audio_ms", -1) >= 0:
            # How far the engine's own time stamp of its first audio is from the audio itself.
            row["trace_first_audio_minus_onset_ms"] = round(trace["first_audio_ms"] - onset * 1000, 1)
        rows.append(row)

    # Interrupts: expected inside a scripted barge-in; "overrun" when the person began the next
    # scripted turn while Duet was still answering the last (the answer outlasted the gap);
    # false otherwise (a backchannel, a cough, noise, silence).
    interrupts = []
    for e in events:
        if e.get("type") != "interrupt":
            continue
        t = e.get("time_ms", 0) / 1000
        kind, where = "false", None
        for turn in turns:
            if turn["start_s"] <= t < turn["end_s"] + OVERLAP_AFTER_S:
                kind, where = ("expected" if turn["barge_in"] else "overrun"), turn["id"]
                break
        if where is None:
            for other in conv["others"]:
                if other["start_s"] <= t < other["end_s"] + OVERLAP_AFTER_S:
                    where = f"{other['kind']} {other['text']}".strip()
                    break
        interrupts.append({"time_s": round(t, 3), "kind": kind, "during": where})
    for row in rows:
        if row["barge_in"]:
            row["barge_in_honoured"] = any(i["kind"] == "expected" and i["during"] == row["id"] for i in interrupts)
    others = [{**o, "duet_audible_at_start": audible_at(segs, o["start_s"]),
               "duet_audible_during": audible_during(segs, o["start_s"], o["end_s"]),
               "interrupted_duet": any(i["during"] == f"{o['kind']} {o['text']}".strip() for i in interrupts)}
              for o in conv["others"]]
    return {"turns": rows, "interrupts": interrupts, "others": others, "levels": levels,
            "segments": [[round(a, 3), round(b, 3)] for a, b in segs], "wall_s": round(run["wall_s"], 2),
            "output_s": round(duration, 2)}


def summarise(rows: list, interrupts: list) -> dict:
    clean = [r["latency_ms"] for r in rows if r["answered"] and not r["premature"]]
    arr = np.array(clean, dtype=np.float64)

    def pct(q):
        return round(float(np.percentile(arr, q)), 1) if arr.size else None

    barge = [r for r in rows if r["barge_in"]]
    return {"turns": len(rows), "answered": sum(r["answered"] for r in rows),
            "missed": sum(not r["answered"] for r in rows), "premature": sum(r["premature"] for r in rows),
            "false_barge_ins": sum(i["kind"] == "false" for i in interrupts),
            "overrun_interrupts": sum(i["kind"] == "overrun" for i in interrupts),
            "unscripted_interrupts": sum(i["kind"] != "expected" for i in interrupts),
            "barge_ins_scripted": len(barge), "barge_ins_honoured": sum(r.get("barge_in_honoured", False) for r in barge),
            "measured": int(arr.size), "p50_ms": pct(50), "p90_ms": pct(90),
            "min_ms": round(float(arr.min()), 1) if arr.size else None,
            "max_ms": round(float(arr.max()), 1) if arr.size else None,
            "mean_ms": round(float(arr.mean()), 1) if arr.size else None}


# ---------------------------------------------------------------------------------------------
# Reporting


def fmt_ms(v) -> str:
    return "-" if v is None else f"{v:.0f}"


def markdown(report: dict) -> str:
    s = {m: report["modes"][m]["summary"] for m in MODES}
    sp = report["speedup"]
    lines = [f"Voice-to-voice latency, {report['meta']['date']} on {report['meta']['cores']} cores "
             f"(load {report['meta']['loadavg_start']}); ms from the person's true end of speech to "
             f"Duet's first audible sample.", "",
             "| metric | Duet (duplex) | cascade baseline |", "| --- | ---: | ---: |"]
    for key, label in [("p50_ms", "p50 (ms)"), ("p90_ms", "p90 (ms)"), ("min_ms", "min (ms)"), ("max_ms", "max (ms)"),
                       ("mean_ms", "mean (ms)")]:
        lines.append(f"| {label} | {fmt_ms(s['duet'][key])} | {fmt_ms(s['cascade'][key])} |")
    for key, label in [("turns", "scripted turns"), ("measured", "measured (answered, not premature)"),
                       ("missed", "missed turns"), ("premature", "premature answers"),
                       ("false_barge_ins", "false barge-ins"),
                       ("overrun_interrupts", "interrupted by the next turn (answer outlasted the gap)")]:
        lines.append(f"| {label} | {s['duet'][key]} | {s['cascade'][key]} |")
    lines.append(f"| barge-ins honoured | {s['duet']['barge_ins_honoured']}/{s['duet']['barge_ins_scripted']} | "
                 f"{s['cascade']['barge_ins_honoured']}/{s['cascade']['barge_ins_scripted']} |")
    lines.append(f"| wall time (s) | {report['modes']['duet']['wall_s']:.0f} | {report['modes']['cascade']['wall_s']:.0f} |")
    lines += ["", f"Speed-up (cascade / Duet): p50 {sp['p50'] or '-'}x, p90 {sp['p90'] or '-'}x, "
              f"mean {sp['mean'] or '-'}x.", "",
              "| turn | voice | tags | Duet ms | Duet stages: voice end / vad end / look start / look / endpoint / llm / tts / playout | cascade ms |",
              "| --- | --- | --- | ---: | --- | ---: |"]
    by_id = {m: {r["id"]: r for r in report["modes"][m]["turns"]} for m in MODES}
    for r in report["modes"]["duet"]["turns"]:
        c = by_id["cascade"][r["id"]]

        def cell(row):
            if not row["answered"]:
                return "missed"
            return fmt_ms(row["latency_ms"]) + (" (premature)" if row["premature"] else "")

        st = r.get("stages", {})
        stages = " / ".join(fmt_ms(st.get(k)) for k in ("voice_end_ms", "vad_end_ms", "look_start_ms", "look_ms", "endpoint_ms",
                                                          "llm_first_token_ms", "tts_first_chunk_ms",
                                                          "playout_ms")) if st else "-"
        lines.append(f"| {r['id']} | {r['voice']} | {', '.join(r['tags'])} | {cell(r)} | {stages} | {cell(c)} |")
    lines.append("")
    for m in MODES:
        for r in report["modes"][m]["turns"]:
            if r["barge_in"]:
                lines.append(f"- {m}: barge-in {r['id']}: Duet audible while the person spoke over it: "
                             f"{'yes' if r['duet_audible_during'] else 'no'}; Duet stopped: "
                             f"{'yes' if r.get('barge_in_honoured') else 'no'}")
        for o in report["modes"][m]["others"]:
            what = f"{o['kind']} \"{o['text']}\"" if o["text"] else o["kind"]
            lines.append(f"- {m}: {what} at {o['start_s']:.2f} s in {o['conversation']}: Duet audible "
                         f"then: {'yes' if o['duet_audible_during'] else 'no'}; it interrupted Duet: "
                         f"{'yes' if o['interrupted_duet'] else 'no'}")
        for i in report["modes"][m]["interrupts"]:
            if i["kind"] != "expected":
                lines.append(f"- {m}: {i['kind']} interrupt at {i['time_s']:.2f} s in {i['conversation']}"
                             f" (during {i['during'] or 'no scripted sound'})")
    return "\n".join(lines).rstrip() + "\n"


def svg_chart(report: dict) -> str:
    """Two panels, hand-written SVG: latency per turn, and the sorted distribution (CDF), both on
    a log scale, with the 200 / 232 / 320 ms reference lines."""
    colours = {"duet": "#1f77b4", "cascade": "#d62728"}
    names = {"duet": "Duet (duplex)", "cascade": "cascade baseline"}
    ids = [r["id"] for r in report["modes"]["duet"]["turns"]]
    data = {m: [r["latency_ms"] if r["answered"] and r["latency_ms"] is not None and r["latency_ms"] > 0 else None
                for r in report["modes"][m]["turns"]] for m in MODES}
    values = [v for m in MODES for v in data[m] if v]
    lo = 100.0
    hi = max([1000.0] + [v * 1.3 for v in values])
    W, H = 1160, 520
    top, bottom = 50, 400
    p1 = (70, 700)   # x range of the per-turn panel
    p2 = (780, 1070)  # x range of the distribution panel

    def y(v):
        return bottom - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (bottom - top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">Voice-to-voice latency: Duet vs the '
           f'three-model cascade ({report["meta"]["date"]}, {report["meta"]["cores"]} cores)</text>']
    ticks = [t for t in (100, 200, 500, 1000, 2000, 5000, 10000, 20000) if lo <= t <= hi]
    for x0, x1, title in ((p1[0], p1[1], "per turn (ms, log scale)"), (p2[0], p2[1], "distribution (sorted turns)")):
        out.append(f'<text x="{(x0 + x1) / 2}" y="42" text-anchor="middle" font-size="12">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}" stroke="black"/>')
        for t in ticks:
            out.append(f'<line x1="{x0}" y1="{y(t):.1f}" x2="{x1}" y2="{y(t):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 - 4}" y="{y(t) + 4:.1f}" text-anchor="end">{t}</text>')
        for v, label in REFERENCES:
            dash = "2,2" if v == 200 else "6,3"
            out.append(f'<line x1="{x0}" y1="{y(v):.1f}" x2="{x1}" y2="{y(v):.1f}" stroke="#2ca02c" '
                       f'stroke-dasharray="{dash}"/>')
        if x0 == p2[0]:
            for k, (v, label) in enumerate(REFERENCES):
                out.append(f'<text x="{x1}" y="{y(v) - 3 - 9 * (k == 2) + 9 * (k == 0):.1f}" text-anchor="end" '
                           f'fill="#2ca02c">{label}</text>')
    n = len(ids)
    step = (p1[1] - p1[0]) / max(n, 1)
    for k, tid in enumerate(ids):
        x = p1[0] + step * (k + 0.5)
        out.append(f'<text transform="translate({x:.1f},{bottom + 8}) rotate(60)" font-size="9">{tid}</text>')
        for m, dx in (("duet", -step * 0.15), ("cascade", step * 0.15)):
            v = data[m][k]
            if v:
                out.append(f'<circle cx="{x + dx:.1f}" cy="{y(v):.1f}" r="4" fill="{colours[m]}"/>')
            else:
                out.append(f'<text x="{x + dx:.1f}" y="{bottom - 4}" text-anchor="middle" fill="{colours[m]}">x</text>')
    for m in MODES:
        vals = sorted(v for v in data[m] if v)
        if not vals:
            continue
        pts = []
        for k, v in enumerate(vals):
            x = p2[0] + (k + 0.5) / len(vals) * (p2[1] - p2[0])
            pts.append(f"{x:.1f},{y(v):.1f}")
        out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colours[m]}" stroke-width="2"/>')
        for pt in pts:
            cx, cy = pt.split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colours[m]}"/>')
        p50 = report["modes"][m]["summary"]["p50_ms"]
        if p50:
            out.append(f'<line x1="{p2[0]}" y1="{y(p50):.1f}" x2="{p2[1]}" y2="{y(p50):.1f}" stroke="{colours[m]}" '
                       f'stroke-width="0.8" stroke-dasharray="1,3"/>')
    lx = p2[0]
    for k, m in enumerate(MODES):
        s = report["modes"][m]["summary"]
        out.append(f'<circle cx="{lx}" cy="{440 + 18 * k}" r="5" fill="{colours[m]}"/>')
        out.append(f'<text x="{lx + 10}" y="{444 + 18 * k}">{names[m]}: p50 {fmt_ms(s["p50_ms"])} ms, '
                   f'p90 {fmt_ms(s["p90_ms"])} ms, min {fmt_ms(s["min_ms"])} ms</text>')
    out.append(f'<text x="{lx}" y="{444 + 36}" fill="#666">x on the axis: missed or premature</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="one short conversation (the test suite's check)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench-latency", help="report folder")
    ap.add_argument("--duet", type=Path, default=Path(os.environ.get("DUET_BUILD_DIR", ROOT / "build")) / "duet",
                    help="the duet binary (default build/duet, or $DUET_BUILD_DIR/duet)")
    ap.add_argument("--max-tokens", type=int, default=24,
                    help="longest answer: the instructions ask for at most fifteen words (about 20 tokens), "
                         "and the script leaves 7 s for an answer before the next turn")
    ap.add_argument("--max-tail-s", type=float, default=8.0, help="longest wait after the input ends")
    ap.add_argument("--reanalyse", action="store_true",
                    help="do not run the engine; measure the outputs already in --out again")
    ap.add_argument("--threads", type=int, default=0, help="compute threads (0: the engine's default)")
    args = ap.parse_args()
    if not args.duet.exists():
        raise SystemExit(f"{args.duet} is not built; run make build (or pass --duet)")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    date0 = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load0 = f"{os.getloadavg()[0]:.1f}"
    if args.reanalyse:
        previous = json.loads((args.out / "report.json").read_text())
        plan = [(t["name"], None) for t in previous["conversations"]]
        audio_s = previous["meta"]["audio_s_per_mode"]
    else:
        convs = suite.build(args.duet, short=args.short)
        plan = [(c.name, c) for c in convs]
        audio_s = round(sum(c.duration_s for c in convs), 1)
    truths = []
    modes = {m: {"turns": [], "interrupts": [], "others": [], "wall_s": 0.0, "conversations": {}} for m in MODES}
    for name, conv in plan:
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        wav = folder / "person.wav"
        if conv is None:
            truth = json.loads((folder / "script.json").read_text())
        else:
            conv.write(wav)
            truth = conv.truth()
            (folder / "script.json").write_text(json.dumps(truth, indent=1))
        truths.append(truth)
        for m in MODES:  # the same conversation in both modes, back to back
            if args.reanalyse:
                run = {k: folder / f"{m}.{ext}" for k, ext in (("wav", "wav"), ("trace", "trace.jsonl"),
                                                              ("events", "events.jsonl"))}
                run["wall_s"] = previous["modes"][m]["conversations"].get(name, {}).get("wall_s", 0.0)
            else:
                run = converse(args.duet, wav, folder, m, args)
            res = analyse(truth, run)
            for i in res["interrupts"]:
                i["conversation"] = name
            modes[m]["turns"] += res["turns"]
            modes[m]["interrupts"] += res["interrupts"]
            modes[m]["others"] += [{**o, "conversation": name} for o in res["others"]]
            modes[m]["wall_s"] += res["wall_s"]
            modes[m]["conversations"][name] = {k: res[k] for k in ("segments", "levels", "wall_s", "output_s")}
            print(f"{name:11s} {m:8s} " + " ".join(fmt_ms(r["latency_ms"]) + ("!" if r["premature"] else "")
                                                        for r in res["turns"]) + f"  ({res['wall_s']:.0f} s)",
                  flush=True)
    for m in MODES:
        modes[m]["summary"] = summarise(modes[m]["turns"], modes[m]["interrupts"])
    sd, sc = modes["duet"]["summary"], modes["cascade"]["summary"]
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    report = {
        "meta": {"date": date0, "short": args.short,
                 "duet": str(args.duet), "commit": git.stdout.strip() or None, "cores": os.cpu_count(),
                 "loadavg_start": load0, "max_tokens": args.max_tokens, "instructions": suite.INSTRUCTIONS,
                 "audible_dbfs": AUDIBLE_DBFS, "merge_gap_s": MERGE_GAP_S, "wall_s": round(time.monotonic() - started, 1),
                 "audio_s_per_mode": audio_s},
        "modes": modes,
        "speedup": {"p50": ratio(sc["p50_ms"], sd["p50_ms"]), "p90": ratio(sc["p90_ms"], sd["p90_ms"]),
                    "mean": ratio(sc["mean_ms"], sd["mean_ms"])},
        "conversations": truths,
        "references_ms": {label: v for v, label in REFERENCES},
    }
    if args.reanalyse:  # the run itself happened earlier: keep its date, load and wall time
        for key in ("date", "loadavg_start", "wall_s", "duet", "commit", "max_tokens"):
            report["meta"][key] = previous["meta"].get(key, report["meta"][key])
        report["meta"]["reanalysed"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    (args.out / "report.md").write_text(markdown(report))
    (args.out / "latency.svg").write_text(svg_chart(report))
    print(markdown(report))
    print(f"wrote {args.out}/report.json, report.md, latency.svg ({report['meta']['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
