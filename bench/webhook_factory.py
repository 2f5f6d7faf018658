"""slimgate's webhook app for servers started by ``bench_servers.py``: ``app()`` builds it.

The configuration file is named by ``SLIMGATE_BENCH_CONFIG``. The app is the one ``slimgate
serve`` runs (``build_app``), so a server compared here serves exactly the webhook's work.
"""

from __future__ import annotations

import os
from pathlib import Path

from slimgate.config import load_settings
from slimgate.webhook.asgi import WebhookAsgi
from slimgate.webhook.serve import build_app


def app() -> WebhookAsgi:
    path = Path(os.environ["SLIMGATE_BENCH_CONFIG"])
    return build_app(path, load_settings(path))
