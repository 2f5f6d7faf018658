"""Node: dependencies and the build in the full image, only what runs in the runtime.

Shapes, by framework (detected from the build command, the ``build`` script in
``package.json`` and its dependencies):

* Next.js with ``output: 'standalone'`` (Next.js docs, "output"): ``.next/standalone``,
  ``.next/static`` and ``public`` on ``node:*-slim``, started with ``node server.js``;
* Nuxt 3 / Nitro (Nitro docs, "Node.js server"): ``.output`` alone, no ``node_modules``,
  started with ``node .output/server/index.mjs``;
* static single-page apps (Vite ``dist``, Create React App ``build``, Angular
  ``dist/<project>[/browser]``, Vue CLI ``dist``): the built files on
  ``nginxinc/nginx-unprivileged`` (port 8080, user 101);
* any other server: a ``deps`` stage that drops the dev dependencies (``npm prune
  --omit=dev``, ``yarn workspaces focus --all --production``, ``pnpm install --prod``),
  then the application with its production ``node_modules`` on ``node:*-slim``.

A build on Bun's image (``oven/bun``) runs on its ``-slim`` tag (or the alpine or
distroless tag it already names), as user ``bun``; its ``deps`` stage reinstalls with
``bun install --production``.
"""

from __future__ import annotations

import re
from typing import Any

from slimgate.fix import bases, entry
from slimgate.fix.context import Context, app_copies, given_start
from slimgate.fix.model import Missing
from slimgate.fix.project import dependencies, json_file, major
from slimgate.fix.shape import ExtraStage, Runtime, Shape, Start, needs

STATIC_SERVER = "nginxinc/nginx-unprivileged:1.27-alpine"
_MANAGERS = ("pnpm", "yarn", "bun", "npm")
# The images the plan runs on the slim variant of: Node.js, and Bun (oven/bun, whose
# ``-slim`` and ``-alpine`` tags are its runtime variants).
_RUNTIMES = ("node", "oven/bun")
_RUNNERS = frozenset({"npx", "pnpx"})
_STATIC_STARTS = re.compile(
    r"\b(serve|http-server|vite preview|vite\b(?! build)|react-scripts start|ng serve"
    r"|vue-cli-service serve|live-server)\b"
)
_FRAMEWORK_WORDS: tuple[tuple[str, str], ...] = (
    ("next build", "next"),
    ("nuxt build", "nuxt"),
    ("nuxi build", "nuxt"),
    ("nuxt generate", "nuxt-static"),
    ("nuxi generate", "nuxt-static"),
    ("react-scripts build", "cra"),
    ("ng build", "angular"),
    ("vue-cli-service build", "vue"),
    ("vite build", "vite"),
)
_DEPENDENCY_FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("react-scripts", "cra"),
    ("@angular/core", "angular"),
    ("@vue/cli-service", "vue"),
    ("vite", "vite"),
)
SPA_OUTPUT = {"vite": "dist", "cra": "build", "vue": "dist"}


def _manager(context: Context) -> str:
    programs = {command.program for _, command in context.original.all_commands()}
    for name in _MANAGERS:
        if name in programs:
            return name
    if context.files.exists("pnpm-lock.yaml"):
        return "pnpm"
    if context.files.exists("bun.lock") or context.files.exists("bun.lockb"):
        return "bun"
    if context.files.exists("yarn.lock"):
        return "yarn"
    return "npm"


def _build_text(context: Context, package: dict[str, Any] | None) -> str:
    """The build commands of the stage, with ``npm run build`` expanded from package.json."""
    scripts = package.get("scripts") if package else None
    texts: list[str] = []
    for _, command in context.original.all_commands():
        argv = list(command.argv)
        if command.program in _RUNNERS and len(argv) > 1:
            argv = argv[1:]
        text = " ".join(argv)
        texts.append(text)
        if isinstance(scripts, dict) and command.program in _MANAGERS:
            words = [w for w in argv[1:] if not w.startswith("-")]
            name = (
                words[1] if words[:1] == ["run"] and len(words) > 1 else words[0] if words else ""
            )
            script = scripts.get(name)
            if isinstance(script, str):
                texts.append(script)
    return "\n".join(texts)


def _framework(build: str, package: dict[str, Any] | None) -> str | None:
    for words, framework in _FRAMEWORK_WORDS:
        if re.search(rf"(?:^|\s|/){re.escape(words)}\b", build):
            return framework
    if package is not None and re.search(r"\b(build|generate)\b", build):
        deps = dependencies(package)
        for name, framework in _DEPENDENCY_FRAMEWORKS:
            if name in deps:
                return framework
    return None


def _standalone(context: Context) -> bool | None:
    for name in ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"):
        text = context.files.read(name)
        if text is not None:
            return re.search(r"output\s*:\s*['\"]standalone['\"]", text) is not None
    return None


def _angular_output(context: Context) -> str | None:
    config = json_file(context.files, "angular.json")
    projects = config.get("projects") if config else None
    if not isinstance(projects, dict) or len(projects) != 1:
        return None
    (project,) = projects.values()
    try:
        build = project["architect"]["build"]
        path = build["options"]["outputPath"]
    except (KeyError, TypeError):
        return None
    browser = str(build.get("builder", "")).endswith(":application")
    if isinstance(path, dict):
        base = path.get("base")
        return f"{base}/{path.get('browser', 'browser')}" if isinstance(base, str) else None
    return (
        f"{path}/browser"
        if browser and isinstance(path, str)
        else path
        if isinstance(path, str)
        else None
    )


def _static_start(context: Context, package: dict[str, Any] | None) -> bool:
    """The original serves files (or has no start command), rather than running a server."""
    words = context.original.start()
    if not words:
        return True
    text = " ".join(words)
    scripts = package.get("scripts") if package else None
    if isinstance(scripts, dict):
        for name in ("start", "preview", "serve"):
            script = scripts.get(name)
            if isinstance(script, str) and re.search(rf"\b(run\s+)?{name}\b", text):
                text += " " + script
    return _STATIC_STARTS.search(text) is not None and not re.search(
        r"\bnode\s+\S+\.m?[jt]s\b", text
    )


def _runtime_base(context: Context) -> str:
    original = context.original
    return bases.slim_runtime(
        original.stage.raw_base, original.base, original.repository, original.tag
    )


def _missing_output(framework: str, why: str, example: str) -> Shape:
    return needs(
        "node",
        Missing("the directory the build writes", "--output-dir", why, example=example),
        framework=framework,
    )


def plan(context: Context) -> Shape:
    original = context.original
    if original.repository not in _RUNTIMES:
        return needs(
            "node",
            Missing(
                "a node image to run on",
                "--start",
                f"the build runs on {original.base}, not on an official node image, so "
                "slimgate cannot pick the matching node:*-slim; build FROM node:<version>",
            ),
        )
    package = json_file(context.files, "package.json")
    build = _build_text(context, package)
    framework = _framework(build, package)
    workdir = original.workdir
    output_dir = context.options.output_dir
    if output_dir == ".output":  # Nitro's output (Nuxt 3, and any Nitro-built server)
        return _nitro(context, workdir, framework or "nitro")
    if framework == "next" and (_standalone(context) or output_dir):
        return _next(context, workdir)
    if framework == "nuxt":
        nuxt = major(dependencies(package).get("nuxt")) if package else None
        if output_dir is None and nuxt is None:
            return _missing_output(
                "nuxt",
                "without package.json slimgate cannot tell Nuxt 3 (.output, no node_modules at "
                "run time) from Nuxt 2 (.nuxt with node_modules)",
                "--output-dir .output",
            )
        if output_dir not in (None, ".output") or (
            nuxt is not None and nuxt < 3 and not output_dir
        ):
            return _server(context, framework)
        return _nitro(context, workdir, "nuxt")
    if framework in ("vite", "cra", "vue", "angular", "nuxt-static") and _static_start(
        context, package
    ):
        out = output_dir
        if out is None and framework == "angular":
            out = _angular_output(context)
            if out is None:
                return _missing_output(
                    "angular",
                    "angular.json does not name one project's outputPath",
                    "--output-dir dist/my-app/browser",
                )
        if out is None and framework == "nuxt-static":
            out = ".output/public"
        if (
            out is None
            and framework == "vite"
            and any(
                context.files.read(n) and "outDir" in (context.files.read(n) or "")
                for n in ("vite.config.ts", "vite.config.js", "vite.config.mjs")
            )
        ):
            return _missing_output("vite", "vite.config sets build.outDir", "--output-dir dist")
        out = out or SPA_OUTPUT.get(framework or "", "dist")
        return _spa(context, framework or "static", entry.resolve(out, workdir))
    return _server(context, framework)


def _with_env(original_env: dict[str, str]) -> tuple[str, ...]:
    return () if "NODE_ENV" in original_env else ("ENV NODE_ENV=production",)


def _node_runtime(
    context: Context,
    comment: str,
    copies: tuple[str, ...],
    start: Start | None,
    env: tuple[str, ...] = (),
) -> Runtime:
    base = _runtime_base(context)
    family = bases.family_of(base)
    return Runtime(
        base=base,
        comment=comment,
        copies=copies,
        start=start,
        user=family.add_user,
        shell=family.shell,
        env=(*_with_env(context.original.env), *env),
        users=family.users,
        tools=family.tools,
    )


def _next(context: Context, workdir: str) -> Shape:
    b = context.builder
    copies = [
        f"COPY --from={b} {workdir}/.next/standalone ./",
        f"COPY --from={b} {workdir}/.next/static ./.next/static",
    ]
    notes = []
    if context.files.exists("public"):
        copies.insert(0, f"COPY --from={b} {workdir}/public ./public")
    else:
        notes.append(
            "no public/ directory was found: copy it from the build stage too if there is one"
        )
    start = given_start(context.options) or Start(cmd=("node", "server.js"))
    return Shape(
        "node",
        "next",
        _node_runtime(
            context,
            "runtime: the Next.js standalone server (output: 'standalone') on node slim; no "
            "node_modules beyond what it traced",
            tuple(copies),
            start,
            env=('ENV HOSTNAME="0.0.0.0"',),
        ),
        purpose="build: installs every dependency and runs next build",
        notes=tuple(notes),
        not_counted=("the standalone server and static files next build writes",),
    )


def _nitro(context: Context, workdir: str, framework: str) -> Shape:
    output = f"{workdir.rstrip('/')}/.output"
    start = given_start(context.options) or Start(cmd=("node", f"{output}/server/index.mjs"))
    return Shape(
        "node",
        framework,
        _node_runtime(
            context,
            "runtime: only the Nitro server in .output, which bundles what it needs: no "
            "node_modules at all",
            (f"COPY --from={context.builder} {output} {output}",),
            start,
        ),
        purpose="build: installs every dependency and builds the server into .output",
        not_counted=("the .output directory nuxt build writes",),
    )


def _spa(context: Context, framework: str, out: str) -> Shape:
    family = bases.family_of(STATIC_SERVER)
    notes = [
        "client-side routes need the server to answer index.html for unknown paths: add an "
        "nginx config with `try_files $uri /index.html` if the app uses them",
    ]
    if context.original.start():
        notes.append(
            f"the original started `{' '.join(context.original.start())}`; nginx serves the "
            "built files instead, on port 8080"
        )
    return Shape(
        "node",
        framework,
        Runtime(
            base=STATIC_SERVER,
            comment="runtime: the built static files, served by an unprivileged nginx (port 8080)",
            copies=(f"COPY --from={context.builder} {out}/ /usr/share/nginx/html/",),
            start=given_start(context.options) or Start(),
            user=family.add_user,
            shell=family.shell,
            expose=("8080",),
            workdir="/usr/share/nginx/html",
            users=family.users,
            tools=family.tools,
            drop_env=frozenset(context.original.env),
        ),
        purpose="build: installs every dependency and builds the static files",
        notes=tuple(notes),
        not_counted=(f"the files the build writes to {out}",),
    )


_PRUNE = {
    "npm": "RUN npm prune --omit=dev",
    "yarn": "RUN yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline",
    "yarn-berry": "RUN yarn workspaces focus --all --production",
    "pnpm": "RUN pnpm install --prod --frozen-lockfile --offline",
    "bun": "RUN rm -rf node_modules && bun install --production",
}


def _yarn_berry(context: Context) -> bool:
    """Whether the project uses Yarn 2 or later, whose install takes no ``--production``:
    a ``.yarnrc.yml``, a ``packageManager`` of ``yarn@2`` or later in package.json, or a
    Dockerfile that runs ``yarn set version`` (other than ``classic`` or 1.x) or an install
    with ``--immutable`` (Yarn 2's name for ``--frozen-lockfile``)."""
    if context.files.exists(".yarnrc.yml"):
        return True
    package = json_file(context.files, "package.json") or {}
    declared = package.get("packageManager")
    if isinstance(declared, str) and declared.startswith("yarn@"):
        first = declared[5:].split(".", 1)[0]
        return first.isdigit() and int(first) >= 2
    for _, command in context.original.all_commands():
        if command.program != "yarn":
            continue
        words = [w for w in command.argv[1:] if not w.startswith("-")]
        if words[:2] == ["set", "version"] and len(words) > 2:
            return words[2] != "classic" and not words[2].startswith("1.")
        if "--immutable" in command.argv:
            return True
    return False


def _server(context: Context, framework: str | None) -> Shape:
    original = context.original
    manager = _manager(context)
    notes: list[str] = []
    if manager == "yarn" and _yarn_berry(context):
        manager = "yarn-berry"
    if manager == "pnpm" and context.files.exists("pnpm-workspace.yaml"):
        notes.append(
            "a pnpm workspace: `pnpm --filter <package> deploy --prod /prod/app` copies one "
            "package with its production dependencies"
        )
    if framework == "next":
        notes.append(
            "add output: 'standalone' to next.config.js: the runtime then needs no node_modules"
        )
    start = given_start(context.options)
    if start is None and not original.start():
        notes.append(
            "the original has no CMD or ENTRYPOINT: the runtime starts node's default "
            "(pass --start)"
        )
    deps = ExtraStage(
        "deps",
        context.builder,
        "deps: the same files with the development dependencies removed",
        (_PRUNE[manager],),
    )
    return Shape(
        "node",
        framework,
        _node_runtime(
            context,
            "runtime: the application with its production dependencies only, on "
            f"{'bun' if original.repository == 'oven/bun' else 'node'} slim",
            app_copies(context, "deps"),
            start,
        ),
        purpose="build: installs every dependency (dev included) and builds",
        stages=(deps,),
        notes=tuple(notes),
        ships_context=True,
        not_counted=("production dependencies and build output",),
    )
