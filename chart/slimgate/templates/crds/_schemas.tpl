{{/*
OpenAPI schemas of the report CRDs, written from the published Go types:
wgpolicyk8s.io/v1alpha2 (kubernetes-sigs/wg-policy-prototypes,
policy-report/apis/wgpolicyk8s.io/v1alpha2/policyreport_types.go) and
openreports.io/v1alpha1 (openreports/reports-api,
apis/openreports.io/v1alpha1/report_types.go). Both share the result shape;
OpenReports adds a report-level `source` and `configuration`.
Call with (dict "openreports" true|false).
*/}}
{{- define "slimgate.crd.objectReference" -}}
type: object
x-kubernetes-map-type: atomic
properties:
  apiVersion: {type: string}
  fieldPath: {type: string}
  kind: {type: string}
  name: {type: string}
  namespace: {type: string}
  resourceVersion: {type: string}
  uid: {type: string}
{{- end }}

{{- define "slimgate.crd.labelSelector" -}}
type: object
x-kubernetes-map-type: atomic
properties:
  matchLabels:
    type: object
    additionalProperties: {type: string}
  matchExpressions:
    type: array
    x-kubernetes-list-type: atomic
    items:
      type: object
      required: [key, operator]
      properties:
        key: {type: string}
        operator: {type: string}
        values:
          type: array
          x-kubernetes-list-type: atomic
          items: {type: string}
{{- end }}

{{- define "slimgate.crd.reportSchema" -}}
openAPIV3Schema:
  type: object
  description: Results of policy checks for the objects in the report's scope.
  properties:
    apiVersion: {type: string}
    kind: {type: string}
    metadata: {type: object}
    {{- if .openreports }}
    source:
      type: string
      description: The engine that produced every result, unless a result names its own.
    configuration:
      type: object
      required: [limits]
      properties:
        limits:
          type: object
          properties:
            maxResults: {type: integer}
            statusFilter:
              type: array
              items:
                type: string
                enum: [pass, fail, warn, error, skip]
    {{- end }}
    scope:
      description: The object the report is about (e.g. a Deployment or a Namespace).
      {{- include "slimgate.crd.objectReference" . | nindent 6 }}
    scopeSelector:
      description: Selects the objects the report is about, instead of scope.
      {{- include "slimgate.crd.labelSelector" . | nindent 6 }}
    summary:
      type: object
      description: Number of results per outcome.
      properties:
        pass: {type: integer}
        fail: {type: integer}
        warn: {type: integer}
        error: {type: integer}
        skip: {type: integer}
    results:
      type: array
      items:
        type: object
        required: [policy]
        properties:
          source: {type: string}
          policy: {type: string}
          rule: {type: string}
          category: {type: string}
          severity:
            type: string
            enum: [critical, high, low, medium, info]
          timestamp:
            type: object
            required: [seconds, nanos]
            properties:
              seconds: {type: integer, format: int64}
              nanos: {type: integer, format: int32}
          result:
            type: string
            enum: [pass, fail, warn, error, skip]
          scored: {type: boolean}
          resources:
            type: array
            items:
              {{- include "slimgate.crd.objectReference" . | nindent 14 }}
          resourceSelector:
            {{- include "slimgate.crd.labelSelector" . | nindent 12 }}
          message: {type: string}
          properties:
            type: object
            additionalProperties: {type: string}
{{- end }}

{{- define "slimgate.crd.printerColumns" -}}
- {name: Kind, type: string, jsonPath: .scope.kind, priority: 1}
- {name: Name, type: string, jsonPath: .scope.name, priority: 1}
- {name: Pass, type: integer, jsonPath: .summary.pass}
- {name: Fail, type: integer, jsonPath: .summary.fail}
- {name: Warn, type: integer, jsonPath: .summary.warn}
- {name: Error, type: integer, jsonPath: .summary.error}
- {name: Skip, type: integer, jsonPath: .summary.skip}
- {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
{{- end }}

{{/* Metadata shared by every CRD of the chart; call with the root context. */}}
{{- define "slimgate.crd.metadata" -}}
labels:
  {{- include "slimgate.labels" . | nindent 2 }}
{{- if .Values.crds.keep }}
annotations:
  helm.sh/resource-policy: keep
{{- end }}
{{- end }}
