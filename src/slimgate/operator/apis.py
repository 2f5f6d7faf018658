"""Which of the configured report APIs the cluster serves; the writer writes only those.

The operator never creates a CRD. At start, and at every full re-scan while one is
missing, it asks API discovery (:func:`slimgate.cluster.discovery.serves`) whether each
configured API (``--reports``) is served: by a CRD, whoever installed it, or by an
aggregated API such as Kyverno's reports-server. A missing one gets one log line (when its
state changes, not on every pass) and ``slimgate_audit_report_api_served{api=...} 0``; no
write is ever sent to it, so nothing 404s on every pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from prometheus_client import Gauge

from slimgate.cluster.discovery import Served
from slimgate.reports.policyreport import Flavour

log = logging.getLogger(__name__)

Probe = Callable[[str, str], Served]  # (group/version, plural) -> Served


class ReportApis:
    def __init__(self, probe: Probe, wanted: Sequence[Flavour], gauge: Gauge) -> None:
        self.probe = probe
        self.wanted = tuple(wanted)
        self.gauge = gauge
        self._states: dict[Flavour, Served] = {}

    @property
    def complete(self) -> bool:
        """True when every configured API was served at the last check."""
        return bool(self._states) and all(s is Served.SERVED for s in self._states.values())

    def check(self) -> tuple[Flavour, ...]:
        """The configured APIs that are served now, in the configured order."""
        served: list[Flavour] = []
        for flavour in self.wanted:
            state = self.probe(flavour.value, flavour.plural)
            self.gauge.labels(flavour.value).set(1 if state is Served.SERVED else 0)
            if state is Served.SERVED:
                served.append(flavour)
            previous = self._states.get(flavour)
            self._states[flavour] = state
            if state is previous:
                continue
            if state is Served.SERVED:
                log.info("writing %s %s reports", flavour.value, flavour.kind)
            else:
                log.warning(
                    "%s (%s) is %s in this cluster; slimgate writes no %s until it is served "
                    "(install its CRD, or choose another API with operator.reports)",
                    flavour.value,
                    flavour.plural,
                    "not served" if state is Served.ABSENT else "unavailable",
                    flavour.kind,
                )
        return tuple(served)
