""".NET: ``dotnet publish`` in the SDK image, the output on ``aspnet`` or ``runtime``.

Microsoft's documented shape: ``mcr.microsoft.com/dotnet/sdk:<version>`` publishes into a
directory; ``mcr.microsoft.com/dotnet/aspnet:<version>`` (web apps) or ``runtime`` (console
apps) of the same version runs ``dotnet <assembly>.dll``. Images from 8.0 on have a
non-root ``app`` user (``$APP_UID``).
"""

from __future__ import annotations

import posixpath
import re

from slimgate.fix import bases, entry
from slimgate.fix.context import Context, given_start
from slimgate.fix.model import Missing
from slimgate.fix.project import xml_root, xml_text
from slimgate.fix.shape import Runtime, Shape, Start, needs


def _option(argv: tuple[str, ...], *names: str) -> str | None:
    for i, word in enumerate(argv):
        for name in names:
            if word == name and i + 1 < len(argv):
                return argv[i + 1]
            if word.startswith(name + "="):
                return word.partition("=")[2]
    return None


def _project(context: Context) -> tuple[str | None, bool | None]:
    """The assembly name and whether it is a web project, from the one .csproj."""
    projects = context.files.names(".csproj")
    if len(projects) != 1:
        return None, None
    root = xml_root(context.files, projects[0])
    if root is None:
        return None, None
    name = (
        xml_text(root, "PropertyGroup", "AssemblyName")
        or posixpath.basename(projects[0])[: -len(".csproj")]
    )
    return name, root.get("Sdk", "").endswith(".Web")


def plan(context: Context) -> Shape:
    original = context.original
    publishes = [
        (r, c)
        for r, c in original.all_commands()
        if c.program == "dotnet" and c.argv[1:2] == ("publish",)
    ]
    if not publishes:
        return _missing(
            "--output-dir",
            "the directory dotnet publish writes",
            "there is no dotnet publish in the Dockerfile",
            "--output-dir /app/publish",
        )
    run, command = publishes[-1]
    out = context.options.output_dir or _option(command.argv, "-o", "--output")
    if out is None:
        return _missing(
            "--output-dir",
            "the directory dotnet publish writes",
            "dotnet publish has no -o",
            "--output-dir /app/publish",
        )
    out = entry.resolve(out, run.workdir)
    name, web = _project(context)
    words = original.start()
    dll = next((w for w in words if w.endswith(".dll")), None)
    if dll is None and name is not None:
        dll = f"{name}.dll"
    if context.options.artifact:
        dll = posixpath.basename(context.options.artifact)
    if dll is None:
        return _missing(
            "--artifact",
            "the assembly to run",
            "the start command names no .dll and there is no single .csproj",
            "--artifact MyApp.dll",
        )
    if web is None:
        web = any(k.startswith("ASPNETCORE_") for k in original.env) or any(
            b.instruction.keyword == "EXPOSE" for b in original.blocks
        )
    version = re.sub(r"^(\d+\.\d+)\.\d+", r"\1", original.tag)
    flavour = "aspnet" if web else "runtime"
    runtime_base = f"mcr.microsoft.com/dotnet/{flavour}:{version}"
    notes: list[str] = []
    major = re.match(r"\d+", version)
    family = bases.family_of(runtime_base)
    user = (
        family.add_user
        if major and int(major.group()) >= 8
        else bases.FAMILIES["alpine" if "alpine" in version else "debian"].add_user
    )
    start = given_start(context.options) or Start(
        entrypoint=("dotnet", f"{out}/{posixpath.basename(dll)}")
    )
    return Shape(
        "dotnet",
        "aspnet" if web else None,
        Runtime(
            base=runtime_base,
            comment=f"runtime: the published application on the .NET {flavour} image "
            "of the same version",
            copies=(f"COPY --from={context.builder} {out} {out}",),
            start=start,
            user=user,
            shell=family.shell,
            users=family.users,
            drop_env=frozenset(
                {"DOTNET_CLI_TELEMETRY_OPTOUT", "NUGET_XMLDOC_MODE", "DOTNET_NOLOGO"}
            ),
        ),
        purpose="build: restores and publishes with the .NET SDK",
        notes=tuple(notes),
        not_counted=(f"the published application ({out})",),
    )


def _missing(flag: str, what: str, why: str, example: str) -> Shape:
    return needs("dotnet", Missing(what, flag, why, example=example))
