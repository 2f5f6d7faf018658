"""The rule ids the analysis emits, with their default severity and policy action.

Rule ids are the keys of the ``policy.rules`` section of the configuration; the policy
engine maps each to ``deny``, ``warn`` or ``off``. ``default_action`` here is the value the
policy uses when the configuration does not name the rule: clear toolchain findings deny,
borderline bases and sizes warn. The :data:`UNEVALUATED` rules are not configured by rule:
their action is the policy's ``onRegistryError``. Actions are plain strings so the analysis
does not import the policy package (the policy depends on the analysis, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from slimgate.analysis.findings import Severity

Action = Literal["deny", "warn", "off"]

TOOLCHAIN_BASE = "toolchain-base"
FULL_LANGUAGE_BASE = "full-language-base"
JDK_RUNTIME = "jdk-runtime"
PHP_EXTENSION_TOOLCHAIN = "php-extension-toolchain"
TOOLCHAIN_INSTALLED = "toolchain-installed"
BUILD_IN_FINAL_IMAGE = "build-in-final-image"
SDK_COPIED = "sdk-copied"
DEV_DEPENDENCIES = "dev-dependencies"
OVERSIZE_LAYER = "oversize-layer"
OVERSIZE_IMAGE = "oversize-image"
REGISTRY_ERROR = "registry-error"
TOO_COMPLEX = "too-complex"
# Rules whose action is ``onRegistryError``: the image was not judged on its merits.
UNEVALUATED: frozenset[str] = frozenset({REGISTRY_ERROR, TOO_COMPLEX})
# Rules a multi-stage build removes: what ``slimgate fix`` writes from the image's Dockerfile.
MULTI_STAGE_FIXES: frozenset[str] = frozenset(
    {
        TOOLCHAIN_BASE,
        FULL_LANGUAGE_BASE,
        JDK_RUNTIME,
        PHP_EXTENSION_TOOLCHAIN,
        TOOLCHAIN_INSTALLED,
        BUILD_IN_FINAL_IMAGE,
        SDK_COPIED,
        DEV_DEPENDENCIES,
    }
)
FIX_HINT = "`slimgate fix Dockerfile` writes that multi-stage build from the image's Dockerfile"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its id, what it means, and its defaults."""

    id: str
    severity: Severity
    default_action: Action
    summary: str


RULES: tuple[Rule, ...] = (
    Rule(
        TOOLCHAIN_BASE,
        Severity.HIGH,
        "deny",
        "built on a toolchain image (golang, rust, gcc, maven, gradle, leiningen, haskell, "
        "dotnet sdk, buildpack-deps)",
    ),
    Rule(
        FULL_LANGUAGE_BASE,
        Severity.MEDIUM,
        "warn",
        "built on a full node/python/ruby/erlang/elixir/perl image that carries buildpack-deps "
        "compilers",
    ),
    Rule(JDK_RUNTIME, Severity.MEDIUM, "warn", "runs on a JDK where a JRE would do"),
    Rule(
        PHP_EXTENSION_TOOLCHAIN,
        Severity.MEDIUM,
        "warn",
        "php image that keeps gcc and headers ($PHPIZE_DEPS) to build extensions",
    ),
    Rule(
        TOOLCHAIN_INSTALLED,
        Severity.HIGH,
        "deny",
        "compilers, build tools or -dev packages installed and not removed in the same step",
    ),
    Rule(
        BUILD_IN_FINAL_IMAGE,
        Severity.HIGH,
        "deny",
        "the application is built (go build, mvn package, npm run build...) in the final image",
    ),
    Rule(SDK_COPIED, Severity.HIGH, "deny", "an SDK arrives by COPY or a downloaded archive"),
    Rule(
        DEV_DEPENDENCIES,
        Severity.MEDIUM,
        "warn",
        "dependencies installed without a production flag (npm ci, yarn, poetry, bundle...)",
    ),
    Rule(OVERSIZE_LAYER, Severity.LOW, "warn", "a layer over the layer size threshold"),
    Rule(OVERSIZE_IMAGE, Severity.LOW, "warn", "an image over the total size threshold"),
    Rule(
        REGISTRY_ERROR,
        Severity.MEDIUM,
        "warn",
        "the image's manifest or config could not be read (action from onRegistryError)",
    ),
    Rule(
        TOO_COMPLEX,
        Severity.MEDIUM,
        "warn",
        "the image's history is past the analysis limits (action from onRegistryError)",
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)
DEFAULT_ACTIONS: dict[str, Action] = {rule.id: rule.default_action for rule in RULES}


def severity_of(rule_id: str) -> Severity:
    """The default severity of a rule id (KeyError for an unknown id)."""
    return RULES_BY_ID[rule_id].severity
