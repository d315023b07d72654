{{/* Chart name, truncated to the 63 characters Kubernetes allows. */}}
{{- define "socketx.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "socketx.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "socketx.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "socketx.selectorLabels" -}}
app.kubernetes.io/name: {{ include "socketx.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "socketx.labels" -}}
helm.sh/chart: {{ include "socketx.chart" . }}
{{ include "socketx.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "socketx.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "socketx.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "socketx.configMapName" -}}
{{- default (printf "%s-domain-map" (include "socketx.fullname" .)) .Values.existingDomainMapConfigMap }}
{{- end }}

{{/*
Image reference. Azure Kubernetes-app offers set
global.azure.images.socketx.{registry,image,digest}; they win. A digest wins
over a tag.
*/}}
{{- define "socketx.image" -}}
{{- $az := dig "socketx" dict (.Values.global.azure.images | default dict) }}
{{- if and $az.registry $az.image }}
{{- if $az.digest }}{{ printf "%s/%s@%s" $az.registry $az.image $az.digest }}{{ else }}{{ printf "%s/%s:%s" $az.registry $az.image (default .Chart.AppVersion $az.tag) }}{{ end }}
{{- else if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
DOMAIN_MAP JSON: domainMapBase64 decoded when set, else domainMap (a string
used as written, or an object rendered with toJson). Fails the render when it
is not a JSON object whose entries each have a ws:// or wss:// upstream and a
non-empty allowedOrigins list.
*/}}
{{- define "socketx.domainMap" -}}
{{- $raw := .Values.domainMap }}
{{- if kindIs "map" $raw }}
{{- $raw = toJson $raw }}
{{- end }}
{{- if .Values.domainMapBase64 }}
{{- $raw = b64dec .Values.domainMapBase64 }}
{{- end }}
{{- if not (hasPrefix "{" (trim $raw)) }}
{{- fail "domainMap/domainMapBase64: DOMAIN_MAP must be a JSON object" }}
{{- end }}
{{- $m := fromJson $raw }}
{{- if or (hasKey $m "Error") (eq (len $m) 0) }}
{{- fail (printf "domainMap/domainMapBase64: DOMAIN_MAP is not a non-empty JSON object: %s" (get $m "Error" | default "empty")) }}
{{- end }}
{{- range $host, $e := $m }}
{{- if not (kindIs "map" $e) }}
{{- fail (printf "DOMAIN_MAP[%q]: want an object with upstream and allowedOrigins" $host) }}
{{- end }}
{{- $up := toString (get $e "upstream") }}
{{- if not (or (hasPrefix "ws://" $up) (hasPrefix "wss://" $up)) }}
{{- fail (printf "DOMAIN_MAP[%q].upstream: want a ws:// or wss:// URL, got %q" $host $up) }}
{{- end }}
{{- $origins := get $e "allowedOrigins" }}
{{- if or (not (kindIs "slice" $origins)) (eq (len (default list $origins)) 0) }}
{{- fail (printf "DOMAIN_MAP[%q].allowedOrigins: want a non-empty list (an empty list rejects every connection)" $host) }}
{{- end }}
{{- end }}
{{- $raw }}
{{- end }}

{{/* Effective billing strategy and provider (see values.yaml). */}}
{{- define "socketx.billingStrategy" -}}
{{- if .Values.billingStrategy }}{{ .Values.billingStrategy }}
{{- else if .Values.global.azure.marketplace.planId }}request_based
{{- else }}eclypses_no_billing
{{- end }}
{{- end }}

{{- define "socketx.billingProvider" -}}
{{- if .Values.billingProvider }}{{ .Values.billingProvider }}
{{- else if .Values.global.azure.marketplace.planId }}azure
{{- else if .Values.awsProductCode }}aws
{{- end }}
{{- end }}

{{/* GOMEMLIMIT in bytes: goMemLimitRatio of resources.limits.memory. */}}
{{- define "socketx.goMemLimit" -}}
{{- $lim := toString (dig "limits" "memory" "" .Values.resources) }}
{{- if and $lim (gt (float64 .Values.goMemLimitRatio) 0.0) }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $lim }}
{{- $unit := trimPrefix $num $lim }}
{{- $mult := dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 }}
{{- if and $num (hasKey $mult $unit) }}
{{- mulf (float64 $num) (get $mult $unit) (float64 .Values.goMemLimitRatio) | floor | int64 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Bytes of a Kubernetes quantity such as 1Gi, 512Mi or 2G; empty when it cannot be read. */}}
{{- define "socketx.bytes" -}}
{{- $q := toString . }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $unit := trimPrefix $num $q }}
{{- $mult := dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 }}
{{- if and $num (hasKey $mult $unit) }}
{{- mulf (float64 $num) (get $mult $unit) | floor | int64 }}
{{- end }}
{{- end }}

{{/* Value of a plain name/value entry of extraEnv; empty when absent. */}}
{{- define "socketx.extraEnvValue" -}}
{{- $name := .name }}
{{- range .root.Values.extraEnv }}
{{- if and (eq .name $name) (hasKey . "value") }}{{ toString .value }}{{ end }}
{{- end }}
{{- end }}

{{/*
MEMORY_BUDGET the proxy runs with, in bytes: extraEnv MEMORY_BUDGET when
set and not 0, else half of GOMEMLIMIT, else 256 MiB (the proxy's rule).
Empty when MEMORY_BUDGET comes from a Secret and cannot be known here.
*/}}
{{- define "socketx.memoryBudget" -}}
{{- $set := include "socketx.extraEnvValue" (dict "root" . "name" "MEMORY_BUDGET") }}
{{- $goMemLimit := include "socketx.goMemLimit" . }}
{{- if and $set (ne $set "0") }}
{{- if regexMatch "^[0-9]+$" $set }}{{ $set }}{{ end }}
{{- else if $goMemLimit }}
{{- div (int64 $goMemLimit) 2 }}
{{- else }}
{{- 268435456 }}
{{- end }}
{{- end }}

{{/*
MTE_SERVER_KEY_FILES: the mounted paths of serverKeys.keys, comma-separated.
*/}}
{{- define "socketx.serverKeyFiles" -}}
{{- $paths := list }}
{{- range .Values.serverKeys.keys }}
{{- $paths = append $paths (printf "/etc/socketx/server-keys/%s" .) }}
{{- end }}
{{- join "," $paths }}
{{- end }}
