"""Distribution packages: which stay in the build stage and which the runtime needs.

A package the analysis classes as toolchain (compilers, ``-dev`` headers, build tools,
version control: :mod:`slimgate.analysis.signatures.packages`) stays in the build stage.
Any other package the original installed is installed again in the runtime stage. A
library's headers package (``libpq-dev``) means the program links that library, so the
runtime needs the library itself (``libpq5``): the table below names it for Debian
bookworm and Alpine; one that is not in the table is listed as a TODO for the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis.packages import classify

# Debian bookworm: headers package -> the shared library package it links against.
DEBIAN_LIBRARIES: dict[str, str] = {
    "libpq-dev": "libpq5",
    "libssl-dev": "libssl3",
    "libsqlite3-dev": "libsqlite3-0",
    "libffi-dev": "libffi8",
    "libxml2-dev": "libxml2",
    "libxslt1-dev": "libxslt1.1",
    "libxslt-dev": "libxslt1.1",
    "libjpeg-dev": "libjpeg62-turbo",
    "libjpeg62-turbo-dev": "libjpeg62-turbo",
    "libpng-dev": "libpng16-16",
    "zlib1g-dev": "zlib1g",
    "libzip-dev": "libzip4",
    "libicu-dev": "libicu72",
    "default-libmysqlclient-dev": "libmariadb3",
    "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3",
    "libyaml-dev": "libyaml-0-2",
    "libcurl4-openssl-dev": "libcurl4",
    "libgmp-dev": "libgmp10",
    "libonig-dev": "libonig5",
    "libfreetype-dev": "libfreetype6",
    "libfreetype6-dev": "libfreetype6",
    "libwebp-dev": "libwebp7",
    "librdkafka-dev": "librdkafka1",
    "libsodium-dev": "libsodium23",
    "libgd-dev": "libgd3",
    "libldap2-dev": "libldap-2.5-0",
    "libbz2-dev": "libbz2-1.0",
    "libreadline-dev": "libreadline8",
    "libpcre3-dev": "libpcre3",
    "libevent-dev": "libevent-2.1-7",
    "libsasl2-dev": "libsasl2-2",
    "libmemcached-dev": "libmemcached11",
    "libmagickwand-dev": "libmagickwand-6.q16-6",
    "libgeos-dev": "libgeos-c1v5",
    "libboost-all-dev": "TODO: the libboost-*1.74.0 libraries the program links",
}

# Alpine: headers package -> runtime package.
ALPINE_LIBRARIES: dict[str, str] = {
    "postgresql-dev": "libpq",
    "libpq-dev": "libpq",
    "openssl-dev": "libssl3",
    "libffi-dev": "libffi",
    "sqlite-dev": "sqlite-libs",
    "libxml2-dev": "libxml2",
    "libxslt-dev": "libxslt",
    "zlib-dev": "zlib",
    "libpng-dev": "libpng",
    "libjpeg-turbo-dev": "libjpeg-turbo",
    "libzip-dev": "libzip",
    "icu-dev": "icu-libs",
    "mariadb-dev": "mariadb-connector-c",
    "mariadb-connector-c-dev": "mariadb-connector-c",
    "yaml-dev": "yaml",
    "freetype-dev": "freetype",
    "gmp-dev": "gmp",
    "oniguruma-dev": "oniguruma",
    "libwebp-dev": "libwebp",
    "libsodium-dev": "libsodium",
    "librdkafka-dev": "librdkafka",
    "curl-dev": "libcurl",
}

# Headers that come with the compiler or the C library: nothing to install at run time.
NO_RUNTIME = frozenset(
    {
        "libc-dev",
        "libc6-dev",
        "musl-dev",
        "linux-headers",
        "linux-libc-dev",
        "python3-dev",
        "python-dev",
        "pkg-config",
        "pkgconf",
        "libstdc++-dev",
        "ca-certificates",
        "gnupg",
        "dirmngr",
        "unzip",
        "xz-utils",
        "apt-transport-https",
        "software-properties-common",
    }
)


@dataclass(frozen=True, slots=True)
class Split:
    build_only: tuple[str, ...]  # stay in the build stage
    runtime: tuple[str, ...]  # install in the runtime stage
    unknown: tuple[str, ...]  # headers whose runtime library is not in the table


def split(packages: tuple[str, ...], manager: str | None, codename: str | None) -> Split:
    """Sort what the original installed into build-only, runtime and unknown libraries."""
    table = ALPINE_LIBRARIES if manager == "apk" else DEBIAN_LIBRARIES
    usable = manager == "apk" or codename in (None, "bookworm")
    build_only: list[str] = []
    runtime: list[str] = []
    unknown: list[str] = []
    for package in packages:
        if package in NO_RUNTIME:
            build_only.append(package)
            continue
        klass = classify(package)
        if klass is None:
            if package not in runtime:
                runtime.append(package)
            continue
        build_only.append(package)
        if klass.name != "headers":
            continue
        library = table.get(package) if usable else None
        if library is None or library.startswith("TODO"):
            unknown.append(package)
        elif library not in runtime:
            runtime.append(library)
    return Split(tuple(build_only), tuple(runtime), tuple(unknown))


def install_lines(manager: str | None, packages: tuple[str, ...]) -> tuple[str, ...]:
    if not packages:
        return ()
    names = " ".join(packages)
    if manager == "apk":
        return (f"RUN apk add --no-cache {names}",)
    return (
        "RUN apt-get update \\",
        f"    && apt-get install -y --no-install-recommends {names} \\",
        "    && rm -rf /var/lib/apt/lists/*",
    )


def todo_lines(unknown: tuple[str, ...], artifact: str) -> tuple[str, ...]:
    """A TODO comment for libraries slimgate cannot name, with the command that lists them."""
    if not unknown:
        return ()
    return (
        f"# TODO: install the shared libraries that {', '.join(unknown)} provided headers for",
        f"# (run `ldd {artifact}` in the build stage to list what the program links)",
    )
