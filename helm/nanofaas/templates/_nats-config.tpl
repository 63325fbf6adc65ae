{{/*
nats.conf of the bundled server (ConfigMap data and the pod's checksum annotation); the StatefulSet
adds `-js -sd /data`, and $NATS_SERVER_NAME comes from its environment. No authorization block:
the control plane's NATS client sends no credentials yet, so nats.networkPolicy guards the port.
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
{{- end -}}
