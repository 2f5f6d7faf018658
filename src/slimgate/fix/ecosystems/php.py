"""PHP: extensions compiled in a build stage, only the ``.so`` files and their ini copied.

The official php image's helpers (``docker-php-ext-install``, ``pecl install``,
``docker-php-ext-enable``) write the extensions under ``/usr/local/lib/php/extensions``
and their ini files under ``/usr/local/etc/php/conf.d``; the runtime stage starts from the
same php image, copies those two directories and installs only the shared libraries the
extensions link (``libzip-dev`` -> ``libzip4``), so ``$PHPIZE_DEPS`` and the headers stay in
the build stage. ``composer install`` leaves the development packages out (``--no-dev``).
"""

from __future__ import annotations

import re

from slimgate.fix import bases, packages
from slimgate.fix.context import Context, app_copies, given_start
from slimgate.fix.shape import Runtime, Shape

EXTENSIONS = "/usr/local/lib/php/extensions"
CONF = "/usr/local/etc/php/conf.d"


def plan(context: Context) -> Shape:
    original = context.original
    runtime_base = original.stage.raw_base.partition("@")[0]
    family = bases.family_of(runtime_base if original.repository == "php" else "php")
    replace: dict[int, tuple[str, ...]] = {}
    notes: list[str] = []
    for run, command in original.all_commands():
        if (
            command.program in ("composer", "composer.phar")
            and command.argv[1:2] == ("install",)
            and "--no-dev" not in command.argv
        ):
            block = original.blocks[run.index]
            replace[run.index] = tuple(
                re.sub(r"\bcomposer install\b", "composer install --no-dev", line, count=1)
                for line in block.lines
            )
            notes.append("composer: the development packages are no longer installed")
    manager = "apk" if original.is_alpine() else "apt"
    split = packages.split(original.packages, manager, bases.codename(original.tag) or "bookworm")
    if "apache" in original.tag:
        user: tuple[str, ...] = ()
        notes.append("apache binds port 80 as root and serves as www-data: no USER added")
    else:
        user = family.add_user
    b = context.builder
    return Shape(
        "php",
        None,
        Runtime(
            base=runtime_base,
            comment="runtime: the same php image with the compiled extensions and their ini "
            "files copied in; no $PHPIZE_DEPS, no -dev packages",
            copies=(
                f"COPY --from={b} {EXTENSIONS} {EXTENSIONS}",
                f"COPY --from={b} {CONF} {CONF}",
                *app_copies(context, b),
            ),
            start=given_start(context.options),
            run=packages.install_lines(manager, split.runtime)
            + packages.todo_lines(split.unknown, f"{EXTENSIONS}/*/*.so"),
            user=user,
            shell=family.shell,
            users=family.users,
            tools=family.tools,
        ),
        purpose="build: compiles the PHP extensions with $PHPIZE_DEPS and the -dev packages",
        replace=replace,
        notes=tuple(notes),
        ships_context=True,
        not_counted=("the compiled extensions and vendor/",),
    )
