"""The browser page of `duet serve` in real headless Chromium (Debian's chromium, driven by
Playwright). End to end: a fake microphone plays a WAV of a spoken question, and the page must show
the user's transcript and the answer's transcript and play the answer's audio (keeps a screenshot).
Against a scripted Realtime peer (Playwright's WebSocket routing): barge-in stops playback and sends
conversation.item.truncate with the audio actually played, beta event names, latency, settings.
Must never download a browser, time anything beyond generous timeouts, or touch a real device."""
import base64
import functools
import http.server
import json
import os
import threading
import time
import shutil
import subprocess
import urllib.request
import wave
from pathlib import Path

import numpy as np
import pytest

from serve_common import DuetServer, read_wav_mono, to_pcm16

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DUET_CHROMIUM", "/usr/bin/chromium"))
QUESTION = "What is the capital of France?"
MIC_RATE = 48000
TIMEOUT_MS = 300_000
API_KEY = "browser-test-key"
WEB = ROOT / "web"


def fake_microphone_wav(duet_bin: Path, tmp: Path) -> Path:
    """The question spoken by espeak-ng at 48 kHz, with silence before (while the page connects)
    and after (so the server's VAD ends the turn), as 16-bit mono PCM that Chromium can read."""
    spoken = tmp / "question-48k.wav"
    subprocess.run([str(duet_bin), "say", QUESTION, "-o", str(spoken), "--voice", "espeak:en-us",
                    "--rate", str(MIC_RATE)], check=True, capture_output=True, timeout=120)
    x, rate = read_wav_mono(spoken)
    assert rate == MIC_RATE, rate
    lead = np.zeros(int(MIC_RATE * 1.0), np.float32)
    tail = np.zeros(int(MIC_RATE * 20.0), np.float32)
    out = tmp / "fake-mic.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(MIC_RATE)
        w.writeframes(to_pcm16(np.concatenate([lead, 0.8 * x / max(1e-6, np.abs(x).max()), tail])))
    return out


@pytest.fixture(scope="module")
def server(duet_bin, models_dir):
    for name in ("whisper-tiny.en", "smollm2-135m-instruct"):
        if not (models_dir / name).exists():
            pytest.skip(f"{name} is not pulled")
    srv = DuetServer(duet_bin, "--rate", "0", "--api-key", API_KEY)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium (scripts/apt-packages.txt)")
    return CHROMIUM


def test_page_files_are_served(server):
    for path, kind in (("/", "text/html"), ("/app.js", "javascript"),
                       ("/audio-worklet.js", "javascript"), ("/style.css", "text/css")):
        with urllib.request.urlopen(server.http + path, timeout=30) as r:
            assert r.status == 200, path
            assert kind in r.headers["Content-Type"], (path, r.headers["Content-Type"])
            assert len(r.read()) > 100, path


def launch(p, chromium: Path, *extra: str):
    return p.chromium.launch(executable_path=str(chromium), headless=True,
                             args=["--use-fake-ui-for-media-stream",
                                   "--use-fake-device-for-media-stream",
                                   "--autoplay-policy=no-user-gesture-required", *extra])


def test_page_without_the_key_says_it_cannot_connect(server, chromium):
    with sync_api.sync_playwright() as p:
        browser = launch(p, chromium)
        try:
            page = browser.new_page()
            page.goto(server.http + "/")
            page.click("#start")
            page.wait_for_function("() => document.getElementById('status').dataset.state === 'error'",
                                   timeout=60_000)
            assert "could not connect" in page.locator("#log").inner_text().lower()
        finally:
            browser.close()


@pytest.mark.slow
def test_page_hears_and_answers(server, chromium, duet_bin, tmp_path):
    mic = fake_microphone_wav(duet_bin, tmp_path)
    shot = tmp_path / "browser.png"
    console: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p, chromium, f"--use-file-for-fake-audio-capture={mic}%noloop")
        try:
            context = browser.new_context(viewport={"width": 900, "height": 900})
            context.grant_permissions(["microphone"], origin=server.http)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(server.http + "/")
            page.fill("#apikey", API_KEY)
            page.click("#start")
            status = page.locator("#status")

            def wait_for(condition: str, what: str):
                try:
                    page.wait_for_function(
                        f"() => {{ const d = document.getElementById('status').dataset; "
                        f"return {condition}; }}", timeout=TIMEOUT_MS)
                except sync_api.TimeoutError:
                    page.screenshot(path=str(shot), full_page=True)
                    pytest.fail(f"the page never {what}; status {status.evaluate('e => ({...e.dataset})')}"
                                f"\nlog: {page.locator('#log').inner_text()}"
                                f"\nconsole:\n" + "\n".join(console[-50:]) +
                                f"\nserver:\n{server.log()}")

            wait_for("+d.userTranscripts >= 1", "showed the user's transcript")
            wait_for("+d.assistantTranscripts >= 1", "showed the answer's transcript")
            wait_for("+d.audioChunksPlayed >= 1 && +d.audioMsPlayed > 0", "played answer audio")

            user_text = page.locator("#log li.user .text").first.inner_text()
            answer_text = page.locator("#log li.assistant .text").first.inner_text()
            page.screenshot(path=str(shot), full_page=True)
            state = status.evaluate("e => ({...e.dataset})")
            log_text = page.locator("#log").inner_text()
        finally:
            browser.close()

    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    shutil.copyfile(shot, out / "browser.png")
    errors = [c for c in console if c.startswith("pageerror")]
    assert not errors, errors
    assert any(w in user_text.lower() for w in ("capital", "france")), (user_text, state)
    assert answer_text.strip(), state
    assert int(state["audioChunksReceived"]) >= 1, state
    assert state["errors"] == "0", (state, log_text)


# --- against a scripted Realtime peer ------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web_only():
    """web/ over plain HTTP on localhost (a secure context, as the microphone and worklets need)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(QuietHandler, directory=str(WEB)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://localhost:{srv.server_address[1]}"
    srv.shutdown()


def tone_deltas(seconds: float, chunks: int) -> list[str]:
    t = np.arange(int(24000 * seconds)) / 24000
    pcm = to_pcm16(0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32))
    step = len(pcm) // chunks // 2 * 2
    return [base64.b64encode(pcm[i:i + step]).decode() for i in range(0, step * chunks, step)]


class ScriptedPeer:
    """Plays the server's side of /v1/realtime inside the page, recording what the page sends."""

    def __init__(self, page):
        self.page = page
        self.ws = None
        self.received: list[dict] = []
        page.route_web_socket("**/v1/realtime", self._connect)

    def _connect(self, ws):
        self.ws = ws
        ws.on_message(self._on_message)

    def start_session(self, timeout_s: float = 60):
        """session.created, repeated until the page answers with session.update: a routed socket
        drops what is sent before the page has seen it open."""
        deadline = time.time() + timeout_s
        while not self.sent("session.update"):
            assert time.time() < deadline, f"the page never configured its session: {self.received[-5:]}"
            if self.ws is not None:
                self.send("session.created", session={"instructions": "Be brief.", "type": "realtime"})
            for _ in range(10):
                if self.sent("session.update"):
                    break
                self.page.wait_for_timeout(100)

    def _on_message(self, message):
        ev = json.loads(message)
        self.received.append(ev)
        if ev["type"] == "session.update":
            self.send("session.updated", session=ev["session"])

    def send(self, type_: str, **fields):
        self.ws.send(json.dumps({"type": type_, "event_id": f"event_{time.monotonic_ns()}", **fields}))

    def sent(self, type_: str) -> list[dict]:
        return [e for e in self.received if e["type"] == type_]

    def wait_sent(self, type_: str, count: int = 1, timeout_s: float = 60) -> list[dict]:
        deadline = time.time() + timeout_s
        while len(self.sent(type_)) < count:
            assert time.time() < deadline, f"the page never sent {count} {type_}: {self.received[-5:]}"
            self.page.wait_for_timeout(50)
        return self.sent(type_)

    def status(self) -> dict:
        return self.page.locator("#status").evaluate("e => ({...e.dataset})")

    def wait_status(self, condition: str, timeout_ms: int = 60_000):
        self.page.wait_for_function(
            f"() => {{ const d = document.getElementById('status').dataset; return {condition}; }}",
            timeout=timeout_ms)


def test_page_interrupts_truncates_and_shows_latency(web_only, chromium, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = launch(p, chromium)
        try:
            context = browser.new_context()
            context.grant_permissions(["microphone"], origin=web_only)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            peer = ScriptedPeer(page)
            page.goto(web_only + "/")
            page.click("#start")
            peer.start_session()
            peer.wait_status("d.state === 'listening'")

            # The session is configured as the form says, the default instructions shown.
            update = peer.wait_sent("session.update")[0]["session"]
            assert update["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
            assert update["audio"]["input"]["turn_detection"]["type"] == "server_vad"
            assert update["audio"]["output"]["voice"] == "alloy"
            assert update["instructions"] == "Be brief."
            assert page.input_value("#instructions") == "Be brief."

            # The microphone streams 24 kHz pcm16 in 100 ms appends.
            append = peer.wait_sent("input_audio_buffer.append")[0]
            assert len(base64.b64decode(append["audio"])) == 4800

            # An answer of 3 s streams in (current event names) and starts playing...
            peer.send("input_audio_buffer.speech_stopped", item_id="item_u1", audio_end_ms=1000)
            peer.send("conversation.item.input_audio_transcription.completed", item_id="item_u1",
                      content_index=0, transcript="Tell me a long story.")
            peer.send("response.created", response={"id": "resp_1", "status": "in_progress"})
            peer.send("response.output_item.added", response_id="resp_1", output_index=0,
                      item={"id": "item_a", "type": "message", "role": "assistant"})
            peer.send("response.output_audio_transcript.delta", response_id="resp_1",
                      item_id="item_a", output_index=0, content_index=0, delta="Once upon a time")
            for delta in tone_deltas(3.0, 10):
                peer.send("response.output_audio.delta", response_id="resp_1", item_id="item_a",
                          output_index=0, content_index=0, delta=delta)
            peer.wait_status("+d.audioMsPlayed >= 600")
            assert "measured here" in page.locator("li[data-item-id=item_a] .meta").inner_text()

            # ...until the user speaks: playback stops at once and the truncation names what was heard.
            peer.send("input_audio_buffer.speech_started", item_id="item_u2", audio_start_ms=5000)
            truncate = peer.wait_sent("conversation.item.truncate")[0]
            heard = truncate["audio_end_ms"]
            assert truncate["item_id"] == "item_a" and truncate["content_index"] == 0, truncate
            assert 500 <= heard < 3000, truncate
            played_then = int(peer.status()["audioMsPlayed"])
            assert abs(played_then - heard) <= 150, (played_then, heard)
            chunks_then = int(peer.status()["audioChunksPlayed"])
            # A delta that was already on its way is not played.
            peer.send("response.output_audio.delta", response_id="resp_1", item_id="item_a",
                      output_index=0, content_index=0, delta=tone_deltas(0.5, 1)[0])
            peer.send("response.done", response={"id": "resp_1", "status": "cancelled"})
            peer.send("conversation.item.truncated", item_id="item_a", content_index=0,
                      audio_end_ms=heard)
            page.wait_for_timeout(700)
            assert int(peer.status()["audioMsPlayed"]) == played_then
            assert int(peer.status()["audioChunksPlayed"]) == chunks_then
            assert peer.status()["interruptions"] == "1"
            assert "interrupted" in page.locator("li[data-item-id=item_a] .meta").inner_text()

            # The next answer uses the beta names; Duet's trace gives its latency.
            peer.send("input_audio_buffer.speech_stopped", item_id="item_u2", audio_end_ms=6000)
            peer.send("conversation.item.input_audio_transcription.delta", item_id="item_u2",
                      content_index=0, delta="Stop ")
            peer.send("conversation.item.input_audio_transcription.completed", item_id="item_u2",
                      content_index=0, transcript="Stop, please.")
            peer.send("response.created", response={"id": "resp_2", "status": "in_progress"})
            peer.send("response.output_item.added", response_id="resp_2", output_index=0,
                      item={"id": "item_b", "type": "message", "role": "assistant"})
            peer.send("response.audio_transcript.delta", response_id="resp_2", item_id="item_b",
                      output_index=0, content_index=0, delta="Okay.")
            for delta in tone_deltas(0.4, 2):
                peer.send("response.audio.delta", response_id="resp_2", item_id="item_b",
                          output_index=0, content_index=0, delta=delta)
            peer.send("response.audio_transcript.done", response_id="resp_2", item_id="item_b",
                      output_index=0, content_index=0, transcript="Okay.")
            peer.send("response.done", response={"id": "resp_2", "status": "completed"})
            peer.send("duet.latency_trace", turn=2, item_id="item_b",
                      trace={"speech_end_ms": 6000, "first_token_ms": 6120.5,
                             "first_audio_ms": 6321.4, "voice_to_voice_ms": 321.4})
            peer.wait_status(f"+d.audioChunksPlayed > {chunks_then} && +d.turns >= 2 "
                             "&& +d.assistantTranscripts >= 1 && +d.userTranscripts >= 2")
            meta = page.locator("li[data-item-id=item_b] .meta").inner_text()
            assert "voice-to-voice 321 ms" in meta and "first token 121 ms" in meta, meta
            assert page.locator("li[data-item-id=item_b] .text").inner_text() == "Okay."
            assert page.locator("li[data-item-id=item_u2] .text").inner_text() == "Stop, please."

            # Settings go out with session.update as soon as they change.
            before = len(peer.sent("session.update"))
            page.select_option("#voice", "piper")
            page.select_option("#turn", "semantic_vad")
            updates = peer.wait_sent("session.update", before + 2)
            assert updates[-1]["session"]["audio"]["output"]["voice"] == "piper"
            assert updates[-1]["session"]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
            page.fill("#instructions", "Answer like a pirate.")
            page.click("#apply")
            updates = peer.wait_sent("session.update", before + 3)
            assert updates[-1]["session"]["instructions"] == "Answer like a pirate."

            page.screenshot(path=str(tmp_path / "scripted.png"), full_page=True)
            page.click("#stop")
            peer.wait_status("d.state === 'idle'")
            assert not errors, errors
        finally:
            browser.close()
