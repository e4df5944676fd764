/*
 * Entry point for the Fabric Node chaincode runtime (fabric-chaincode-node start | server).
 * The first contract listed is the default one, so clients call plain function names
 * ("AnchorCheckpoint") as well as qualified ones ("CheckpointAnchors:AnchorCheckpoint").
 */
'use strict';

const CheckpointAnchors = require('./lib/checkpointanchors');

module.exports.CheckpointAnchors = CheckpointAnchors;
module.exports.contracts = [CheckpointAnchors];
