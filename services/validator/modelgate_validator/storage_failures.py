"""What S3 can answer a check instead of bytes, said the way the submitter reads it.

A missing object, a refused read and storage that stays away through every retry are facts
about the submission or the deployment, not bugs in a check: the check fails with the reason
(shown to the submitter in its detail) and the validator logs a warning, without a traceback.
"""

from __future__ import annotations

from modelgate_validator.artifact_reader import MissingObject, StorageRefused, StorageUnavailable

EXPECTED: tuple[type[Exception], ...] = (MissingObject, StorageRefused, StorageUnavailable)


def describe(exc: Exception) -> str:
    """The check's detail for one of the `EXPECTED` conditions."""
    if isinstance(exc, MissingObject):
        return f"object missing: {exc}"
    if isinstance(exc, StorageRefused):
        kind = "access refused" if exc.status in (401, 403) else "storage refused the read"
        return f"{kind}: {exc}"
    return f"storage unavailable after retries: {exc}"
