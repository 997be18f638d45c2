"""`duet serve`'s security: the API key (Bearer and the WebSocket subprotocol browsers use), the
rule that a non-loopback bind needs a key, Origin and Host checks, request-rate and session limits,
and static files served without path traversal."""
import http.client
import json
import time
import urllib.error
import urllib.request

import pytest

from serve_common import DuetServer

websockets_sync = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import InvalidStatus  # noqa: E402

KEY = "sk-duet-test-key"


def need_models(models_dir):
    for name in ("whisper-tiny.en", "smollm2-135m-instruct"):
        if not (models_dir / name).exists():
            pytest.skip(f"{name} is not pulled")


@pytest.fixture(scope="module")
def keyed(duet_bin, models_dir, tmp_path_factory):
    need_models(models_dir)
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<html>duet page</html>")
    (web / "app.js").write_text("console.log('duet');")
    (web / ".hidden").write_text("hidden")
    (web.parent / "secret.txt").write_text("top secret")
    srv = DuetServer(duet_bin, "--api-key", KEY, "--web", str(web), "--rate", "0",
                     "--max-sessions", "2")
    yield srv
    srv.stop()


def get(server, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_non_loopback_bind_needs_a_key(duet_bin):
    import subprocess
    proc = subprocess.run([str(duet_bin), "serve", "--host", "0.0.0.0", "--port", "0"],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert "API key" in proc.stderr and "--api-key" in proc.stderr


def test_rest_needs_the_key(keyed):
    status, body = get(keyed, "/v1/models")
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"
    status, _ = get(keyed, "/v1/models", {"Authorization": "Bearer wrong"})
    assert status == 401
    status, body = get(keyed, "/v1/models", {"Authorization": f"Bearer {KEY}"})
    assert status == 200 and json.loads(body)["object"] == "list"


def test_sdk_with_the_key(keyed):
    openai = pytest.importorskip("openai")
    good = openai.OpenAI(base_url=keyed.http + "/v1", api_key=KEY, max_retries=0)
    assert good.models.list().data
    bad = openai.OpenAI(base_url=keyed.http + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_websocket_key_by_header_and_by_subprotocol(keyed):
    url = keyed.ws + "/v1/realtime?model=duet"
    with pytest.raises(InvalidStatus) as e:
        websockets_sync.connect(url, open_timeout=30)
    assert e.value.response.status_code == 401
    with websockets_sync.connect(url, additional_headers={"Authorization": f"Bearer {KEY}"},
                                 open_timeout=60) as ws:
        assert json.loads(ws.recv(timeout=60))["type"] == "session.created"
    with websockets_sync.connect(url, subprotocols=["realtime", f"openai-insecure-api-key.{KEY}"],
                                 open_timeout=60) as ws:
        assert ws.subprotocol == "realtime"
        assert json.loads(ws.recv(timeout=60))["type"] == "session.created"
    with pytest.raises(InvalidStatus):
        websockets_sync.connect(url, subprotocols=["realtime", "openai-insecure-api-key.bad"],
                                open_timeout=30)


def test_origin_and_host_checks(keyed):
    auth = {"Authorization": f"Bearer {KEY}"}
    status, body = get(keyed, "/v1/models", {**auth, "Origin": "https://evil.example"})
    assert status == 403 and json.loads(body)["error"]["code"] == "origin_not_allowed"
    status, _ = get(keyed, "/v1/models", {**auth, "Origin": f"http://127.0.0.1:{keyed.port}"})
    assert status == 200
    status, _ = get(keyed, "/v1/models", {**auth, "Origin": f"http://localhost:{keyed.port}"})
    assert status == 200
    # DNS rebinding: a loopback server refuses a foreign Host.
    status, body = get(keyed, "/v1/models", {**auth, "Host": "evil.example"})
    assert status == 403 and json.loads(body)["error"]["code"] == "host_not_allowed"
    with pytest.raises(InvalidStatus) as e:
        websockets_sync.connect(keyed.ws + "/v1/realtime", open_timeout=30,
                                additional_headers={**auth, "Origin": "https://evil.example"})
    assert e.value.response.status_code == 403


def test_static_files_without_traversal(keyed):
    status, body = get(keyed, "/")
    assert status == 200 and b"duet page" in body
    status, body = get(keyed, "/app.js")
    assert status == 200 and b"console.log" in body
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
                 "/..%2fsecret.txt", "/..%5csecret.txt", "/.hidden", "/%2ehidden",
                 "//etc/passwd", "/./../secret.txt", "/app.js/../../secret.txt",
                 "/%00", "/%zz", "/..", "/....//secret.txt", "/\\..\\secret.txt",
                 "/web/../../secret.txt", "/app.js%00.html", "/%252e%252e/secret.txt"]:
        status, body = get(keyed, path)
        assert status in (400, 404), (path, status)
        assert b"top secret" not in body and body != b"hidden"


def test_session_limit(keyed):
    url = keyed.ws + "/v1/realtime"
    hdr = {"Authorization": f"Bearer {KEY}"}
    held = [websockets_sync.connect(url, additional_headers=hdr, open_timeout=60) for _ in range(2)]
    try:
        for ws in held:
            assert json.loads(ws.recv(timeout=60))["type"] == "session.created"
        with pytest.raises(InvalidStatus) as e:
            websockets_sync.connect(url, additional_headers=hdr, open_timeout=30)
        assert e.value.response.status_code == 503
    finally:
        for ws in held:
            ws.close()
    time.sleep(1.0)
    with websockets_sync.connect(url, additional_headers=hdr, open_timeout=60) as ws:
        assert json.loads(ws.recv(timeout=60))["type"] == "session.created"


def test_request_rate_limit(duet_bin, models_dir):
    need_models(models_dir)
    srv = DuetServer(duet_bin, "--rate", "2", "--burst", "5")
    try:
        codes = []
        for _ in range(15):
            try:
                with urllib.request.urlopen(srv.http + "/v1/models", timeout=30) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
                assert e.headers.get("Retry-After")
        assert codes[:5] == [200] * 5 and 429 in codes
        time.sleep(2.0)
        with urllib.request.urlopen(srv.http + "/v1/models", timeout=30) as r:
            assert r.status == 200
    finally:
        srv.stop()


def test_oversize_request_body(keyed):
    conn = http.client.HTTPConnection("127.0.0.1", keyed.port, timeout=60)
    body = b"x" * (27 * 1024 * 1024)
    try:
        conn.request("POST", "/v1/chat/completions", body=body,
                     headers={"Authorization": f"Bearer {KEY}",
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before the whole body is sent: also a refusal
    finally:
        conn.close()
    status, _ = get(keyed, "/v1/models", {"Authorization": f"Bearer {KEY}"})
    assert status == 200
