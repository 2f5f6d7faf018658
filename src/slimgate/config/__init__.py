"""The configuration: one YAML file in, frozen typed settings out, errors that name the line.

One file (``--config``) configures every driver; its sections are ``registry``, ``policy``,
``webhook`` and ``operator`` (:class:`Settings`). :func:`load_settings` is the one way in:

- no file: the built-in document (``slimgate/defaults/config.yaml``) is read as it is,
  without loading the validator, so ``slimgate check`` starts fast;
- a file: it is laid over the built-in one and validated (``_schema``, pydantic), and its
  errors read ``FILE:LINE: key.path: what is wrong``.

Both end in :func:`slimgate.config.document.settings_from`. The YAML reading (line marks,
YAML 1.2 booleans, dates left as strings) is :mod:`slimgate.config.reader`.
"""

from __future__ import annotations

from pathlib import Path

from slimgate.config.document import settings_from
from slimgate.config.reader import DEFAULT_SOURCE, default_text, load_yaml
from slimgate.config.settings import Settings, WebhookSettings
from slimgate.errors import ConfigError

__all__ = ["Settings", "WebhookSettings", "load_settings", "parse_settings"]


def load_settings(path: str | Path | None) -> Settings:
    """The settings of the file at ``path``, validated; None: the built-in configuration,
    read without loading the validator. Raises :class:`ConfigError`."""
    if path is None:
        document, _ = load_yaml(default_text(), DEFAULT_SOURCE)
        return settings_from(document)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc}") from exc
    return parse_settings(text, str(path))


def parse_settings(text: str | None = None, source: str = "<config>") -> Settings:
    """Configuration text laid over the defaults and validated (None: the defaults alone);
    ``source`` names it in error messages."""
    from slimgate.config import _schema

    return settings_from(_schema.validate(text, source))
