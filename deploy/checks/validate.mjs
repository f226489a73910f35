// Validates rendered chart output against the Kubernetes schemas
// (kubernetes-models) and the merged values against values.schema.json (ajv,
// which kubernetes-models brings). Exits non-zero naming every problem.
//
//   node validate.mjs RENDERED.yaml [VALUES.json SCHEMA.json]
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import Ajv from "ajv";

const kinds = {
  "v1/ConfigMap": core.ConfigMap,
  "v1/Service": core.Service,
  "apps/v1/Deployment": apps.Deployment,
  "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": autoscaling.HorizontalPodAutoscaler,
  "monitoring.coreos.com/v1/ServiceMonitor": monitoring.ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": monitoring.PrometheusRule,
};

const [rendered, valuesFile, schemaFile] = process.argv.slice(2);
const problems = [];
let count = 0;
for (const doc of parseAllDocuments(readFileSync(rendered, "utf8"))) {
  if (doc.errors.length) {
    problems.push(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    continue;
  }
  const obj = doc.toJS();
  if (!obj) continue;
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = kinds[key];
  if (!Model) {
    problems.push(`${key} ${obj.metadata?.name}: no schema known for this kind`);
    continue;
  }
  try {
    new Model(obj).validate();
    count++;
  } catch (e) {
    problems.push(`${key} ${obj.metadata?.name}: ${e.message}`);
  }
}
if (valuesFile && schemaFile) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
  if (!validate(JSON.parse(readFileSync(valuesFile, "utf8")))) {
    for (const e of validate.errors) problems.push(`values${e.instancePath}: ${e.message}`);
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`${count} objects valid`);
