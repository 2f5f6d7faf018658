"""A renewed serving certificate is picked up by a running ``slimgate serve`` without
breaking reviews on connections that are already open, and a bad pair does not take it down.
"""

from __future__ import annotations

import http.client
import json
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import trustme

from tests.integration.webhook.test_served import serve_command
from tests.support import admission
from tests.support.registry_server import free_port
from tests.support.tls import connection_serial, mount_secret, pair, serial_of, served_serial

CONFIG = "webhook:\n  timeoutSeconds: 5\n"
# An image in a namespace the webhook never checks: the answer needs no registry.
BODY = json.dumps(
    admission.review(admission.pod(["example.invalid/app:1"], namespace="kube-system"))
)


@dataclass
class Served:
    port: int
    ca: trustme.CA
    secret: Path
    log: Path
    process: subprocess.Popen[bytes]
    generation: list[int] = field(default_factory=lambda: [1])

    def swap(self, files: dict[str, bytes]) -> None:
        self.generation[0] += 1
        mount_secret(self.secret, files, self.generation[0])

    def serial(self) -> int:
        return served_serial("127.0.0.1", self.port, self.ca)

    def connect(self) -> http.client.HTTPSConnection:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=10)

    def metrics(self) -> str:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        with httpx.Client(verify=context, trust_env=False, timeout=10) as client:
            return client.get(f"https://127.0.0.1:{self.port}/metrics").text


def review(connection: http.client.HTTPSConnection) -> int:
    connection.request("POST", "/validate", body=BODY, headers={"Content-Type": JSON})
    answer = connection.getresponse()
    answer.read()
    return answer.status


JSON = "application/json"


@pytest.fixture
def served(tmp_path: Path, test_ca: trustme.CA) -> Iterator[Served]:
    secret = tmp_path / "secret"
    secret.mkdir()
    mount_secret(secret, pair(test_ca.issue_cert("127.0.0.1", "localhost")), 1)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    port = free_port()
    log = tmp_path / "server.log"
    command = [
        *serve_command(),
        *("--config", str(config), "--host", "127.0.0.1", "--port", str(port)),
        *("--tls-cert", str(secret / "tls.crt"), "--tls-key", str(secret / "tls.key")),
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    served = Served(port, test_ca, secret, log, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                served.serial()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_renewed_certificate_is_served_and_open_connections_carry_on(
    served: Served, test_ca: trustme.CA
) -> None:
    first = served.serial()
    kept = served.connect()  # a keep-alive connection, as the apiserver holds them
    assert review(kept) == 200
    statuses: list[int | str] = []
    stop = threading.Event()

    def traffic() -> None:  # reviews in flight on another open connection during the swap
        connection = served.connect()
        try:
            while not stop.is_set():
                try:
                    statuses.append(review(connection))
                except (OSError, http.client.HTTPException) as exc:
                    statuses.append(exc.__class__.__name__)
        finally:
            connection.close()

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(0.3)
        renewed = test_ca.issue_cert("127.0.0.1", "localhost")
        served.swap(pair(renewed))
        deadline = time.monotonic() + 5
        while served.serial() != serial_of(renewed):
            assert time.monotonic() < deadline, "renewed certificate not served within 5 s"
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert served.serial() == serial_of(renewed) != first
    assert statuses
    assert set(statuses) == {200}, statuses
    assert kept.sock is not None
    socket_before = kept.sock
    assert review(kept) == 200  # the open connection still works, on its original session
    assert kept.sock is socket_before
    assert connection_serial(kept.sock) == first  # type: ignore[arg-type]
    kept.close()
    assert "slimgate_tls_reloads_total 1.0" in served.metrics()
    assert '"message":"tls certificate reloaded"' in served.log.read_text()


def test_a_mismatched_key_leaves_the_last_good_pair_in_service(
    served: Served, test_ca: trustme.CA
) -> None:
    first = served.serial()
    other = test_ca.issue_cert("127.0.0.1", "localhost")
    current = served.secret / "tls.key"
    served.swap({"tls.crt": pair(other)["tls.crt"], "tls.key": current.read_bytes()})
    time.sleep(1.1)  # the files are looked at at most once a second
    for _ in range(3):
        assert served.serial() == first
    connection = served.connect()
    assert review(connection) == 200
    connection.close()
    assert served.process.poll() is None
    text = served.metrics()
    assert "slimgate_tls_reload_failures_total 1.0" in text
    assert "slimgate_tls_reloads_total 0.0" in text
    assert "tls certificate not reloaded" in served.log.read_text()
