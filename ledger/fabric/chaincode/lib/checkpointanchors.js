/*
 * CheckpointAnchors: anchors the signed checkpoints (c2sp.org/tlog-checkpoint) of Tradeloom's evidence
 * log on a channel that several organizations endorse, so no single party can later rewrite the log.
 *
 * State (composite keys):
 *   anchor  [origin, tree size padded to 20 digits]  one record per anchored checkpoint; the padding
 *                                                    makes the key order the numeric order of sizes
 *   latest  [origin]                                 the record with the largest tree size
 *
 * Every write reads "latest" first, so two concurrent anchors for one origin collide on Fabric's
 * MVCC check at commit and only one of them is valid: the monotonic rule holds across peers.
 */
'use strict';

const { Contract } = require('fabric-contract-api');

const ANCHOR = 'anchor';
const LATEST = 'latest';
const EVENT_NAME = 'CheckpointAnchored';
const HASH_SIZE = 32;
const MAX_TREE_SIZE = 2n ** 64n - 1n;
const SIZE_DIGITS = 20; // MAX_TREE_SIZE has 20 decimal digits
const MAX_ORIGIN_LENGTH = 256;
const MAX_NOTE_LENGTH = 16384;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Refusals carry a stable code before the colon, which reaches the client in the endorsement error. */
function refuse(code, message) {
    return new Error(`${code}: ${message}`);
}

function checkOrigin(origin) {
    if (typeof origin !== 'string' || origin.length === 0 || origin.length > MAX_ORIGIN_LENGTH) {
        throw refuse('invalid_argument', `origin must be 1 to ${MAX_ORIGIN_LENGTH} characters`);
    }
    // A checkpoint's origin is one line of a signed note, which allows no control characters.
    if (/[\u0000-\u001f\u007f]/.test(origin)) {
        throw refuse('invalid_argument', 'origin must not contain control characters');
    }
    return origin;
}

function parseTreeSize(treeSize) {
    if (typeof treeSize !== 'string' || !DECIMAL.test(treeSize) || BigInt(treeSize) > MAX_TREE_SIZE) {
        throw refuse('invalid_argument', `tree size must be a decimal uint64 without leading zeros, got ${JSON.stringify(treeSize)}`);
    }
    return BigInt(treeSize);
}

function checkRootHash(rootHashB64) {
    const root = Buffer.from(String(rootHashB64), 'base64');
    if (root.length !== HASH_SIZE || root.toString('base64') !== rootHashB64) {
        throw refuse('invalid_argument', `root hash must be ${HASH_SIZE} bytes in standard base64`);
    }
    return rootHashB64;
}

/** The note must be the signed checkpoint for exactly these fields (its signatures are checked off-chain). */
function checkNote(noteText, origin, treeSize, rootHashB64) {
    const body = `${origin}\n${treeSize}\n${rootHashB64}\n`;
    if (typeof noteText !== 'string' || noteText.length > MAX_NOTE_LENGTH) {
        throw refuse('invalid_argument', `note must be at most ${MAX_NOTE_LENGTH} characters`);
    }
    if (!noteText.startsWith(body) || !noteText.includes('\n\n\u2014 ')) {
        throw refuse('invalid_argument', 'note is not a signed checkpoint for this origin, tree size and root hash');
    }
    return noteText;
}

function anchorKey(ctx, origin, size) {
    return ctx.stub.createCompositeKey(ANCHOR, [origin, size.toString().padStart(SIZE_DIGITS, '0')]);
}

function latestKey(ctx, origin) {
    return ctx.stub.createCompositeKey(LATEST, [origin]);
}

async function readRecord(ctx, key) {
    const bytes = await ctx.stub.getState(key);
    return bytes && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : null;
}

class CheckpointAnchors extends Contract {
    constructor() {
        super('CheckpointAnchors');
    }

    /**
     * Anchor one signed checkpoint. Refuses a root that differs from the one already anchored at the
     * same size (history_conflict) and a size not larger than the latest anchored one (stale_tree_size).
     * Returns the stored record as JSON and emits the "CheckpointAnchored" chaincode event.
     */
    async AnchorCheckpoint(ctx, origin, treeSize, rootHashB64, noteText) {
        checkOrigin(origin);
        const size = parseTreeSize(treeSize);
        checkRootHash(rootHashB64);
        checkNote(noteText, origin, treeSize, rootHashB64);

        const existing = await readRecord(ctx, anchorKey(ctx, origin, size));
        if (existing && existing.rootHash !== rootHashB64) {
            throw refuse('history_conflict',
                `${origin} was anchored at size ${treeSize} with root ${existing.rootHash}, not ${rootHashB64}`);
        }
        const latest = await readRecord(ctx, latestKey(ctx, origin));
        if (latest && BigInt(latest.treeSize) >= size) {
            throw refuse('stale_tree_size',
                `${origin} is already anchored at size ${latest.treeSize}; size ${treeSize} is not larger`);
        }

        const record = {
            origin,
            treeSize,
            rootHash: rootHashB64,
            note: noteText,
            txId: ctx.stub.getTxID(),
            // The proposal's timestamp, identical on every endorser (a local clock would break endorsement).
            anchoredAt: ctx.stub.getDateTimestamp().toISOString(),
            anchoredBy: ctx.clientIdentity.getMSPID(),
        };
        const recordBytes = Buffer.from(JSON.stringify(record));
        await ctx.stub.putState(anchorKey(ctx, origin, size), recordBytes);
        await ctx.stub.putState(latestKey(ctx, origin), recordBytes);
        ctx.stub.setEvent(EVENT_NAME, Buffer.from(JSON.stringify({ origin, treeSize, rootHash: rootHashB64 })));
        return JSON.stringify(record);
    }

    /** The record anchored for (origin, treeSize) as JSON, or an empty result when there is none. */
    async GetAnchor(ctx, origin, treeSize) {
        checkOrigin(origin);
        const record = await readRecord(ctx, anchorKey(ctx, origin, parseTreeSize(treeSize)));
        return record ? JSON.stringify(record) : '';
    }

    /** The record with the largest anchored tree size for origin as JSON, or an empty result. */
    async GetLatest(ctx, origin) {
        checkOrigin(origin);
        const record = await readRecord(ctx, latestKey(ctx, origin));
        return record ? JSON.stringify(record) : '';
    }

    /** Every record anchored for origin, smallest tree size first, as a JSON array (a range query). */
    async GetHistory(ctx, origin) {
        checkOrigin(origin);
        const records = [];
        for await (const { value } of ctx.stub.getStateByPartialCompositeKey(ANCHOR, [origin])) {
            records.push(JSON.parse(Buffer.from(value).toString('utf8')));
        }
        return JSON.stringify(records);
    }
}

module.exports = CheckpointAnchors;
