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
{{- if .Values.icmp.enabled }}
{{- /* The pod's security context is made for one kind of ICMP socket: the agent must open that one. */}}
{{- $_ := set $own "icmp_socket" .Values.icmp.socket -}}
{{- end }}
{{- toYaml (merge $own (deepCopy .Values.config)) -}}
{{- end -}}

{{/* "true" when the agent serves a web config (TLS, basic auth); empty otherwise. */}}
{{- define "vantage.web.enabled" -}}
{{- if or .Values.webConfig.config .Values.webConfig.existingSecret }}true{{ end -}}
{{- end -}}

{{/* "true" when the web config serves TLS. */}}
{{- define "vantage.web.tls" -}}
{{- if or .Values.webConfig.tls (hasKey .Values.webConfig.config "tls_server_config") }}true{{ end -}}
{{- end -}}

{{/* "true" when the web config requires client certificates, which the kubelet's probes cannot present. */}}
{{- define "vantage.web.clientCertificates" -}}
{{- $auth := dig "tls_server_config" "client_auth_type" "" .Values.webConfig.config -}}
{{- if or .Values.webConfig.clientCertificates (has $auth (list "RequireAnyClientCert" "RequireAndVerifyClientCert")) }}true{{ end -}}
{{- end -}}

{{/* Where the web config and the certificates it names are mounted, side by side. */}}
{{- define "vantage.web.dir" -}}/etc/vantage/web{{- end -}}

{{- define "vantage.web.secret" -}}
{{- .Values.webConfig.existingSecret | default (printf "%s-web" (include "vantage.fullname" .)) -}}
{{- end -}}

{{/* The chart's web config: the user's, with the health paths exempt from basic auth for the kubelet. */}}
{{- define "vantage.web.config" -}}
{{- $c := deepCopy .Values.webConfig.config -}}
{{- if and (hasKey $c "basic_auth_users") (not (hasKey $c "auth_excluded_paths")) -}}
{{- $_ := set $c "auth_excluded_paths" (list "/healthz" "/readyz") -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/* The agent's identity in the environment: the agent reads it, and so does its forwarder. */}}
{{- define "vantage.identityEnv" -}}
{{- $daemonset := eq .Values.mode "daemonset" -}}
- name: VANTAGE_AGENT_ID
  {{- if .Values.identity.agentId }}
  value: {{ .Values.identity.agentId | quote }}
  {{- else if and (not $daemonset) (eq (int .Values.replicas) 1) }}
  # One agent: the release names it, so its series survive rollouts.
  value: {{ include "vantage.fullname" . | quote }}
  {{- else }}
  valueFrom:
    fieldRef:
      fieldPath: {{ ternary "spec.nodeName" "metadata.name" $daemonset }}
  {{- end }}
- name: VANTAGE_REGION
  value: {{ .Values.identity.region | quote }}
- name: VANTAGE_CARRIER
  value: {{ .Values.identity.carrier | quote }}
- name: VANTAGE_NETWORK_TYPE
  value: {{ .Values.identity.networkType | quote }}
{{- end -}}

{{/* Where the forwarder keeps secrets and certificates. */}}
{{- define "vantage.forwarderSecrets" -}}/etc/vantage-forwarder-secrets{{- end -}}

{{/*
The Prometheus agent-mode config: deploy/fleet/prometheus-agent.yaml with the chart's port, URL,
credentials (files from the mounted Secrets), TLS and queue settings.
*/}}
{{- define "vantage.prometheusAgentConfig" -}}
{{- $rw := .Values.remoteWrite -}}
{{- $dir := include "vantage.forwarderSecrets" . -}}
{{- $cfg := .Files.Get "files/prometheus-agent.yaml" | replace "127.0.0.1:9477" (printf "127.0.0.1:%d" (int .Values.port)) | replace "127.0.0.1:9090" (printf "127.0.0.1:%d" (int $rw.port)) | fromYaml -}}
{{- $_ := set $cfg.global "scrape_interval" $rw.scrapeInterval -}}
{{- $w := index $cfg.remote_write 0 -}}
{{- $_ := set $w "url" $rw.url -}}
{{- $_ := set $w "remote_timeout" $rw.queue.sendTimeout -}}
{{- $_ := set $w.queue_config "max_shards" (int $rw.queue.concurrency) -}}
{{- with $rw.auth.bearerToken.secretName }}
{{- $_ := set $w "authorization" (dict "credentials_file" (printf "%s/bearer/%s" $dir $rw.auth.bearerToken.key)) -}}
{{- end }}
{{- with $rw.auth.basicAuth.secretName }}
{{- $_ := set $w "basic_auth" (dict "username" $rw.auth.basicAuth.username "password_file" (printf "%s/basic/%s" $dir $rw.auth.basicAuth.passwordKey)) -}}
{{- end }}
{{- $tls := dict "insecure_skip_verify" $rw.tls.insecureSkipVerify -}}
{{- with $rw.tls.serverName }}{{ $_ := set $tls "server_name" . }}{{ end -}}
{{- with $rw.tls.caSecretName }}{{ $_ := set $tls "ca_file" (printf "%s/ca/ca.crt" $dir) }}{{ end -}}
{{- with $rw.tls.certSecretName }}
{{- $_ := set $tls "cert_file" (printf "%s/cert/tls.crt" $dir) -}}
{{- $_ := set $tls "key_file" (printf "%s/cert/tls.key" $dir) -}}
{{- end }}
{{- $_ := set $w "tls_config" $tls -}}
{{- toYaml $cfg -}}
{{- end -}}
