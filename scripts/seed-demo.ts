/**
 * For the Quick start only: delivers the sample shipment files into data/incoming/, as an upstream
 * system would, so the file-processor pipeline has something to pick up. Delivering them twice is
 * harmless: weir remembers each file's content hash and never processes the same file again.
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const from = join('data', 'samples', 'incoming');
const to = join('data', 'incoming');
await mkdir(to, { recursive: true });
const files = (await readdir(from)).filter((name) => name.endsWith('.csv'));
for (const name of files) await copyFile(join(from, name), join(to, name));
console.log(`delivered ${files.length} sample files to ${to}/`);
