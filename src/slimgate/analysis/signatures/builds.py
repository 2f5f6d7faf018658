"""Build commands and dependency installs, per ecosystem, as data.

A :class:`BuildCommand` matches a simple command by program name and its positional
arguments (options are skipped): ``first`` constrains the first positional argument,
``then`` the second, ``anywhere`` any of them (``mvn -B clean package``). ``compile``
rows (make, gcc...) are the ones official images run inside a self-cleaning step; the
analysis ignores those when the step also removed the compilers it installed.

A :class:`DevInstall` describes a dependency install that includes development
dependencies unless a production flag or environment says otherwise; a :class:`DevPrune`,
a command that takes them out again (``npm prune --omit=dev``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BuildCommand:
    ecosystem: str
    programs: tuple[str, ...]
    first: tuple[str, ...] = ()
    then: tuple[str, ...] = ()
    anywhere: tuple[str, ...] = ()
    compile: bool = False


BUILD_COMMANDS: tuple[BuildCommand, ...] = (
    BuildCommand("go", ("go",), first=("build", "install")),
    BuildCommand("rust", ("cargo",), first=("build", "install", "auditable")),
    BuildCommand(
        "java",
        ("mvn", "mvnw"),
        anywhere=("package", "install", "verify", "deploy", "*:repackage", "compile"),
    ),
    BuildCommand(
        "java",
        ("gradle", "gradlew"),
        anywhere=("build", "assemble", "bootJar", "shadowJar", "installDist", "jar", "bootWar"),
    ),
    BuildCommand(
        "node", ("npm", "pnpm", "yarn", "bun"), first=("run", "run-script"), then=("build*",)
    ),
    BuildCommand("node", ("pnpm", "yarn", "bun"), first=("build*",)),
    BuildCommand("node", ("tsc", "webpack", "esbuild", "rollup")),
    BuildCommand("node", ("vite", "next", "ng", "nuxt", "astro"), first=("build",)),
    BuildCommand("dotnet", ("dotnet",), first=("publish", "build")),
    BuildCommand("c", ("make", "gmake", "ninja"), compile=True),
    BuildCommand("c", ("cmake",), anywhere=("--build",), compile=True),
    BuildCommand("c", ("gcc", "g++", "cc", "c++", "clang", "clang++", "configure"), compile=True),
)


@dataclass(frozen=True, slots=True)
class DevInstall:
    """A dependency install that brings development dependencies by default.

    It matches ``programs`` with a first positional argument in ``subcommands`` (``""``
    for a bare ``yarn``). It is clean when any ``production_flags`` appears, when an
    environment variable in ``production_env`` has one of its values (``NODE_ENV=production``),
    or, with ``bare_only``, when it names packages (``npm install -g typescript``).
    ``dev_markers`` instead make it a finding only when present (``pip install -r
    requirements-dev.txt``).
    """

    ecosystem: str
    programs: tuple[str, ...]
    subcommands: tuple[str, ...]
    production_flags: tuple[str, ...] = ()
    production_env: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dev_markers: tuple[str, ...] = ()  # regexes over the joined arguments
    bare_only: bool = False
    skip_flags: tuple[str, ...] = ()
    # flags that ask for the dev dependencies whatever the environment says
    # (``npm ci --include=dev`` under ``NODE_ENV=production``)
    dev_flags: tuple[str, ...] = ()
    # groups whose exclusion makes the install a production one, in ``--without`` (its
    # value or the words after it, split at ``,``, ``:`` and spaces) or the environment
    # variable ``without_env`` (``bundle install --without=development,test``)
    without_groups: tuple[str, ...] = ()
    without_env: str | None = None


_NODE_ENV = ("NODE_ENV", ("production", "prod"))
_NPM_PRODUCTION_FLAGS = (
    "--omit=dev",
    "--omit dev",
    "--only=prod",
    "--only=production",
    "--production",
    "--prod",
)
_NPM_PRODUCTION_ENV = (
    _NODE_ENV,
    ("NPM_CONFIG_PRODUCTION", ("true",)),
    ("NPM_CONFIG_OMIT", ("dev",)),
    ("npm_config_omit", ("dev",)),
)

DEV_INSTALLS: tuple[DevInstall, ...] = (
    DevInstall(
        "node",
        ("npm",),
        ("ci", "install", "i"),
        production_flags=_NPM_PRODUCTION_FLAGS,
        production_env=_NPM_PRODUCTION_ENV,
        bare_only=True,
        skip_flags=("-g", "--global"),
        dev_flags=("--include=dev", "--include dev", "--production=false", "--also=dev"),
    ),
    DevInstall(
        "node",
        ("yarn",),
        ("", "install"),
        production_flags=("--production", "--prod"),
        production_env=(_NODE_ENV, ("YARN_PRODUCTION", ("true",))),
        bare_only=True,
        dev_flags=("--production=false",),
    ),
    DevInstall(
        "node",
        ("pnpm",),
        ("install", "i"),
        production_flags=("--prod", "-P", "--production"),
        production_env=(_NODE_ENV,),
        bare_only=True,
        skip_flags=("-g", "--global"),
        dev_flags=("--prod=false", "--production=false", "--dev", "-D"),
    ),
    DevInstall(  # Bun's install: devDependencies unless --production or NODE_ENV=production
        "node",
        ("bun",),
        ("install", "i"),
        production_flags=("--production", "-p"),
        production_env=(_NODE_ENV,),
        bare_only=True,
        skip_flags=("-g", "--global"),
    ),
    DevInstall(
        "python",
        ("pip", "pip3"),
        ("install",),
        dev_markers=(
            r"(?:-r|--requirement)[ =]?\S*(?:dev|test)\S*",
            r"\[[^\]]*\b(?:dev|test|tests|lint|docs)\b[^\]]*\]",
        ),
    ),
    DevInstall(
        "python",
        ("poetry",),
        ("install",),
        production_flags=("--only main", "--only=main", "--no-dev", "--only-root"),
        without_groups=("dev",),
        without_env="POETRY_WITHOUT",
    ),
    DevInstall("python", ("uv",), ("sync",), production_flags=("--no-dev", "--only-group")),
    DevInstall("python", ("pipenv",), ("install",), dev_markers=(r"(?:^|\s)(?:--dev|-d)\b",)),
    DevInstall(
        "ruby",
        ("bundle", "bundler"),
        ("install", ""),
        production_flags=("--deployment",),
        production_env=(("BUNDLE_DEPLOYMENT", ("1", "true")),),
        without_groups=("development",),
        without_env="BUNDLE_WITHOUT",
    ),
    DevInstall(
        "php",
        ("composer",),
        ("install", "update"),
        production_flags=("--no-dev",),
        production_env=(("COMPOSER_NO_DEV", ("1", "true")),),
    ),
)


@dataclass(frozen=True, slots=True)
class DevPrune:
    """A command that removes the development dependencies an install of ``ecosystem``
    brought: ``programs`` with a first positional argument in ``subcommands``, and one of
    ``production_flags`` or a production value in ``production_env``. In the step of the
    install, it leaves no development dependency in the layer (npm's and pnpm's Docker
    guides build, then prune, in the stage that installed)."""

    ecosystem: str
    programs: tuple[str, ...]
    subcommands: tuple[str, ...]
    production_flags: tuple[str, ...]
    production_env: tuple[tuple[str, tuple[str, ...]], ...] = ()


# A production install over a full one removes what it omits: npm's ``--omit`` ("omit from
# the installation tree on disk"), ``npm ci`` (deletes node_modules first), pnpm's
# ``install --prod`` and yarn 1's ``install --production`` (both remove the extraneous).
DEV_PRUNES: tuple[DevPrune, ...] = (
    DevPrune(
        "node",
        ("npm",),
        ("prune", "ci", "install", "i"),
        production_flags=_NPM_PRODUCTION_FLAGS,
        production_env=_NPM_PRODUCTION_ENV,
    ),
    DevPrune(
        "node", ("pnpm",), ("prune", "install", "i"), ("--prod", "-P", "--production"), (_NODE_ENV,)
    ),
    DevPrune("node", ("yarn",), ("install", ""), ("--production", "--prod")),
    DevPrune("node", ("bun",), ("install", "i"), ("--production", "-p"), (_NODE_ENV,)),
    DevPrune("node", ("yarn",), ("workspaces",), ("--production",)),  # workspaces focus
    DevPrune("php", ("composer",), ("install",), ("--no-dev",)),
)
