"""The validating admission webhook: ``slimgate serve``.

``app.create_app`` is the composition root of the Flask app (no module-level app);
``serve.run`` starts it under uvicorn over TLS. The request logic lives in ``review``
(AdmissionReview -> answer) and ``messages`` (decisions -> warnings and denial text), so it
can be tested without a server.
"""
