"""Where a submission is: pending → validating → registered | rejected.

`pending`: ingest accepted the request and is storing the files. `validating`: the
`model.submitted` event is in Kafka and the validator owns it. `registered` / `rejected` are
final; a late or redelivered event never moves a submission back.
"""

from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    PENDING = "pending"
    VALIDATING = "validating"
    REGISTERED = "registered"
    REJECTED = "rejected"


RANK = {
    SubmissionStatus.PENDING: 0,
    SubmissionStatus.VALIDATING: 1,
    SubmissionStatus.REGISTERED: 2,
    SubmissionStatus.REJECTED: 2,
}
