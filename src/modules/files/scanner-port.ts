/**
 * The virus-scanning port (spec §3.3, issue #18). The files context asks it about every upload
 * before the file is usable; an adapter speaks ClamAV's `clamd` protocol (`clamd-scanner.ts`). With no
 * scanner configured, files are stored as `clean` without a scan (the embedded default).
 */
export type ScanVerdict = { clean: true } | { clean: false; signature: string };

export interface VirusScanner {
  /** Shown in readiness and logs (e.g. `clamd`). */
  readonly name: string;
  /** Scans the bytes; throws when the scanner cannot be reached (the upload is then refused, 503). */
  scan(body: Buffer): Promise<ScanVerdict>;
  /** Throws when the scanner cannot be reached (readiness). */
  check(): Promise<void>;
}
