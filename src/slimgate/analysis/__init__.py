"""Recognise toolchain images and oversize layers from manifest and config alone."""
