{{/* The server's pod template, shared by the StatefulSet and the Deployment. */}}
{{- define "orchard.podTemplate" -}}
metadata:
  labels:
    {{- include "orchard.serverSelector" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # A new generated auth Secret or new settings roll the pods.
    checksum/settings: {{ toJson (list .Values.server .Values.database .Values.blobStore .Values.auth) | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "orchard.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  # gunicorn drains in-flight requests for gracefulTimeout after SIGTERM; the kubelet
  # waits for that, the preStop pause and a margin before it kills.
  terminationGracePeriodSeconds: {{ include "orchard.terminationGrace" . }}
  securityContext:
    {{- include "orchard.podSecurityContext" . | nindent 4 }}
  containers:
    - name: orchard
      image: {{ include "orchard.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - serve
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      env:
        {{- include "orchard.env" . | nindent 8 }}
        - name: ORCHARD_ADMIN_USER
          value: {{ .Values.auth.adminUser | quote }}
        - name: ORCHARD_ADMIN_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ include "orchard.authSecret" . }}
              key: {{ .Values.auth.adminPasswordKey }}
        - name: ORCHARD_WORKERS
          value: {{ .Values.server.workers | quote }}
        - name: ORCHARD_THREADS
          value: {{ .Values.server.threads | quote }}
        - name: ORCHARD_TIMEOUT
          value: {{ .Values.server.timeout | quote }}
        - name: ORCHARD_GRACEFUL_TIMEOUT
          value: {{ .Values.server.gracefulTimeout | quote }}
        - name: ORCHARD_MAX_UPLOAD_SIZE
          value: {{ include "orchard.maxUploadSize" . | quote }}
        {{- if include "orchard.blobCache" . }}
        {{- with .Values.blobStore.cache }}
        - name: ORCHARD_BLOB_CACHE_DIR
          value: /cache
        - name: ORCHARD_BLOB_CACHE_SIZE
          value: {{ .size | toString | quote }}
        - name: ORCHARD_BLOB_CACHE_MAX_BLOB
          value: {{ .maxBlobSize | toString | quote }}
        {{- end }}
        {{- end }}
      # Started: /health answers (migrations done). Alive: /health answers even when a
      # backend is down (a pod must not be recycled because PostgreSQL restarts).
      # Ready: /ready, 503 until the database and the blob store answer, and while draining.
      startupProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /health
          port: http
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 6
      readinessProbe:
        httpGet:
          path: /ready
          port: http
        periodSeconds: 5
        timeoutSeconds: 5
        failureThreshold: 2
      lifecycle:
        preStop:
          exec:
            command: ["sleep", "{{ .Values.server.preStopSleepSeconds }}"]
      securityContext:
        {{- include "orchard.containerSecurityContext" . | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        {{- include "orchard.volumeMounts" . | nindent 8 }}
        {{- if include "orchard.blobCache" . }}
        - name: blob-cache
          mountPath: /cache
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if include "orchard.scaleOut" . }}
    # Scale-out keeps nothing on the pod: /data holds only the metrics of this run.
    - name: data
      emptyDir: {}
    {{- end }}
    {{- if include "orchard.blobCache" . }}
    # The local read-through cache of S3 blobs: rebuilt from S3 after a reschedule.
    - name: blob-cache
      emptyDir:
        sizeLimit: {{ .Values.blobStore.cache.sizeLimit }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
