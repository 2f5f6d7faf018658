"""The C libraries the Python runtime stage installs for requirements built on a full image."""

from __future__ import annotations

import pytest

from slimgate.fix import Status, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.project_files import MemoryFiles, fixed


def _runtime_installs(base: str, install: str, requirements: str) -> str:
    text = f'FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["python", "app.py"]\n'
    written = fixed(text, {"requirements.txt": requirements, "app.py": ""})
    runtime = written.split("\nFROM ")[-1]
    return " ".join(line for line in runtime.splitlines() if "apt-get install" in line)


@pytest.mark.parametrize(
    ("install", "requirements", "library"),
    [
        ("pip install -r requirements.txt", "psycopg2==2.9.9\n", "libpq5"),
        ("pip install --no-cache-dir -r /app/requirements.txt", "Psycopg2>=2.9\n", "libpq5"),
        ("pip install -r requirements.txt", "psycopg[pool]==3.1\n", "libpq5"),
        ("pip install -r requirements.txt", "mysqlclient  # the database\n", "libmariadb3"),
        ("pip install psycopg2 gunicorn", "", "libpq5"),
    ],
)
def test_a_requirement_linking_a_header_of_the_full_image_gets_its_library(
    install: str, requirements: str, library: str
) -> None:
    assert library in _runtime_installs("python:3.11", install, requirements)


@pytest.mark.parametrize(
    ("base", "requirements"),
    [
        ("python:3.11", "psycopg2-binary==2.9.9\n"),
        ("python:3.11", "psycopg[binary]==3.1\n"),
        ("python:3.11", "flask\n"),
    ],
)
def test_bundled_or_pure_requirements_need_no_library(base: str, requirements: str) -> None:
    assert _runtime_installs(base, "pip install -r requirements.txt", requirements) == ""


def test_a_python_image_other_than_python_is_refused_with_the_reason() -> None:
    text = (
        "FROM registry.access.redhat.com/ubi9/python-311\n"
        "COPY . .\nRUN pip install -r requirements.txt\n"
    )
    result = plan_fix(parse_dockerfile(text), text, MemoryFiles({"requirements.txt": "flask\n"}))
    assert result.status is Status.CANNOT
    assert "python:<version>" in result.message
