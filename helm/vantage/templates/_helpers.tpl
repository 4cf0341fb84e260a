{{- define "vantage.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "vantage.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vantage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vantage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vantage.labels" -}}
{{ include "vantage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The agent's config: the user's, with identity and listen address owned by the chart. */}}
{{- define "vantage.config" -}}
{{- $own := dict
  "agent" (dict "id" "${VANTAGE_AGENT_ID}" "region" "${VANTAGE_REGION}" "carrier" "${VANTAGE_CARRIER}" "network_type" "${VANTAGE_NETWORK_TYPE}")
  "listen" (printf "0.0.0.0:%d" (int .Values.port)) -}}
{{- toYaml (merge $own (deepCopy .Values.config)) -}}
{{- end -}}
