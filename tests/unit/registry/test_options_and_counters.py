"""Registry options, host matching, Retry-After parsing and the counters."""

from __future__ import annotations

import email.utils
import threading
import time

from slimgate.registry import Counters, Observers, RegistryOptions
from slimgate.registry.exchange import retry_after
from slimgate.registry.options import host_in, normalize_host, split_host_port


def test_host_lists_match_exact_host_and_port_or_host_on_any_port() -> None:
    entries = frozenset({"registry.local:5000", "dev.local"})
    assert host_in("registry.local:5000", entries)
    assert not host_in("registry.local:5001", entries)
    assert not host_in("registry.local", entries)
    assert host_in("dev.local", entries)
    assert host_in("dev.local:8443", entries)
    assert not host_in("x.dev.local", entries)


def test_docker_hub_aliases_are_one_registry_in_options() -> None:
    options = RegistryOptions(
        insecure={"index.docker.io"}, mirrors={"registry-1.docker.io": ["m:5000"]}
    )
    assert options.is_insecure("docker.io")
    assert options.mirrors_for("docker.io") == ("m:5000",)
    assert normalize_host("Registry-1.Docker.IO") == "docker.io"


def test_ipv6_hosts_split_into_address_and_port() -> None:
    assert split_host_port("[::1]:5000") == ("::1", 5000)
    assert split_host_port("[::1]") == ("::1", None)
    assert split_host_port("example.com:443") == ("example.com", 443)
    assert split_host_port("example.com") == ("example.com", None)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after("120") == 120
    assert retry_after(None) is None
    assert retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    value = retry_after(later)
    assert value is not None
    assert 3500 < value <= 3600


def test_counters_filter_by_host_method_and_status_and_are_thread_safe() -> None:
    counters = Counters()

    def work() -> None:
        for _ in range(1000):
            counters.request("r.example", "GET", 200)
            counters.cache("tag", True)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters.request("r.example", "HEAD", 401)
    assert counters.requests() == 4001
    assert counters.requests(method="GET") == 4000
    assert counters.requests(host="r.example", status=401) == 1
    assert counters.hits("tag") == 4000
    assert counters.misses("tag") == 0
    assert counters.snapshot()["requests"]["r.example HEAD 401"] == 1
    counters.reset()
    assert counters.requests() == 0


def test_observers_fan_out() -> None:
    a, b = Counters(), Counters()
    both = Observers(a, b)
    both.request("h", "GET", 200)
    both.cache("manifest", False)
    assert a.requests() == b.requests() == 1
    assert a.misses("manifest") == b.misses("manifest") == 1
