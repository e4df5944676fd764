'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { beforeEach, describe, it } = require('node:test');

const { contracts, CheckpointAnchors } = require('../index.js');
const { MemoryLedger } = require('./stub.js');

const ORIGIN = 'tradeloom.example/evidence';

function rootHash(label) {
    return crypto.createHash('sha256').update(label).digest('base64');
}

function signedNote(origin, treeSize, root) {
    const signature = Buffer.alloc(68, 7).toString('base64'); // the chaincode does not verify it
    return `${origin}\n${treeSize}\n${root}\n\n\u2014 tradeloom-log ${signature}\n`;
}

describe('CheckpointAnchors', () => {
    let ledger;
    let contract;

    const anchor = (treeSize, root, origin = ORIGIN, options = {}) =>
        ledger.invoke(contract, 'AnchorCheckpoint', [origin, treeSize, root, signedNote(origin, treeSize, root)], options);

    beforeEach(() => {
        ledger = new MemoryLedger();
        contract = new CheckpointAnchors();
    });

    it('is the default contract of the chaincode', () => {
        assert.deepEqual(contracts, [CheckpointAnchors]);
        assert.equal(contract.getName(), 'CheckpointAnchors');
    });

    describe('AnchorCheckpoint', () => {
        it('stores the anchor, returns it and emits CheckpointAnchored', async () => {
            // given
            const root = rootHash('ten');
            // when
            const result = JSON.parse(await anchor('10', root, ORIGIN, { mspId: 'SupplierMSP' }));
            // then
            assert.deepEqual(result, {
                origin: ORIGIN,
                treeSize: '10',
                rootHash: root,
                note: signedNote(ORIGIN, '10', root),
                txId: result.txId,
                anchoredAt: '2026-01-02T03:04:06.000Z',
                anchoredBy: 'SupplierMSP',
            });
            assert.match(result.txId, /^[0-9a-f]{64}$/);
            assert.deepEqual(JSON.parse(await ledger.invoke(contract, 'GetAnchor', [ORIGIN, '10'])), result);
            assert.equal(ledger.events.length, 1);
            assert.equal(ledger.events[0].name, 'CheckpointAnchored');
            assert.equal(ledger.events[0].txId, result.txId);
            assert.deepEqual(JSON.parse(ledger.events[0].payload.toString()), { origin: ORIGIN, treeSize: '10', rootHash: root });
        });

        it('accepts a larger tree size and moves the latest anchor', async () => {
            await anchor('10', rootHash('ten'));
            await anchor('25', rootHash('twenty-five'));
            const latest = JSON.parse(await ledger.invoke(contract, 'GetLatest', [ORIGIN]));
            assert.equal(latest.treeSize, '25');
            assert.equal(latest.rootHash, rootHash('twenty-five'));
        });

        it('refuses a tree size not larger than the latest anchored one', async () => {
            await anchor('25', rootHash('twenty-five'));
            await assert.rejects(anchor('24', rootHash('twenty-four')), /^Error: stale_tree_size: .* already anchored at size 25/);
            await assert.rejects(anchor('25', rootHash('twenty-five')), /^Error: stale_tree_size:/);
            assert.equal(await ledger.invoke(contract, 'GetAnchor', [ORIGIN, '24']), '');
            assert.equal(ledger.events.length, 1);
        });

        it('refuses a different root at an already anchored size as a history conflict', async () => {
            await anchor('10', rootHash('ten'));
            await anchor('20', rootHash('twenty'));
            await assert.rejects(anchor('10', rootHash('forged')), /^Error: history_conflict: .* at size 10 with root /);
            assert.equal(JSON.parse(await ledger.invoke(contract, 'GetAnchor', [ORIGIN, '10'])).rootHash, rootHash('ten'));
        });

        it('keeps origins apart', async () => {
            await anchor('10', rootHash('ten'));
            await anchor('3', rootHash('three'), `${ORIGIN}-other`);
            assert.equal(JSON.parse(await ledger.invoke(contract, 'GetLatest', [ORIGIN])).treeSize, '10');
        });

        for (const [name, args] of [
            ['an empty origin', ['', '1', rootHash('x')]],
            ['an origin with a newline', ['a\nb', '1', rootHash('x')]],
            ['a tree size with a leading zero', [ORIGIN, '01', rootHash('x')]],
            ['a negative tree size', [ORIGIN, '-1', rootHash('x')]],
            ['a tree size above uint64', [ORIGIN, '18446744073709551616', rootHash('x')]],
            ['a root hash of the wrong length', [ORIGIN, '1', Buffer.alloc(31).toString('base64')]],
            ['a root hash in URL-safe base64', [ORIGIN, '1', Buffer.alloc(32, 0xfb).toString('base64url')]],
        ]) {
            it(`refuses ${name}`, async () => {
                const [origin, treeSize, root] = args;
                await assert.rejects(
                    ledger.invoke(contract, 'AnchorCheckpoint', [origin, treeSize, root, signedNote(origin, treeSize, root)]),
                    /^Error: invalid_argument:/,
                );
                assert.equal(ledger.state.size, 0);
            });
        }

        it('refuses a note that is not the signed checkpoint for the given fields', async () => {
            const root = rootHash('ten');
            for (const note of [signedNote(ORIGIN, '11', root), `${ORIGIN}\n10\n${root}\n`]) {
                await assert.rejects(
                    ledger.invoke(contract, 'AnchorCheckpoint', [ORIGIN, '10', root, note]),
                    /^Error: invalid_argument: note is not a signed checkpoint/,
                );
            }
        });

        it('accepts the largest uint64 tree size', async () => {
            await anchor('18446744073709551615', rootHash('max'));
            assert.equal(JSON.parse(await ledger.invoke(contract, 'GetLatest', [ORIGIN])).treeSize, '18446744073709551615');
        });
    });

    describe('queries', () => {
        it('GetAnchor and GetLatest return an empty result when nothing is anchored', async () => {
            assert.equal(await ledger.invoke(contract, 'GetAnchor', [ORIGIN, '10']), '');
            assert.equal(await ledger.invoke(contract, 'GetLatest', [ORIGIN]), '');
            assert.equal(await ledger.invoke(contract, 'GetHistory', [ORIGIN]), '[]');
        });

        it('GetHistory lists one origin in numeric order of tree size', async () => {
            for (const size of ['9', '10', '100', '1000']) {
                await anchor(size, rootHash(size));
            }
            await anchor('50', rootHash('other'), `${ORIGIN}2`);
            const history = JSON.parse(await ledger.invoke(contract, 'GetHistory', [ORIGIN]));
            assert.deepEqual(history.map((record) => record.treeSize), ['9', '10', '100', '1000']);
            assert.deepEqual(history.map((record) => record.rootHash), ['9', '10', '100', '1000'].map(rootHash));
        });
    });
});
