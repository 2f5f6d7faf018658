"""Whether the API server serves a resource, from API discovery.

``GET /apis/{group}/{version}`` lists the resources of one group version. A CRD, an
aggregated API (an APIService such as Kyverno's reports-server) and a built-in group all
answer the same way, so this tells "can be written" without caring who serves it:

* 200 with the resource in the list: :attr:`Served.SERVED`;
* 404, or 200 without the resource: :attr:`Served.ABSENT` (no CRD, no APIService);
* anything else (503 when an APIService's backend is down, a timeout): :attr:`Served.UNAVAILABLE`.

Discovery needs no RBAC grant beyond what every authenticated client has
(``system:discovery``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from slimgate.errors import KubeError


class Served(StrEnum):
    SERVED = "served"
    ABSENT = "absent"
    UNAVAILABLE = "unavailable"


class Requester(Protocol):
    def request(self, method: str, resource_path: str) -> dict[str, Any]: ...


def serves(api: Requester, api_version: str, plural: str) -> Served:
    """Whether ``plural`` of ``api_version`` (``group/version``) is served right now."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    try:
        listing = api.request("GET", base)
    except KubeError as exc:
        return Served.ABSENT if exc.status == 404 else Served.UNAVAILABLE
    names = {item.get("name") for item in listing.get("resources") or [] if isinstance(item, dict)}
    return Served.SERVED if plural in names else Served.ABSENT
