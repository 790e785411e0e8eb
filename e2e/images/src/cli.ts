#!/usr/bin/env node
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { USAGE, parseCli } from './args.js';
import { exportImage, imageSize } from './buildah.js';
import { imagesCacheDir } from './cache.js';
import { ImagesError } from './errors.js';
import { pushImage } from './push.js';
import { buildAll } from './summary.js';

// Exit codes: 0 done, 1 a build or command failed, 2 usage.
async function main(): Promise<number> {
  const c = parseCli(process.argv.slice(2));
  switch (c.cmd) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'size':
      process.stdout.write(`${await imageSize(c.image)}\n`);
      return 0;
    case 'export':
      await exportImage(c.image, c.file, c.format);
      return 0;
    case 'push':
      process.stdout.write(`${await pushImage(c.image, c.registry)}\n`);
      return 0;
    case 'build': {
      // Build output (debootstrap, npm, node-gyp) is long: it goes to a file, stdout
      // keeps the JSON summary alone, stderr says where the log is.
      mkdirSync(imagesCacheDir(), { recursive: true });
      const logPath = join(imagesCacheDir(), 'last-build.log');
      const log = createWriteStream(logPath);
      process.stderr.write(`images: building ${c.only.join(', ')}; log in ${logPath}\n`);
      try {
        const summary = await buildAll({ tag: c.tag, only: c.only, caFile: c.caFile, context: c.context, log: (chunk) => log.write(chunk) });
        process.stdout.write(`${JSON.stringify({ ...summary, log: logPath }, null, 2)}\n`);
      } finally {
        await new Promise((r) => log.end(r));
      }
      return 0;
    }
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`images: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof ImagesError && err.code === 'Usage' ? 2 : 1;
  },
);
