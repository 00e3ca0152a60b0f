"""`python -m modelgate_audit` / `modelgate-audit`: run the service until SIGTERM."""

from __future__ import annotations

from modelgate_audit.main import build_app
from modelgate_audit.settings import AuditSettings
from modelgate_shared.log_setup import configure_logging
from modelgate_shared.serve import serve


def main() -> None:
    settings = AuditSettings()
    configure_logging(settings.service_name, settings.log_level)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
