-- depends: registry_0001_initial
-- Fields of the Kubeflow Model Registry's RegisteredModel (v1 BaseModel) that Modelgate has no
-- column for: readme, maturity, language, tasks, provider, logo, licenseLink, libraryName.
ALTER TABLE registry.models ADD COLUMN kubeflow jsonb NOT NULL DEFAULT '{}';
