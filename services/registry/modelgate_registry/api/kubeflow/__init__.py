"""The Kubeflow Model Registry REST API (v1 and v1alpha3), on the registry's own state.

Faithful to what the upstream `model-registry` Python client and Red Hat OpenShift AI rely on:
decimal-string ids, millisecond-string timestamps, typed customProperties, list envelopes with
deterministic page tokens, 201 on create, 404 from find endpoints, merge-PATCH.
"""
