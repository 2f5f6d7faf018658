"""The OCI image spec as pure code: documents (manifest, index, config) and the walk from
an index to one platform's image. No I/O: readers of bytes (``slimgate.registry`` over
HTTP, ``slimgate.sources`` on disk) hand their documents in."""
