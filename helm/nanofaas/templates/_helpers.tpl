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

{{/* NATS mode: "true" when the control plane gets a NANOFAAS_NATS_URL (any of the three sources), else empty. */}}
{{- define "nanofaas.nats.mode" -}}
{{- if or .Values.nats.enabled .Values.nats.url .Values.nats.existingUrlSecret -}}true{{- end -}}
{{- end -}}

{{/* The bundled server's client Service, without credentials (what wait-for-nats dials, what NOTES shows). */}}
{{- define "nanofaas.nats.serviceUrl" -}}
{{- printf "nats://%s.%s.svc.%s:%v" (include "nanofaas.nats.name" .) .Release.Namespace .Values.clusterDomain .Values.nats.clientPort -}}
{{- end -}}

{{/*
Where the server is, for people (NOTES.txt): never a credential. Empty with nats.existingUrlSecret:
the URL is only in that Secret.
*/}}
{{- define "nanofaas.nats.address" -}}
{{- if .Values.nats.enabled -}}
{{- include "nanofaas.nats.serviceUrl" . -}}
{{- else -}}
{{- .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* The bundled server requires a user + password (nats.auth.enabled, on by default). */}}
{{- define "nanofaas.nats.auth.on" -}}
{{- if and .Values.nats.enabled .Values.nats.auth.enabled -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the bundled server's password: the user's, or the one the chart generates. */}}
{{- define "nanofaas.nats.auth.secretName" -}}
{{- if .Values.nats.auth.existingSecret -}}
{{- .Values.nats.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-nats-auth" (include "nanofaas.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
The generated password Secret as it exists in the cluster (empty dict with `helm template`, on a
first install, or when it was deleted). Its own template so the lookup is the one thing tests replace.
*/}}
{{- define "nanofaas.nats.auth.existing" -}}
{{- toJson (lookup "v1" "Secret" .Release.Namespace (include "nanofaas.nats.auth.secretName" .)) -}}
{{- end -}}

{{/*
NATS_PASSWORD from the Secret, for the server (nats.conf reads $NATS_PASSWORD) and the control
plane (its NANOFAAS_NATS_URL says $(NATS_PASSWORD), which Kubernetes expands from this earlier entry).
*/}}
{{- define "nanofaas.nats.auth.passwordEnv" -}}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nanofaas.nats.auth.secretName" . }}
      key: {{ .Values.nats.auth.passwordKey }}
{{- end -}}

{{/*
The control plane's NATS env (docs/design.md §3.12); empty = memory mode. The bundled server with
auth: the password stays in its Secret and the pod spec only shows $(NATS_PASSWORD), which
Kubernetes replaces when it starts the container (the password is URL-safe: see values.yaml).
nats.existingUrlSecret: the whole URL, credentials and all, from the user's Secret.
*/}}
{{- define "nanofaas.nats.env" -}}
{{- $n := .Values.nats -}}
{{- if include "nanofaas.nats.auth.on" . -}}
{{ include "nanofaas.nats.auth.passwordEnv" . }}
- name: NANOFAAS_NATS_URL
  value: {{ printf "nats://%s:$(NATS_PASSWORD)@%s.%s.svc.%s:%v" $n.auth.user (include "nanofaas.nats.name" .) .Release.Namespace .Values.clusterDomain $n.clientPort | quote }}
{{- else if $n.enabled -}}
- name: NANOFAAS_NATS_URL
  value: {{ include "nanofaas.nats.serviceUrl" . | quote }}
{{- else if $n.existingUrlSecret -}}
{{ include "nanofaas.nats.urlFromSecret" . }}
{{- else if $n.url -}}
- name: NANOFAAS_NATS_URL
  value: {{ $n.url | quote }}
{{- end -}}
{{- end -}}

{{/*
The wait-for-nats init container's env: only what it dials (host:port; it opens a TCP connection
and never authenticates), so the bundled server's password is not given to it. With
nats.existingUrlSecret the host is only in the Secret: it reads the URL there (and never prints
its credentials).
*/}}
{{- define "nanofaas.nats.waitEnv" -}}
{{- $n := .Values.nats -}}
{{- if $n.enabled -}}
- name: NANOFAAS_NATS_URL
  value: {{ include "nanofaas.nats.serviceUrl" . | quote }}
{{- else if $n.existingUrlSecret -}}
{{ include "nanofaas.nats.urlFromSecret" . }}
{{- else -}}
- name: NANOFAAS_NATS_URL
  value: {{ $n.url | quote }}
{{- end -}}
{{- end -}}

{{- define "nanofaas.nats.urlFromSecret" -}}
- name: NANOFAAS_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.existingUrlSecret }}
      key: {{ .Values.nats.existingUrlSecretKey }}
{{- end -}}

{{/* One source of the NATS URL: the bundled server, nats.url or nats.existingUrlSecret; extraEnv cannot add another. */}}
{{- define "nanofaas.validateNats" -}}
{{- $n := .Values.nats -}}
{{- if and $n.enabled (or $n.url $n.existingUrlSecret) -}}
{{- fail "nats.enabled deploys a NATS server for the control plane: leave nats.url and nats.existingUrlSecret empty (or set nats.enabled=false to use an external server)" -}}
{{- end -}}
{{- if and $n.url $n.existingUrlSecret -}}
{{- fail "nats.url and nats.existingUrlSecret both name the external NATS server: set one (existingUrlSecret when the URL carries credentials)" -}}
{{- end -}}
{{- range .Values.controlPlane.extraEnv -}}
{{- if eq .name "NANOFAAS_NATS_URL" -}}
{{- fail "controlPlane.extraEnv must not set NANOFAAS_NATS_URL: use nats.enabled, nats.url or nats.existingUrlSecret instead (values.schema.json checks controlPlane.replicas against them)" -}}
{{- end -}}
{{- if eq .name "NATS_PASSWORD" -}}
{{- fail "controlPlane.extraEnv must not set NATS_PASSWORD: the chart sets it from the bundled server's Secret (nats.auth.existingSecret to bring your own)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
