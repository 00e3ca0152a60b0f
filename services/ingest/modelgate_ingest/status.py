"""Where a submission is: pending → validating → pending_review → registered | rejected.

`pending`: ingest accepted the request and is storing the files. `validating`: the
`model.submitted` event is in Kafka and the validator owns it. `pending_review`: it passed
validation and waits for an approver in the registry. `registered` / `rejected` are final; a
late or redelivered event never moves a submission back.
"""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    PENDING = "pending"
    VALIDATING = "validating"
    PENDING_REVIEW = "pending_review"
    REGISTERED = "registered"
    REJECTED = "rejected"


RANK = {
    SubmissionStatus.PENDING: 0,
    SubmissionStatus.VALIDATING: 1,
    SubmissionStatus.PENDING_REVIEW: 2,
    SubmissionStatus.REGISTERED: 3,
    SubmissionStatus.REJECTED: 3,
}
FINAL = 3
