{{/*
nats.conf of the bundled server (ConfigMap data and the pod's checksum annotation); the StatefulSet
adds `-js -sd /data`, and $NATS_SERVER_NAME and $NATS_PASSWORD come from its environment (the
password from its Secret, so it is in no ConfigMap). Whoever reaches an unauthenticated server can
register a function the control plane then runs: the authorization block is on by default.
*/}}
{{- define "nanofaas.nats.config" -}}
server_name: $NATS_SERVER_NAME
port: {{ .Values.nats.clientPort }}
http_port: {{ .Values.nats.monitoringPort }}
# The API takes bodies up to NANOFAAS_BODY_LIMIT_BYTES (1 MiB by default) and an invocation's
# message wraps one, so the 1 MB default of NATS is too small.
max_payload: 8MB
jetstream {
  max_file_store: {{ .Values.nats.jetstream.maxFileStore }}
  max_memory_store: {{ .Values.nats.jetstream.maxMemoryStore }}
}
{{- if include "nanofaas.nats.auth.on" . }}
# The control plane's user. The password is $NATS_PASSWORD, unquoted: nats-server reads the variable
# from its environment (a quoted "$NATS_PASSWORD" would be the literal string).
authorization {
  user: {{ .Values.nats.auth.user | quote }}
  password: $NATS_PASSWORD
}
{{- end }}
{{- end -}}
