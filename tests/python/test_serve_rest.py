"""`duet serve`'s OpenAI-style REST endpoints, driven by the official `openai` Python SDK:
models, transcriptions in every response format, speech (wav, pcm), chat completions (plain and
streamed), and the error shapes of bad requests."""
import io
import json
import re
import urllib.error
import urllib.request
import wave

import pytest

from serve_common import DuetServer, spoken_question

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def server(duet_bin, models_dir):
    if not (models_dir / "whisper-tiny.en").exists():
        pytest.skip("Whisper is not pulled")
    srv = DuetServer(duet_bin, "--rate", "0")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.http + "/v1", api_key="unused", max_retries=0,
                         timeout=300)


@pytest.fixture(scope="module")
def question_wav(duet_bin, tmp_path_factory):
    return spoken_question(duet_bin, tmp_path_factory.mktemp("serve_rest"))


def post_raw(server, path, body: bytes, content_type="application/json"):
    req = urllib.request.Request(server.http + path, data=body, method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_models_lists_the_engine_models(client):
    ids = [m.id for m in client.models.list().data]
    assert "whisper-1" in ids and "tts-1" in ids
    assert client.models.retrieve("whisper-1").id == "whisper-1"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_transcription_json(client, question_wav):
    with open(question_wav, "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert "capital" in t.text.lower() and "france" in t.text.lower(), t.text


def test_transcription_text(client, question_wav):
    with open(question_wav, "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="text")
    assert isinstance(t, str) and "france" in t.lower(), t


def test_transcription_verbose_json_has_segments(client, question_wav):
    with open(question_wav, "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f,
                                               response_format="verbose_json")
    assert t.duration > 1.0
    assert t.segments and t.segments[0].end > t.segments[0].start >= 0.0
    assert "france" in t.text.lower()


def test_transcription_srt(client, question_wav):
    with open(question_wav, "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="srt")
    assert re.search(r"^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n.+", t, re.M), t


def test_transcription_vtt(client, question_wav):
    with open(question_wav, "rb") as f:
        t = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="vtt")
    assert t.startswith("WEBVTT")
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", t), t


def test_transcription_rejects_a_file_that_is_not_audio(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper-1",
                                           file=("notes.wav", b"this is not a wav file"))
    assert "WAV" in str(e.value)


def test_transcription_rejects_an_unknown_format(client, question_wav):
    with open(question_wav, "rb") as f, pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper-1", file=f, response_format="xml")
    assert "Supported values" in str(e.value)


def test_speech_wav(client):
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from Duet.",
                                       response_format="wav").read()
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getframerate() == 24000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        assert w.getnframes() > 24000 * 0.3


def test_speech_pcm_and_speed(client):
    normal = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from Duet.",
                                        response_format="pcm").read()
    fast = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from Duet.",
                                      response_format="pcm", speed=1.8).read()
    assert len(normal) % 2 == 0 and len(normal) > 24000
    assert len(fast) < len(normal)


def test_speech_rejects_bad_requests(client, server):
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="", response_format="wav")
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="hi", response_format="mp3")
    status, body = post_raw(server, "/v1/audio/speech", b'{"input": 5}')
    assert status == 400
    assert "Invalid type for 'input'" in json.loads(body)["error"]["message"]


def test_chat_completion(client):
    r = client.chat.completions.create(
        model="duet", messages=[{"role": "user", "content": "Say hello."}], max_tokens=16,
        temperature=0)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant" and r.choices[0].message.content.strip()
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0


def test_chat_completion_stream(client):
    stream = client.chat.completions.create(
        model="duet", messages=[{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Name a colour."}],
        max_tokens=12, temperature=0, stream=True, stream_options={"include_usage": True})
    pieces, finish, usage = [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                finish = c.finish_reason
    assert "".join(pieces).strip()
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens > 0


def test_chat_rejects_bad_bodies(server):
    cases = [b"{", b"[]", b'{"messages": "hi"}', b'{"messages": []}',
             b'{"messages": [{"role": "robot", "content": "x"}]}',
             b'{"messages": [{"role": "user", "content": 5}]}',
             b'{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}']
    for body in cases:
        status, out = post_raw(server, "/v1/chat/completions", body)
        assert status == 400, body
        err = json.loads(out)["error"]
        assert err["message"] and err["type"] == "invalid_request_error", body


def test_unknown_route_and_wrong_method(server):
    status, body = post_raw(server, "/v1/nothing", b"{}")
    assert status == 404 and "error" in json.loads(body)
    req = urllib.request.Request(server.http + "/v1/chat/completions", method="GET")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 405
