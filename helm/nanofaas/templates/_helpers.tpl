{{/* Names: everything is prefixed by the release-derived fullname. */}}
{{- define "nanofaas.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "nanofaas.controlPlane.name" -}}
{{- printf "%s-control-plane" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nanofaas.prometheus.name" -}}
{{- printf "%s-prometheus" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels; every object also gets its component's selector labels (name, instance, component). */}}
{{- define "nanofaas.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: nanofaas
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "control-plane") */}}
{{- define "nanofaas.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "nanofaas-%s" .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference: (dict "registry" r "repository" repo "tag" t); no registry → no prefix. */}}
{{- define "nanofaas.image" -}}
{{- if .registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .registry) .repository (toString .tag) -}}
{{- else -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}
{{- end -}}

{{- define "nanofaas.controlPlane.image" -}}
{{- $cp := .Values.controlPlane.image -}}
{{- include "nanofaas.image" (dict "registry" (default .Values.image.registry $cp.registry) "repository" $cp.repository "tag" (default .Values.image.tag $cp.tag)) -}}
{{- end -}}

{{/* In-cluster URL of the control plane's API port. */}}
{{- define "nanofaas.controlPlane.url" -}}
{{- printf "http://%s.%s.svc.%s:%v" (include "nanofaas.controlPlane.name" .) .Release.Namespace .Values.clusterDomain .Values.controlPlane.service.apiPort -}}
{{- end -}}

{{- define "nanofaas.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container hardening shared by every container of the chart. */}}
{{- define "nanofaas.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The demo functions as FunctionSpecInput objects (JSON list), as the registration hook posts them. */}}
{{- define "nanofaas.functionSpecs" -}}
{{- $specs := list -}}
{{- range .Values.functions -}}
{{- if ne (toString .enabled) "false" -}}
{{- $spec := omit . "repository" "tag" "enabled" -}}
{{- $image := include "nanofaas.image" (dict "registry" $.Values.image.registry "repository" .repository "tag" (default $.Values.image.tag .tag)) -}}
{{- $_ := set $spec "image" $image -}}
{{- $_ := set $spec "executionMode" "DEPLOYMENT" -}}
{{- $specs = append $specs $spec -}}
{{- end -}}
{{- end -}}
{{- toPrettyJson $specs -}}
{{- end -}}

{{/* The Secret holding the API token: the user's, or the one the chart generates. */}}
{{- define "nanofaas.apiToken.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-api-token" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Where the token file is mounted, in the control plane and in the registration hook. */}}
{{- define "nanofaas.apiToken.dir" -}}/var/run/secrets/nanofaas/api-token{{- end -}}

{{/*
The generated Secret as it exists in the cluster (an empty dict with `helm template`, on a first
install, or when it was deleted). Its own template so the lookup is the one thing tests replace.
*/}}
{{- define "nanofaas.apiToken.existing" -}}
{{- toJson (lookup "v1" "Secret" .Release.Namespace (include "nanofaas.apiToken.secretName" .)) -}}
{{- end -}}

{{/* The token volume and its mount: (dict "root" $ "part" "volume"|"mount"). */}}
{{- define "nanofaas.apiToken.volume" -}}
- name: api-token
  secret:
    secretName: {{ include "nanofaas.apiToken.secretName" .root }}
    # 0440 written in decimal (YAML 1.1 and 1.2 read a leading 0 differently): owner and group (fsGroup) only.
    defaultMode: 288
    items:
      - key: {{ .root.Values.auth.secretKey }}
        path: {{ .root.Values.auth.secretKey }}
{{- end -}}

{{- define "nanofaas.apiToken.mount" -}}
- name: api-token
  mountPath: {{ include "nanofaas.apiToken.dir" . }}
  readOnly: true
{{- end -}}

{{- define "nanofaas.apiToken.file" -}}
{{- printf "%s/%s" (include "nanofaas.apiToken.dir" .) .Values.auth.secretKey -}}
{{- end -}}

{{/* The token and the insecure switch come from `auth` only: a second source would be ambiguous. */}}
{{- define "nanofaas.validateAuth" -}}
{{- range .Values.controlPlane.extraEnv -}}
{{- if has .name (list "NANOFAAS_API_TOKEN" "NANOFAAS_API_TOKEN_FILE" "NANOFAAS_INSECURE") -}}
{{- fail (printf "controlPlane.extraEnv must not set %s: use auth.enabled / auth.existingSecret instead" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* NATS (docs/design.md §3.12): the bundled server's objects, and how the control plane reaches a server. */}}
{{- define "nanofaas.nats.name" -}}
{{- printf "%s-nats" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nanofaas.nats.headlessName" -}}
{{- printf "%s-nats-headless" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The control plane's NANOFAAS_NATS_URL: the bundled server's client Service, or nats.url; empty = memory mode. */}}
{{- define "nanofaas.nats.url" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s.%s.svc.%s:%v" (include "nanofaas.nats.name" .) .Release.Namespace .Values.clusterDomain .Values.nats.clientPort -}}
{{- else -}}
{{- .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* One source of the NATS URL: the bundled server or nats.url; extraEnv cannot add another. */}}
{{- define "nanofaas.validateNats" -}}
{{- if and .Values.nats.enabled .Values.nats.url -}}
{{- fail "nats.enabled deploys a NATS server for the control plane: leave nats.url empty (or set nats.enabled=false to use an external server)" -}}
{{- end -}}
{{- range .Values.controlPlane.extraEnv -}}
{{- if eq .name "NANOFAAS_NATS_URL" -}}
{{- fail "controlPlane.extraEnv must not set NANOFAAS_NATS_URL: use nats.enabled or nats.url instead (values.schema.json checks controlPlane.replicas against them)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
