{{/* Chart name, at most 63 characters (a label value). */}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object. Suffixes such as "-controller" are added, so it is
cut to 52 characters to keep the longest name within 63.
*/}}
{{- define "herald.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include "herald.selectorLabels" (list . "controller") */}}
{{- define "herald.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "herald.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "herald.componentLabels" -}}
{{- $ := index . 0 -}}
{{ include "herald.labels" $ }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* ServiceAccount name of one component: include "herald.serviceAccountName" (list . "controller") */}}
{{- define "herald.serviceAccountName" -}}
{{- $ := index . 0 }}
{{- $c := index $.Values (index . 1) }}
{{- if $c.serviceAccount.create }}
{{- default (printf "%s-%s" (include "herald.fullname" $) (index . 1)) $c.serviceAccount.name }}
{{- else }}
{{- default "default" $c.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "herald.image" -}}
{{- $ := index . 0 }}
{{- $img := (index $.Values (index . 1)).image }}
{{- printf "%s:%s" $img.repository (default $.Chart.AppVersion $img.tag) }}
{{- end }}

{{- define "herald.logLevel" -}}
{{- $ := index . 0 }}
{{- default $.Values.logLevel (index $.Values (index . 1)).logLevel }}
{{- end }}

{{/* The Secret holding the speakers' gossip key (data key "secretkey", read by the speaker). */}}
{{- define "herald.memberlistSecretName" -}}
{{- default (printf "%s-memberlist" (include "herald.fullname" .)) .Values.speaker.memberlist.secretName }}
{{- end }}
