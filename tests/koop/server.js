// Koop (Esri's open-source GeoServices server) with the file-GeoJSON provider, for the tests.
// Usage: node server.js DATA_DIR   Serves DATA_DIR/*.geojson on 127.0.0.1 at a free port and
// prints "listening PORT" on stdout once it accepts requests.
'use strict';
const path = require('path');
const Koop = require('@koopjs/koop-core');
const provider = require('@koopjs/provider-file-geojson');

const dataDir = path.relative(process.cwd(), path.resolve(process.argv[2] || 'data')) || '.';
const koop = new Koop({ logLevel: 'error', disableCompression: false });
koop.register(provider, { dataDir });
const server = koop.server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
