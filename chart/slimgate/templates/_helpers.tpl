{{/*
Names, labels and shared values. Follows the conventions of the Kyverno and
Gatekeeper charts: a fullname truncated to 63 characters, the recommended
app.kubernetes.io/* labels plus helm.sh/chart, and an image tag that
defaults to the chart's appVersion.
*/}}

{{- define "slimgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "slimgate.fullname" -}}
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

{{- define "slimgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "slimgate.labels" -}}
helm.sh/chart: {{ include "slimgate.chart" . }}
{{ include "slimgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: slimgate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "slimgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slimgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component; call with (dict "root" $ "component" "webhook"). */}}
{{- define "slimgate.componentLabels" -}}
{{ include "slimgate.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "slimgate.componentSelectorLabels" -}}
{{ include "slimgate.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Object names. */}}
{{- define "slimgate.webhook.fullname" -}}
{{- printf "%s-webhook" (include "slimgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "slimgate.operator.fullname" -}}
{{- printf "%s-operator" (include "slimgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "slimgate.config.name" -}}
{{- printf "%s-config" (include "slimgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "slimgate.webhook.serviceName" -}}
{{- include "slimgate.webhook.fullname" . }}
{{- end }}

{{- define "slimgate.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create }}
{{- default (include "slimgate.webhook.fullname" .) .Values.webhook.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.webhook.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "slimgate.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "slimgate.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image, by digest when one is given, else by tag (default: appVersion). */}}
{{- define "slimgate.image" -}}
{{- $repo := .Values.image.repository }}
{{- if .Values.image.registry }}
{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{- define "slimgate.test.image" -}}
{{- with .Values.test.image }}
{{- if .registry }}{{ printf "%s/%s:%s" .registry .repository (toString .tag) }}{{ else }}{{ printf "%s:%s" .repository (toString .tag) }}{{ end }}
{{- end }}
{{- end }}

{{/* Whether the webhook reads imagePullSecrets through the Kubernetes API. */}}
{{- define "slimgate.pullSecrets" -}}
{{- if .Values.config.registry.pullSecrets }}true{{ end }}
{{- end }}

{{/*
"true" when registry.platforms is auto: the webhook lists and watches nodes.
*/}}
{{- define "slimgate.nodePlatforms" -}}
{{- if eq (toString .Values.config.registry.platforms) "auto" }}true{{ end }}
{{- end }}

{{/*
"true" when the webhook talks to the Kubernetes API at all (pull secrets, node platforms).
*/}}
{{- define "slimgate.webhookApi" -}}
{{- if or (include "slimgate.pullSecrets" .) (include "slimgate.nodePlatforms" .) }}true{{ end }}
{{- end }}

{{/*
Namespaces the API server never sends to the webhook: kube-system, the
release namespace (slimgate must never gate its own pods) and the user's
list. Matched on kubernetes.io/metadata.name, which the API server sets on
every namespace and nobody can change. Rendered as a JSON list.
*/}}
{{- define "slimgate.excludedNamespaces" -}}
{{- $namespaces := list "kube-system" .Release.Namespace }}
{{- range .Values.webhook.excludedNamespaces }}
{{- $namespaces = append $namespaces . }}
{{- end }}
{{- $namespaces | uniq | toJson }}
{{- end }}

{{/*
The webhook's internal deadline: explicit, or 0.8 x timeoutSeconds, so that
slimgate answers (with its onRegistryError decision) before the API server
gives up and applies the failurePolicy.
*/}}
{{- define "slimgate.webhook.deadlineSeconds" -}}
{{- $timeout := .Values.webhook.timeoutSeconds | float64 }}
{{- if kindIs "invalid" .Values.webhook.deadlineSeconds }}
{{- printf "%.1f" (mulf $timeout 0.8) }}
{{- else }}
{{- $deadline := .Values.webhook.deadlineSeconds | float64 }}
{{- if ge $deadline $timeout }}
{{- fail (printf "webhook.deadlineSeconds (%v) must be below webhook.timeoutSeconds (%v): the webhook has to answer before the API server gives up" .Values.webhook.deadlineSeconds .Values.webhook.timeoutSeconds) }}
{{- end }}
{{- printf "%.1f" $deadline }}
{{- end }}
{{- end }}

{{/* DNS names the serving certificate must carry. Rendered as a JSON list. */}}
{{- define "slimgate.tls.dnsNames" -}}
{{- $svc := include "slimgate.webhook.serviceName" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/* Secret holding the serving certificate (tls.crt, tls.key and, except in secret mode, ca.crt). */}}
{{- define "slimgate.tls.secretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- required "tls.secret.name is required when tls.mode is secret" .Values.tls.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "slimgate.webhook.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Serving certificate for tls.mode=helm, as YAML with base64 values ca, crt
and key. An existing Secret (found with `lookup`) is reused so that the
caBundle in the ValidatingWebhookConfiguration stays stable across
`helm upgrade`; otherwise a CA and a certificate signed by it are
generated. The result is memoised in .Values.tls.helm so that the Secret and
the webhook configuration, rendered from different templates, see the same
certificate. (`helm template` has no cluster, so it always generates.)
*/}}
{{- define "slimgate.tls.helmCertificate" -}}
{{- $memo := .Values.tls.helm }}
{{- if not (hasKey $memo "_generated") }}
{{- $secretName := include "slimgate.tls.secretName" . }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName }}
{{- $data := dict }}
{{- if $existing }}{{ $data = default (dict) $existing.data }}{{ end }}
{{- $result := dict }}
{{- if and (index $data "tls.crt") (index $data "tls.key") (index $data "ca.crt") }}
{{- $result = dict "ca" (index $data "ca.crt") "crt" (index $data "tls.crt") "key" (index $data "tls.key") }}
{{- else }}
{{- $days := int .Values.tls.helm.validityDays }}
{{- $ca := genCA (printf "%s-ca" (include "slimgate.fullname" .)) $days }}
{{- $dnsNames := include "slimgate.tls.dnsNames" . | fromJsonArray }}
{{- $cert := genSignedCert (index $dnsNames 2) nil $dnsNames $days $ca }}
{{- $result = dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) }}
{{- end }}
{{- $_ := set $memo "_generated" $result }}
{{- end }}
{{- toYaml (get $memo "_generated") }}
{{- end }}

{{/* The caBundle for the webhook configuration (base64 PEM); empty in certManager mode. */}}
{{- define "slimgate.tls.caBundle" -}}
{{- if eq .Values.tls.mode "helm" }}
{{- (include "slimgate.tls.helmCertificate" . | fromYaml).ca }}
{{- else if eq .Values.tls.mode "secret" }}
{{- $bundle := required "tls.secret.caBundle is required when tls.mode is secret (base64 of the PEM CA that signed the certificate)" .Values.tls.secret.caBundle }}
{{- if not (contains "-----BEGIN CERTIFICATE-----" (b64dec $bundle)) }}
{{- fail "tls.secret.caBundle must be the base64 encoding of a PEM certificate bundle (for example: base64 -w0 ca.crt)" }}
{{- end }}
{{- $bundle }}
{{- end }}
{{- end }}

{{/* Volumes and mounts every slimgate container shares: config directory and /tmp. */}}
{{- define "slimgate.configVolume" -}}
- name: config
  configMap:
    name: {{ include "slimgate.config.name" . }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.sharedCache.url }}
- name: shared-cache
  secret:
    secretName: {{ required "sharedCache.existingSecret is required with sharedCache.url" .Values.sharedCache.existingSecret }}
{{- if .Values.sharedCache.caSecret }}
- name: shared-cache-ca
  secret:
    secretName: {{ .Values.sharedCache.caSecret }}
{{- end }}
{{- end }}
{{- end }}

{{- define "slimgate.configVolumeMounts" -}}
# The directory, not a subPath: the kubelet only updates whole-directory
# ConfigMap mounts, and the webhook reloads the file when it changes.
- name: config
  mountPath: /etc/slimgate
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.sharedCache.url }}
- name: shared-cache
  mountPath: /etc/slimgate-shared-cache
  readOnly: true
{{- if .Values.sharedCache.caSecret }}
- name: shared-cache-ca
  mountPath: /etc/slimgate-shared-cache-ca
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- /* The configuration's registry section: .Values.config.registry, with
registry.credentialPlugins from .Values.credentialProviders and registry.sharedCache from
.Values.sharedCache. */ -}}
{{- define "slimgate.registry" -}}
{{- $registry := deepCopy .Values.config.registry }}
{{- with .Values.credentialProviders }}
{{- $plugins := dict "binDir" .binDir "inheritEnv" .inheritEnv "timeoutSeconds" .timeoutSeconds }}
{{- if .config }}
{{- $_ := set $plugins "providerConfig" "/etc/slimgate/credential-providers.yaml" }}
{{- end }}
{{- $_ := set $registry "credentialPlugins" $plugins }}
{{- end }}
{{- with .Values.sharedCache }}
{{- if .url }}
{{- if and .caSecret (not (hasPrefix "rediss://" .url)) }}
{{- fail "sharedCache.caSecret needs a rediss:// url" }}
{{- end }}
{{- $shared := dict "url" .url "secretFile" "/etc/slimgate-shared-cache/secret" "passwordFile" "/etc/slimgate-shared-cache/password" "keyPrefix" .keyPrefix "timeoutMilliseconds" .timeoutMilliseconds }}
{{- if .caSecret }}
{{- $_ := set $shared "caFile" "/etc/slimgate-shared-cache-ca/ca.crt" }}
{{- end }}
{{- if .username }}
{{- $_ := set $shared "username" .username }}
{{- end }}
{{- $_ := set $registry "sharedCache" $shared }}
{{- end }}
{{- end }}
{{- toYaml $registry }}
{{- end }}

{{/* "true" when the API server supports webhook matchConditions (1.28+). */}}
{{- define "slimgate.matchConditionsSupported" -}}
{{- if semverCompare ">=1.28.0-0" .Capabilities.KubeVersion.Version }}true{{ end }}
{{- end }}

{{/* Whether the webhook's pods need a token: slimgate.webhookApi or self-managed TLS. */}}
{{- define "slimgate.webhook.apiAccess" -}}
{{- if or (include "slimgate.webhookApi" .) (eq .Values.tls.mode "selfManaged") }}true{{ end }}
{{- end }}
