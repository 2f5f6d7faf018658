"""``slimgate fix``: write the multi-stage Dockerfile that the analysis asks for.

Pure: it takes the parsed Dockerfile (:mod:`slimgate.analysis.dockerfile_model`) and its
text, reads the project only through :class:`~slimgate.fix.files.ProjectFiles`, and returns
a :class:`~slimgate.fix.model.FixResult` (the new text, its stages and the size estimate).
The CLI (:mod:`slimgate.cli.fix`) does the reading, the diff and the writing.
"""

from slimgate.fix.files import NoFiles, ProjectFiles
from slimgate.fix.model import FixOptions, FixResult, Status
from slimgate.fix.plan import plan_fix

__all__ = ["FixOptions", "FixResult", "NoFiles", "ProjectFiles", "Status", "plan_fix"]
