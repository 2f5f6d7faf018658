"""End-to-end tests against a real kube-apiserver (see ``cluster.py``)."""
