"""SDKs that arrive without a package manager: by ``COPY``/``ADD`` or a downloaded archive.

``paths`` are searched in the arguments of COPY/ADD (``COPY --from=golang:1.22
/usr/local/go /usr/local/go``), ``urls`` in the words of RUN commands (``curl -L
https://go.dev/dl/go1.22.5.linux-amd64.tar.gz | tar -C /usr/local -xz``). A JDK found
this way is a ``jdk-runtime`` finding; every other SDK is ``sdk-copied``.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis import rules


@dataclass(frozen=True, slots=True)
class SdkSignature:
    name: str
    ecosystem: str
    paths: tuple[str, ...]
    urls: tuple[str, ...]
    rule: str = rules.SDK_COPIED


SDK_SIGNATURES: tuple[SdkSignature, ...] = (
    SdkSignature(
        "Go SDK",
        "go",
        (r"(?:^|\s)/usr/local/go/?(?:\s|$)",),
        (
            r"dl\.google\.com/go/",
            r"go\.dev/dl/",
            r"golang\.org/dl/",
            r"\bgo[\d.]+\.linux-\w+\.tar\.gz",
        ),
    ),
    SdkSignature(
        "Rust toolchain",
        "rust",
        (
            r"/usr/local/rustup\b",
            r"/root/\.rustup\b",
            # CARGO_HOME itself or anything in it but bin/, where ``cargo install`` puts
            # the application's own binaries (``COPY --from=build
            # /usr/local/cargo/bin/app /usr/local/bin/app`` copies no toolchain)
            r"/(?:usr/local/cargo|root/\.cargo)(?:/(?!bin/)[^\s\"',\]]*)?(?=[\s\"',\]]|$)",
            r"/(?:usr/local/cargo|root/\.cargo)/bin/(?:(?:cargo|rust|clippy)[\w-]*|\*)",
        ),
        (r"sh\.rustup\.rs", r"rustup-init", r"static\.rust-lang\.org/dist"),
    ),
    SdkSignature(
        "Maven",
        "java",
        (r"/usr/share/maven\b", r"/opt/maven\b"),
        (r"apache-maven-[\d.]+-bin\.(?:tar\.gz|zip)",),
    ),
    SdkSignature(
        "Gradle",
        "java",
        (r"/opt/gradle\b",),
        (r"gradle-[\d.]+-(?:bin|all)\.zip",),
    ),
    SdkSignature(
        ".NET SDK",
        "dotnet",
        (r"/usr/share/dotnet/sdk\b", r"dotnet/sdk"),
        (r"dotnet-install\.sh", r"dotnet-sdk-[\d.]+"),
    ),
    SdkSignature(
        "JDK",
        "jdk",
        (r"/usr/lib/jvm/\S*jdk", r"/opt/java/openjdk\S*\s+.*jdk"),
        (r"OpenJDK\d+U-jdk_", r"openjdk-[\d.]+(?:\+\d+)?_linux-\S+_bin\.tar\.gz"),
        rule=rules.JDK_RUNTIME,
    ),
)
