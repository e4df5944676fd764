// In-browser verifier of Tradeloom evidence bundles (tradeloom-evidence-bundle/v1), with Web Crypto only.
//
// It runs the same named checks as ledger/verify.py, in the same order and with the same ok / failed /
// skipped outcomes: bundle format, entry format (RFC 8785 canonical entry), log key (and the pinned key),
// the checkpoint's Ed25519 signature (C2SP signed note), tree size, the RFC 9162 inclusion proof and,
// when the bundle carries one, a newer checkpoint with its consistency proof. Messages are for people;
// the check names and statuses are the contract (tests/ledger/test_verify_js.py compares them).

const BUNDLE_FORMAT = "tradeloom-evidence-bundle/v1";
const BUNDLE_FIELDS = new Set(["format", "entry", "leaf_index", "tree_size", "inclusion_proof", "checkpoint",
  "log_key", "file_salt", "newer_checkpoint", "anchor"]);
const REQUIRED_FIELDS = ["entry", "leaf_index", "tree_size", "inclusion_proof", "checkpoint", "log_key"];
const ENTRY_FIELDS = ["kind", "subject", "org", "recorded_at"];
const SIGNATURE_PREFIX = "\u2014 ";
const MAX_SIGNATURES = 100;
const MAX_TREE_SIZE = 2n ** 64n - 1n;
const HEX_HASH = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RECORDED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

export const CHECKS = ["bundle_format", "entry_format", "log_key", "checkpoint_signature", "tree_size",
  "inclusion_proof", "newer_checkpoint_signature", "consistency_proof"];

class CheckError extends Error {}

// ---- bytes -------------------------------------------------------------------------------------------------

/** Strict standard base64 (padding required, no whitespace), like base64.b64decode(validate=True). */
function decodeBase64(text) {
  if (typeof text !== "string" || !BASE64.test(text)) throw new CheckError("not standard base64");
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

function encodeBase64(bytes) {
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

function hexToBytes(hex) {
  return Uint8Array.from(hex.match(/../g) || [], (pair) => parseInt(pair, 16));
}

function bytesToHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const utf8 = new TextEncoder();

// ---- RFC 9162 Merkle proofs ------------------------------------------------------------------------------

const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

function checkHash(value, what) {
  if (value.length !== 32) throw new CheckError(`${what} is ${value.length} bytes, expected 32`);
}

/** RFC 9162 §2.1.3.2: the root the proof implies for the leaf (BigInt sizes: logs may pass 2**53). */
async function rootFromInclusionProof(leaf, leafIndex, treeSize, proof) {
  if (leafIndex < 0n || leafIndex >= treeSize) {
    throw new CheckError(`leaf index ${leafIndex} is outside a tree of size ${treeSize}`);
  }
  let fn = leafIndex, sn = treeSize - 1n, result = leaf;
  for (const [position, sibling] of proof.entries()) {
    checkHash(sibling, `inclusion proof element ${position}`);
    if (sn === 0n) throw new CheckError(`inclusion proof is too long: ${proof.length} elements`);
    if ((fn & 1n) === 1n || fn === sn) {
      result = await nodeHash(sibling, result);
      while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      result = await nodeHash(result, sibling);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new CheckError(`inclusion proof is too short: ${proof.length} elements`);
  return result;
}

const EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function checkTrivialConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (proof.length) throw new CheckError(`consistency proof from size ${oldSize} to ${newSize} must be empty`);
  if (oldSize === 0n && bytesToHex(oldRoot) !== EMPTY_ROOT_HEX) {
    throw new CheckError("a tree of size 0 must have the empty root");
  }
  if (oldSize === newSize && !sameBytes(oldRoot, newRoot)) {
    throw new CheckError(`two tree heads of size ${oldSize} have different roots`);
  }
}

/** RFC 9162 §2.1.4.2: throws unless the old tree is a prefix of the new one. */
async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (oldSize < 0n || oldSize > newSize) throw new CheckError(`tree size went from ${oldSize} to ${newSize}`);
  if (oldSize === 0n || oldSize === newSize) { checkTrivialConsistency(oldSize, newSize, oldRoot, newRoot, proof); return; }
  if (!proof.length) throw new CheckError(`consistency proof from size ${oldSize} to ${newSize} is empty`);
  proof.forEach((element, position) => checkHash(element, `consistency proof element ${position}`));
  const path = (oldSize & (oldSize - 1n)) === 0n ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1n, sn = newSize - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let oldResult = path[0], newResult = path[0];
  for (const element of path.slice(1)) {
    if (sn === 0n) throw new CheckError(`consistency proof is too long: ${proof.length} elements`);
    if ((fn & 1n) === 1n || fn === sn) {
      oldResult = await nodeHash(element, oldResult);
      newResult = await nodeHash(element, newResult);
      while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      newResult = await nodeHash(newResult, element);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new CheckError(`consistency proof is too short: ${proof.length} elements`);
  if (!sameBytes(oldResult, oldRoot)) throw new CheckError("consistency proof does not lead to the old root");
  if (!sameBytes(newResult, newRoot)) throw new CheckError("consistency proof does not lead to the new root");
}

// ---- C2SP signed notes and checkpoints -------------------------------------------------------------------

const isKeyName = (name) => name.length > 0 && !name.includes("+") && !/\s/u.test(name);

async function keyId(name, publicKey) {
  return (await sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(1), publicKey))).slice(0, 4);
}

/** ``<name>+<hex key id>+<base64(0x01 || key)>`` → {name, id, publicKey}. */
async function parseVerifierKey(text) {
  const trimmed = text.trim();
  const first = trimmed.indexOf("+"), second = trimmed.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new CheckError("expected <name>+<hex key id>+<base64 key>");
  const name = trimmed.slice(0, first), idHex = trimmed.slice(first + 1, second);
  if (!isKeyName(name)) throw new CheckError(`invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new CheckError(`key id must be 8 lowercase hex digits`);
  const typed = decodeBase64(trimmed.slice(second + 1));
  if (typed[0] !== 1) throw new CheckError("only Ed25519 keys (signature type 0x01) are supported");
  if (typed.length !== 33) throw new CheckError(`an Ed25519 key is 32 bytes, got ${typed.length - 1}`);
  const publicKey = typed.slice(1), id = await keyId(name, publicKey);
  if (bytesToHex(id) !== idHex) throw new CheckError(`key id ${idHex} does not match the key`);
  return { name, id, publicKey };
}

function checkNoteCharacters(text) {
  for (const char of text) {
    if (char < " " && char !== "\n") throw new CheckError(`control character ${char.charCodeAt(0)} is not allowed`);
  }
}

function parseSignatureLine(line) {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new CheckError("signature line must start with '\u2014 '");
  const rest = line.slice(SIGNATURE_PREFIX.length), space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  let raw = new Uint8Array(0);
  try { raw = decodeBase64(space < 0 ? "" : rest.slice(space + 1)); } catch { /* judged below */ }
  if (!isKeyName(name) || raw.length < 5) throw new CheckError(`malformed signature line ${JSON.stringify(line)}`);
  return { name, id: raw.slice(0, 4), signature: raw.slice(4) };
}

function splitNote(note) {
  checkNoteCharacters(note);
  const splitAt = note.lastIndexOf("\n\n");
  if (splitAt < 0 || !note.endsWith("\n")) throw new CheckError("no signature block after a blank line");
  const text = note.slice(0, splitAt + 1), block = note.slice(splitAt + 2);
  const lines = block.replace(/\n$/, "").split("\n");
  if (!block || lines.length > MAX_SIGNATURES) throw new CheckError(`a note needs 1 to ${MAX_SIGNATURES} signature lines`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

async function ed25519Verify(publicKey, signature, message) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/** The note's text if the key signed it; a signature claiming the key that fails rejects the note. */
async function openNote(note, key) {
  const { text, signatures } = splitNote(note);
  const own = signatures.filter((s) => s.name === key.name && sameBytes(s.id, key.id));
  if (!own.length) throw new CheckError(`not signed by ${key.name}+${bytesToHex(key.id)}`);
  for (const signature of own) {
    if (!(await ed25519Verify(key.publicKey, signature.signature, utf8.encode(text)))) {
      throw new CheckError(`signature by ${key.name}+${bytesToHex(key.id)} does not match the note text`);
    }
  }
  return text;
}

function parseCheckpointBody(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  if (!text.endsWith("\n") || lines.length < 3) throw new CheckError("a checkpoint needs origin, tree size and root hash lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (!origin) throw new CheckError("origin line is empty");
  if (extensions.includes("")) throw new CheckError("extension lines must not be empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || BigInt(sizeLine) > MAX_TREE_SIZE) {
    throw new CheckError(`tree size must be a decimal number without leading zeros`);
  }
  let root;
  try { root = decodeBase64(rootLine); } catch { throw new CheckError("root hash is not base64"); }
  if (root.length !== 32 || encodeBase64(root) !== rootLine) throw new CheckError("root hash must be 32 bytes in standard base64");
  return { origin, treeSize: BigInt(sizeLine), rootHash: root };
}

async function parseAndVerify(note, key, expectedOrigin) {
  const checkpoint = parseCheckpointBody(await openNote(note, key));
  if (expectedOrigin !== null && checkpoint.origin !== expectedOrigin) {
    throw new CheckError(`checkpoint is for log ${checkpoint.origin}, expected ${expectedOrigin}`);
  }
  return checkpoint;
}

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
