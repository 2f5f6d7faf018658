"""A renewed serving certificate is picked up by a running ``slimgate serve`` without
breaking reviews on connections that are already open, and a bad pair does not take it down.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support import admission
from tests.support.served import ServedWebhook
from tests.support.tls import connection_serial, pair, serial_of, served_serial
from tests.support.volumes import project

CONFIG = "webhook:\n  timeoutSeconds: 5\n"
# An image in a namespace the webhook never checks: the answer needs no registry.
BODY = json.dumps(
    admission.review(admission.pod(["example.invalid/app:1"], namespace="kube-system"))
)


class Served(ServedWebhook):
    secret: Path
    trusted: trustme.CA
    generation = 1

    def swap(self, files: dict[str, bytes]) -> None:
        self.generation += 1
        project(self.secret, files, self.generation)

    def serial(self) -> int:
        return served_serial("127.0.0.1", self.port, self.trusted)

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.context(), timeout=10
        )

    def metrics(self) -> str:
        return self.get("/metrics").text


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
    project(secret, pair(test_ca.issue_cert("127.0.0.1", "localhost")), 1)
    config, ca = tmp_path / "config.yaml", tmp_path / "ca.pem"
    config.write_text(CONFIG)
    test_ca.cert_pem.write_to_path(str(ca))
    served = Served(tmp_path, config, secret / "tls.crt", secret / "tls.key", ca)
    served.secret, served.trusted = secret, test_ca
    try:
        yield served
    finally:
        served.stop()


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
