"""``cargo install --path .``: the binary the runtime copies out of CARGO_HOME/bin."""

from __future__ import annotations

import pytest

from slimgate.fix import Status, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.project_files import MemoryFiles, fixed

CARGO = '[package]\nname = "feed"\nversion = "0.1.0"\n'


def _fix(cmd: str, files: dict[str, str], run: str = "RUN cargo install --path .") -> str:
    text = f"FROM rust:1.79\nWORKDIR /src\nCOPY . .\n{run}\n{cmd}\n"
    return fixed(text, files)


@pytest.mark.parametrize(
    ("run", "env", "copied"),
    [
        ("RUN cargo install --path .", "", "/usr/local/cargo/bin/feed"),
        ("RUN cargo install --locked --root /opt/feed --path .", "", "/opt/feed/bin/feed"),
        ("RUN cargo install --path .", "ENV CARGO_HOME=/cargo\n", "/cargo/bin/feed"),
    ],
)
def test_the_installed_binary_is_copied_from_where_cargo_put_it(
    run: str, env: str, copied: str
) -> None:
    text = _fix('CMD ["feed"]', {"Cargo.toml": CARGO}, run=env + run)
    assert f"COPY --from=build {copied} /usr/local/bin/feed" in text
    assert 'CMD ["/usr/local/bin/feed"]' in text


def test_without_cargo_toml_the_start_command_names_the_binary() -> None:
    text = _fix('CMD ["feed", "--port", "8080"]', {})
    assert "COPY --from=build /usr/local/cargo/bin/feed /usr/local/bin/feed" in text


def test_a_launcher_in_the_start_command_names_no_binary() -> None:
    text = 'FROM rust:1.79\nCOPY . .\nRUN cargo install --path .\nCMD ["sh", "-c", "feed"]\n'
    result = plan_fix(parse_dockerfile(text), text, MemoryFiles({}))
    assert result.status is Status.CANNOT
    assert "--artifact" in result.message
