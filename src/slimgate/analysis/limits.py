"""How much of an image the analysis reads, and how much CPU time it may spend on it.

An image config is untrusted input of up to ``registry.limits.configBytes`` (4 MiB): one
config repeating ``apt-get install gcc`` 59,871 times made 59,871 findings, 35 MB of JSON
and seconds of CPU. The analysis therefore stops at the first limit an image passes and
reports one ``too-complex`` finding instead, which the policy decides like an image it could
not read (``onRegistryError``). Every limit is far above what real images need: the 60
official images of the corpus have at most 42 history entries (wordpress), a longest step
of 4.8 kB (nginx) and at most 593 words of shell (wordpress), and the slowest of the first
27 was analysed in about 5 ms.

The shell reader has two fixed limits of its own (:mod:`slimgate.analysis.shell`): 64
levels of nesting and 4 KiB for one word after variable substitution.

Findings are also capped per rule (``findings_per_rule``, the rest summarised in one
finding that says how many more there are), so an image under every limit still cannot
produce an unbounded report.

The CPU budget needs a clock, which the pure core cannot read: the caller passes one
(:class:`Meter`), the composition roots the calling thread's CPU time
(``time.thread_time``), tests a fake. Without a clock there is no time budget, only the
size limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slimgate.errors import TooComplex

Clock = Callable[[], float]  # seconds, monotonic (``time.thread_time`` in production)


@dataclass(frozen=True, slots=True)
class Limits:
    """The analysis limits; an image past any of them is ``too-complex``."""

    history_entries: int = 1_000  # entries of the config's history (or Dockerfile steps)
    step_chars: int = 64 * 1024  # characters of one entry's ``created_by`` (one instruction)
    words: int = 20_000  # shell words of all RUN steps of one image, expansions included
    findings_per_rule: int = 10  # further findings of a rule become one summary finding
    cpu_seconds: float = 0.5  # CPU time for one image, when a clock is given


DEFAULT_LIMITS = Limits()


class Meter:
    """What one analysis has spent so far: words read and CPU time, against ``limits``.

    Not thread-safe and not reusable: make one per analysis.
    """

    __slots__ = ("_clock", "_deadline", "_most", "_words", "limits")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, clock: Clock | None = None) -> None:
        self.limits = limits
        self._clock = clock
        self._deadline = clock() + limits.cpu_seconds if clock is not None else None
        self._words = 0
        self._most = 0

    def check(self) -> None:
        """Raise :class:`TooComplex` when the CPU budget is spent."""
        if (
            self._clock is not None
            and self._deadline is not None
            and self._clock() > self._deadline
        ):
            raise TooComplex(f"more than {self.limits.cpu_seconds:g} s of CPU time")

    def words(self, count: int) -> None:
        """Count ``count`` more shell words (fewer, when negative: a variable that
        expands to nothing removes its word); raise :class:`TooComplex` past the limit."""
        self._words += count
        if self._words > self.limits.words:
            raise TooComplex(f"more than {self.limits.words:,} shell words")
        if self._words > self._most:
            self._most = self._words

    @property
    def words_counted(self) -> int:
        """The shell words counted so far."""
        return self._words

    @property
    def most_words(self) -> int:
        """The most shell words counted at any one time so far."""
        return self._most

    def entries(self, count: int, what: str = "history entries") -> None:
        if count > self.limits.history_entries:
            raise TooComplex(f"{count:,} {what} (limit {self.limits.history_entries:,})")

    def text(self, text: str, where: str) -> None:
        if len(text) > self.limits.step_chars:
            raise TooComplex(
                f"{where} is {len(text):,} characters long (limit {self.limits.step_chars:,})"
            )
