"""One AdmissionReview in, one answer out: the webhook's logic without the HTTP server.

What is checked (Kubernetes admission docs, "Validating admission webhooks"):

- Pods on CREATE (``containers``, ``initContainers``, ``ephemeralContainers``) and the
  ``pods/ephemeralcontainers`` subresource on UPDATE;
- workloads with a pod template (``kube.workloads.TEMPLATE_PATHS``) on CREATE and UPDATE;
- on UPDATE only the images that are new or changed relative to ``oldObject``.

Never checked: its own namespace and the excluded ones, mirror pods, other subresources.
The images of one request are evaluated in parallel on the app's lookup pool
(:mod:`slimgate.webhook.lookups`: at most a few lookups per registry at once, each ending by
the review's deadline) under one deadline; an image still pending when it expires gets the
``onRegistryError`` decision through ``Evaluator.unreadable`` with a message that names the
image and the reason.

Pull secrets are read first, with at most ``PULL_SECRET_SHARE`` of the time left, so a
slow Kubernetes API still leaves time to look the images up (with the static credentials
only). Any other failure while evaluating gives every image of the review that same
``onRegistryError`` decision, never a blanket allow.

A review reads at most ``max_containers`` containers and looks up at most ``max_images``
distinct images (``WebhookSettings``): the API server sets no maximum number of containers,
and one 3 MiB Pod of 90,000 containers with distinct images took 11 s of CPU. The containers
past either limit are not looked up; they share one ``onRegistryError`` decision and one
message (:class:`~slimgate.webhook.messages.Excess`), so the work of a review is bounded
whatever its size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slimgate.config import WebhookSettings
from slimgate.errors import ObjectShapeError
from slimgate.evaluation import Evaluator, ImageResult
from slimgate.kube import responses
from slimgate.kube.admission import AdmissionReviewResponse, Operation, Review
from slimgate.kube.workloads import (
    ContainerImage,
    PodTemplate,
    changed_images,
    read_template,
    template_images,
    template_path,
)
from slimgate.model import Platform, Subject
from slimgate.policy.decision import Verdict
from slimgate.webhook.lookups import LookupPool, registry_of
from slimgate.webhook.memo import DecisionMemo, Key, memo_key, subject_key
from slimgate.webhook.messages import Checked, Excess, denial, warnings

log = logging.getLogger("slimgate.webhook")

PULL_SECRET_SHARE = 0.5  # of the time left when a review starts evaluating

# The engine to use for one pod template: the shared one, or a view of it that also knows
# the pod's pull secrets. Given the template and the seconds left before the deadline.
EngineFor = Callable[[PodTemplate, float], Evaluator]

# The platforms to evaluate a pod template's images for (``registry.platforms: auto``: the
# node platforms its placement allows); None: the configured ones.
PlatformsFor = Callable[[PodTemplate], tuple[Platform, ...]]


class AdmissionAnswer(StrEnum):
    """What a review was answered with, as the decision log and the metrics label it."""

    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"
    SKIP = "skip"  # nothing was evaluated (excluded namespace, kind, operation...)
    ERROR = "error"  # the object could not be understood at all


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer and what the logs and metrics record about it."""

    response: AdmissionReviewResponse
    decision: AdmissionAnswer
    enforced: AdmissionAnswer  # what enforce mode would have answered (audit/warn modes)
    kind: str
    namespace: str
    name: str
    operation: Operation
    dry_run: bool
    checked: tuple[Checked, ...] = ()
    skipped: str | None = None  # why nothing was evaluated
    late: tuple[str, ...] = field(default=())  # images the deadline cut off
    excess: Excess | None = None  # containers past the review's limits


@dataclass(slots=True)
class Pending:
    """A review ``Reviewer.begin`` could not answer from the memo alone."""

    review: Review
    template: PodTemplate
    containers: tuple[ContainerImage, ...]
    subject: Subject
    keys: dict[str, Key]  # image -> memo key, one per distinct image
    results: dict[str, ImageResult]  # image -> result, the memoised ones so far
    start: float
    platforms: tuple[Platform, ...]
    excess: Excess | None = None

    def checked(self) -> tuple[Checked, ...]:
        return tuple(Checked(c, self.results[c.image]) for c in self.containers)


class Reviewer:
    """Answers validated reviews with the engine; owns nothing but references."""

    def __init__(
        self,
        settings: WebhookSettings,
        engine: Evaluator,
        lookups: LookupPool,
        *,
        engine_for: EngineFor | None = None,
        platforms_for: PlatformsFor | None = None,
        memo: DecisionMemo | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.lookups = lookups
        self.engine_for = engine_for
        self.platforms_for = platforms_for
        self.memo = memo if memo is not None else DecisionMemo(ttl=0)
        self.clock = clock

    def begin(self, review: Review, started: float) -> Outcome | Pending:
        """What can be answered without waiting on anything, or what is left to look up.

        Skips, shape errors and reviews whose images are all memoised are answered here,
        with CPU work only, so an event loop can call this inline; the rest is ``finish``.
        """
        skip = self._skip_reason(review)
        if skip is not None:
            return self._skipped(review, skip)
        assert review.object is not None  # _skip_reason answered otherwise
        most = self.settings.max_containers
        try:
            template = read_template(review.object, review.group, review.kind, most)
            old = (
                template_images(review.old_object, review.group, review.kind, most)
                if review.operation is Operation.UPDATE and review.old_object is not None
                else None
            )
        except ObjectShapeError as exc:
            return self._skipped(
                review, f"unexpected object: {exc}", responses.rejected(review.uid, str(exc))
            )
        assert template is not None  # supported kinds always have a template
        if template.is_mirror_pod:
            return self._skipped(review, "mirror pod")
        containers = template.images
        if old is not None:
            containers = changed_images(containers, old)
        if not containers and not template.unread:
            return self._skipped(review, "no new or changed images")
        subject = _subject(template, review)
        platforms = self._platforms(template)
        containers, images, over = self._within_image_limit(containers)
        excess = self._over_limits(review, subject, template.unread, over, platforms[0])
        who = subject_key(subject, platforms, template.access)
        keys = {image: memo_key(image, who) for image in images}
        pending = Pending(
            review, template, tuple(containers), subject, keys, {}, started, platforms, excess
        )
        if not self._recall(pending):
            return pending
        return self._answer(review, template, pending.checked(), (), excess)

    def finish(self, pending: Pending) -> Outcome:
        """Look up the images ``begin`` did not have and answer; blocks on I/O."""
        try:
            late = self._evaluate(pending)
            return self._answer(
                pending.review, pending.template, pending.checked(), late, pending.excess
            )
        except Exception as exc:  # logged; the images get the onRegistryError decision
            log.exception(
                "evaluation failed; images get the registry-error decision",
                extra={"fields": {"uid": pending.review.uid}},
            )
            why = f"evaluation failed: {exc.__class__.__name__}"
            unchecked = self._unchecked(pending, why)
            return self._answer(pending.review, pending.template, unchecked, (), pending.excess)

    def _within_image_limit(
        self, containers: tuple[ContainerImage, ...]
    ) -> tuple[tuple[ContainerImage, ...], list[str], int]:
        """The containers whose images are among the first ``max_images`` distinct ones,
        those images, and how many containers were left out."""
        images = list(dict.fromkeys(c.image for c in containers))
        most = self.settings.max_images
        if len(images) <= most:
            return containers, images, 0
        looked_up = set(images[:most])
        kept = tuple(c for c in containers if c.image in looked_up)
        return kept, images[:most], len(containers) - len(kept)

    def _platforms(self, template: PodTemplate) -> tuple[Platform, ...]:
        if self.platforms_for is not None:
            platforms = self.platforms_for(template)
            if platforms:
                return platforms
        return self.settings.platforms

    def _over_limits(
        self, review: Review, subject: Subject, unread: int, over: int, platform: Platform
    ) -> Excess | None:
        """The one decision for the containers past the limits, if there are any."""
        if not unread and not over:
            return None
        containers = f"{self.settings.max_containers:,} containers"
        images = f"{self.settings.max_images:,} distinct images"
        if unread and over:
            reason = f"more than {containers} and {images}"
        else:
            reason = f"more than {containers if unread else images}"
        count = unread + over
        label = f"{count:,} more containers"
        result = self.engine.unreadable(label, subject, reason, platform)
        path = template_path(review.group, review.kind) or ()
        return Excess(count, ".".join((*path, "spec")), reason, result)

    def _skip_reason(self, review: Review) -> str | None:
        if review.operation not in (Operation.CREATE, Operation.UPDATE):
            return f"operation {review.operation}"
        if review.namespace and self.settings.skips_namespace(review.namespace):
            return f"namespace {review.namespace} is excluded"
        if template_path(review.group, review.kind) is None:
            return f"kind {review.group or 'core'}/{review.kind} has no pod template"
        if review.sub_resource and not (
            review.kind == "Pod" and review.sub_resource == "ephemeralcontainers"
        ):
            return f"subresource {review.sub_resource}"
        if review.object is None:
            return "no object"
        return None

    def _skipped(
        self,
        review: Review,
        reason: str,
        response: AdmissionReviewResponse | None = None,
    ) -> Outcome:
        answer = response or responses.allow(review.uid)
        decision = AdmissionAnswer.SKIP if answer["response"]["allowed"] else AdmissionAnswer.DENY
        return Outcome(
            response=answer,
            decision=decision,
            enforced=decision,
            kind=review.kind,
            namespace=review.namespace,
            name=_name(review),
            operation=review.operation,
            dry_run=review.dry_run,
            skipped=reason,
        )

    def _evaluate(self, pending: Pending) -> tuple[str, ...]:
        """Fill in ``pending.results`` for the images the memo did not have; the late ones."""
        deadline = pending.start + self.settings.deadline
        subject, results, platforms = pending.subject, pending.results, pending.platforms
        if self._recall(pending):  # answered by another review since begin()
            return ()
        engine = self.engine
        if self.engine_for is not None:
            left = max(0.0, deadline - self.clock())
            engine = self._engine_for(pending.template, left)
        until = time.monotonic() + max(0.0, deadline - self.clock())  # lookups end with us
        futures = {
            image: self.lookups.submit(
                registry_of(image), until, engine.evaluate, image, subject, platforms
            )
            for image in pending.keys
            if image not in results
        }
        wait(futures.values(), timeout=max(0.0, deadline - self.clock()))
        late: list[str] = []
        reason = f"registry did not answer within {self.settings.deadline:.1f} s"
        for image, future in futures.items():
            if future.done() and future.exception() is None:
                results[image] = future.result()
                self.memo.put(pending.keys[image], results[image])
                continue
            if future.done():
                error = future.exception()
                why = f"evaluation failed: {error.__class__.__name__}"
            else:
                future.cancel()  # still queued: drop it; running: it finishes in the background
                late.append(image)
                why = reason
            results[image] = engine.unreadable(image, subject, why, platforms[0])
        return tuple(late)

    def _recall(self, pending: Pending) -> bool:
        """Fill in the results the memo has for ``pending``; True when it has them all."""
        for image, key in pending.keys.items():
            if image not in pending.results and (hit := self.memo.get(key)) is not None:
                pending.results[image] = hit
        return len(pending.results) == len(pending.keys)

    def _engine_for(self, template: PodTemplate, left: float) -> Evaluator:
        assert self.engine_for is not None
        try:
            return self.engine_for(template, PULL_SECRET_SHARE * left)
        except Exception as exc:  # noqa: BLE001 - logged; the shared engine still decides
            log.warning(
                "pull secrets not used; static credentials only",
                extra={
                    "fields": {"namespace": template.namespace, "reason": exc.__class__.__name__}
                },
            )
            return self.engine

    def _unchecked(self, pending: Pending, why: str) -> tuple[Checked, ...]:
        """The containers under review, each with the ``onRegistryError`` decision."""
        platform = pending.platforms[0]
        results = {
            image: self.engine.unreadable(image, pending.subject, why, platform)
            for image in pending.keys
        }
        return tuple(Checked(c, results[c.image]) for c in pending.containers)

    def _answer(
        self,
        review: Review,
        template: PodTemplate,
        checked: tuple[Checked, ...],
        late: tuple[str, ...],
        excess: Excess | None = None,
    ) -> Outcome:
        decisions = [c.result.decision for c in checked]
        if excess is not None:
            decisions.append(excess.result.decision)
        verdict = Verdict.worst([d.verdict for d in decisions])
        enforced = Verdict.worst([d.enforced for d in decisions])
        lines = warnings(checked, excess)
        if verdict is Verdict.DENY:
            response = responses.deny(review.uid, denial(checked, excess), warnings=lines)
        else:
            response = responses.allow(review.uid, lines)
        return Outcome(
            response=response,
            decision=AdmissionAnswer(verdict),
            enforced=AdmissionAnswer(enforced),
            kind=review.kind,
            namespace=review.namespace or template.namespace,
            name=_name(review) or template.name,
            operation=review.operation,
            dry_run=review.dry_run,
            checked=checked,
            late=late,
            excess=excess,
        )


def _subject(template: PodTemplate, review: Review) -> Subject:
    namespace = review.namespace or template.namespace
    return Subject(namespace=namespace, labels=template.labels, workload=template.workload)


def _name(review: Review) -> str:
    if review.name:
        return review.name
    metadata: Mapping[str, Any] = (review.object or {}).get("metadata") or {}
    name = metadata.get("name") or metadata.get("generateName") or ""
    return name if isinstance(name, str) else ""
