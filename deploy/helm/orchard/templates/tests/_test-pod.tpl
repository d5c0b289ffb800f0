{{/* One helm test hook: the Orchard image running `orchard selftest --check NAME`.
     Arguments: dict "root" $ "check" NAME "weight" N [and "extraArgs" list, "kube" true]. */}}
{{- define "orchard.testPod" -}}
{{- $ := .root }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "orchard.fullname" $ }}-test-{{ .check }}
  labels:
    {{- include "orchard.labels" $ | nindent 4 }}
    app.kubernetes.io/component: test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  {{- if .kube }}
  serviceAccountName: {{ include "orchard.fullname" $ }}-test
  automountServiceAccountToken: true
  {{- else }}
  automountServiceAccountToken: false
  {{- end }}
  {{- with $.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "orchard.podSecurityContext" $ | nindent 4 }}
  containers:
    - name: selftest
      image: {{ include "orchard.image" $ | quote }}
      imagePullPolicy: {{ $.Values.image.pullPolicy }}
      command:
        - orchard
        - selftest
      args:
        - --check
        - {{ .check }}
        {{- range .extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: ORCHARD_SELFTEST_URL
          value: {{ include "orchard.serviceUrl" $ | quote }}
        - name: ORCHARD_SELFTEST_USERNAME
          value: {{ $.Values.auth.adminUser | quote }}
        - name: ORCHARD_SELFTEST_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ include "orchard.authSecret" $ }}
              key: {{ $.Values.auth.adminPasswordKey }}
        - name: ORCHARD_SELFTEST_PACKAGE
          value: {{ $.Values.tests.package | quote }}
        - name: ORCHARD_SELFTEST_VERSION
          value: {{ $.Values.tests.version | quote }}
        - name: ORCHARD_SELFTEST_VERSIONS
          value: {{ $.Values.tests.versions | quote }}
        - name: ORCHARD_SELFTEST_TIMEOUT
          value: {{ $.Values.tests.timeout | quote }}
        - name: HOME
          value: /tmp
        - name: TMPDIR
          value: /tmp
        {{- if and (eq .check "storage") (eq $.Values.blobStore.type "s3") }}
        # Storage on S3: the blob is looked for in the bucket itself, with the server's
        # own settings and keys.
        - name: ORCHARD_SELFTEST_VERIFY_BLOB_STORE
          value: "1"
        {{- include "orchard.blobStoreEnv" $ | nindent 8 }}
        {{- end }}
      securityContext:
        {{- include "orchard.containerSecurityContext" $ | nindent 8 }}
      resources:
        {{- toYaml $.Values.testResources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir: {}
{{- end }}

{{/* The server pods' labels as a selector string, for the persistence check. */}}
{{- define "orchard.serverSelectorString" -}}
{{- $labels := include "orchard.serverSelector" . | fromYaml }}
{{- $pairs := list }}
{{- range $key := keys $labels | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%s" $key (index $labels $key)) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
