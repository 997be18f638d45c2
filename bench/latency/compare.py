"""Same-run comparison of two duet builds on the voice-to-voice latency suite (duplex mode only).

This machine's speed drifts by 10-25% within minutes, so two builds measured in separate runs do
not compare. This script runs every conversation of the suite through build A and build B back to
back, alternating which goes first, for --rounds rounds, and reports each build's p50/p90/min/max
and the per-turn stage medians, plus the paired per-turn differences (B - A). A benchmark, never
a test: it asserts nothing.

    .venv/bin/python bench/latency/compare.py --a /tmp/duet_old --b build/duet [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402
import suite  # noqa: E402

STAGES = ("look_start_ms", "look_ms", "llm_first_token_ms", "tts_first_chunk_ms", "playout_ms")


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, required=True, help="the reference duet binary")
    ap.add_argument("--b", type=Path, required=True, help="the duet binary to compare with it")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the suite (each runs A and B)")
    ap.add_argument("--short", action="store_true", help="one short conversation only")
    ap.add_argument("--out", type=Path, default=run.ROOT / "out" / "bench-latency-compare")
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--max-tail-s", type=float, default=8.0)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    for b in (args.a, args.b):
        if not b.exists():
            raise SystemExit(f"{b} does not exist; pass a built duet binary")
    convs = suite.build(args.a, short=args.short)
    rows = {"A": [], "B": []}
    for rnd in range(args.rounds):
        for k, conv in enumerate(convs):
            folder = args.out / f"round{rnd}" / conv.name
            folder.mkdir(parents=True, exist_ok=True)
            wav = folder / "person.wav"
            conv.write(wav)
            truth = conv.truth()
            (folder / "script.json").write_text(json.dumps(truth, indent=1))
            order = ("A", "B") if (rnd + k) % 2 == 0 else ("B", "A")
            for side in order:
                binary = args.a if side == "A" else args.b
                sub = folder / side
                sub.mkdir(exist_ok=True)
                res = run.analyse(truth, run.converse(binary, wav, sub, "duet", args))
                for t in res["turns"]:
                    t["key"] = f"{rnd}/{t['id']}"
                rows[side] += res["turns"]
                print(f"round {rnd} {conv.name:11s} {side} " +
                      " ".join(run.fmt_ms(t["latency_ms"]) + ("!" if t["premature"] else "") for t in res["turns"]),
                      flush=True)
    summary = {}
    for side in ("A", "B"):
        s = run.summarise(rows[side], [])
        s["stage_medians"] = {st: median([t.get("stages", {}).get(st) for t in rows[side]]) for st in STAGES}
        s["looks"] = sum(t.get("looks", 0) or 0 for t in rows[side])
        s["rollbacks"] = sum(t.get("rollbacks", 0) or 0 for t in rows[side])
        summary[side] = s
    a_by = {t["key"]: t for t in rows["A"]}
    diffs = [t["latency_ms"] - a_by[t["key"]]["latency_ms"] for t in rows["B"]
             if t["key"] in a_by and t["latency_ms"] is not None and a_by[t["key"]]["latency_ms"] is not None
             and not t["premature"] and not a_by[t["key"]]["premature"]]
    per_turn = [{"key": t["key"], "side": side, "latency_ms": t["latency_ms"], "premature": t["premature"],
                 "looks": t.get("looks"), "rollbacks": t.get("rollbacks"), "stages": t.get("stages", {})}
                for side in ("A", "B") for t in rows[side]]
    report = {"a": str(args.a), "b": str(args.b), "rounds": args.rounds, "summary": summary, "turns": per_turn,
              "paired_diff_ms": {"n": len(diffs), "median": median(diffs),
                                 "mean": round(statistics.fmean(diffs), 1) if diffs else None,
                                 "b_faster_turns": sum(d < 0 for d in diffs)}}
    (args.out / "compare.json").write_text(json.dumps(report, indent=1))
    print("| build | p50 | p90 | min | max | premature | missed | looks | rollbacks | " +
          " | ".join(STAGES) + " |")
    print("|---" * (9 + len(STAGES)) + "|")
    for side in ("A", "B"):
        s = summary[side]
        print(f"| {side} | {run.fmt_ms(s['p50_ms'])} | {run.fmt_ms(s['p90_ms'])} | {run.fmt_ms(s['min_ms'])} | "
              f"{run.fmt_ms(s['max_ms'])} | {s['premature']} | {s['missed']} | {s['looks']} | {s['rollbacks']} | " +
              " | ".join(run.fmt_ms(s["stage_medians"][st]) for st in STAGES) + " |")
    d = report["paired_diff_ms"]
    print(f"paired per-turn difference B - A over {d['n']} turns: median {d['median']} ms, mean {d['mean']} ms, "
          f"B faster on {d['b_faster_turns']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
