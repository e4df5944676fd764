// The traceability page: check every event's evidence bundle in the browser and say how it went.
import { canVerify, verifyBundle } from "./verify.js";

function checkNames() {
  const names = {};
  for (const item of document.querySelectorAll(".check-names [data-check]")) names[item.dataset.check] = item.textContent;
  return names;
}

async function verifyEvent(event, timeline, names) {
  const status = event.querySelector(".verification");
  try {
    const report = await verifyBundle(event.dataset.bundle, { pinnedKey: timeline.dataset.logKey });
    const failed = report.checks.find((check) => check.status === "failed");
    event.dataset.verification = report.ok ? "verified" : "failed";
    if (failed) {
      status.textContent = timeline.dataset.textFailed.replace("%(check)s", names[failed.name] || failed.name);
      status.title = failed.message;
      event.dataset.failedCheck = failed.name;
    } else {
      status.textContent = timeline.dataset.textVerified;
    }
  } catch (error) {
    event.dataset.verification = "error";
    status.textContent = timeline.dataset.textUnavailable;
    status.title = String(error);
  }
}

async function verifyTimeline() {
  const timeline = document.querySelector(".timeline");
  if (!timeline) return;
  const events = Array.from(timeline.querySelectorAll(".event[data-bundle]"));
  if (!canVerify()) {
    for (const event of events) {
      event.dataset.verification = "unavailable";
      event.querySelector(".verification").textContent = timeline.dataset.textUnavailable;
    }
    return;
  }
  const names = checkNames();
  await Promise.all(events.map((event) => verifyEvent(event, timeline, names)));
  timeline.dataset.verified = "done";
}

/** Times arrive in UTC (the server does not know the visitor's zone); show them in the browser's zone. */
function localizeTimes() {
  const format = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" });
  for (const time of document.querySelectorAll("time[datetime]")) {
    const moment = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) { time.title = time.textContent; time.textContent = format.format(moment); }
  }
}

localizeTimes();
verifyTimeline();
