"""The ``slimgate`` entry point: subcommands, lazy drivers, unavailable ones."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from slimgate import main as entry


def test_serve_arguments_are_defined_without_importing_the_webhook() -> None:
    parser = entry.build_parser("serve")
    args = parser.parse_args(
        [
            *("serve", "--config", "c.yaml", "--host", "::", "--port", "9443"),
            *("--tls-cert", "c.pem", "--tls-key", "k.pem", "--dev", "--workers", "2"),
            *("--threads", "8"),
        ]
    )
    assert (args.config, args.host, args.port, args.tls_cert, args.tls_key) == (
        "c.yaml",
        "::",
        9443,
        "c.pem",
        "k.pem",
    )
    assert (args.dev, args.workers, args.threads) == (True, 2, 8)


def test_check_arguments() -> None:
    args = entry.build_parser("check").parse_args(
        [
            *("check", "-o", "json", "--platform", "linux/amd64", "--platform", "linux/arm64"),
            *("--insecure-registry", "localhost:5000", "--namespace", "ns", "img:1", "oci:./x"),
        ]
    )
    assert args.images == ["img:1", "oci:./x"]
    assert args.output == "json"
    assert args.platform == ["linux/amd64", "linux/arm64"]
    assert args.insecure_registry == ["localhost:5000"]
    assert args.namespace == "ns"


def test_unavailable_driver_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(entry.DRIVERS, "audit", ("slimgate.cli.no_such_module", "audit"))
    assert entry.main(["audit", "--anything"]) == 2
    err = capsys.readouterr().err
    assert "slimgate audit: not available" in err
    assert "slimgate.cli.no_such_module" in err


def test_dispatch_passes_the_namespace_to_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []

    def run(args: object) -> int:
        seen.append(args)
        return 7

    module = types.ModuleType("slimgate_fake_driver")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "slimgate_fake_driver", module)
    monkeypatch.setitem(entry.DRIVERS, "audit", ("slimgate_fake_driver", "audit"))
    assert entry.main(["audit", "--all-namespaces", "a", "-o", "json"]) == 7
    assert getattr(seen[0], "argv", None) == ["--all-namespaces", "a", "-o", "json"]


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.main([])
    assert exited.value.code == 2


HEAVY = ("flask", "uvicorn", "kopf", "kubernetes", "prometheus_client", "dockerfile_parse")


def _modules_after_check(layout_ref: str) -> set[str]:
    code = (
        "import sys, io, contextlib\n"
        "from slimgate.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['check', '-o', 'json', {layout_ref!r}])\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(out.split())


def test_check_on_a_local_layout_loads_no_framework(tmp_path: Path) -> None:
    from tests.support.images import build_image, write_oci_layout

    layout = write_oci_layout(tmp_path / "layout", build_image())
    loaded = _modules_after_check(f"oci:{layout}")
    assert not loaded & set(HEAVY)


def test_check_on_a_local_layout_loads_no_http_stack(tmp_path: Path) -> None:
    from tests.support.images import build_image, write_oci_layout

    layout = write_oci_layout(tmp_path / "layout", build_image())
    loaded = _modules_after_check(f"oci:{layout}")
    assert not loaded & {"httpx", "httpcore", "rich"}  # httpx imports rich for its own CLI
