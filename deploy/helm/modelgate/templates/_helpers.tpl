{{/* Names and labels shared by every object. */}}
{{- define "modelgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "modelgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "modelgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "modelgate.labels" -}}
{{ include "modelgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* ConfigMap key of a model file: "/" is not allowed in keys. */}}
{{- define "modelgate.fileKey" -}}
{{- printf "%s--%s" .model (replace "/" "--" .path) -}}
{{- end -}}

{{/* The pod's grace: preStop sleep + drain grace + 10 s unless set. */}}
{{- define "modelgate.terminationGrace" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add .Values.preStopSleepSeconds .Values.modelgate.shutdownGraceSeconds 10 -}}
{{- end -}}
{{- end -}}

{{/* Values that cannot work together fail the render with the reason. */}}
{{- define "modelgate.validate" -}}
{{- if and .Values.tls.mutual (not .Values.tls.enabled) -}}
{{- fail "tls.mutual needs tls.enabled" -}}
{{- end -}}
{{- if and .Values.tls.enabled (eq .Values.probes.type "grpc") -}}
{{- fail "probes.type grpc cannot check a TLS port (Kubernetes' gRPC probes speak plaintext): use probes.type http or exec" -}}
{{- end -}}
{{- if and .Values.tls.mutual (eq .Values.probes.type "http") -}}
{{- fail "tls.mutual needs probes.type exec (Kubernetes' HTTP probes cannot present a client certificate)" -}}
{{- end -}}
{{- end -}}

{{/* Where the Secrets are mounted; the daemon's flags name these files. */}}
{{- define "modelgate.tlsDir" -}}/etc/modelgate/tls{{- end -}}
{{- define "modelgate.clientCADir" -}}/etc/modelgate/client-ca{{- end -}}
{{- define "modelgate.authDir" -}}/etc/modelgate/auth{{- end -}}

{{/*
A probe's handler for probes.type: an HTTP GET of `path` (HTTPS under TLS), a
native gRPC health check of `grpcService`, or the image's healthcheck.py
(which speaks TLS and presents the pod's certificate under mutual TLS).
Call with (dict "root" $ "path" "/v2/health/ready" "grpcService" "").
*/}}
{{- define "modelgate.probeHandler" -}}
{{- $v := .root.Values -}}
{{- if eq $v.probes.type "grpc" -}}
grpc:
  port: {{ $v.ports.grpc }}
  service: {{ .grpcService | quote }}
{{- else if eq $v.probes.type "exec" -}}
exec:
  command:
    - /usr/bin/python3
    - /usr/local/share/modelgate/healthcheck.py
    - --port={{ $v.ports.http }}
    - --path={{ .path }}
    {{- if $v.tls.enabled }}
    - --tls
    {{- if $v.tls.mutual }}
    - --client-cert={{ include "modelgate.tlsDir" .root }}/tls.crt
    - --client-key={{ include "modelgate.tlsDir" .root }}/tls.key
    {{- end }}
    {{- end }}
timeoutSeconds: 5
{{- else -}}
httpGet:
  path: {{ .path }}
  port: http
  {{- if $v.tls.enabled }}
  scheme: HTTPS
  {{- end }}
{{- end -}}
{{- end -}}
