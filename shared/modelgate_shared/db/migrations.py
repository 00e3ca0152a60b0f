"""Versioned SQL migrations, applied at start-up with yoyo-migrations.

Each service keeps plain `.sql` files in its own `migrations/` folder, named
`<service>_<NNNN>_<what>.sql` (ids are global in yoyo's `_yoyo_migration` table). yoyo takes a
lock, so replicas starting together apply each migration once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from yoyo import get_backend, read_migrations


def _apply(database_url: str, directory: Path) -> list[str]:
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    backend = get_backend(url)
    try:
        migrations = read_migrations(str(directory))
        with backend.lock(timeout=120):
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()


async def apply_migrations(database_url: str, directory: Path) -> list[str]:
    """Apply what is not applied yet; returns the ids applied now."""
    return await asyncio.to_thread(_apply, database_url, directory)
