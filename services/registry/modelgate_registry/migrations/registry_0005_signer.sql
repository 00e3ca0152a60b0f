-- depends: registry_0004_review
-- Who signed the model (OpenSSF Model Signing), as the validator verified it: method, identity
-- (key fingerprint or certificate subject), the policy's signer that vouched for it, the file.
ALTER TABLE registry.versions ADD COLUMN signer jsonb;
