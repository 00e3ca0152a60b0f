"""Accepting submissions: store the files, publish `model.submitted`, remember the status."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import asyncpg

from modelgate_ingest.artifact_store import ArtifactStore, Upload
from modelgate_ingest.form_stream import PartData, PartEnd, PartStart, boundary_of, form_events
from modelgate_ingest.repository import SubmissionRepository
from modelgate_ingest.settings import IngestSettings
from modelgate_ingest.status import SubmissionStatus
from modelgate_ingest.submissions import (
    ReferenceSubmission,
    SubmissionMetadata,
    build_submitted,
    check_file_name,
    check_metadata,
    parse_metadata,
    reference_files,
)
from modelgate_shared.errors import ApiError
from modelgate_shared.events import SUBMITTED, ArtifactFile, ModelSubmitted
from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.policy import PolicySettings

_SUBMISSIONS = uuid5(NAMESPACE_URL, "https://modelgate.dev/ids/submission")
_SUBMITTED_EVENTS = uuid5(NAMESPACE_URL, "https://modelgate.dev/ids/model.submitted")


def submission_id_for(submitter: str, key: str | None) -> UUID:
    """With an Idempotency-Key, the same submitter's retries name the same submission."""
    return uuid5(_SUBMISSIONS, f"{submitter}\n{key}") if key else uuid4()


def submitted_event_id(submission_id: UUID) -> UUID:
    """One submission, one model.submitted id: a retried publication is the same event."""
    return uuid5(_SUBMITTED_EVENTS, str(submission_id))


def request_digest(kind: str, request: SubmissionMetadata) -> str:
    """What a request under an Idempotency-Key asked for: its kind and its metadata (an
    upload's `metadata` part, or a reference submission's whole body), canonically."""
    canonical = request.model_dump_json(exclude_unset=False)
    return hashlib.sha256(f"{kind}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Accepted:
    submission_id: UUID
    status: SubmissionStatus
    event_id: UUID | None
    submission: ModelSubmitted | None = None


class _Replayed(Exception):
    """An upload turned out to be a retry already answered: stop reading, answer again."""

    def __init__(self, accepted: Accepted) -> None:
        super().__init__("replayed")
        self.accepted = accepted


class _UploadForm:
    """State of one multipart upload while its parts stream by."""

    def __init__(
        self,
        service: IngestService,
        submission_id: UUID,
        on_metadata: Callable[[SubmissionMetadata], Awaitable[None]],
    ) -> None:
        self.service = service
        self.on_metadata = on_metadata
        self.prefix = f"{service.settings.staging_prefix}/{submission_id}/"
        self.meta: SubmissionMetadata | None = None
        self.meta_buffer: bytearray | None = None
        self.current: tuple[str, Upload] | None = None
        self.files: list[ArtifactFile] = []
        self.stored_keys: list[str] = []

    async def feed(self, events: AsyncIterator[PartStart | PartData | PartEnd]) -> None:
        settings = self.service.settings
        async for event in events:
            if isinstance(event, PartStart):
                await self._start(event)
            elif isinstance(event, PartData):
                if self.meta_buffer is not None:
                    self.meta_buffer += event.data
                    if len(self.meta_buffer) > settings.max_metadata_bytes:
                        raise ApiError(413, "the metadata part exceeds 1 MiB")
                elif self.current is not None:
                    await self.current[1].write(event.data)
            elif self.meta_buffer is not None:
                self.meta = parse_metadata(bytes(self.meta_buffer))
                self.meta_buffer = None
                # A retry first: its answer stands even if the policy changed since.
                await self.on_metadata(self.meta)
                check_metadata(self.meta, self.service.policy)
            elif self.current is not None:
                path, upload = self.current
                self.current = None
                stored = await upload.finish()
                self.stored_keys.append(stored.key)
                self.files.append(
                    ArtifactFile(
                        path=path,
                        uri=self.service.store.uri(stored.key),
                        sha256=stored.sha256,
                        size=stored.size,
                    )
                )

    async def _start(self, event: PartStart) -> None:
        if event.name == "metadata":
            if self.meta is not None or self.meta_buffer is not None:
                raise ApiError(400, "only one metadata part is allowed")
            self.meta_buffer = bytearray()
        elif event.name == "file":
            if self.meta is None:
                raise ApiError(
                    400,
                    "the metadata part must come before the file parts, so a "
                    "submission is checked before gigabytes are uploaded",
                )
            path = check_file_name(event.filename)
            if any(f.path == path for f in self.files):
                raise ApiError(400, f"file {path!r} appears twice")
            if len(self.files) >= self.service.settings.max_files:
                raise ApiError(413, f"more than {self.service.settings.max_files} files")
            self.current = (path, self.service.store.begin(self.prefix + path))
        else:
            raise ApiError(400, f"unexpected form part {event.name!r}: use 'metadata' and 'file'")

    async def discard(self, *, keep_stored: bool) -> None:
        """Abort the upload in progress; delete the finished files unless told to keep them."""
        if self.current is not None:
            await self.current[1].abort()
        if not keep_stored:
            await self.service.store.delete(self.stored_keys)


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        policy: PolicySettings,
        store: ArtifactStore,
        publisher: EventPublisher,
        repository: SubmissionRepository,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.store = store
        self.publisher = publisher
        self.repository = repository

    async def _replay(self, submitter: str, key: str | None, digest: str) -> Accepted | None:
        """A retried request with the same Idempotency-Key gets the first answer again; one
        that asks for something else under it is refused (422), never answered as the first.

        A `pending` row is an attempt that never confirmed its publication (the process died,
        or Kafka refused): it is not an answer, and the retry simply does the work again under
        the same ids, which every consumer deduplicates."""
        if not key:
            return None
        row = await self.repository.by_idempotency_key(submitter, key)
        if row is None:
            return None
        first = row["request_digest"]
        if first is not None and first != digest:
            raise ApiError(
                422,
                f"Idempotency-Key {key!r} was first used for a different request (submission "
                f"{row['submission_id']}, {row['name']} {row['version']}); a retry must repeat "
                "that request exactly, and a new submission needs a new key",
            )
        if row["status"] == SubmissionStatus.PENDING:
            return None
        return Accepted(row["submission_id"], SubmissionStatus(row["status"]), row["event_id"])

    async def accept_upload(
        self, body: AsyncIterator[bytes], content_type: str, submitter: str, key: str | None
    ) -> Accepted:
        boundary = boundary_of(content_type)
        submission_id = submission_id_for(submitter, key)
        digest: str | None = None

        async def on_metadata(meta: SubmissionMetadata) -> None:
            # The metadata part comes first: a retry is recognised before any file is read.
            nonlocal digest
            digest = request_digest("upload", meta)
            replay = await self._replay(submitter, key, digest)
            if replay is not None:
                raise _Replayed(replay)

        form = _UploadForm(self, submission_id, on_metadata)
        try:
            await form.feed(form_events(body, boundary))
            if form.meta is None:
                raise ApiError(400, "no 'metadata' part: send the submission's JSON metadata")
            if not form.files:
                raise ApiError(400, "no 'file' part: upload at least one file")
            submission = build_submitted(
                submission_id, form.meta, submitter, self.store.uri(form.prefix), form.files
            )
            await self._record_pending(submission, key, digest)
        except _Replayed as replayed:
            return replayed.accepted
        except BaseException:
            # With an Idempotency-Key the keys are shared by every attempt, and an earlier one
            # may already have published an event that names these very files: they stay
            # (the next attempt overwrites them) rather than turn a good model into a reject.
            await form.discard(keep_stored=key is not None)
            raise
        # From here on the event may reach Kafka and the validator will read these files, so
        # they stay whatever fails next (a publish that timed out but landed, a lost database
        # write after it). A retry with the same Idempotency-Key stages the same keys again
        # and republishes the same event id.
        return await self._publish(submission)

    async def accept_reference(
        self, ref: ReferenceSubmission, submitter: str, key: str | None
    ) -> Accepted:
        digest = request_digest("reference", ref)
        replay = await self._replay(submitter, key, digest)
        if replay is not None:
            return replay
        check_metadata(ref, self.policy)
        allowed = {self.settings.s3_bucket, *self.settings.reference_buckets}
        root, files = reference_files(ref, allowed)
        submission = build_submitted(submission_id_for(submitter, key), ref, submitter, root, files)
        await self._record_pending(submission, key, digest)
        return await self._publish(submission)

    async def _record_pending(
        self, submission: ModelSubmitted, key: str | None, digest: str | None
    ) -> None:
        try:
            await self.repository.record(
                submission, SubmissionStatus.PENDING, idempotency_key=key, request_digest=digest
            )
        except asyncpg.UniqueViolationError as exc:
            raise ApiError(
                409,
                f"a submission with Idempotency-Key {key!r} is already in "
                "progress; retry to get its answer",
            ) from exc

    async def _publish(self, submission: ModelSubmitted) -> Accepted:
        try:
            event = await self.publisher.publish(
                SUBMITTED,
                submission,
                key=submission.name,
                subject=f"{submission.name}/{submission.version}",
                event_id=submitted_event_id(submission.submission_id),
            )
        except Exception as exc:
            # The row stays `pending`: whether the event landed is unknown, and a retry under
            # the same Idempotency-Key redoes the work with the same ids (consumers dedupe).
            raise ApiError(
                503,
                f"the submission could not be handed to Kafka ({exc}); retry with the "
                "same Idempotency-Key and it stays one submission",
            ) from exc
        await self.repository.record(submission, SubmissionStatus.VALIDATING, event_id=event.id)
        return Accepted(submission.submission_id, SubmissionStatus.VALIDATING, event.id, submission)

    async def status(self, submission_id: UUID) -> dict[str, Any]:
        row = await self.repository.get(submission_id)
        if row is None:
            raise ApiError(404, f"no submission {submission_id}")
        return row
