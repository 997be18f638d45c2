"""`duet serve` with a second real client nobody here wrote: the npm `openai` package (version
pinned in tests/node/package-lock.json, installed there by this test with `npm ci`). Its REST
clients list the models, transcribe the spoken question, synthesise speech and chat (plain and
streamed); its realtime client (openai/realtime/ws) sends the spoken question and gets the user
transcript, the answer's transcript and its audio."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from serve_common import conversation_server, pcm24k_of, spoken_question

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def node_client():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are not installed")
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / ".duet-installed"
    if not stamp.exists() or stamp.read_text() != lock.read_text():
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
        stamp.write_text(lock.read_text())
    return node


@pytest.fixture(scope="module")
def server(duet_bin, models_dir):
    yield from conversation_server(duet_bin, models_dir)


@pytest.fixture(scope="module")
def report(node_client, server, duet_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve_node")
    wav = spoken_question(duet_bin, tmp)
    pcm = tmp / "question.pcm"
    pcm.write_bytes(pcm24k_of(wav))
    proc = subprocess.run([node_client, str(NODE_DIR / "serve_client.mjs"), server.http, str(wav),
                           str(pcm)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the node client failed:\n{proc.stderr}\n{server.log()}"
    assert server.alive(), server.log()
    return json.loads(proc.stdout)


def test_node_rest_models_and_transcription(report):
    assert "whisper-1" in report["models"] and "tts-1" in report["models"]
    assert "france" in report["transcript"].lower(), report["transcript"]


def test_node_rest_speech_is_a_wav(report):
    speech = report["speech"]
    assert speech["riff"] == "RIFF" and speech["wave"] == "WAVE"
    assert speech["bytes"] > 44 + 2 * 22050 * 0.3, "at least 0.3 s of speech"


def test_node_rest_chat_plain_and_streamed(report):
    assert report["chat"]["object"] == "chat.completion"
    assert report["chat"]["content"].strip()
    assert report["chat"]["finish_reason"] in ("stop", "length")
    stream = report["chat_stream"]
    assert stream["objects"] == ["chat.completion.chunk"]
    assert stream["chunks"] >= 2 and stream["text"].strip()


def test_node_realtime_spoken_question(report):
    rt = report["realtime"]
    events = rt["events"]
    types = [e["type"] for e in events]
    assert rt["ended_by"] == "response.done", types
    assert "error" not in types and "client_error" not in types, \
        [e for e in events if "error" in e["type"]]
    assert types[0] == "session.created" and "session.updated" in types
    heard = next(e for e in events
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert "france" in heard["transcript"].lower(), heard["transcript"]
    answer = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert answer["transcript"].strip()
    audio = [e for e in events if e["type"] == "response.output_audio.delta"]
    assert sum(e["bytes"] for e in audio) > 24000 * 2 * 0.3, "at least 0.3 s of answer audio"
    assert max(e["peak"] for e in audio) > 1000, "the answer is not silence"
    done = next(e for e in events if e["type"] == "response.done")
    assert done["response"]["status"] in ("completed", "incomplete")
