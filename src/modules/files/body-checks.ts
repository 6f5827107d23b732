import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { createWorkBound } from './bound.js';
import { filesErrors } from './errors.js';
import { renderPhoto, renderWhole, type EncodedImage } from './images.js';
import { checkPdf, detectType, refuseImagePolyglot, type ImageMime } from './inspect.js';
import type { FilesActor, FilesAudit } from './ports.js';
import type { PurposeRule } from './purposes.js';
import type { VirusScanner } from './scanner-port.js';
import { ScanTooLarge } from './scanners.js';
import type { Purpose, Rendition } from './tables.js';

/**
 * Decoding and encoding is CPU and memory (a 12 MP photo is tens of MB decoded): at most this many
 * at once per instance (two cores), and at most this many more waiting; beyond, 503 with
 * Retry-After rather than a queue that grows with the load.
 */
export const MAX_CONCURRENT_ENCODES = 2;
export const MAX_WAITING_ENCODES = 8;

/** A rendition's bytes before they are stored. */
export type StoredBody = {
  name: Rendition['name'];
  format: Rendition['format'];
  width: number | null;
  height: number | null;
  body: Buffer;
};

/**
 * What an upload's bytes go through before anything is stored: the virus scan (when a scanner is
 * configured; an infected file is audited and refused) and the type check and re-encoding (its
 * real type from the bytes, polyglots refused, images re-encoded into renditions), bounded.
 */
export function createBodyChecks(deps: {
  scanner?: VirusScanner;
  audit: FilesAudit;
  config: Pick<Config, 'FILES_MAX_IMAGE_PIXELS'>;
  logger: Logger;
}) {
  const { config } = deps;
  const bounded = createWorkBound(MAX_CONCURRENT_ENCODES, MAX_WAITING_ENCODES, () =>
    filesErrors.unavailable('Too many uploads are being processed; retry shortly.', 5),
  );

  async function encode(
    body: Buffer,
    rule: PurposeRule,
  ): Promise<{ contentType: string; renditions: StoredBody[] }> {
    const { mime } = await detectType(body, rule.allowed);
    if (mime === 'application/pdf') {
      checkPdf(body);
      return {
        contentType: mime,
        renditions: [{ name: 'original', format: 'pdf', width: null, height: null, body }],
      };
    }
    refuseImagePolyglot(body, mime);
    const maxPixels = config.FILES_MAX_IMAGE_PIXELS;
    const encoded: EncodedImage[] =
      rule.render === 'photo'
        ? await renderPhoto(body, mime as ImageMime, maxPixels)
        : await renderWhole(body, mime as ImageMime, maxPixels, rule.render === 'signature' ? 'png' : 'jpeg');
    return { contentType: mime, renditions: encoded };
  }

  async function scan(
    caller: { userId: string; actor: FilesActor },
    purpose: Purpose,
    body: Buffer,
  ): Promise<string | null> {
    if (deps.scanner === undefined) return null;
    let verdict;
    try {
      verdict = await deps.scanner.scan(body);
    } catch (error) {
      // Too large to scan: no retry can succeed (align the limits, docs/files-scanning.md).
      if (error instanceof ScanTooLarge)
        throw filesErrors.of(
          'too_large',
          'file_too_large',
          'The file is larger than the virus scanner takes.',
          {
            details: { maxBytes: error.maxStreamBytes ?? null },
          },
        );
      deps.logger.error({ err: error, scanner: deps.scanner.name }, 'virus scanner unavailable');
      throw filesErrors.unavailable('The virus scanner cannot answer now; retry shortly.', 30);
    }
    if (!verdict.clean) {
      // The signature goes to the log and the audit log, not to the client.
      deps.logger.warn(
        { scanner: deps.scanner.name, found: verdict.signature, purpose },
        'upload refused: infected',
      );
      await deps.audit({
        action: 'file.refused_infected',
        actor: caller.actor,
        subjectUserId: caller.userId,
        resource: `files:${purpose}`,
        newValue: { scanner: deps.scanner.name, found: verdict.signature },
      });
      throw filesErrors.of('unprocessable', 'file_infected', 'The virus scanner refused the file.');
    }
    return deps.scanner.name;
  }

  return { scan, encode: (body: Buffer, rule: PurposeRule) => bounded(() => encode(body, rule)) };
}
