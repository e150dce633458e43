// The staging console: every datum and every action goes through /control/* (the same
// API curl uses); this script adds no other way to change state. Values are put into the
// page as text (textContent), never as markup.
"use strict";

const CONTRACTS = [
  "GetPersonsForProfile", "GetPersonsForProfileUnrestricted",
  "GetPersonContactInformation", "GetPersonContactInformationUnrestricted",
  "UpdatePersonContactInformation", "UpdatePersonContactInformationUnrestricted",
  "PingForConfiguration",
];
const RESULTS = ["OK", "ERROR", "soap:Client", "soap:Server", "soap:VersionMismatch", "400", "413", "415", "503"];
const TOKEN_KEY = "pu-adapter-control-token";

const $ = (id) => document.getElementById(id);

function status(message) {
  $("status").textContent = message;
}

// A call of the control API, with the token when one was given. A 401 asks for it.
async function control(method, path, body, accept) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  if (accept) headers["Accept"] = accept;
  const response = await fetch(path, { method, headers, body, cache: "no-store" });
  if (response.status === 401) {
    $("token-section").hidden = false;
    $("token").focus();
    throw new Error("this server needs its control token: enter it above");
  }
  return response;
}

async function controlJson(method, path, body) {
  const response = await control(method, path, body, "application/json");
  const text = await response.text();
  if (!response.ok && !text.trim().startsWith("{")) {
    throw new Error(path + " answered " + response.status + ": " + text.trim());
  }
  return { status: response.status, value: text.trim() ? JSON.parse(text) : null };
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  row.appendChild(td);
  return td;
}

function fillSelect(select, values) {
  for (const v of values) {
    const option = document.createElement("option");
    option.value = v;
    option.textContent = v;
    select.appendChild(option);
  }
}

// A reason may quote a line's values or suggest a corrected number: quoted text, e-mail
// addresses and runs of digits are hidden, so the page shows the reason, not the data.
function withoutValues(text) {
  return String(text)
    .replace(/"(?:[^"\\]|\\.)*"/g, "\"…\"")
    .replace(/[^\s"'<>()]+@[^\s"'<>()]+/g, "…")
    .replace(/\+?\d[\d \-]{4,}\d/g, "…");
}

// --- Call log -------------------------------------------------------------------------

let knownConsumers = new Set();

async function refreshCalls() {
  const { value } = await controlJson("GET", "/control/journal?limit=1000");
  const consumer = $("f-consumer").value.trim();
  const contract = $("f-contract").value;
  const result = $("f-result").value;
  const calls = (value || []).slice().reverse();
  const shown = calls.filter((c) =>
    (!consumer || c.consumer === consumer) && (!contract || c.contract === contract) && (!result || c.result === result));
  const withRequests = shown.some((c) => typeof c.request === "string");
  for (const th of document.querySelectorAll(".request-col")) th.hidden = !withRequests;
  const body = $("calls-table").tBodies[0];
  body.replaceChildren();
  for (const c of shown) {
    const row = document.createElement("tr");
    row.dataset.result = c.result;
    cell(row, c.at);
    cell(row, c.consumer);
    cell(row, c.contract);
    cell(row, c.result).className = "result r-" + c.result.replace(/[^A-Za-z0-9]/g, "");
    cell(row, Number(c.latencyMs).toFixed(1));
    cell(row, c.correlationId);
    if (withRequests) cell(row, c.request || "").className = "request";
    body.appendChild(row);
  }
  $("calls-caption").textContent = shown.length === calls.length
    ? calls.length + " calls, newest first."
    : shown.length + " of " + calls.length + " calls match the filter, newest first.";
  const list = $("consumers");
  for (const c of calls) {
    if (!knownConsumers.has(c.consumer)) {
      knownConsumers.add(c.consumer);
      fillSelect(list, [c.consumer]);
    }
  }
}

// --- Report ---------------------------------------------------------------------------

function reportQuery(format) {
  const params = new URLSearchParams({ format });
  for (const name of ["consumer", "since", "until"]) {
    const v = $("r-" + name).value.trim();
    if (v) params.set(name, v);
  }
  return "/control/report?" + params.toString();
}

async function makeReport() {
  const { status: code, value } = await controlJson("GET", reportQuery("json"));
  if (code !== 200) throw new Error("the report was refused: " + JSON.stringify(value));
  const findings = $("findings-table").tBodies[0];
  findings.replaceChildren();
  for (const f of value.findings) {
    const row = document.createElement("tr");
    row.className = "finding";
    cell(row, f.check + "/" + f.rule);
    cell(row, f.consumer);
    cell(row, f.count);
    cell(row, f.first);
    cell(row, f.last);
    cell(row, f.correlationId);
    cell(row, f.advice);
    findings.appendChild(row);
  }
  const counts = $("counts-table").tBodies[0];
  counts.replaceChildren();
  for (const c of value.calls) {
    const row = document.createElement("tr");
    cell(row, c.consumer);
    cell(row, c.contract);
    cell(row, c.result);
    cell(row, c.count);
    counts.appendChild(row);
  }
  $("report-verdict").textContent = value.findings.length === 0
    ? "No rule broken."
    : value.findings.length + " finding(s): rules broken.";
  $("report-verdict").className = value.findings.length === 0 ? "verdict ok" : "verdict bad";
  const log = value.callLog;
  $("report-coverage").textContent = "Call log: " + log.entries + " of at most " + log.capacity + " calls held" +
    (log.truncated ? "; calls of the period have left it, so resends, HTTP refusals and early retries before " + log.oldest + " are not judged." : ".");
  status("Report made at " + value.generatedAt + ".");
}

async function downloadJunit() {
  const response = await control("GET", reportQuery("junit"), undefined, "application/xml");
  if (!response.ok) throw new Error("the JUnit report was refused: " + (await response.text()).trim());
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "consumer-report.xml";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  status("JUnit report downloaded as consumer-report.xml.");
}

// --- Fault rules ----------------------------------------------------------------------

async function refreshFaults() {
  const { value } = await controlJson("GET", "/control/faults");
  const body = $("faults-table").tBodies[0];
  body.replaceChildren();
  for (const r of value || []) {
    const row = document.createElement("tr");
    cell(row, r.contract);
    cell(row, r.fault);
    cell(row, r.delayMs === null ? "" : r.delayMs);
    // The identifier a rule is limited to is not shown: the page shows no personal data.
    cell(row, r.person ? "one person" : "every person");
    cell(row, r.remaining === null ? "until cleared" : r.remaining);
    cell(row, r.probability);
    body.appendChild(row);
  }
  $("faults-caption").textContent = (value || []).length === 0 ? "No fault rules." : (value || []).length + " fault rule(s) in force.";
}

async function addFault() {
  const rule = { contract: $("x-contract").value, fault: $("x-fault").value };
  const number = (id) => $(id).value.trim() === "" ? null : Number($(id).value);
  if (rule.fault === "delay") rule.delayMs = number("x-delay") ?? 0;
  const person = $("x-person").value.trim();
  if (person) rule.person = person;
  if (number("x-count") !== null) rule.count = number("x-count");
  if (number("x-probability") !== null) rule.probability = number("x-probability");
  const response = await control("POST", "/control/faults", JSON.stringify(rule));
  const text = (await response.text()).trim();
  if (response.status !== 201) throw new Error("the rule was refused: " + text);
  $("x-person").value = "";
  await refreshFaults();
  status("Fault rule added: " + rule.fault + " on " + rule.contract + ".");
}

async function clearFaults() {
  const response = await control("DELETE", "/control/faults");
  if (!response.ok) throw new Error("clearing was refused: " + (await response.text()).trim());
  await refreshFaults();
  status("Every fault rule cleared.");
}

// --- Reset ----------------------------------------------------------------------------

async function resetPopulation() {
  const file = $("reset-file").files[0];
  if (!file) throw new Error("choose a population file first");
  status("Resetting from " + file.size + " bytes…");
  const { status: code, value } = await controlJson("POST", "/control/reset", file);
  const errors = $("reset-errors");
  const body = errors.tBodies[0];
  body.replaceChildren();
  errors.hidden = true;
  if (code === 200) {
    $("reset-result").textContent = "Population replaced: " + value.inserted + " persons, " + value.contactsSeeded + " with contact information.";
  } else if (value && Array.isArray(value.lines)) {
    $("reset-result").textContent = value.lines.length + " bad line(s); nothing was changed.";
    for (const l of value.lines) {
      const row = document.createElement("tr");
      cell(row, l.line);
      cell(row, withoutValues(l.reason));
      body.appendChild(row);
    }
    errors.hidden = false;
  } else {
    $("reset-result").textContent = "The reset was refused (" + code + "); nothing was changed.";
  }
  status($("reset-result").textContent);
}

// --- Wiring ---------------------------------------------------------------------------

function guarded(action) {
  return async (event) => {
    if (event) event.preventDefault();
    try {
      await action();
    } catch (e) {
      status("Error: " + e.message);
    }
  };
}

document.addEventListener("DOMContentLoaded", () => {
  fillSelect($("f-contract"), CONTRACTS);
  fillSelect($("x-contract"), CONTRACTS);
  fillSelect($("f-result"), RESULTS);
  $("token-form").addEventListener("submit", guarded(async () => {
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    $("token-section").hidden = true;
    await refreshCalls();
    await refreshFaults();
    status("Token set for this tab.");
  }));
  for (const id of ["f-consumer", "f-contract", "f-result"]) $(id).addEventListener("change", guarded(refreshCalls));
  $("f-consumer").addEventListener("input", guarded(refreshCalls));
  $("calls-filter").addEventListener("submit", guarded(refreshCalls));
  $("calls-refresh").addEventListener("click", guarded(refreshCalls));
  $("report-form").addEventListener("submit", guarded(makeReport));
  $("junit").addEventListener("click", guarded(downloadJunit));
  $("fault-form").addEventListener("submit", guarded(addFault));
  $("faults-clear").addEventListener("click", guarded(clearFaults));
  $("reset-form").addEventListener("submit", guarded(resetPopulation));
  guarded(refreshCalls)();
  guarded(refreshFaults)();
  setInterval(() => {
    if ($("f-live").checked && $("token-section").hidden) guarded(refreshCalls)();
  }, 2000);
});
