"""What slimgate reads from the local disk: images and Dockerfiles.

The image readers (OCI image layouts, their tar archives, ``docker save``) implement
:class:`slimgate.evaluation.ImageSource` like the registry client and read the same two
documents, manifest and config, never a layer. :class:`~slimgate.wiring.router.
SourceRouter` picks one by the reference's transport prefix (``oci:``, ``oci-archive:``,
``docker-archive:``), the names containers/image (skopeo, podman) gives them, and hands
anything else to the registry client. :mod:`~slimgate.sources.dockerfile` reads a
Dockerfile into the analysis model for ``slimgate lint`` and ``slimgate fix``.
"""
