"""The remote LLM engine (RemoteChatLlm) against a real OpenAI-compatible server: llama-cpp-python's
server serving the default model (SmolLM2-135M-Instruct). Checks that streamed text arrives piece by
piece, that a cancel after the first piece closes the stream at once with end=cancelled, and that a
wrong port, a wrong path (404), an unresolvable host and a URL without a scheme each give a clear
error saying what to check. Drives build/tests/remote_chat; never reaches beyond 127.0.0.1 except
for the deliberately unresolvable .invalid host."""
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import BUILD, MODELS

pytest.importorskip("llama_cpp")
pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python's server extras "
                    "(fastapi, uvicorn, sse-starlette, ...) are not installed")

MODEL_FILE = MODELS / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOOL = BUILD / "tests" / "remote_chat"
START_TIMEOUT_S = 180  # the model loads in seconds, but the machine may be busy with other work


@pytest.fixture(autouse=True)
def tool_built():
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is not built; run make build")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not MODEL_FILE.exists():
        pytest.skip(f"{MODEL_FILE} not pulled (build/duet models pull smollm2-135m-instruct)")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL_FILE), "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-cpp-python's server exited ({proc.returncode}):\n"
                            f"{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama-cpp-python's server did not start in {START_TIMEOUT_S} s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def remote_chat(url, prompt, *args, timeout=300):
    """Runs the tool; returns (returncode, list of JSON lines, stderr)."""
    proc = subprocess.run([str(TOOL), url, "smollm2", prompt, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr


def test_streamed_text_arrives_in_pieces(server_url):
    rc, lines, err = remote_chat(server_url, "Say hello in French.", "--max-tokens", "24")
    assert rc == 0, err
    pieces = [line["piece"] for line in lines if "piece" in line]
    end = lines[-1]
    assert end["end"] in ("finished", "length"), end
    assert len(pieces) >= 3, lines
    assert "".join(pieces) == end["text"]
    assert end["text"].strip(), end
    # Pieces arrive as they are made, not all at once at the end.
    times = [line["ms"] for line in lines if "piece" in line]
    assert times[-1] - times[0] > 1.0, times


def test_cancel_after_first_piece_returns_at_once(server_url):
    rc, lines, err = remote_chat(server_url, "Write a long story about a dragon.",
                                 "--max-tokens", "400", "--cancel-after-first")
    assert rc == 0, err
    pieces = [line for line in lines if "piece" in line]
    end = lines[-1]
    assert end["end"] == "cancelled", end
    assert len(pieces) == 1, lines  # nothing reaches on_text after the cancel
    assert end["text"] == pieces[0]["piece"]
    # A few ms on an idle machine; the bound leaves room for a busy 2-core one.
    assert end["cancel_ms"] < 150, end
    # The server is still fine for the next reply (the closed stream did not break it).
    rc, lines, err = remote_chat(server_url, "Say yes.", "--max-tokens", "4")
    assert rc == 0, err
    assert lines[-1]["end"] in ("finished", "length")


def test_wrong_port_says_to_check_the_server():
    rc, _, err = remote_chat(f"http://127.0.0.1:{free_port()}/v1", "hi", timeout=60)
    assert rc == 1
    assert "remote LLM" in err and "check that the server is running" in err, err


def test_wrong_path_gives_404_with_the_fix(server_url):
    base = server_url[: -len("/v1")]  # the API root without /v1
    rc, _, err = remote_chat(base, "hi", timeout=60)
    assert rc == 1
    assert "HTTP 404" in err and "/v1" in err, err


def test_unresolvable_host_says_to_check_the_name():
    rc, _, err = remote_chat("http://no-such-host.invalid/v1", "hi", timeout=60)
    assert rc == 1
    assert "host name" in err, err


def test_url_without_scheme_is_refused():
    rc, _, err = remote_chat("localhost:8080/v1", "hi", timeout=60)
    assert rc == 1
    assert "http://" in err, err


def test_server_failing_mid_stream_is_reported(server_url):
    # A prompt longer than the server's context: llama-cpp-python fails after it started the
    # event stream, so the stream ends without a finish_reason or [DONE].
    rc, lines, err = remote_chat(server_url, "word " * 1500, "--max-tokens", "8")
    assert rc == 1, lines
    assert "closed the stream before the reply ended" in err and "server's log" in err, err


@pytest.mark.slow
def test_a_conversation_can_think_with_the_remote_server(server_url, tmp_path):
    """The whole engine with its LLM on the remote server: a spoken question gets a spoken answer."""
    from conftest import run_duet
    from conversation_audio import Script

    person = Script().silence(1.0).say("What is the capital of France?").silence(7.0)
    wav = person.write(tmp_path / "person.wav")
    trace = tmp_path / "trace.jsonl"
    run_duet(BUILD / "duet", "converse", "--in", wav, "--out", tmp_path / "duet.wav", "--trace", trace,
             "--remote-url", server_url, "--remote-model", "smollm2", "--max-tokens", "30", "-q",
             timeout=300)
    turns = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(turns) == 1, turns
    assert "france" in turns[0]["transcript"].lower()
    assert turns[0]["reply"].strip(), turns[0]
    assert turns[0]["first_audio_ms"] > turns[0]["speech_end_ms"]
