#!/usr/bin/env bash
# The conversation part of `make demo`: speaks a short scripted person's side with espeak-ng
# voices (never Duet's own), plays it into `duet converse` in real time and says where the
# stereo recording (person left, Duet right) and the latency trace are. Then, on a terminal,
# starts `duet serve` so the browser page can be tried. Must never need a sound card.
set -euo pipefail
cd "$(dirname "$0")/.."
DUET=${DUET:-build/duet}
OUT=${OUT:-out}
mkdir -p "$OUT/demo-parts"
lines=(
  "en-us+m3|Hello Duet. What is the capital of France?"
  "en-us+f2|How many legs does a spider have?"
  "en-gb+m5|Thank you. Goodbye!"
)
parts=()
i=0
sox -n -r 16000 -c 1 -b 16 "$OUT/demo-parts/lead.wav" trim 0 1.0
parts+=("$OUT/demo-parts/lead.wav")
for entry in "${lines[@]}"; do
  voice=${entry%%|*}
  text=${entry#*|}
  espeak-ng -v "$voice" -s 160 -w "$OUT/demo-parts/raw$i.wav" "$text"
  # 16 kHz mono, then 7 s of silence for Duet's answer.
  sox "$OUT/demo-parts/raw$i.wav" -r 16000 -c 1 -b 16 "$OUT/demo-parts/turn$i.wav" pad 0 7
  parts+=("$OUT/demo-parts/turn$i.wav")
  i=$((i + 1))
done
sox "${parts[@]}" "$OUT/demo-person.wav"
echo "demo: a spoken conversation with Duet, in real time (about 30 s)..."
"$DUET" converse --in "$OUT/demo-person.wav" --out "$OUT/demo-conversation.wav" \
  --trace "$OUT/demo-trace.jsonl" --events "$OUT/demo-events.jsonl" --temperature 0 --max-tokens 40
echo "demo: listen to $(pwd)/$OUT/demo-conversation.wav (person left, Duet right)"
echo "demo: latency trace per turn in $(pwd)/$OUT/demo-trace.jsonl"
if [[ -t 0 && -t 1 && "${DUET_DEMO_SERVE:-1}" == 1 ]] && "$DUET" serve --help >/dev/null 2>&1; then
  echo "demo: starting the server; open http://127.0.0.1:8080/ to talk to Duet (Ctrl-C stops it)"
  exec "$DUET" serve --host 127.0.0.1 --port 8080
else
  echo "demo: to talk in a browser, run: $DUET serve  (then open http://127.0.0.1:8080/)"
fi
