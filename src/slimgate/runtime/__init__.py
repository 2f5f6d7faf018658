"""What a long-running slimgate process shares, whichever driver it runs: JSON log lines,
the renewing serving certificate and the dev CA, file signatures for reloads, and the
drivers' Prometheus metrics with the registry client's."""
