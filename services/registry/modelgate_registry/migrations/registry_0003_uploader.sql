-- depends: registry_0002_kubeflow_fields
-- Four-eyes needs to know who supplied a version's bytes as well as who submitted it: through
-- the Kubeflow API one person may create a version and another attach its model artifact.
-- Versions recorded before this column: the actor of the "artifact attached" history row
-- (Kubeflow path), else the submitter (ingest and Kafka submissions upload their own bytes).
ALTER TABLE registry.versions ADD COLUMN uploader text;
UPDATE registry.versions v SET uploader = coalesce(
    (SELECT t.actor FROM registry.transitions t
     WHERE t.version_id = v.id AND t.reason = 'artifact attached' ORDER BY t.id DESC LIMIT 1),
    v.submitter)
WHERE v.artifact IS NOT NULL;
