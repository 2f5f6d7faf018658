"""What the reader noted about an image (a tag answered stale while its registry is rate
limited) is a warning on the container, whatever the decision, except in audit mode."""

from __future__ import annotations

from datetime import date

from slimgate.evaluation import ImageResult
from slimgate.kube.workloads import ContainerImage
from slimgate.model import DEFAULT_PLATFORM, ImageConfig, ImageMetadata, Subject
from slimgate.policy.decide import decide
from slimgate.policy.decision import Mode
from slimgate.policy.model import Policy
from slimgate.webhook.messages import Checked, warnings
from tests.unit.webhook.fakes import CLEAN, DEFAULT_RULES

IMAGE = "registry.example/team/ok:1"
NOTE = "tag 1 resolved 75 s ago, not refreshed: docker.io is rate limited, paused for 30 s more"


def checked(mode: Mode, notes: tuple[str, ...]) -> Checked:
    policy = Policy(rules=DEFAULT_RULES, mode=mode)
    decision = decide(CLEAN, Subject(namespace="default"), IMAGE, policy, date(2026, 1, 1))
    metadata = ImageMetadata(
        IMAGE, "sha256:" + "a" * 64, DEFAULT_PLATFORM, "", "", (), ImageConfig(), notes=notes
    )
    result = ImageResult(IMAGE, DEFAULT_PLATFORM, decision, metadata, CLEAN, None)
    container = ContainerImage("spec.containers[0].image", "containers", 0, "c0", IMAGE)
    return Checked(container, result)


def test_a_note_is_a_warning_on_an_allowed_container() -> None:
    assert warnings([checked(Mode.ENFORCE, (NOTE,))]) == [f"spec.containers[0].image: {NOTE}"]
    assert warnings([checked(Mode.ENFORCE, ())]) == []


def test_audit_mode_says_nothing() -> None:
    assert warnings([checked(Mode.AUDIT, (NOTE,))]) == []
