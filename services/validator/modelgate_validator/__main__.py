"""`python -m modelgate_validator` / `modelgate-validator`: run the service until SIGTERM."""

from __future__ import annotations

from modelgate_shared.log_setup import configure_logging
from modelgate_shared.serve import serve
from modelgate_validator.main import build_app
from modelgate_validator.settings import ValidatorSettings


def main() -> None:
    settings = ValidatorSettings()
    configure_logging(settings.service_name, settings.log_level)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
