{{/* Prometheus configuration (ConfigMap data and the pod's checksum annotation). */}}
{{- define "nanofaas.prometheus.config" -}}
global:
  scrape_interval: {{ .Values.prometheus.scrapeInterval }}
  evaluation_interval: {{ .Values.prometheus.scrapeInterval }}
scrape_configs:
  - job_name: nanofaas-control-plane
    metrics_path: /metrics
    static_configs:
      - targets:
          - {{ printf "%s.%s.svc.%s:%v" (include "nanofaas.controlPlane.name" .) .Release.Namespace .Values.clusterDomain .Values.controlPlane.service.managementPort }}
  - job_name: nanofaas-functions
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [{{ .Release.Namespace | quote }}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        regex: (.+)
        target_label: __metrics_path__
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - source_labels: [__meta_kubernetes_pod_label_function]
        target_label: function
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
{{- end -}}
