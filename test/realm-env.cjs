// Jest runs each test file in its own realm; onnxruntime-node returns typed arrays from the main
// realm, so `new Tensor(...)` inside a test fails unless the test realm shares these constructors.
const { TestEnvironment } = require('jest-environment-node');

module.exports = class RealmSharingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array',
      'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array',
      'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer']) this.global[name] = globalThis[name];
  }
};
