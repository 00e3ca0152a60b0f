"""The `modelgate` command: the SDK from a shell or a CI job."""
