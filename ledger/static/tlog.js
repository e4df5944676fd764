// Transparency-log primitives for the browser verifier, with Web Crypto only: bytes and base64, RFC 9162
// Merkle inclusion and consistency proofs, and C2SP signed notes carrying checkpoints (Ed25519 keys).
// Each function mirrors its namesake in ledger/merkle.py or ledger/checkpoint.py and throws CheckError
// with a message precise enough to act on.

const SIGNATURE_PREFIX = "\u2014 ";
const MAX_SIGNATURES = 100;
const MAX_TREE_SIZE = 2n ** 64n - 1n;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class CheckError extends Error {}

// ---- bytes -------------------------------------------------------------------------------------------------

/** Strict standard base64 (padding required, no whitespace), like base64.b64decode(validate=True). */
export function decodeBase64(text) {
  if (typeof text !== "string" || !BASE64.test(text)) throw new CheckError("not standard base64");
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

export function encodeBase64(bytes) {
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

export function hexToBytes(hex) {
  return Uint8Array.from(hex.match(/../g) || [], (pair) => parseInt(pair, 16));
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function sameBytes(a, b) {
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

export const utf8 = new TextEncoder();

// ---- RFC 9162 Merkle proofs ------------------------------------------------------------------------------

export const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

function checkHash(value, what) {
  if (value.length !== 32) throw new CheckError(`${what} is ${value.length} bytes, expected 32`);
}

/** RFC 9162 §2.1.3.2: the root the proof implies for the leaf (BigInt sizes: logs may pass 2**53). */
export async function rootFromInclusionProof(leaf, leafIndex, treeSize, proof) {
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
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
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
export async function parseVerifierKey(text) {
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

export async function parseAndVerify(note, key, expectedOrigin) {
  const checkpoint = parseCheckpointBody(await openNote(note, key));
  if (expectedOrigin !== null && checkpoint.origin !== expectedOrigin) {
    throw new CheckError(`checkpoint is for log ${checkpoint.origin}, expected ${expectedOrigin}`);
  }
  return checkpoint;
}
