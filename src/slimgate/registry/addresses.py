"""Which hosts and addresses the registry client may talk to.

Image references in pod specs are untrusted input: ``169.254.169.254/latest/meta-data`` is a
syntactically valid image, and so is a host whose DNS name resolves to ``127.0.0.1``. Before
any connection (to a registry, a mirror, a token realm or a redirect target) the host is
resolved and every address it resolves to is classified; one bad address refuses the host.

Refused unless the host is listed in ``insecure`` or ``allow_private``: loopback, private
(RFC 1918, shared 100.64/10, IPv6 ULA), link-local, unspecified, multicast, reserved and
other non-global addresses, including those wrapped in IPv4-mapped, NAT64, 6to4 and Teredo
IPv6 forms. Cloud metadata endpoints are refused always. The connection is then made to the
very address that was checked (see :mod:`slimgate.registry.transport`), so a DNS answer
that changes between check and connect (rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence

from slimgate.errors import Blocked, RegistryUnavailable, TimedOut
from slimgate.registry.options import RegistryOptions, host_in, normalize_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> addresses to connect to on that port, or (address, port) pairs: a resolver
# may also name the port, as a DNS SRV answer does (tests send a name on :443 to a local
# registry on another port). Every address is checked the same way.
Resolver = Callable[[str, int], Sequence[str | tuple[str, int]]]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IPv6 metadata
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to for a TCP connection, in resolver order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address itself and any IPv4 address an IPv6 form carries inside it."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def metadata_address(ip: IPAddress) -> bool:
    return any(a in METADATA_ADDRESSES for a in _embedded(ip))


def private_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None when it is one.

    An IPv4 address carried inside an IPv6 form is judged first, so ``::ffff:127.0.0.1`` is
    a loopback address (IPv6 alone would call its whole range reserved)."""
    for a in reversed(_embedded(ip)):
        if a.is_loopback:
            return "a loopback address"
        if a.is_link_local:
            return "a link-local address"
        if a.is_unspecified:
            return "the unspecified address"
        if a.is_multicast:
            return "a multicast address"
        if a.is_reserved:
            return "a reserved address"
        if a.is_private:
            return "a private address"
        if not a.is_global:
            return "a non-public address"
    return None


class ResolutionTimeout(OSError):
    """Name resolution did not finish within the time it was given."""


class BoundedResolution:
    """Runs a resolver on a daemon thread and stops waiting for it after a timeout.

    ``getaddrinfo`` cannot be interrupted, and the system resolver has its own timeouts and
    retries (seconds each). A lookup that hangs keeps its thread until the resolver gives
    up, but the caller returns when its time is up, so DNS is bounded by the same deadline as
    the rest of an image lookup. At most ``limit`` lookups run at once: a caller waits for a
    free slot within its own time, so a burst of healthy lookups queues briefly, while
    lookups hung behind a dead DNS server cannot pile up threads without end.
    """

    def __init__(self, resolver: Resolver, limit: int = 8) -> None:
        self._resolver = resolver
        self._slots = threading.BoundedSemaphore(limit)
        self._limit = limit

    def __call__(self, host: str, port: int, timeout: float | None) -> list[str | tuple[str, int]]:
        if timeout is None:
            return list(self._resolver(host, port))
        end = time.monotonic() + max(timeout, 0.0)
        if not self._slots.acquire(timeout=max(timeout, 0.0)):
            raise OSError(
                f"cannot resolve {host}: {self._limit} lookups still pending after {timeout:.1f} s"
            )
        done = threading.Event()
        outcome: list[list[str | tuple[str, int]] | BaseException] = []

        def resolve() -> None:
            try:
                outcome.append(list(self._resolver(host, port)))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                outcome.append(exc)
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=resolve, name="slimgate-resolve", daemon=True).start()
        if not done.wait(max(end - time.monotonic(), 0.0)):
            raise ResolutionTimeout(f"cannot resolve {host}: no answer within {timeout:.1f} s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result


class AddressPolicy:
    """Decides whether a registry may be used and which addresses a host may connect to."""

    def __init__(self, options: RegistryOptions, resolver: Resolver = system_resolver) -> None:
        self._options = options
        self._resolve = BoundedResolution(resolver)

    def check_registry(self, registry: str) -> None:
        """Apply the allow and deny lists to an image's registry."""
        host = normalize_host(registry)
        if host_in(host, self._options.deny):
            raise Blocked(f"registry {registry} is on the deny list", registry=registry)
        if self._options.allow and not host_in(host, self._options.allow):
            raise Blocked(
                f"registry {registry} is not on the allow list "
                f"({', '.join(sorted(self._options.allow))})",
                registry=registry,
            )

    def addresses(
        self, host: str, port: int, *, timeout: float | None = None
    ) -> list[tuple[str, int]]:
        """Resolve ``host`` and return its addresses with the port to connect to, or raise
        :class:`Blocked`.

        The allow-private lists are matched against ``host:port``. With ``timeout``
        (seconds) a resolution that has not answered by then is :class:`RegistryUnavailable`.
        """
        authority = _authority(host, port)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        raw: list[tuple[str, int]]
        if literal is not None:
            raw = [(str(literal), port)]
        else:
            try:
                raw = [
                    a if isinstance(a, tuple) else (a, port)
                    for a in self._resolve(host, port, timeout)
                ]
            except ResolutionTimeout as exc:
                raise TimedOut(f"{authority}: {exc}", registry=authority) from exc
            except OSError as exc:
                raise RegistryUnavailable(f"{authority}: {exc}", registry=authority) from exc
        if not raw:
            raise RegistryUnavailable(f"{authority}: no addresses", registry=authority)
        may_be_private = self._options.may_be_private(authority)
        for text, _ in raw:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if metadata_address(ip):
                raise Blocked(
                    f"{authority} resolves to {ip}, a cloud metadata address; refused",
                    registry=authority,
                )
            reason = private_reason(ip)
            if reason is not None and not may_be_private:
                raise Blocked(
                    f"{authority} resolves to {ip}, {reason}; list the registry under "
                    "registry.allowPrivate (or registry.insecure) to allow it",
                    registry=authority,
                )
        return raw


def _authority(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{shown}:{port}"
