"""The plan of a compiled ecosystem (Go, Rust): a build stage, and a runtime stage that gets
the one binary it produced and starts it."""

from __future__ import annotations

from collections.abc import Mapping

from slimgate.fix import bases
from slimgate.fix.context import Context, binary_start, given_start
from slimgate.fix.model import Missing
from slimgate.fix.shape import Runtime, Shape, Start, needs


def binary_shape(
    context: Context,
    *,
    ecosystem: str,
    artifact: str,
    runtime_base: str,
    reason: str,
    run_lines: tuple[str, ...],
    runs_in_one_go: tuple[str, ...],
    build_env: frozenset[str],
    purpose: str,
    before: Mapping[int, tuple[str, ...]],
    notes: tuple[str, ...],
    after_from: tuple[str, ...] = (),
    destination: str | None = None,
) -> Shape:
    """Copy ``artifact`` from the builder onto ``runtime_base`` (at ``destination``, by
    default the same path) and start it; ``runs_in_one_go`` is the ecosystem's
    build-and-run command (``go run``), rewritten to the binary."""
    family = bases.family_of(runtime_base)
    destination = destination or artifact
    start = given_start(context.options) or binary_start(
        context.original, destination, (runs_in_one_go,), family.shell
    )
    if isinstance(start, Missing):
        return needs(ecosystem, start)
    assert isinstance(start, Start)
    return Shape(
        ecosystem,
        None,
        Runtime(
            base=runtime_base,
            comment=f"runtime: {reason}",
            copies=(f"COPY --from={context.builder} {artifact} {destination}",),
            start=start,
            run=run_lines,
            user=family.add_user,
            shell=family.shell,
            drop_env=build_env,
            users=family.users,
            tools=family.tools,
        ),
        purpose=purpose,
        after_from=after_from,
        before=before,
        notes=notes,
        not_counted=(f"the binary ({artifact})",),
    )
