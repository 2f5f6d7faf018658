"""``slimgate serve`` whose registry client resolves the host names it is given to local
addresses: the tests' launcher of the webhook for images on a cloud registry's host.

    python -m tests.support.resolving_serve --resolve HOST:PORT=ADDRESS:PORT ... SERVE-OPTIONS

An image on an ECR host (``123456789012.dkr.ecr.eu-west-1.amazonaws.com``, on 443) has to
be read from the tests' registry on 127.0.0.1 and a port of its own, inside the
``slimgate serve`` process that the API server calls. DNS cannot be told that without root,
and the product has no setting that maps a name to an address (in a cluster that is DNS's
job, or the pod's ``hostAliases``), so this launcher hands a resolver to the seam made for
it: ``slimgate.webhook.serve.run(args, registry)``, whose factory here makes each worker's
client with ``RegistryClient.from_options(..., resolver=...)``, the resolver the
integration tests give the client in process.

Everything else is ``slimgate serve`` as shipped: its own argument parser and ``run``. Each
address the resolver gives is still checked by the address policy (loopback only for hosts
listed in ``registry.allowPrivate`` or ``registry.insecure``, cloud metadata addresses
never), TLS verifies the certificate for the image's host name, credentials are chosen for
the image's host, and a host not named here is resolved by DNS.

The child needs the repository root on ``PYTHONPATH`` (:data:`ENV`), as ``python -m`` of a
module of ``tests`` does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slimgate.main import build_parser
from slimgate.registry.addresses import system_resolver
from slimgate.registry.client import RegistryClient
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import CredentialStore
from slimgate.registry.options import RegistryOptions
from slimgate.webhook import serve
from slimgate.wiring.engines import Registry
from tests.support.chart import REPO_ROOT

ENV = {"PYTHONPATH": str(REPO_ROOT)}

Endpoint = tuple[str, int]


def _endpoint(text: str) -> Endpoint:
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.lower(), int(port)


def _route(text: str) -> tuple[Endpoint, Endpoint]:
    name, separator, address = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT=ADDRESS:PORT")
    return _endpoint(name), _endpoint(address)


@dataclass(frozen=True)
class ResolvingRegistry:
    """Makes the real registry client, with ``routes`` in front of DNS."""

    routes: Mapping[Endpoint, Endpoint]

    def resolve(self, host: str, port: int) -> Sequence[str | Endpoint]:
        route = self.routes.get((host.lower(), port))
        return [route] if route is not None else system_resolver(host, port)

    def __call__(
        self,
        options: RegistryOptions,
        credentials: CredentialStore | None,
        observer: RegistryObserver | None,
    ) -> Registry:
        return RegistryClient.from_options(
            options, credentials=credentials, observer=observer, resolver=self.resolve
        )


def command(routes: Mapping[Endpoint, Endpoint]) -> list[str]:
    """The start of the command line that serves with ``routes``; the ``slimgate serve``
    options follow it. Run it with :data:`ENV` in its environment."""
    argv = [sys.executable, "-m", __name__]
    for (host, port), (address, address_port) in routes.items():
        argv += ["--resolve", f"{host}:{port}={address}:{address_port}"]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    launcher = argparse.ArgumentParser(prog="resolving_serve", add_help=False)
    launcher.add_argument("--resolve", type=_route, action="append", default=[])
    own, rest = launcher.parse_known_args(argv)
    args = build_parser("serve").parse_args(["serve", *rest])
    return serve.run(args, registry=ResolvingRegistry(dict(own.resolve)))


if __name__ == "__main__":
    sys.exit(main())
