"""Settings of the ingest service."""

from __future__ import annotations

from pydantic import Field

from modelgate_shared.settings import ServiceSettings

MiB = 1024 * 1024
GiB = 1024 * MiB


class IngestSettings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = Field(8081, validation_alias="MODELGATE_INGEST_PORT")
    staging_prefix: str = Field("staging", validation_alias="MODELGATE_STAGING_PREFIX")
    part_size: int = Field(16 * MiB, ge=5 * MiB, validation_alias="MODELGATE_UPLOAD_PART_SIZE")
    """S3 multipart part size: also the memory one upload holds per part in flight."""
    max_file_bytes: int = Field(64 * GiB, validation_alias="MODELGATE_MAX_FILE_BYTES")
    max_files: int = Field(1000, validation_alias="MODELGATE_MAX_FILES")
    max_metadata_bytes: int = 1 * MiB
    upload_abandon_after_s: float = Field(
        24 * 3600.0, gt=0, validation_alias="MODELGATE_UPLOAD_ABANDON_AFTER_S"
    )
    """A presigned upload idle this long (no request about it) is aborted: its parts are
    deleted from S3 and its submission becomes `abandoned`."""
    upload_sweep_interval_s: float = Field(
        60.0, gt=0, validation_alias="MODELGATE_UPLOAD_SWEEP_INTERVAL_S"
    )
    upload_url_ttl_s: int = Field(
        900, ge=60, le=7 * 24 * 3600, validation_alias="MODELGATE_UPLOAD_URL_TTL_S"
    )
    """Lifetime of a presigned part URL."""
