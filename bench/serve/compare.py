"""Same-run comparison of two duet builds on the serving benchmark (N concurrent sessions).

One run of bench/serve/run.py at N = 8 gives 24 turns, and its p90 is the third-slowest of them:
whether the sessions' turns happen to collide swings it by 300 ms from run to run. This script
runs build A and build B alternately (which goes first alternates too) for --rounds rounds and
pools every turn of each build, so the p50/p90 it reports rest on rounds x N x turns samples; it
also lists each run's own p90. A benchmark, never a test: it asserts nothing, and it never stops
any process but the servers that run.py starts.

    .venv/bin/python bench/serve/compare.py --a /tmp/duet_old --b build/duet [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def one_run(duet: Path, sessions: int, out: Path, extra: list[str]) -> dict:
    """Runs run.py once for `sessions` concurrent sessions; the phase's figures and turns."""
    proc = subprocess.run([sys.executable, str(HERE / "run.py"), "--duet", str(duet),
                           "--sessions", str(sessions), "--out", str(out), *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench/serve/run.py failed for {duet}:\n{proc.stdout}\n{proc.stderr}")
    phase = json.loads((out / "report.json").read_text())["phases"][0]
    server = [t["voice_to_voice_ms"] for s in phase["per_session"] for t in s["traces"]
              if isinstance(t, dict) and t.get("voice_to_voice_ms") is not None]
    client = [t["client_v2v_ms"] for s in phase["per_session"] for t in s["turns"]
              if t.get("client_v2v_ms") is not None]
    return {"server": server, "client": client, "realtime": phase["realtime"],
            "answered": phase["turns_answered"], "expected": phase["turns_expected"],
            "cpu_s_per_min_per_session": phase["cpu_s_per_min_per_session"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, required=True, help="the reference duet binary")
    ap.add_argument("--b", type=Path, required=True, help="the duet binary to compare with it")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each build")
    ap.add_argument("--sessions", type=int, default=8, help="concurrent sessions per run")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench-serve-compare")
    ap.add_argument("--run-arg", action="append", default=[],
                    help="passed on to run.py (repeatable), e.g. --run-arg=--stagger-ms=700")
    args = ap.parse_args()

    builds = {"A": args.a, "B": args.b}
    runs: dict[str, list[dict]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for name in (("A", "B") if r % 2 == 0 else ("B", "A")):
            res = one_run(builds[name], args.sessions, args.out / f"round{r}-{name}", args.run_arg)
            runs[name].append(res)
            print(f"[compare] round {r + 1} {name}: p90 server {percentile(res['server'], 90)} / "
                  f"client {percentile(res['client'], 90)} ms, answered {res['answered']}/"
                  f"{res['expected']}, real time {res['realtime']}", flush=True)

    report = {"sessions": args.sessions, "rounds": args.rounds,
              "builds": {k: str(v) for k, v in builds.items()}, "pooled": {}}
    lines = [f"Serving comparison: {args.sessions} sessions, {args.rounds} runs of each build, "
             "turns pooled", "",
             "| build | turns | p50 / p90 server | p50 / p90 client | runs' p90 (server) | "
             "all real time | CPU-s per conv-min per session |", "|---|---|---|---|---|---|---|"]
    for name in ("A", "B"):
        server = [v for res in runs[name] for v in res["server"]]
        client = [v for res in runs[name] for v in res["client"]]
        per_run = [percentile(res["server"], 90) for res in runs[name]]
        cpu = [res["cpu_s_per_min_per_session"] for res in runs[name]
               if res["cpu_s_per_min_per_session"] is not None]
        pooled = {"turns": len(server), "server_p50": percentile(server, 50),
                  "server_p90": percentile(server, 90), "client_p50": percentile(client, 50),
                  "client_p90": percentile(client, 90), "runs_p90_server": per_run,
                  "all_realtime": all(res["realtime"] for res in runs[name]),
                  "cpu_s_per_min_per_session": round(float(np.mean(cpu)), 2) if cpu else None}
        report["pooled"][name] = pooled
        lines.append(f"| {name} ({builds[name]}) | {pooled['turns']} | {pooled['server_p50']} / "
                     f"{pooled['server_p90']} ms | {pooled['client_p50']} / {pooled['client_p90']} ms"
                     f" | {', '.join(str(p) for p in per_run)} | {pooled['all_realtime']} | "
                     f"{pooled['cpu_s_per_min_per_session']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.json").write_text(json.dumps(report, indent=1))
    (args.out / "compare.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
