"""slimgate: keep single-stage toolchain images out of Kubernetes clusters.

The package is one pure engine (``model``, ``analysis``, ``policy``, ``evaluation``) behind
three thin drivers (``webhook``, ``operator``, ``cli``); ``registry`` and ``sources`` are
the adapters that read image metadata.
"""

__version__ = "0.1.0"
