"""The Kubernetes API reader against an HTTP server that answers 200 with something not JSON.

A proxy's error page or a truncated body must become a clear KubeError (exit 2 in
``slimgate audit``; a logged failure the operator's writer, lease and owner cache handle),
not a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client as k8s

from slimgate.cluster.api import KubeApi
from slimgate.errors import KubeError


class _Answers(BaseHTTPRequestHandler):
    body = b"<html>gateway says hello</html>"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api_client() -> Iterator[k8s.ApiClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configuration = k8s.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with k8s.ApiClient(configuration) as client:
            yield client
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("body", [b"<html>gateway says hello</html>", b"[1, 2]"])
def test_an_answer_that_is_not_a_json_object_is_a_kube_error(
    api_client: k8s.ApiClient, body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Answers, "body", body)
    with pytest.raises(KubeError, match=r"GET /api/v1/pods: .*(not JSON|JSON object)"):
        KubeApi(api_client, timeout=5).list("v1", "pods", None)
