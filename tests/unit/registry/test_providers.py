"""Kubelet credential-provider plugins, run for real: programs of the tests' own that answer
well or badly, and the runner's matching, caching, single-flight and deadline."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from slimgate.errors import CredentialsUnavailable
from slimgate.registry.counters import Counters
from slimgate.registry.credentials import Credential
from slimgate.registry.limits import Deadline
from slimgate.registry.providers import (
    CredentialProvider,
    ProviderSpec,
    parse_duration,
)
from tests.support.credential_programs import (
    PROVIDER_API,
    answering,
    calls,
    response,
    write_program,
)

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _provider(
    directory: Path,
    body: str,
    *,
    match: tuple[str, ...] = ("*.dkr.ecr.*.amazonaws.com",),
    default_cache: float = 600.0,
    timeout: float = 5.0,
    env: tuple[tuple[str, str], ...] = (),
    inherited: dict[str, str] | None = None,
    counters: Counters | None = None,
    clock: Clock | None = None,
) -> CredentialProvider:
    path = write_program(directory, "plugin", body)
    counters = counters or Counters()
    return CredentialProvider(
        ProviderSpec(
            name="plugin",
            path=str(path),
            match_images=match,
            default_cache_seconds=default_cache,
            api_version=PROVIDER_API,
            args=("get-credentials",),
            env=env,
        ),
        env=inherited or {},
        timeout=timeout,
        report=counters.program,
        cache_hit=lambda hit: counters.cache("credential-provider", hit),
        clock=clock or time.monotonic,
    )


def _deadline(seconds: float = 5.0) -> Deadline:
    return Deadline(seconds)


def test_the_request_goes_on_stdin_with_args_and_only_the_configured_environment(
    tmp_path: Path,
) -> None:
    provider = _provider(
        tmp_path,
        answering(response({ECR: ("AWS", "secret")})),
        env=(("AWS_REGION", "eu-west-1"),),
        inherited={"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/pull"},
    )
    assert provider.credential(f"{ECR}/app", _deadline()) == Credential("AWS", "secret")
    (call,) = calls(tmp_path, "plugin")
    assert json.loads(call["stdin"]) == {
        "apiVersion": PROVIDER_API,
        "kind": "CredentialProviderRequest",
        "image": f"{ECR}/app",
    }
    assert call["args"] == ["get-credentials"]
    # nothing of the test process's environment: only what was configured (Python itself
    # may add LC_CTYPE when it starts without a locale)
    assert set(call["env"]) - {"LC_CTYPE"} == {"AWS_REGION", "AWS_ROLE_ARN"}


def test_matching_follows_match_images(tmp_path: Path) -> None:
    provider = _provider(tmp_path, answering(response({})))
    assert provider.matches(f"{ECR}/app")
    assert not provider.matches(f"{ECR}:5000/app")
    assert not provider.matches("registry.example.com/app")


def test_a_registry_answer_is_cached_for_every_image_of_that_registry(tmp_path: Path) -> None:
    counters, clock = Counters(), Clock()
    provider = _provider(
        tmp_path, answering(response({ECR: ("AWS", "s")})), counters=counters, clock=clock
    )
    for name in ("a", "b", "c"):
        assert provider.credential(f"{ECR}/{name}", _deadline()) == Credential("AWS", "s")
    assert len(calls(tmp_path, "plugin")) == 1
    assert counters.hits("credential-provider") == 2
    assert counters.runs("plugin", "ok") == 1
    clock.now += 601  # defaultCacheDuration 600 s
    provider.credential(f"{ECR}/a", _deadline())
    assert len(calls(tmp_path, "plugin")) == 2


def test_an_image_answer_is_cached_for_that_image_only(tmp_path: Path) -> None:
    provider = _provider(tmp_path, answering(response({ECR: ("AWS", "s")}, cache_key_type="Image")))
    provider.credential(f"{ECR}/a", _deadline())
    provider.credential(f"{ECR}/a", _deadline())
    provider.credential(f"{ECR}/b", _deadline())
    assert [json.loads(c["stdin"])["image"] for c in calls(tmp_path, "plugin")] == [
        f"{ECR}/a",
        f"{ECR}/b",
    ]


def test_a_global_answer_covers_every_image_and_its_duration_wins(tmp_path: Path) -> None:
    clock = Clock()
    provider = _provider(
        tmp_path,
        answering(
            response(
                {"*.dkr.ecr.*.amazonaws.com": ("AWS", "s")},
                cache_key_type="Global",
                cache_duration="1m30s",
            )
        ),
        clock=clock,
    )
    other = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
    assert provider.credential(f"{ECR}/a", _deadline()) == Credential("AWS", "s")
    assert provider.credential(f"{other}/b", _deadline()) == Credential("AWS", "s")
    assert len(calls(tmp_path, "plugin")) == 1
    clock.now += 91
    provider.credential(f"{other}/b", _deadline())
    assert len(calls(tmp_path, "plugin")) == 2


def test_a_zero_duration_is_not_cached(tmp_path: Path) -> None:
    provider = _provider(tmp_path, answering(response({ECR: ("AWS", "s")}, cache_duration="0s")))
    assert provider.credential(f"{ECR}/a", _deadline()) == Credential("AWS", "s")
    assert provider.credential(f"{ECR}/a", _deadline()) == Credential("AWS", "s")
    assert len(calls(tmp_path, "plugin")) == 2


def test_concurrent_lookups_of_one_registry_share_one_run(tmp_path: Path) -> None:
    provider = _provider(tmp_path, answering(response({ECR: ("AWS", "s")}), sleep=0.5))
    found: list[Credential | None] = []

    def look(name: str) -> None:
        found.append(provider.credential(f"{ECR}/{name}", _deadline()))

    threads = [threading.Thread(target=look, args=(f"app{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [Credential("AWS", "s")] * 8
    assert len(calls(tmp_path, "plugin")) == 1


def test_the_most_specific_matching_key_wins(tmp_path: Path) -> None:
    provider = _provider(
        tmp_path,
        answering(
            response(
                {
                    "*.dkr.ecr.*.amazonaws.com": ("wild", "w"),
                    ECR: ("host", "h"),
                    f"https://{ECR}/v2/team": ("team", "t"),
                }
            )
        ),
    )
    assert provider.credential(f"{ECR}/team/app", _deadline()) == Credential("team", "t")
    assert provider.credential(f"{ECR}/other", _deadline()) == Credential("host", "h")


def test_credentials_for_a_host_that_does_not_match_are_never_used(tmp_path: Path) -> None:
    provider = _provider(tmp_path, answering(response({"attacker.example.com": ("AWS", "stolen")})))
    assert provider.credential(f"{ECR}/app", _deadline()) is None


def test_an_answer_for_another_image_gives_no_credential_for_this_one(tmp_path: Path) -> None:
    provider = _provider(
        tmp_path,
        answering(response({f"{ECR}/other": ("AWS", "s")}, cache_key_type="Image")),
    )
    assert provider.credential(f"{ECR}/app", _deadline()) is None


@pytest.mark.parametrize(
    ("body", "reason", "outcome"),
    [
        ("sys.exit(1)\n", "exited with status 1", "error"),
        ("print('password=hunter2 not json')\n", "its output is not JSON", "invalid"),
        ("print('[]')\n", "not a JSON object", "invalid"),
        (
            answering(response({ECR: ("AWS", "s")}, api_version="other/v1")),
            f"its response is not {PROVIDER_API}",
            "invalid",
        ),
        (
            answering(response({ECR: ("AWS", "s")}, cache_key_type="Pod")),
            "no cacheKeyType",
            "invalid",
        ),
        ("os.kill(os.getpid(), 9)\n", "killed by signal 9", "error"),
        ("sys.stdout.write('x' * (2 * 1024 * 1024))\n", "printed more than", "error"),
    ],
)
def test_a_bad_plugin_is_a_registry_error_naming_it_and_the_reason(
    tmp_path: Path, body: str, reason: str, outcome: str
) -> None:
    counters = Counters()
    provider = _provider(tmp_path, body, counters=counters)
    with pytest.raises(CredentialsUnavailable) as raised:
        provider.credential(f"{ECR}/app", _deadline())
    message = str(raised.value)
    assert message.startswith(f"{ECR}: credential provider plugin failed: ")
    assert reason in message
    assert "hunter2" not in message  # what it printed is never repeated
    assert counters.runs("plugin", outcome) == 1
    # a failure is not cached: the next lookup runs the plugin again
    with pytest.raises(CredentialsUnavailable):
        provider.credential(f"{ECR}/app", _deadline())
    assert len(calls(tmp_path, "plugin")) == 2


def test_a_hanging_plugin_is_killed_at_the_deadline(tmp_path: Path) -> None:
    counters = Counters()
    provider = _provider(tmp_path, "time.sleep(60)\n", timeout=30.0, counters=counters)
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable, match=r"did not finish within 0\.[0-9] s"):
        provider.credential(f"{ECR}/app", _deadline(0.8))
    assert time.monotonic() - started < 1.8
    assert counters.runs("plugin", "timeout") == 1


def test_a_plugin_is_bounded_by_its_own_timeout_under_a_long_deadline(tmp_path: Path) -> None:
    provider = _provider(tmp_path, "time.sleep(60)\n", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable, match=r"within 0\.5 s"):
        provider.credential(f"{ECR}/app", _deadline(20))
    assert time.monotonic() - started < 1.5


def test_the_output_reader_of_a_plugin_killed_mid_output_ends_without_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    body = "import sys\nsys.stdout.write('{'); sys.stdout.flush()\ntime.sleep(60)\n"
    provider = _provider(tmp_path, body, timeout=0.3)
    with pytest.raises(CredentialsUnavailable, match="did not finish"):
        provider.credential(f"{ECR}/app", _deadline(5))
    for thread in threading.enumerate():
        if thread.name == "credential-program-stdout":
            thread.join(5)
    assert errors == []


def test_a_child_left_holding_stdout_does_not_keep_the_lookup(tmp_path: Path) -> None:
    body = "import subprocess\nsubprocess.Popen(['sleep', '60'])\nprint('{}')\n"
    provider = _provider(tmp_path, body, timeout=0.8)
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable, match="did not end"):
        provider.credential(f"{ECR}/app", _deadline(5))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("12h", 43200.0),
        ("1h30m", 5400.0),
        ("90s", 90.0),
        ("0", 0.0),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("6h0m0s", 21600.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "12", "h", "1d", "1h 2m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
