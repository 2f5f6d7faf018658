"""AWS's side of the ECR credential tests: moto's server as a local AWS API, the real ECR
credential programs built from Go modules, and a registry that takes the ECR token.

moto (``moto_server``) answers ECR ``GetAuthorizationToken`` with the token
``AWS:<account>-auth-token`` (moto ``ecr/responses.py``), so Debian's ``docker-registry``
with an htpasswd entry for ``AWS`` / ``<account>-auth-token`` accepts exactly what a real
ECR login would be. The programs are ``ecr-credential-provider`` (k8s.io/cloud-provider-aws)
and ``docker-credential-ecr-login`` (amazon-ecr-credential-helper), built and cached by
``scripts/ensure-k8s-tools.sh``; both honour ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import processes
from tests.support.chart import ENSURE_TOOLS_SCRIPT

ACCOUNT = "123456789012"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
ECR_PASSWORD = f"{ACCOUNT}-auth-token"
ECR_USER = "AWS"
MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def ecr_providers(**provider: object) -> dict[str, Any]:
    """The kubelet's ``CredentialProviderConfig`` for EKS nodes, as the README shows it;
    ``provider`` adds fields to its one provider (such as ``env``)."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [
            {
                "name": "ecr-credential-provider",
                "matchImages": ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"],
                "defaultCacheDuration": "12h",
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                **provider,
            }
        ],
    }


@dataclass(frozen=True)
class EcrPrograms:
    provider: Path  # ecr-credential-provider
    helper: Path  # docker-credential-ecr-login


def ensure_ecr_programs() -> EcrPrograms:
    """Build (or find cached) the two ECR credential programs; return their paths."""
    done = subprocess.run(
        [
            "bash",
            str(ENSURE_TOOLS_SCRIPT),
            "ecr-credential-provider",
            "docker-credential-ecr-login",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{ENSURE_TOOLS_SCRIPT} failed:\n{done.stderr[-4000:]}")
    paths = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return EcrPrograms(
        Path(paths["ECR_CREDENTIAL_PROVIDER"]), Path(paths["DOCKER_CREDENTIAL_ECR_LOGIN"])
    )


def link_programs(programs: EcrPrograms, bin_dir: Path) -> Path:
    """A binary directory holding both programs by the names slimgate looks for."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for path in (programs.provider, programs.helper):
        target = bin_dir / path.name
        if not target.exists():
            shutil.copy2(path, target)
    return bin_dir


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """What an AWS SDK needs to call this server and nothing else: fixed keys, no
        instance metadata, the endpoint."""
        return {
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": self.url,
        }

    def stop(self) -> None:
        processes.stop(self.process)


def start_moto(workdir: Path) -> MotoServer:
    """moto's server on 127.0.0.1 on a port it picks; ready when this returns."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "moto.log"

    def port() -> str | None:
        found = re.search(rb"Running on http://127\.0\.0\.1:(\d+)", log.read_bytes())
        return found.group(1).decode() if found else None

    process = processes.start(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", "0"],
        log,
        lambda: port() is not None,
        name="moto_server",
        timeout=30,
        env={**os.environ, "MOTO_ACCOUNT_ID": ACCOUNT},
    )
    return MotoServer(process, int(port() or 0), log)
