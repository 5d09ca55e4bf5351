#!/usr/bin/env node
// Reads a Cucumber JSON report with third-party tools; driven by tests/test_report_formats.py.
//
//   node cucumber_json.js validate REPORT.json
//       @cucumber/cucumber-json-converter: validates REPORT.json against the JSON schemas of
//       cucumber-jvm, cucumber-js, cucumber-ruby and behave, converts it, and prints
//       {"implementation": ..., "features": [{"name", "elements": [{"type", "name", "statuses"}]}]}.
//       Exits 1 with the schema errors when no schema accepts it.
//
//   node cucumber_json.js html JSON_DIR REPORT_DIR
//       multiple-cucumber-html-reporter: renders every *.json in JSON_DIR into REPORT_DIR and
//       keeps its parsed view in REPORT_DIR/enriched-output.json (scenario counts per status).
'use strict';

const fs = require('node:fs');

function validate(reportPath) {
  const { convert } = require('@cucumber/cucumber-json-converter');
  const converted = convert(JSON.parse(fs.readFileSync(reportPath, 'utf-8')));
  const summary = {
    implementation: converted.implementation,
    features: converted.features.map((feature) => ({
      name: feature.name,
      elements: feature.elements.map((element) => ({
        type: element.type,
        name: element.name,
        statuses: (element.before || [])
          .concat(element.steps, element.after || [])
          .map((step) => step.result.status),
      })),
    })),
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

function html(jsonDir, reportDir) {
  const reporter = require('multiple-cucumber-html-reporter');
  reporter.generate({
    jsonDir,
    reportPath: reportDir,
    saveCollectedJSON: true,
    disableLog: true,
    openReportInBrowser: false,
    staticFilePath: true,
  });
}

const [command, ...args] = process.argv.slice(2);
try {
  if (command === 'validate' && args.length === 1) {
    validate(args[0]);
  } else if (command === 'html' && args.length === 2) {
    html(args[0], args[1]);
  } else {
    process.stderr.write('usage: cucumber_json.js validate REPORT.json | html JSON_DIR OUT_DIR\n');
    process.exit(2);
  }
} catch (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
}
