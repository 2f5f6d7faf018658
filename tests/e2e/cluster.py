"""A real, throwaway Kubernetes API server for end-to-end tests.

slimgate is an admission webhook, so the only way to know that its chart and
its webhook configuration are accepted, and that the API server really calls
it, is to talk to a real kube-apiserver. This module starts one on loopback,
backed by kine (an etcd-compatible store over SQLite), with freshly generated
certificates and an admin client credential, and tears it down again.

There is no controller-manager, scheduler or kubelet:

* pods are stored but stay Pending;
* no ``default`` ServiceAccount appears in new namespaces, so the
  ``ServiceAccount`` admission plugin is disabled (otherwise every pod without
  an explicit, existing service account would be rejected);
* deleted namespaces stay Terminating forever (nothing runs the namespace
  finalizer), so tests should use fresh namespace names instead of deleting.

Webhooks must be registered with ``clientConfig.url`` pointing at loopback:
with no endpoints controller, ``clientConfig.service`` cannot be resolved.
"""

from __future__ import annotations

import collections
import ctypes
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import trustme
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kubernetes import client as k8s_client

from tests.support import processes
from tests.support.registry_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_TOOLS_SCRIPT = REPO_ROOT / "scripts" / "ensure-k8s-tools.sh"

ADMIN_USER = "slimgate-e2e-admin"
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/12"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
_SERVING_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    "10.96.0.1",
)


class ClusterError(RuntimeError):
    """The tools could not be built or the API server did not come up."""


class _PortTaken(ClusterError):
    """A process lost the race for the port :func:`free_port` picked."""


_START_ATTEMPTS = 3


@dataclass(frozen=True)
class K8sTools:
    """Paths of the binaries built by ``scripts/ensure-k8s-tools.sh``."""

    kube_apiserver: Path
    kine: Path
    helm: Path


def ensure_tools(script: Path = ENSURE_TOOLS_SCRIPT) -> K8sTools:
    """Build (or find cached) kube-apiserver, kine and helm; return their paths.

    The build log is echoed to this process's stderr so a slow first build is
    visible with ``pytest -s``; a failed build raises :class:`ClusterError`
    carrying the end of that log.
    """
    recent: collections.deque[str] = collections.deque(maxlen=40)
    with tempfile.TemporaryFile("w+") as stdout:
        process = subprocess.Popen(
            ["bash", str(script), "--print-env"],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                sys.stderr.write(line)
                recent.append(line.rstrip("\n"))
        returncode = process.wait()
        stdout.seek(0)
        printed = stdout.read()
    if returncode != 0:
        raise ClusterError(f"{script} failed with exit code {returncode}:\n" + "\n".join(recent))
    paths: dict[str, Path] = {}
    for line in printed.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            paths[key.strip()] = Path(value.strip())
    try:
        tools = K8sTools(paths["KUBE_APISERVER"], paths["KINE"], paths["HELM"])
    except KeyError as missing:
        raise ClusterError(f"{script} did not print {missing}") from None
    for path in (tools.kube_apiserver, tools.kine, tools.helm):
        if not os.access(path, os.X_OK):
            raise ClusterError(f"{script} printed {path}, which is not executable")
    return tools


@dataclass(frozen=True)
class _Pki:
    """Certificate files for one cluster, all PEM."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_public_key: Path
    sa_private_key: Path


def _write_pki(directory: Path) -> _Pki:
    """A CA, the API server's serving certificate, an admin client certificate (group
    ``system:masters``) and the service-account signing key pair; trustme issues the
    certificates (its leaf certificates are good for both server and client auth)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="slimgate-e2e")
    serving = ca.issue_cert(*_SERVING_NAMES, common_name="kube-apiserver")
    admin = ca.issue_cert(ADMIN_USER, common_name=ADMIN_USER, organization_name="system:masters")
    pki = _Pki(
        ca_cert=directory / "ca.crt",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        sa_public_key=directory / "sa.pub",
        sa_private_key=directory / "sa.key",
    )
    ca.cert_pem.write_to_path(str(pki.ca_cert))
    for leaf, cert, key in (
        (serving, pki.serving_cert, pki.serving_key),
        (admin, pki.admin_cert, pki.admin_key),
    ):
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
    sa_key = ec.generate_private_key(ec.SECP256R1())
    pki.sa_public_key.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    pki.sa_private_key.write_bytes(
        sa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for key in (pki.serving_key, pki.admin_key, pki.sa_private_key):
        key.chmod(0o600)
    return pki


def _log_since(path: Path, offset: int) -> str:
    """What was written to ``path`` after byte ``offset``."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def _log_tail(path: Path, lines: int = 40, offset: int = 0) -> str:
    """The last ``lines`` lines of ``path`` written after byte ``offset``."""
    text = _log_since(path, offset)
    return "\n".join(text.splitlines()[-lines:]) if text else "(no log)"


def _die_with_parent() -> None:
    """In the child: be killed if the test process dies without cleaning up.

    SIGKILL, not SIGTERM: both processes would get it at once, and an API
    server shutting down gracefully hangs when its store has just gone.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


_PR_SET_PDEATHSIG = 1


class KubeCluster:
    """kine plus kube-apiserver on loopback, for one test session.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    Every file (certificates, SQLite database, logs, kubeconfig) lives in
    ``workdir``, which is removed on stop unless ``keep_workdir`` is set.
    """

    def __init__(
        self,
        tools: K8sTools,
        workdir: Path | None = None,
        *,
        keep_workdir: bool = False,
        startup_timeout: float = 180.0,
        extra_apiserver_args: tuple[str, ...] = (),
    ) -> None:
        self.tools = tools
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="slimgate-e2e-"))
        self.keep_workdir = keep_workdir
        self.startup_timeout = startup_timeout
        self.extra_apiserver_args = extra_apiserver_args
        self.kubeconfig_path = self.workdir / "kubeconfig"
        self.ca_path = self.workdir / "pki" / "ca.crt"
        self.apiserver_log = self.workdir / "kube-apiserver.log"
        self.kine_log = self.workdir / "kine.log"
        self.port = 0
        self.kine_port = 0
        self._pki: _Pki | None = None
        self._kine: subprocess.Popen[bytes] | None = None
        self._apiserver: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the API server, e.g. ``https://127.0.0.1:40123``."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def admin_cert_path(self) -> Path:
        return self._require_pki().admin_cert

    @property
    def admin_key_path(self) -> Path:
        return self._require_pki().admin_key

    def __enter__(self) -> KubeCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start kine and the API server and wait until ``/readyz`` is ok."""
        try:
            self._pki = _write_pki(self.workdir / "pki")
            for attempt in range(1, _START_ATTEMPTS + 1):
                try:
                    self._start_kine()
                    self._start_apiserver()
                    break
                except _PortTaken:
                    if attempt == _START_ATTEMPTS:
                        raise
                    self._stop_processes(timeout=15.0)
            self._write_kubeconfig()
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the two processes this object started, API server first."""
        self._stop_processes(timeout)
        if self._owns_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_processes(self, timeout: float) -> None:
        if self._apiserver is not None:
            processes.stop(self._apiserver, timeout)
            self._apiserver = None
        if self._kine is not None:
            processes.stop(self._kine, timeout)
            self._kine = None

    def api_client(self) -> k8s_client.ApiClient:
        """A fresh ``kubernetes`` ApiClient authenticated as a cluster admin."""
        pki = self._require_pki()
        configuration = k8s_client.Configuration()
        configuration.host = self.url
        configuration.ssl_ca_cert = str(pki.ca_cert)
        configuration.cert_file = str(pki.admin_cert)
        configuration.key_file = str(pki.admin_key)
        return k8s_client.ApiClient(configuration)

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the cluster CA and presents the admin cert."""
        pki = self._require_pki()
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
        return context

    def get(self, path: str, timeout: float = 10.0) -> bytes:
        """GET ``path`` from the API server as admin and return the body."""
        with urllib.request.urlopen(
            self.url + path, context=self.ssl_context(), timeout=timeout
        ) as response:
            body: bytes = response.read()
            return body

    def _require_pki(self) -> _Pki:
        if self._pki is None:
            raise ClusterError("the cluster has not been started")
        return self._pki

    def _start_kine(self) -> None:
        self.kine_port = free_port()
        database = self.workdir / "kine" / "state.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        args = [
            str(self.tools.kine),
            "--listen-address",
            f"127.0.0.1:{self.kine_port}",
            "--endpoint",
            f"sqlite://{database}?_journal=WAL&_synchronous=OFF&_busy_timeout=30000",
            "--metrics-bind-address",
            "0",
        ]
        offset = self._log_size(self.kine_log)
        self._kine = self._spawn(args, self.kine_log)
        deadline = time.monotonic() + 30.0
        # Wait for kine's own "available" line: a connection test could be
        # answered by whoever else holds the port.
        while True:
            self._check_alive(self._kine, "kine", self.kine_log, offset)
            if "Kine available at" in _log_since(self.kine_log, offset):
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"kine did not start listening on port {self.kine_port}:\n"
                    + _log_tail(self.kine_log, offset=offset)
                )
            time.sleep(0.2)

    def _start_apiserver(self) -> None:
        pki = self._require_pki()
        self.port = free_port()
        args = [
            str(self.tools.kube_apiserver),
            f"--etcd-servers=http://127.0.0.1:{self.kine_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'pki'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.sa_public_key}",
            f"--service-account-signing-key-file={pki.sa_private_key}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--profiling=false",
            "--v=1",
            *self.extra_apiserver_args,
        ]
        offset = self._log_size(self.apiserver_log)
        self._apiserver = self._spawn(args, self.apiserver_log)
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            self._check_alive(self._apiserver, "kube-apiserver", self.apiserver_log, offset)
            try:
                if self.get("/readyz", timeout=5.0).strip() == b"ok":
                    return
            except (OSError, ssl.SSLError) as error:
                last_error = str(error)
            time.sleep(0.5)
        raise ClusterError(
            f"kube-apiserver was not ready within {self.startup_timeout:.0f}s"
            f" ({last_error}):\n" + _log_tail(self.apiserver_log, offset=offset)
        )

    def _write_kubeconfig(self) -> None:
        pki = self._require_pki()
        name = "slimgate-e2e"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": self.url, "certificate-authority": str(pki.ca_cert)},
                }
            ],
            "users": [
                {
                    "name": ADMIN_USER,
                    "user": {
                        "client-certificate": str(pki.admin_cert),
                        "client-key": str(pki.admin_key),
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": ADMIN_USER}}],
            "current-context": name,
        }
        self.kubeconfig_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.kubeconfig_path.chmod(0o600)

    def _spawn(self, args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    @staticmethod
    def _log_size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    @staticmethod
    def _check_alive(
        process: subprocess.Popen[bytes], name: str, log_path: Path, offset: int
    ) -> None:
        code = process.poll()
        if code is not None:
            tail = _log_tail(log_path, offset=offset)
            error = _PortTaken if "address already in use" in tail else ClusterError
            raise error(f"{name} exited with code {code}:\n{tail}")
