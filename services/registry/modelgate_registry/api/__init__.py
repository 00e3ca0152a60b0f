"""HTTP APIs of the registry: native (/api/v1) and the Kubeflow Model Registry API."""
