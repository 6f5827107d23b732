/**
 * Which virus scanner the files context uses, from configuration (docs/files-scanning.md):
 * the clamd adapter when `CLAMD_URL` is set, none otherwise (the embedded default; with
 * `FILES_SCAN_REQUIRED=true` the configuration already refused to start without `CLAMD_URL`).
 */
import type { Config } from '../../config/index.js';
import { createClamdScanner, type ClamdAddress } from './clamd-scanner.js';
import type { VirusScanner } from './scanner-port.js';

export { ScanTooLarge, ScannerUnavailable, type ScannerUnavailableCode } from './clamd-scanner.js';

export type ScannerConfig = Pick<Config, 'CLAMD_URL' | 'CLAMD_TIMEOUT_MS' | 'CLAMD_MAX_STREAM_BYTES'>;

/** `tcp://host:port` or `unix:///path` (the shapes the configuration accepts) as an address. */
export function parseClamdUrl(url: string): ClamdAddress {
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:' && parsed.host === '' && parsed.pathname.length > 1)
    return { socketPath: decodeURIComponent(parsed.pathname) };
  const port = Number(parsed.port);
  if (parsed.protocol === 'tcp:' && parsed.hostname !== '' && Number.isInteger(port) && port > 0)
    return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  throw new Error(`not a clamd address: ${url} (expected tcp://host:port or unix:///path)`);
}

export function createVirusScanner(config: ScannerConfig): VirusScanner | undefined {
  if (config.CLAMD_URL === undefined) return undefined;
  return createClamdScanner(parseClamdUrl(config.CLAMD_URL), {
    timeoutMs: config.CLAMD_TIMEOUT_MS,
    maxStreamBytes: config.CLAMD_MAX_STREAM_BYTES,
  });
}
