{{- define "recorder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "recorder.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "recorder.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "recorder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selector labels of one component: (dict "root" $ "component" "api") */}}
{{- define "recorder.selectorLabels" -}}
app.kubernetes.io/name: {{ include "recorder.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "recorder.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "recorder.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "recorder.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "recorder.secretName" -}}
{{- default (include "recorder.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* The variables that come from the Secret, never from `config`. */}}
{{- define "recorder.secretEnvNames" -}}
DATABASE_URL REDIS_URL LIVEKIT_API_KEY LIVEKIT_API_SECRET AUTH_JWT_SECRET METRICS_TOKEN WEBHOOK_SECRET RECORDING_STORAGE_CREDENTIALS RECORDING_URL_SIGNING_SECRET RECORDER_SECRETS_KEY RECORDER_SECRETS_OLD_KEYS
{{- end -}}

{{/* The variables the chart sets itself (listeners, the data volume). */}}
{{- define "recorder.chartEnvNames" -}}
HOST PORT WORKER_STATUS_HOST WORKER_STATUS_PORT RECORDING_OUTPUT_DIR
{{- end -}}

{{- define "recorder.dataDir" -}}/data{{- end -}}

{{/*
The environment of one component: what the chart sets, `config` with the component's own
`config` over it (empty values left out), and every secret variable from the Secret.
(dict "root" $ "component" "worker" "own" (list (dict "name" "X" "value" "y")))
*/}}
{{- define "recorder.env" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $cfg := merge (deepCopy (default dict $values.config)) (deepCopy (default dict $root.Values.config)) -}}
{{- $secretNames := splitList " " (include "recorder.secretEnvNames" $root) -}}
{{- $chartNames := splitList " " (include "recorder.chartEnvNames" $root) -}}
{{- range $name, $value := $cfg }}
{{- if eq (toString $value) "" }}{{ continue }}{{ end }}
{{- if has $name $secretNames }}
{{- fail (printf "%s is a secret: set it under secrets (or in existingSecret), not under config" $name) }}
{{- end }}
{{- if has $name $chartNames }}
{{- fail (printf "%s is set by the chart; see the chart's README" $name) }}
{{- end }}
{{- end }}
{{- range .own }}
- name: {{ .name }}
  value: {{ .value | toString | quote }}
{{- end }}
- name: RECORDING_OUTPUT_DIR
  value: {{ printf "%s/recordings" (include "recorder.dataDir" $root) | quote }}
{{- range $name, $value := $cfg }}
{{- if not (eq (toString $value) "") }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- range $secretNames }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "recorder.secretName" $root }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end -}}

{{/* Volumes every pod has: the data volume and /tmp (Chromium's profiles, its shared memory files). */}}
{{- define "recorder.volumes" -}}
- name: data
{{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.persistence.sizeLimit }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "recorder.volumeMounts" -}}
- name: data
  mountPath: {{ include "recorder.dataDir" . }}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* A key of the merged config of a component, or a default: (dict "root" $ "component" "worker" "key" "K" "default" "60") */}}
{{- define "recorder.configValue" -}}
{{- $values := index .root.Values .component -}}
{{- $cfg := merge (deepCopy (default dict $values.config)) (deepCopy (default dict .root.Values.config)) -}}
{{- $v := toString (default "" (index $cfg .key)) -}}
{{- if eq $v "" }}{{ .default }}{{ else }}{{ $v }}{{ end -}}
{{- end -}}
