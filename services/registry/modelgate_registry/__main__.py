"""`python -m modelgate_registry` / `modelgate-registry`: run the service until SIGTERM."""

from __future__ import annotations

from modelgate_registry.main import build_app
from modelgate_registry.settings import RegistrySettings
from modelgate_shared.log_setup import configure_logging
from modelgate_shared.serve import serve


def main() -> None:
    settings = RegistrySettings()
    configure_logging(settings.service_name, settings.log_level)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
