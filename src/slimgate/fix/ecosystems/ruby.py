"""Ruby: ``bundle install`` without development and test gems in the full image, the bundle
and the application on ``ruby:*-slim``.

``BUNDLE_WITHOUT="development:test"`` is ``bundle config set without 'development test'``
as an environment variable (Bundler docs, "bundle config"), so it holds in both stages.
Gems install into ``/usr/local/bundle`` in the official images (``GEM_HOME``), which the
runtime copies along with the application; compilers and ``-dev`` packages stay behind,
and the libraries those packages were for are installed instead.
"""

from __future__ import annotations

from slimgate.fix import bases, packages
from slimgate.fix.context import Context, app_copies, given_start
from slimgate.fix.shape import Runtime, Shape

BUNDLE = "/usr/local/bundle"
_WITHOUT = 'ENV BUNDLE_WITHOUT="development:test"'


def plan(context: Context) -> Shape:
    original = context.original
    installs = [
        r
        for r, c in original.all_commands()
        if c.program == "bundle" and c.argv[1:2] == ("install",)
    ]
    slim = bases.slim_tag("ruby", original.tag)
    runtime_base = bases.slim_runtime(original.stage.raw_base, original.base, "ruby", original.tag)
    if original.repository != "ruby":
        runtime_base = f"ruby:{slim}"
    family = bases.family_of(runtime_base)
    before: dict[int, tuple[str, ...]] = {}
    env: tuple[str, ...] = ()
    if installs and "BUNDLE_WITHOUT" not in original.env:
        before[installs[0].index] = ("# bundle config set without 'development test'", _WITHOUT)
        env = (_WITHOUT,)
    manager = "apk" if original.is_alpine() else "apt"
    split = packages.split(original.packages, manager, bases.codename(original.tag))
    notes = []
    if "nodejs" in split.runtime or "yarn" in split.runtime:
        notes.append(
            "nodejs/yarn are installed in the runtime as in the original; drop them if only "
            "assets:precompile needed them"
        )
    notes.append(
        "if the application writes to its directory (Rails: tmp, log, storage), chown those "
        "to the app user"
    )
    return Shape(
        "ruby",
        "rails"
        if any(c.program == "rails" or "rails" in c.argv for _, c in original.all_commands())
        or "rails" in " ".join(original.start())
        else None,
        Runtime(
            base=runtime_base,
            comment="runtime: ruby slim with the installed gems and the application; no compilers, "
            "no development or test gems",
            copies=(
                f"COPY --from={context.builder} {BUNDLE} {BUNDLE}",
                *app_copies(context, context.builder),
            ),
            start=given_start(context.options),
            run=packages.install_lines(manager, split.runtime)
            + packages.todo_lines(split.unknown, f"{BUNDLE}/gems/*/**/*.so"),
            user=family.add_user,
            shell=family.shell,
            env=env,
            users=family.users,
            tools=family.tools,
        ),
        purpose="build: installs the gems, compiling native extensions",
        before=before,
        notes=tuple(notes),
        ships_context=True,
        not_counted=("the installed gems",),
    )
