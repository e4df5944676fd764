/*
 * A small in-memory stand-in for the peer side of a chaincode transaction (ChaincodeStub and Context),
 * with the semantics the contract relies on: reads see committed state only, writes and the event are
 * kept by the transaction and applied only if the function succeeds (as an endorsed, valid transaction
 * would be), range reads come back in the state database's byte order of keys.
 */
'use strict';

const crypto = require('node:crypto');

const NS = '\u0000';
const MAX_RUNE = '\u{10ffff}';

class MemoryLedger {
    constructor() {
        this.state = new Map();
        this.events = [];
        this.clock = Date.parse('2026-01-02T03:04:05.000Z');
    }

    /** Run one transaction function as `mspId`; commit its writes and event only when it resolves. */
    async invoke(contract, fn, args, { mspId = 'Org1MSP' } = {}) {
        this.clock += 1000;
        const stub = new TransactionStub(this.state, new Date(this.clock));
        const ctx = { stub, clientIdentity: { getMSPID: () => mspId } };
        const result = await contract[fn](ctx, ...args);
        for (const [key, value] of stub.writes) {
            this.state.set(key, value);
        }
        if (stub.event) {
            this.events.push({ ...stub.event, txId: stub.getTxID() });
        }
        return result;
    }
}

class TransactionStub {
    constructor(state, timestamp) {
        this.state = state;
        this.timestamp = timestamp;
        this.txId = crypto.randomBytes(32).toString('hex');
        this.writes = new Map();
        this.event = null;
    }

    getTxID() {
        return this.txId;
    }

    getDateTimestamp() {
        return this.timestamp;
    }

    async getState(key) {
        return this.state.get(key) ?? Buffer.alloc(0);
    }

    async putState(key, value) {
        this.writes.set(key, Buffer.from(value));
    }

    setEvent(name, payload) {
        this.event = { name, payload: Buffer.from(payload) };
    }

    createCompositeKey(objectType, attributes) {
        return NS + [objectType, ...attributes].map((part) => `${part}${NS}`).join('');
    }

    getStateByPartialCompositeKey(objectType, attributes) {
        const start = Buffer.from(this.createCompositeKey(objectType, attributes));
        const end = Buffer.concat([start, Buffer.from(MAX_RUNE)]);
        const keys = [...this.state.keys()]
            .filter((key) => Buffer.compare(Buffer.from(key), start) >= 0 && Buffer.compare(Buffer.from(key), end) < 0)
            .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const state = this.state;
        return (async function* rangeResults() {
            for (const key of keys) {
                yield { key, value: state.get(key) };
            }
        })();
    }
}

module.exports = { MemoryLedger };
