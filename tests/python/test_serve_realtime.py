"""The Realtime protocol of `duet serve`, driven by the official `openai` Python SDK's realtime
clients (the current one, client.realtime, and the beta one, client.beta.realtime): the spoken
question goes in as audio, the user transcript, the answer's transcript and its audio come back
with the event names and sequence each client expects; G.711, text-only answers, item creation,
truncation and cancellation."""
import base64
import threading
import time

import numpy as np
import pytest

from serve_common import conversation_server, pcm24k_of, spoken_question

openai = pytest.importorskip("openai")
pytest.importorskip("websockets")

TIMEOUT_S = 240


@pytest.fixture(scope="module")
def server(duet_bin, models_dir):
    yield from conversation_server(duet_bin, models_dir)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.http + "/v1", websocket_base_url=server.ws + "/v1",
                         api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def question_pcm(duet_bin, tmp_path_factory):
    return pcm24k_of(spoken_question(duet_bin, tmp_path_factory.mktemp("serve_rt")))


class Watchdog:
    """Closes the connection when a test waits too long, so a hang fails instead of blocking."""

    def __init__(self, conn, seconds=TIMEOUT_S):
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire, args=(conn,))
        self.timer.daemon = True
        self.timer.start()

    def _fire(self, conn):
        self.fired = True
        try:
            conn.close()
        except Exception:
            pass

    def cancel(self):
        self.timer.cancel()


def append_audio(conn, pcm: bytes, chunk_ms=100, realtime=False):
    step = 24000 * 2 * chunk_ms // 1000
    for i in range(0, len(pcm), step):
        conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i:i + step]).decode())
        if realtime:
            time.sleep(chunk_ms / 1000)


def collect_until(conn, done_type="response.done", limit=TIMEOUT_S):
    """Events (as dicts) up to and including the first `done_type`."""
    dog = Watchdog(conn, limit)
    events = []
    try:
        for ev in conn:
            d = ev.to_dict() if hasattr(ev, "to_dict") else dict(ev)
            events.append(d)
            if d["type"] == done_type:
                break
    finally:
        dog.cancel()
    assert not dog.fired, f"timed out; got {[e['type'] for e in events]}"
    return events


def types_of(events):
    return [e["type"] for e in events]


def test_ga_client_hears_the_question_and_answers_with_audio(client, question_pcm):
    with client.realtime.connect(model="duet") as conn:
        first = conn.recv().to_dict()
        assert first["type"] == "session.created"
        assert first["session"]["audio"]["output"]["format"]["type"] == "audio/pcm"
        conn.session.update(session={
            "type": "realtime", "output_modalities": ["audio"], "instructions": "Answer briefly.",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                                "turn_detection": None,
                                "transcription": {"model": "whisper-1"}}}})
        append_audio(conn, question_pcm)
        conn.input_audio_buffer.commit()
        conn.response.create()
        events = collect_until(conn)
    types = types_of(events)
    assert "session.updated" in types
    assert types.count("error") == 0, [e for e in events if e["type"] == "error"]
    updated = next(e for e in events if e["type"] == "session.updated")
    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    committed = next(e for e in events if e["type"] == "input_audio_buffer.committed")
    user_items = [e for e in events if e["type"] == "conversation.item.added"
                  and e["item"]["role"] == "user"]
    assert user_items and user_items[0]["item"]["id"] == committed["item_id"]
    heard = next(e for e in events
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert heard["item_id"] == committed["item_id"]
    assert "france" in heard["transcript"].lower(), heard["transcript"]
    # The response's sequence, in order.
    order = ["response.created", "response.output_item.added", "response.content_part.added",
             "response.output_audio.delta", "response.output_audio.done",
             "response.output_audio_transcript.done", "response.content_part.done",
             "response.output_item.done", "response.done"]
    positions = [types.index(t) for t in order]
    assert positions == sorted(positions), types
    transcript = "".join(e["delta"] for e in events
                         if e["type"] == "response.output_audio_transcript.delta")
    assert transcript.strip()
    done_t = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert done_t["transcript"].strip()
    audio = b"".join(base64.b64decode(e["delta"]) for e in events
                     if e["type"] == "response.output_audio.delta")
    assert len(audio) > 24000 * 2 * 0.3, "at least 0.3 s of answer audio"
    samples = np.frombuffer(audio, "<i2")
    assert np.abs(samples).max() > 1000, "the answer is not silence"
    done = events[-1]["response"]
    assert done["status"] in ("completed", "incomplete") and done["output"][0]["role"] == "assistant"
    assert not any(t.startswith("response.audio") for t in types), "no beta names on GA"


def test_beta_client_with_server_vad(client, question_pcm):
    with client.beta.realtime.connect(model="duet") as conn:
        first = conn.recv()
        assert first.type == "session.created"
        conn.session.update(session={
            "modalities": ["text", "audio"], "input_audio_format": "pcm16",
            "output_audio_format": "pcm16", "input_audio_transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5,
                               "silence_duration_ms": 500, "prefix_padding_ms": 300,
                               "create_response": True, "interrupt_response": True}})
        append_audio(conn, question_pcm + bytes(24000 * 2), realtime=True)
        events = collect_until(conn)
    types = types_of(events)
    assert "input_audio_buffer.speech_started" in types, types
    assert "input_audio_buffer.committed" in types
    assert "conversation.item.created" in types, "beta item name"
    heard = next(e for e in events
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "france" in heard["transcript"].lower()
    assert "response.audio.delta" in types and "response.audio_transcript.delta" in types
    assert "response.output_audio.delta" not in types, "no GA names on beta"
    assert events[-1]["response"]["status"] in ("completed", "cancelled", "incomplete")


def _ulaw_encode(pcm16: bytes) -> bytes:
    """G.711 mu-law, written from the ITU-T definition (numpy; audioop is gone from Python)."""
    x = np.frombuffer(pcm16, "<i2").astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exp = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mant = (mag >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant) & 0xFF).astype(np.uint8).tobytes()


def _alaw_encode(pcm16: bytes) -> bytes:
    """G.711 A-law, written from the ITU-T definition."""
    x = np.frombuffer(pcm16, "<i2").astype(np.int32)
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.minimum(np.where(x < 0, -x - 1, x), 32767)
    exp = np.clip(np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 7, 0, 7)
    code = np.where(mag < 256, mag >> 4, (exp << 4) | ((mag >> (exp + 3)) & 0x0F))
    return ((code | sign) ^ 0x55).astype(np.uint8).tobytes()


def _downsample_3(pcm24: bytes) -> bytes:
    x = np.frombuffer(pcm24, "<i2").astype(np.float32)
    x = np.convolve(x, np.ones(3) / 3, mode="same")[::3]
    return x.astype("<i2").tobytes()


@pytest.mark.parametrize("fmt", ["g711_ulaw", "g711_alaw"])
def test_g711_in_and_out(client, question_pcm, fmt):
    encode = _ulaw_encode if fmt == "g711_ulaw" else _alaw_encode
    ulaw = encode(_downsample_3(question_pcm))
    with client.beta.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.session.update(session={"input_audio_format": fmt,
                                     "output_audio_format": fmt, "turn_detection": None})
        for i in range(0, len(ulaw), 800):
            conn.input_audio_buffer.append(audio=base64.b64encode(ulaw[i:i + 800]).decode())
        conn.input_audio_buffer.commit()
        conn.response.create()
        events = collect_until(conn)
    types = types_of(events)
    assert "error" not in types, [e for e in events if e["type"] == "error"]
    updated = next(e for e in events if e["type"] == "session.updated")
    assert updated["session"]["output_audio_format"] == fmt
    heard = next(e for e in events
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "france" in heard["transcript"].lower(), heard["transcript"]
    audio = b"".join(base64.b64decode(e["delta"]) for e in events
                     if e["type"] == "response.audio.delta")
    assert len(audio) > 8000 * 0.3, "G.711 at 8 kHz: one byte per sample"


def test_text_item_and_text_only_response(client):
    with client.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Say the word hello."}]})
        conn.response.create(response={"output_modalities": ["text"], "max_output_tokens": 20})
        events = collect_until(conn)
        types = types_of(events)
        assert "error" not in types, [e for e in events if e["type"] == "error"]
        added = next(e for e in events if e["type"] == "conversation.item.added")
        assert added["item"]["role"] == "user"
        assert added["item"]["content"][0]["text"] == "Say the word hello."
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        done = next(e for e in events if e["type"] == "response.output_text.done")
        assert text.strip() and done["text"].strip()
        assert "response.output_audio.delta" not in types
        # The item can be retrieved and deleted; unknown ones are errors.
        conn.conversation.item.retrieve(item_id=added["item"]["id"])
        got = collect_until(conn, "conversation.item.retrieved", 60)[-1]
        assert got["item"]["id"] == added["item"]["id"]
        conn.conversation.item.delete(item_id=added["item"]["id"])
        assert collect_until(conn, "conversation.item.deleted", 60)[-1]["item_id"] == \
            added["item"]["id"]
        conn.conversation.item.delete(item_id="item_nope")
        err = collect_until(conn, "error", 60)[-1]
        assert err["error"]["code"] == "item_not_found"


def test_truncate_and_cancel(client):
    with client.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Tell me about the sea."}]})
        conn.response.create()
        events = collect_until(conn)
        item_id = events[-1]["response"]["output"][0]["id"]
        audio = b"".join(base64.b64decode(e["delta"]) for e in events
                         if e["type"] == "response.output_audio.delta")
        total_ms = len(audio) // 48
        assert total_ms > 300
        conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=total_ms + 5000)
        err = collect_until(conn, "error", 60)[-1]
        assert "already shorter" in err["error"]["message"]
        conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=200)
        t = collect_until(conn, "conversation.item.truncated", 60)[-1]
        assert t["item_id"] == item_id and t["audio_end_ms"] == 200
        # Cancelling with nothing active is an error; a started response ends as cancelled.
        conn.response.cancel()
        err = collect_until(conn, "error", 60)[-1]
        assert err["error"]["code"] == "response_cancel_not_active"
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Count from one to fifty."}]})
        conn.response.create(response={"max_output_tokens": 200})
        first = collect_until(conn, "response.created", 120)
        assert first[-1]["type"] == "response.created"
        conn.response.cancel()
        done = collect_until(conn)[-1]["response"]
        assert done["status"] in ("cancelled", "completed", "incomplete")


def test_server_vad_idle_timeout_prompts_the_person(client):
    with client.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "audio": {
            "input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 5000}}}})
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Hello."}]})
        conn.response.create()
        first = collect_until(conn)
        updated = next(e for e in first if e["type"] == "session.updated")
        assert updated["session"]["audio"]["input"]["turn_detection"]["idle_timeout_ms"] == 5000
        started = time.time()
        events = collect_until(conn, "input_audio_buffer.timeout_triggered", 60)
        assert time.time() - started >= 4.0, "not before the idle timeout"
        assert events[-1]["audio_end_ms"] >= events[-1]["audio_start_ms"]
        # The model speaks again to prompt the person.
        assert collect_until(conn, "response.done", 120)[-1]["type"] == "response.done"


def test_voice_and_output_modalities_per_response(client):
    with client.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Say the word hello."}]})
        # This response only: spoken, in another voice, although the session is text-only.
        conn.response.create(response={"output_modalities": ["audio"], "max_output_tokens": 20,
                                       "audio": {"output": {"voice": "espeak"}}})
        events = collect_until(conn)
        types = types_of(events)
        assert "error" not in types, [e for e in events if e["type"] == "error"]
        created = next(e for e in events if e["type"] == "response.created")["response"]
        assert created["output_modalities"] == ["audio"]
        assert created["audio"]["output"]["voice"] == "espeak"
        audio = b"".join(base64.b64decode(e["delta"]) for e in events
                         if e["type"] == "response.output_audio.delta")
        assert len(audio) > 24000 * 2 * 0.2 and np.abs(np.frombuffer(audio, "<i2")).max() > 1000
        assert "response.output_text.delta" not in types
        # The next response is the session's again: text, the session's voice.
        conn.response.create(response={"max_output_tokens": 20})
        events = collect_until(conn)
        types = types_of(events)
        created = next(e for e in events if e["type"] == "response.created")["response"]
        assert created["output_modalities"] == ["text"]
        assert created["audio"]["output"]["voice"] == "alloy"
        assert "response.output_text.delta" in types
        assert "response.output_audio.delta" not in types
        # A voice Duet cannot make is refused at once; one that fails to load fails the response.
        conn.response.create(response={"voice": "nosuchvoice"})
        err = collect_until(conn, "error", 60)[-1]["error"]
        assert err["code"] == "invalid_value" and err["param"] == "response.voice"
        conn.response.create(response={"output_modalities": ["audio"],
                                       "voice": "piper:/nonexistent/voice.gguf"})
        events = collect_until(conn)
        assert "error" in types_of(events)
        assert events[-1]["response"]["status"] == "failed"
        # And the session goes on.
        conn.response.create(response={"max_output_tokens": 10})
        assert collect_until(conn)[-1]["response"]["status"] in ("completed", "incomplete")


def test_audio_in_a_created_item_is_transcribed_and_answered(client, question_pcm):
    with client.realtime.connect(model="duet") as conn:
        assert conn.recv().type == "session.created"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                     "audio": {"input": {"turn_detection": None,
                                                         "transcription": {"model": "whisper-1"}}}})
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": base64.b64encode(question_pcm).decode()}]})
        # Asked before the transcript is back: the response waits for it.
        conn.response.create(response={"max_output_tokens": 30})
        events = collect_until(conn)
        types = types_of(events)
        assert "error" not in types, [e for e in events if e["type"] == "error"]
        added = next(e for e in events if e["type"] == "conversation.item.added")["item"]
        assert added["role"] == "user" and added["content"][0]["type"] == "input_audio"
        heard = next(e for e in events
                     if e["type"] == "conversation.item.input_audio_transcription.completed")
        assert heard["item_id"] == added["id"] and heard["content_index"] == 0
        assert "france" in heard["transcript"].lower(), heard["transcript"]
        assert types.index("conversation.item.input_audio_transcription.completed") < \
            types.index("response.created")
        assert next(e for e in events if e["type"] == "response.output_text.done")["text"].strip()
        conn.conversation.item.retrieve(item_id=added["id"])
        got = collect_until(conn, "conversation.item.retrieved", 60)[-1]["item"]
        assert got["content"][0]["transcript"] == heard["transcript"]
        # Audio that is not base64, or too short to hold a word, is refused with a reason.
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": "not base64!"}]})
        assert collect_until(conn, "error", 60)[-1]["error"]["code"] == "invalid_base64"
        conn.conversation.item.create(item={
            "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": base64.b64encode(b"\0\0" * 100).decode()}]})
        assert collect_until(conn, "error", 60)[-1]["error"]["code"] == "invalid_value"
