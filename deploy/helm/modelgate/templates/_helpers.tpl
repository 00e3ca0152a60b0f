{{/* Names ------------------------------------------------------------------------------- */}}
{{- define "modelgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "modelgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "modelgate.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "modelgate.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: modelgate
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "modelgate.labels" -}}
{{ include "modelgate.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "registry") */}}
{{- define "modelgate.selector" -}}
app.kubernetes.io/name: modelgate-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "modelgate.componentLabels" -}}
{{ include "modelgate.commonLabels" .root }}
{{ include "modelgate.selector" . }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "modelgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "modelgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.kafkaName" -}}
{{- default (printf "%s-kafka" (include "modelgate.fullname" .)) .Values.kafka.strimzi.name -}}
{{- end -}}

{{- define "modelgate.pgName" -}}
{{- default (printf "%s-pg" (include "modelgate.fullname" .)) .Values.postgresql.cnpg.name -}}
{{- end -}}

{{- define "modelgate.minioName" -}}
{{- printf "%s-minio" (include "modelgate.fullname" .) -}}
{{- end -}}

{{/* Images ------------------------------------------------------------------------------ */}}
{{- define "modelgate.image" -}}
{{- printf "%s/%s%s:%s" .root.Values.image.registry .root.Values.image.prefix .name (default .root.Chart.AppVersion .tag) -}}
{{- end -}}

{{/* Security: fits OpenShift's restricted-v2 SCC and the "restricted" Pod Security Standard */}}
{{- define "modelgate.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile: {type: RuntimeDefault}
{{- if not .Values.openshift }}
runAsUser: {{ .Values.runAsUser }}
runAsGroup: 0
fsGroup: {{ .Values.runAsUser }}
{{- end }}
{{- end -}}

{{- define "modelgate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{/* The env var of a service's HTTP port (its settings class reads this one) */}}
{{- define "modelgate.portEnv" -}}
MODELGATE_{{ upper . }}_PORT
{{- end -}}

{{/* Kafka: where it is and who this service is to it. (dict "root" $ "service" "registry") */}}
{{- define "modelgate.kafkaEnv" -}}
{{- $v := .root.Values.kafka -}}
{{- if $v.strimzi.enabled }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ printf "%s-kafka-bootstrap:%d" (include "modelgate.kafkaName" .root) (int $v.strimzi.listenerPort) | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: SASL_SSL
- name: KAFKA_SASL_MECHANISM
  value: SCRAM-SHA-512
- name: KAFKA_SSL_CAFILE
  value: /run/modelgate/kafka-ca/ca.crt
- name: KAFKA_SASL_USERNAME
  value: {{ printf "%s%s" $v.userPrefix .service | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ printf "%s%s" $v.userPrefix .service | quote }}, key: password}
{{- else }}
{{- $user := required (printf "kafka.external.users.%s is required without kafka.strimzi" .service) (get $v.external.users .service) }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.external.bootstrapServers is required without kafka.strimzi" $v.external.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $v.external.securityProtocol | quote }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.external.saslMechanism | quote }}
{{- if $v.external.caSecret.name }}
- name: KAFKA_SSL_CAFILE
  value: /run/modelgate/kafka-ca/ca.crt
{{- end }}
- name: KAFKA_SASL_USERNAME
  value: {{ required "username" $user.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $user.passwordSecret.name | quote }}, key: {{ $user.passwordSecret.key | default "password" | quote }}}
{{- end }}
{{- end -}}

{{- define "modelgate.kafkaCaVolume" -}}
{{- $v := .Values.kafka -}}
{{- if $v.strimzi.enabled }}
- name: kafka-ca
  secret: {secretName: {{ printf "%s-cluster-ca-cert" (include "modelgate.kafkaName" .) }}, items: [{key: ca.crt, path: ca.crt}]}
{{- else if $v.external.caSecret.name }}
- name: kafka-ca
  secret: {secretName: {{ $v.external.caSecret.name }}, items: [{key: {{ $v.external.caSecret.key }}, path: ca.crt}]}
{{- end }}
{{- end -}}

{{- define "modelgate.kafkaCaMount" -}}
{{- if or .Values.kafka.strimzi.enabled .Values.kafka.external.caSecret.name }}
- {name: kafka-ca, mountPath: /run/modelgate/kafka-ca, readOnly: true}
{{- end }}
{{- end -}}

{{/* PostgreSQL: the service's own role. (dict "root" $ "service" "registry") */}}
{{- define "modelgate.databaseEnv" -}}
{{- $p := .root.Values.postgresql -}}
{{- if $p.cnpg.enabled }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ printf "%s-db-%s" (include "modelgate.fullname" .root) .service }}, key: password}
- name: DATABASE_URL
  value: {{ printf "postgresql://%s%s:$(DATABASE_PASSWORD)@%s-rw:5432/%s" $p.rolePrefix .service (include "modelgate.pgName" .root) $p.database | quote }}
{{- else }}
{{- $ref := required (printf "postgresql.external.serviceUrlSecrets.%s is required without postgresql.cnpg" .service) (get $p.external.serviceUrlSecrets .service) }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $ref.name | quote }}, key: {{ $ref.key | default "url" | quote }}}
{{- end }}
{{- end -}}

{{/* S3: the endpoint, and this service's own credentials */}}
{{- define "modelgate.s3Env" -}}
{{- $o := .root.Values.objectStorage -}}
- name: S3_ENDPOINT_URL
  value: {{ (ternary (printf "http://%s:9000" (include "modelgate.minioName" .root)) $o.endpoint $o.minio.enabled) | quote }}
- name: S3_REGION
  value: {{ $o.region | quote }}
- name: MODELGATE_S3_BUCKET
  value: {{ $o.bucket | quote }}
{{- if $o.pinnedBucket }}
- name: MODELGATE_PINNED_BUCKET
  value: {{ $o.pinnedBucket | quote }}
{{- end }}
{{- $secret := ternary (printf "%s-s3-%s" (include "modelgate.fullname" .root) .service) (get $o.credentialsSecrets .service) $o.minio.enabled }}
- name: S3_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ $o.accessKeyKey | quote }}}
- name: S3_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ $o.secretKeyKey | quote }}}
{{- end -}}

{{/* Identity, trust, tracing: what every service reads */}}
{{- define "modelgate.commonEnv" -}}
{{- $v := .root.Values -}}
- name: MODELGATE_ENVIRONMENT
  value: {{ $v.environment | quote }}
- name: MODELGATE_HTTP_HOST
  value: "0.0.0.0"
- name: MODELGATE_TOKENS_FILE
  value: /run/modelgate/tokens/tokens.json
- name: MODELGATE_TRUSTED_KEYS
  value: /run/modelgate/trust/trusted-keys.json
{{- with $v.identity.oidc }}
{{- if .issuer }}
- {name: MODELGATE_OIDC_ISSUER, value: {{ .issuer | quote }}}
{{- end }}
{{- if .audience }}
- {name: MODELGATE_OIDC_AUDIENCE, value: {{ .audience | quote }}}
{{- end }}
{{- if .rolesClaim }}
- {name: MODELGATE_OIDC_ROLES_CLAIM, value: {{ .rolesClaim | quote }}}
{{- end }}
{{- if .roleMap }}
- {name: MODELGATE_OIDC_ROLE_MAP, value: {{ .roleMap | quote }}}
{{- end }}
{{- if .algorithms }}
- {name: MODELGATE_OIDC_ALGORITHMS, value: {{ .algorithms | quote }}}
{{- end }}
{{- if .clientId }}
- {name: MODELGATE_OIDC_CLIENT_ID, value: {{ .clientId | quote }}}
{{- end }}
{{- end }}
{{- if $v.observability.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.observability.otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.observability.otlpProtocol | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "modelgate-%s" .service | quote }}
{{- end }}
{{- end -}}

{{- define "modelgate.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every service mounts: tokens, trusted keys, Kafka's CA, /tmp */}}
{{- define "modelgate.commonVolumes" -}}
- name: tokens
  secret: {secretName: {{ .Values.identity.tokensSecret | quote }}, defaultMode: 0440}
- name: trust
  configMap: {name: {{ .Values.signing.trustedKeysConfigMap | quote }}}
- name: tmp
  emptyDir: {sizeLimit: 1Gi}
{{- include "modelgate.kafkaCaVolume" . }}
{{- end -}}

{{- define "modelgate.commonMounts" -}}
- {name: tokens, mountPath: /run/modelgate/tokens, readOnly: true}
# A mounted ConfigMap is updated in place: the services reload the trusted keys.
- {name: trust, mountPath: /run/modelgate/trust, readOnly: true}
- {name: tmp, mountPath: /tmp}
{{- include "modelgate.kafkaCaMount" . }}
{{- end -}}

{{/* Probes on the endpoints of modelgate_shared.health */}}
{{- define "modelgate.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}
