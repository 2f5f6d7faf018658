{{/*
OpenAPI schemas of the report CRDs, written from the published Go types and
checked field by field against the upstream CRDs:
- wgpolicyk8s.io/v1alpha2: kubernetes-sigs/wg-policy-prototypes
  policy-report/pkg/api/wgpolicyk8s.io/v1alpha2/policyreport_types.go at
  commit 25056e1f3eb5cab1e693b8c880eb693a84e099af; one served and stored
  version, as kyverno/kyverno ships it
  (charts/kyverno/charts/crds/templates/wgpolicyk8s.io/wgpolicyk8s.io_policyreports.yaml
  at v1.19.0, ee97ce09538b09b6f1b03853cc41a62654d6a58f).
- openreports.io/v1alpha1: openreports/reports-api
  config/crd/openreports.io_reports.yaml and
  apis/openreports.io/v1alpha1/report_types.go at v0.2.1,
  b7afe2eae0fdc4aa8df7252d56dbf1b191152cbd.
Both share the result shape; OpenReports adds a report-level `source` and
`configuration`. Call with (dict "openreports" true|false).
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
  {{- with .Values.crds.labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or .Values.crds.keep .Values.crds.annotations }}
annotations:
  {{- if .Values.crds.keep }}
  helm.sh/resource-policy: keep
  {{- end }}
  {{- with .Values.crds.annotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Whether to render one report CRD. Call with
(dict "root" $ "mode" "auto|always|never" "writes" bool "name" "<plural>.<group>"
      "apiVersions" (list "<group>/<version>" ...)); prints "true" or nothing.

auto renders the CRD only when
- the operator writes this API group (operator.enabled and operator.reports), and
- the cluster has no such CRD, or has the one this release installed
  (`lookup`: meta.helm.sh/release-name and -namespace name this release), and
- when there is no such CRD, nothing else serves the group either: no
  APIService for any of its versions (`lookup`; an aggregated API such as
  Kyverno's reports-server) and no version in .Capabilities.APIVersions.
A CRD another release or tool installed is never rendered, so Helm never
tries to adopt or change it. Without a cluster (`helm template`,
`--dry-run=client`) lookup finds nothing: auto then follows the API versions
given with --api-versions; GitOps renders should choose always or never.
*/}}
{{- define "slimgate.crd.wanted" -}}
{{- $root := .root }}
{{- if eq .mode "always" }}true
{{- else if and (eq .mode "auto") .writes }}
{{- $existing := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" .name }}
{{- if $existing }}
{{- $annotations := default (dict) $existing.metadata.annotations }}
{{- if and (eq (index $annotations "meta.helm.sh/release-name" | default "") $root.Release.Name) (eq (index $annotations "meta.helm.sh/release-namespace" | default "") $root.Release.Namespace) }}true{{ end }}
{{- else }}
{{- $served := false }}
{{- range .apiVersions }}
{{- if $root.Capabilities.APIVersions.Has . }}{{ $served = true }}{{ end }}
{{- /* an aggregated API whose backend is down drops out of discovery; its APIService stays */ -}}
{{- $parts := splitList "/" . }}
{{- if lookup "apiregistration.k8s.io/v1" "APIService" "" (printf "%s.%s" (index $parts 1) (index $parts 0)) }}{{ $served = true }}{{ end }}
{{- end }}
{{- if not $served }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}
