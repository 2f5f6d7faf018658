"""Everything that talks to the Kubernetes API: the raw-JSON client (``api``), pods and
their owners (``owners``), and pull secrets (``secrets`` reads them, ``pullsecrets`` turns
them into registry credentials with a TTL cache and a budget). The shapes it reads are the
pure :mod:`slimgate.kube`."""
