"""The command-line driver: ``slimgate check`` and ``slimgate lint`` (and ``audit``).

Each command builds the same :class:`slimgate.evaluation.Evaluator` the webhook runs and
only translates: arguments into images and a subject, results into a table or JSON and an
exit code (0 allowed, 1 denied, 2 not evaluated or wrong usage). Nothing heavy is imported
here, so ``slimgate check`` starts fast.
"""
