// `npm run build` compiles TypeScript only; the files code reads at run time (the common-password
// list, the tracking page) are copied beside the compiled modules so dist/ runs on its own.
import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = ['src', 'ledger', 'projections', 'ml'];
const assetPattern = /\.(txt|html|css|js|json|onnx)$/;

function copy(directory) {
  for (const name of readdirSync(directory)) {
    const source = path.join(directory, name);
    if (statSync(source).isDirectory()) copy(source);
    else if (assetPattern.test(name) && !name.endsWith('.test.js')) cpSync(source, path.join('dist', source));
  }
}
for (const root of roots) copy(root);
