// In-browser verifier of Tradeloom evidence bundles (tradeloom-evidence-bundle/v1), with Web Crypto only.
//
// It runs the same named checks as ledger/verify.py, in the same order and with the same ok / failed /
// skipped outcomes: bundle format, entry format (RFC 8785 canonical entry), log key (and the pinned key),
// the checkpoint's Ed25519 signature (C2SP signed note), tree size, the RFC 9162 inclusion proof and,
// when the bundle carries one, a newer checkpoint with its consistency proof. Messages are for people;
// the check names and statuses are the contract (tests/ledger/test_verify_js.py compares them).

import {
  CheckError, bytesToHex, decodeBase64, encodeBase64, hexToBytes, leafHash, parseAndVerify, parseVerifierKey,
  rootFromInclusionProof, sameBytes, utf8, verifyConsistency,
} from "./tlog.js";

const BUNDLE_FORMAT = "tradeloom-evidence-bundle/v1";
const BUNDLE_FIELDS = new Set(["format", "entry", "leaf_index", "tree_size", "inclusion_proof", "checkpoint",
  "log_key", "file_salt", "newer_checkpoint", "anchor"]);
const REQUIRED_FIELDS = ["entry", "leaf_index", "tree_size", "inclusion_proof", "checkpoint", "log_key"];
const ENTRY_FIELDS = ["kind", "subject", "org", "recorded_at"];
const HEX_HASH = /^[0-9a-f]{64}$/;
const RECORDED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

// ---- bundle and entry formats ----------------------------------------------------------------------------

const isInteger = (value, minimum) => typeof value === "number" && Number.isInteger(value) && value >= minimum;
const isHexList = (value) => Array.isArray(value) && value.every((item) => typeof item === "string" && HEX_HASH.test(item));

function checkNewerCheckpoint(newer) {
  if (newer === null || newer === undefined) return;
  const keys = typeof newer === "object" && !Array.isArray(newer) ? Object.keys(newer) : null;
  if (!keys || keys.some((k) => k !== "checkpoint" && k !== "consistency_proof")
      || typeof newer.checkpoint !== "string" || !isHexList(newer.consistency_proof)) {
    throw new CheckError("newer_checkpoint: expected checkpoint and consistency_proof");
  }
}

/** The pydantic model's rules (extra fields forbidden, canonical base64, hex hashes). */
function parseBundle(text) {
  let bundle;
  try { bundle = JSON.parse(text); } catch (error) { throw new CheckError(`not JSON: ${error.message}`); }
  if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) throw new CheckError("not a JSON object");
  const problems = [];
  for (const key of Object.keys(bundle)) if (!BUNDLE_FIELDS.has(key)) problems.push(`${key}: extra field`);
  for (const key of REQUIRED_FIELDS) if (!(key in bundle)) problems.push(`${key}: missing`);
  if ("format" in bundle && bundle.format !== BUNDLE_FORMAT) problems.push(`format: expected ${BUNDLE_FORMAT}`);
  if ("entry" in bundle) {
    try { if (encodeBase64(decodeBase64(bundle.entry)) !== bundle.entry) throw new CheckError(); }
    catch { problems.push("entry: not canonical standard base64"); }
  }
  if ("leaf_index" in bundle && !isInteger(bundle.leaf_index, 0)) problems.push("leaf_index: not an integer >= 0");
  if ("tree_size" in bundle && !isInteger(bundle.tree_size, 1)) problems.push("tree_size: not an integer > 0");
  if ("inclusion_proof" in bundle && !isHexList(bundle.inclusion_proof)) problems.push("inclusion_proof: not hex hashes");
  for (const key of ["checkpoint", "log_key"]) if (key in bundle && typeof bundle[key] !== "string") problems.push(`${key}: not a string`);
  if (bundle.file_salt != null && !(typeof bundle.file_salt === "string" && /^[0-9a-f]{32}$/.test(bundle.file_salt))) problems.push("file_salt: not 16 hex bytes");
  if (bundle.anchor != null && (typeof bundle.anchor !== "object" || Array.isArray(bundle.anchor))) problems.push("anchor: not an object");
  try { checkNewerCheckpoint(bundle.newer_checkpoint); } catch (error) { problems.push(error.message); }
  if (problems.length) throw new CheckError(problems.join("; "));
  return bundle;
}

/** RFC 8785 for the JSON an entry can hold: ECMAScript serialization with keys in UTF-16 order. */
function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

function checkRecordedAt(text) {
  const match = typeof text === "string" && RECORDED_AT.exec(text);
  if (!match) throw new CheckError("recorded_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ");
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const moment = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  moment.setUTCFullYear(year);
  const valid = year >= 1 && moment.getUTCMonth() === month - 1 && moment.getUTCDate() === day
    && moment.getUTCHours() === hour && moment.getUTCMinutes() === minute && moment.getUTCSeconds() === second;
  if (!valid) throw new CheckError(`recorded_at ${text} is not a real moment`);
}

/** ledger.canonical.EvidenceEntry.from_canonical: the exact canonical form of a well-formed entry. */
function parseEntry(leafData) {
  let entry;
  try { entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(leafData)); }
  catch (error) { throw new CheckError(`entry is not JSON: ${error.message}`); }
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw new CheckError("entry must be a JSON object");
  const keys = Object.keys(entry).sort().join(",");
  const shapes = ["payload", "payload_digest"].map((last) => [...ENTRY_FIELDS, last].sort().join(","));
  if (!shapes.includes(keys)) throw new CheckError("entry fields must be kind, subject, org, recorded_at + payload or payload_digest");
  const hasPayload = entry.payload !== undefined && entry.payload !== null;
  const hasDigest = entry.payload_digest !== undefined && entry.payload_digest !== null;
  if (hasPayload === hasDigest) throw new CheckError("an entry has exactly one of payload and payload_digest");
  if (hasPayload && (typeof entry.payload !== "object" || Array.isArray(entry.payload))) throw new CheckError("payload must be a JSON object");
  if (hasDigest && !(typeof entry.payload_digest === "string" && HEX_HASH.test(entry.payload_digest))) {
    throw new CheckError("payload_digest must be 64 lowercase hex digits");
  }
  for (const name of ["kind", "subject", "org"]) {
    if (typeof entry[name] !== "string" || !entry[name]) throw new CheckError(`${name} must be a non-empty string`);
  }
  checkRecordedAt(entry.recorded_at);
  if (!sameBytes(utf8.encode(canonicalJson(entry)), leafData)) throw new CheckError("entry is not in RFC 8785 canonical form");
  return entry;
}

// ---- the checks -------------------------------------------------------------------------------------------

class Verification {
  constructor(bundle, pinnedKey) { this.bundle = bundle; this.pinnedKey = pinnedKey; this.checks = []; }

  record(name, status, message) { this.checks.push({ name, status, message }); }

  skip(name, because) { this.record(name, "skipped", `not checked: needs ${because}`); }

  /** Run ``step``; its return value is the check's result, a CheckError makes the check fail. */
  async run(name, step) {
    try {
      const [value, message] = await step();
      this.record(name, "ok", message);
      return value;
    } catch (error) {
      if (!(error instanceof CheckError)) throw error;
      this.record(name, "failed", error.message);
      return null;
    }
  }
}

async function runCheckpointChecks(v, key) {
  const following = ["checkpoint_signature", "tree_size", "inclusion_proof"];
  if (!key) { following.forEach((name) => v.skip(name, "log_key")); return null; }
  const checkpoint = await v.run("checkpoint_signature", async () => {
    const parsed = await parseAndVerify(v.bundle.checkpoint, key, null);
    return [parsed, `${parsed.origin} at tree size ${parsed.treeSize}, root ${bytesToHex(parsed.rootHash)}`];
  });
  if (!checkpoint) { following.slice(1).forEach((name) => v.skip(name, "checkpoint_signature")); return null; }
  const sized = await v.run("tree_size", async () => {
    const treeSize = BigInt(v.bundle.tree_size), leafIndex = BigInt(v.bundle.leaf_index);
    if (treeSize !== checkpoint.treeSize) throw new CheckError(`bundle says tree size ${treeSize}, its checkpoint ${checkpoint.treeSize}`);
    if (leafIndex >= treeSize) throw new CheckError(`leaf index ${leafIndex} is outside a tree of size ${treeSize}`);
    return [true, `leaf ${leafIndex} of ${treeSize}`];
  });
  if (!sized) { v.skip("inclusion_proof", "tree_size"); return checkpoint; }
  await v.run("inclusion_proof", async () => {
    const leaf = await leafHash(decodeBase64(v.bundle.entry));
    const proof = v.bundle.inclusion_proof.map(hexToBytes);
    const root = await rootFromInclusionProof(leaf, BigInt(v.bundle.leaf_index), checkpoint.treeSize, proof);
    if (!sameBytes(root, checkpoint.rootHash)) {
      throw new CheckError(`leaf ${bytesToHex(leaf)}: inclusion proof leads to root ${bytesToHex(root)}, but the tree head says ${bytesToHex(checkpoint.rootHash)}`);
    }
    return [true, `leaf ${bytesToHex(leaf)} is in the signed tree`];
  });
  return checkpoint;
}

async function runNewerCheckpoint(v, newer, key, checkpoint) {
  if (!key || !checkpoint) {
    v.skip("newer_checkpoint_signature", "checkpoint_signature");
    v.skip("consistency_proof", "checkpoint_signature");
    return;
  }
  const newerCheckpoint = await v.run("newer_checkpoint_signature", async () => {
    const parsed = await parseAndVerify(newer.checkpoint, key, checkpoint.origin);
    return [parsed, `${parsed.origin} at tree size ${parsed.treeSize}`];
  });
  if (!newerCheckpoint) { v.skip("consistency_proof", "newer_checkpoint_signature"); return; }
  await v.run("consistency_proof", async () => {
    await verifyConsistency(checkpoint.treeSize, newerCheckpoint.treeSize, checkpoint.rootHash,
      newerCheckpoint.rootHash, newer.consistency_proof.map(hexToBytes));
    return [true, `tree of size ${checkpoint.treeSize} is a prefix of the tree of size ${newerCheckpoint.treeSize}`];
  });
}

async function logKey(v) {
  return v.run("log_key", async () => {
    const key = await parseVerifierKey(v.bundle.log_key);
    const pinned = v.pinnedKey == null ? null : await parseVerifierKey(v.pinnedKey);
    if (pinned && (pinned.name !== key.name || !sameBytes(pinned.publicKey, key.publicKey))) {
      throw new CheckError(`bundle names log key ${key.name}+${bytesToHex(key.id)}, pinned is ${pinned.name}+${bytesToHex(pinned.id)}`);
    }
    const trust = pinned ? "matches the pinned key" : "taken from the bundle itself (pin it to trust it)";
    return [key, `${key.name}+${bytesToHex(key.id)}: ${trust}`];
  });
}

/**
 * Verify one bundle (its JSON text). ``pinnedKey`` is the log's verifier key from a trusted source.
 * Returns {ok, checks: [{name, status: "ok"|"failed"|"skipped", message}]}, like ledger.verify.
 */
export async function verifyBundle(bundleText, { pinnedKey = null } = {}) {
  let bundle;
  try { bundle = parseBundle(bundleText); } catch (error) {
    if (!(error instanceof CheckError)) throw error;
    return { ok: false, checks: [{ name: "bundle_format", status: "failed", message: error.message }] };
  }
  const v = new Verification(bundle, pinnedKey);
  v.record("bundle_format", "ok", BUNDLE_FORMAT);
  await v.run("entry_format", async () => {
    const entry = parseEntry(decodeBase64(bundle.entry));
    return [entry, `${entry.kind} of ${entry.subject} by org ${entry.org} at ${entry.recorded_at}`];
  });
  const key = await logKey(v);
  const checkpoint = await runCheckpointChecks(v, key);
  if (bundle.newer_checkpoint != null) await runNewerCheckpoint(v, bundle.newer_checkpoint, key, checkpoint);
  return { ok: v.checks.every((check) => check.status === "ok"), checks: v.checks };
}

/** True where this browser can run the checks (Web Crypto needs a secure context). */
export function canVerify() {
  return Boolean(globalThis.crypto && crypto.subtle);
}
