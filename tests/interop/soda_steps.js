// Runs soda-js (Socrata's JavaScript client), unchanged, through a list of steps and prints what
// each answered as one JSON array on stdout. Driven by tests/interop/test_interop_soda_js.py.
//
// Usage: node soda_steps.js '{"site": "127.0.0.1:8443", "auth": {...}, "steps": [...]}'
// A step is {"consumer": {"dataset", "calls", "fourByFour"?}} or {"producer": {"dataset", "op", "id", "data"}}.
"use strict";

const soda = require("soda-js");

const plan = JSON.parse(process.argv[2]);
const consumer = new soda.Consumer(plan.site, plan.auth || {});
const producer = new soda.Producer(plan.site, plan.auth || {});

// Socrata's dataset-id form, as clients that check it (RSocrata's isFourByFour, ...) write it.
const FOUR_BY_FOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;

// The query builder, called as a person would: one call per clause, in the step's order.
// A step with "fourByFour": true first checks the id's form and refuses any other, as those clients do.
function query(step) {
  if (step.fourByFour && !FOUR_BY_FOUR.test(step.dataset)) {
    throw new Error(`not a Socrata dataset id: ${step.dataset}`);
  }
  let q = consumer.query().withDataset(step.dataset);
  for (const [method, args] of step.calls) {
    q = q[method](...args);
  }
  return { url: q.getURL(), emitter: q.getRows() };
}

function produce(step) {
  const op = producer.operation().withDataset(step.dataset);
  const args = step.id === undefined ? [step.data] : [step.id, step.data];
  return { emitter: op[step.op](...args.filter((a) => a !== undefined)) };
}

function run(step) {
  return new Promise((resolve) => {
    const { url, emitter } = step.consumer ? query(step.consumer) : produce(step.producer);
    const outcome = { url };
    emitter.on("success", (body) => Object.assign(outcome, { event: "success", body }));
    emitter.on("error", (body) => Object.assign(outcome, { event: "error", body }));
    emitter.on("complete", (response) => {
      outcome.status = response.status;
      outcome.headers = response.headers;
      resolve(outcome);
    });
  });
}

(async () => {
  const outcomes = [];
  for (const step of plan.steps) {
    outcomes.push(await run(step));
  }
  process.stdout.write(JSON.stringify(outcomes));
})();
