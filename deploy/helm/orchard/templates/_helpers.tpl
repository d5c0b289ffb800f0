{{/* Names, labels and the pieces every Orchard pod shares. */}}

{{- define "orchard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orchard.fullname" -}}
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

{{- define "orchard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orchard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "orchard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "orchard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The server pods: what the persistence test deletes and the Service selects. */}}
{{- define "orchard.serverSelector" -}}
{{ include "orchard.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "orchard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "orchard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "orchard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Scale-out: PostgreSQL and S3, no volume of our own; anything else is embedded. */}}
{{- define "orchard.scaleOut" -}}
{{- if and (eq .Values.database.type "postgresql") (eq .Values.blobStore.type "s3") }}true{{ end }}
{{- end }}

{{- define "orchard.authSecret" -}}
{{- default (printf "%s-auth" (include "orchard.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{- define "orchard.serviceUrl" -}}
http://{{ include "orchard.fullname" . }}.{{ .Release.Namespace }}.svc:{{ .Values.service.port }}
{{- end }}

{{/* ORCHARD_MAX_UPLOAD_SIZE as written ("10G"), or a byte count (YAML numbers reach
     templates as floats: 1073741824 would print as 1.073741824e+09). */}}
{{- define "orchard.maxUploadSize" -}}
{{- $size := .Values.server.maxUploadSize }}
{{- if kindIs "string" $size }}{{ $size }}{{ else }}{{ $size | int64 }}{{ end }}
{{- end }}

{{- define "orchard.terminationGrace" -}}
{{- add .Values.server.gracefulTimeout .Values.server.preStopSleepSeconds .Values.server.terminationGraceMargin }}
{{- end }}

{{/* Restricted pod security: non-root, no privilege escalation, no capabilities. */}}
{{- define "orchard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "orchard.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The blob store's settings; its keys come from the S3 Secret. */}}
{{- define "orchard.blobStoreEnv" -}}
- name: ORCHARD_BLOB_STORE
  value: {{ .Values.blobStore.type | quote }}
{{- if eq .Values.blobStore.type "s3" }}
{{- with .Values.blobStore.s3 }}
- name: ORCHARD_S3_ENDPOINT
  value: {{ .endpoint | quote }}
- name: ORCHARD_S3_BUCKET
  value: {{ .bucket | quote }}
- name: ORCHARD_S3_REGION
  value: {{ .region | quote }}
- name: ORCHARD_S3_PREFIX
  value: {{ .prefix | quote }}
{{- if .existingSecret }}
- name: ORCHARD_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .accessKeyKey }}
- name: ORCHARD_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .secretKeyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Non-empty when the server pods keep a local cache of S3 blobs. */}}
{{- define "orchard.blobCache" -}}
{{- if and (eq .Values.blobStore.type "s3") .Values.blobStore.cache.enabled }}true{{ end }}
{{- end }}

{{/* What every Orchard process of this release reads: the server, migrations, cron jobs. */}}
{{- define "orchard.env" -}}
- name: ORCHARD_HOST
  value: "0.0.0.0"
- name: ORCHARD_PORT
  value: "8080"
- name: ORCHARD_DATA_DIR
  value: /data
- name: ORCHARD_LOG_LEVEL
  value: {{ .Values.server.logLevel | quote }}
{{- if eq .Values.database.type "postgresql" }}
- name: ORCHARD_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end }}
{{ include "orchard.blobStoreEnv" . }}
- name: ORCHARD_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "orchard.authSecret" . }}
      key: {{ .Values.auth.secretKeyKey }}
{{- range $name, $value := .Values.server.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* The pod's volumes: /data (a claim, or an emptyDir in scale-out) and /tmp. */}}
{{- define "orchard.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* For jobs beside an embedded server: the claim of pod 0, on the same node. */}}
{{- define "orchard.sideVolumes" -}}
- name: tmp
  emptyDir: {}
- name: data
{{- if include "orchard.scaleOut" . }}
  emptyDir: {}
{{- else }}
  persistentVolumeClaim:
    claimName: data-{{ include "orchard.fullname" . }}-0
{{- end }}
{{- end }}

{{- define "orchard.sideAffinity" -}}
{{- if not (include "orchard.scaleOut" .) -}}
affinity:
  podAffinity:
    # A ReadWriteOnce volume mounts on one node: run beside the server pod.
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "orchard.serverSelector" . | nindent 12 }}
{{- end }}
{{- end }}
