/**
 * The files routes: multipart upload, metadata with signed URLs, public renditions and the disk
 * store's signed blob route. @fastify/multipart is registered here, inside the files plugin
 * only; its limits come from configuration. The file's name and Content-Type are never read:
 * the type comes from the bytes and the key from the file id.
 */
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { BLOB_ROUTE_PREFIX, type DiskFileStore } from './disk-store.js';
import { largestUpload } from './purposes.js';
import {
  PUBLIC_MAX_AGE_SECONDS,
  type FileView,
  type FilesCaller,
  type FilesService,
  type UploadInput,
} from './service.js';
import { DOCUMENT_KINDS, PURPOSES } from './tables.js';

/** A form has the purpose and at most three subject fields; a little room, no more. */
const MAX_FIELDS = 6;
const MAX_FIELD_BYTES = 200;
const MAX_FIELD_NAME_BYTES = 40;
const tags = ['files'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  413: ProblemSchema,
  415: ProblemSchema,
  422: ProblemSchema,
};

const Rendition = Type.Object({
  name: Type.String({ description: 'small, medium, large or original' }),
  format: Type.String({ description: 'webp, jpeg, png or pdf' }),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  byteSize: Type.Integer(),
  url: Type.String({
    description: 'A public path under the API (photos), or a signed URL that expires at `urlsExpireAt`',
  }),
});
const FileResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  purpose: Type.String({ description: PURPOSES.join(', ') }),
  status: Type.String({ description: 'clean (usable), pending_scan or infected' }),
  contentType: Type.String({ description: 'The type of the upload, from its bytes' }),
  byteSize: Type.Integer({ description: 'The size of the upload' }),
  createdAt: Type.String({ format: 'date-time' }),
  restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
  itemId: Type.Optional(Type.String({ format: 'uuid' })),
  orderId: Type.Optional(Type.String({ format: 'uuid' })),
  documentKind: Type.Optional(Type.String({ description: DOCUMENT_KINDS.join(', ') })),
  renditions: Type.Array(Rendition),
  urlsExpireAt: Type.Optional(Type.String({ format: 'date-time' })),
});
const FileParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

const UPLOADER: RouteAccess = {
  permissions: [
    'RESTAURANT_MANAGEMENT',
    'MENU_CRUD',
    'ORDER_ACCEPTANCE',
    'ORDER_PROCESSING',
    'PROFILE_MANAGEMENT',
    'TICKET_MANAGEMENT',
  ],
  ownership:
    'photos: the owner of the restaurant (or an admin); driver documents: the driver, or a customer applying to drive, themselves; delivery proofs: the driver of the order; packed-order photos: the owner of its restaurant; support attachments: anyone signed in, for themselves',
};
const READER: RouteAccess = {
  public: true,
  description:
    'photos: anyone; driver documents: that driver and admins; order proofs: the order’s customer, driver and restaurant owner, support and admins; support attachments: their uploader, support and admins; others get 404',
};

/** What the files routes get: their own service, the runtime and the disk store's verifier. */
export interface FilesRouteServices {
  files: FilesService;
  runtime: Runtime;
  /** Set when the store is the local disk: its signed URLs point at the blob route. */
  diskStore?: DiskFileStore;
}

function callerOf(request: FastifyRequest): FilesCaller | undefined {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user') return undefined;
  return {
    userId: principal.userId,
    permissions: principal.permissions,
    roles: principal.roles,
    actor: {
      kind: 'user',
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(text: string): void {
  if (text.includes('\u0000') || LONE_SURROGATE.test(text))
    throw new HttpProblem(
      400,
      'invalid_characters',
      'A form field holds a NUL character or a lone UTF-16 surrogate.',
    );
}

/** Multipart's own refusals, as problems naming what to change. */
function multipartProblem(error: unknown, maxBytes: number): HttpProblem | undefined {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE')
    return new HttpProblem(413, 'file_too_large', `The file is larger than ${maxBytes} bytes.`, {
      extensions: { maxBytes },
    });
  if (code === 'FST_FILES_LIMIT')
    return new HttpProblem(400, 'too_many_files', 'One upload carries one file.');
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
    return new HttpProblem(400, 'too_many_fields', 'The form has more fields than an upload takes.');
  if (code === 'FST_PROTO_VIOLATION')
    return new HttpProblem(400, 'field_unknown', 'A field name is not allowed.');
  const message = error instanceof Error ? error.message : '';
  if (
    code === 'FST_MP_PREMATURE_CLOSE' ||
    /multipart|boundary|unexpected end of form|malformed/i.test(message)
  )
    return new HttpProblem(400, 'multipart_malformed', 'The multipart body cannot be read.');
  return undefined;
}

/** Reads the form: every field, and the one part named `file` into memory (bounded by the limits). */
async function readForm(request: FastifyRequest, maxBytes: number): Promise<UploadInput> {
  if (!request.isMultipart())
    throw new HttpProblem(415, 'multipart_required', 'Send the upload as multipart/form-data.');
  const fields: Record<string, string> = {};
  let file: UploadInput['file'];
  try {
    for await (const part of request.parts()) {
      checkText(part.fieldname);
      if (part.type === 'file') {
        if (part.fieldname !== 'file')
          throw new HttpProblem(400, 'field_unknown', 'The file goes in a part named `file`.', {
            extensions: { field: part.fieldname.slice(0, 40) },
          });
        file = { body: await part.toBuffer() };
        continue;
      }
      if (part.fieldnameTruncated || part.valueTruncated)
        throw new HttpProblem(400, 'field_too_long', `A field is longer than ${MAX_FIELD_BYTES} bytes.`);
      const value = String(part.value);
      checkText(value);
      if (Object.hasOwn(fields, part.fieldname))
        throw new HttpProblem(400, 'field_repeated', 'A field was sent twice.', {
          extensions: { field: part.fieldname },
        });
      fields[part.fieldname] = value;
    }
  } catch (error) {
    throw multipartProblem(error, maxBytes) ?? error;
  }
  return { fields, file };
}

export async function registerFilesRoutes(
  root: FastifyInstance,
  services: FilesRouteServices,
): Promise<void> {
  const { files, runtime } = services;
  const maxBytes = largestUpload(runtime.config);
  await root.register(multipart, {
    limits: {
      fileSize: maxBytes,
      files: 1,
      fields: MAX_FIELDS,
      parts: MAX_FIELDS + 1,
      fieldSize: MAX_FIELD_BYTES,
      fieldNameSize: MAX_FIELD_NAME_BYTES,
      headerPairs: 20,
    },
    throwFileSizeLimit: true,
  });
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/files',
    {
      config: { access: UPLOADER, location: true, idempotency: 'optional' },
      schema: {
        tags,
        summary:
          'Upload a file: multipart/form-data with `purpose`, its subject fields, then one part `file`',
        description:
          'Purposes and their fields: restaurant_logo, restaurant_cover (restaurantId); menu_item_photo (restaurantId, itemId); driver_document (documentKind); delivery_photo, delivery_signature, order_packed_photo (orderId); support_attachment (no field). The type is decided by the bytes; images are re-encoded without metadata (docs/files.md).',
        consumes: ['multipart/form-data'],
        response: { 201: FileResponse, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller === undefined) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
      const form = await readForm(request, maxBytes);
      // What the Idempotency-Key is bound to: the fields and the file's bytes (by their digest).
      request.body = {
        fields: form.fields,
        fileSha256:
          form.file === undefined ? null : createHash('sha256').update(form.file.body).digest('hex'),
      };
      const answer = await withIdempotency(
        runtime.database.db,
        request,
        reply,
        { scope: `files:${caller.userId}` },
        async () => {
          const created = await files.upload(caller, form);
          reply.header('location', `/v1/files/${created.id}`);
          return { statusCode: 201, body: created };
        },
      );
      return answer as FileView;
    },
  );

  app.get(
    '/v1/files/:id',
    {
      config: { access: READER },
      schema: {
        tags,
        summary: 'A file: metadata, and its renditions’ URLs (signed and short-lived for private files)',
        params: FileParams,
        response: { 200: FileResponse, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return files.read(callerOf(request), request.params.id);
    },
  );

  app.delete(
    '/v1/files/:id',
    {
      config: {
        access: {
          permissions: ['ORDER_ACCEPTANCE', 'ORDER_PROCESSING', 'FULL_SYSTEM_ACCESS'],
          ownership: 'a private file: the driver it belongs to, its uploader, or an admin',
        },
      },
      schema: {
        tags,
        summary: 'Delete a private file now (a photo is replaced instead)',
        params: FileParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller === undefined) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
      await files.remove(caller, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/files/:id/:variant',
    {
      config: { access: { public: true } },
      schema: {
        tags,
        summary: 'A public photo rendition (`small.webp`, `large.jpg`, …): immutable, cacheable, ETag/304',
        params: Type.Object(
          {
            id: Type.String({ format: 'uuid' }),
            variant: Type.String({ pattern: '^(small|medium|large)\\.(webp|jpg)$' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown({ description: 'The image bytes' }), 304: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const rendition = await files.publicRendition(request.params.id, request.params.variant);
      const found = rendition === undefined ? null : await files.store.get(rendition.key);
      if (found === null) throw new HttpProblem(404, 'file_not_found', 'There is no such photo.');
      reply
        .header('etag', found.object.etag)
        .header('cache-control', `public, max-age=${PUBLIC_MAX_AGE_SECONDS}, immutable`);
      if (etagMatches(request.headers['if-none-match'], found.object.etag)) {
        found.body.destroy();
        return reply.code(304).send(null);
      }
      return reply
        .type(found.object.contentType)
        .header('content-length', found.object.byteSize)
        .send(found.body);
    },
  );

  const diskStore = services.diskStore;
  if (diskStore !== undefined) registerBlobRoute(root, diskStore);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

/** The disk store's signed URLs: the signature is the credential, checked before any read. */
function registerBlobRoute(root: FastifyInstance, store: DiskFileStore): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    `${BLOB_ROUTE_PREFIX}:purpose/:id/:variant`,
    {
      config: { access: { public: true, description: 'the signature in the URL is the credential' } },
      schema: {
        tags,
        summary: 'A private file’s bytes through a signed URL (from GET /v1/files/{id}); 403 once expired',
        params: Type.Object(
          {
            purpose: Type.String({ pattern: '^[a-z_]{1,40}$' }),
            id: Type.String({ format: 'uuid' }),
            variant: Type.String({ pattern: '^[a-z]{1,20}\\.[a-z]{2,4}$' }),
          },
          { additionalProperties: false },
        ),
        querystring: Type.Object(
          {
            expires: Type.Integer({ minimum: 0 }),
            sig: Type.String({ maxLength: 100 }),
            name: Type.Optional(Type.String({ maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown({ description: 'The file bytes' }), ...errors },
      },
    },
    async (
      request: FastifyRequest<{
        Params: { purpose: string; id: string; variant: string };
        Querystring: { expires: number; sig: string; name?: string };
      }>,
      reply: FastifyReply,
    ) => {
      // Keys are `<purpose>/<file id>/<rendition>.<ext>` (service.ts); the signature covers the whole key.
      const key = `${request.params.purpose}/${request.params.id}/${request.params.variant}`;
      const { expires, sig, name } = request.query;
      const verdict = store.verifyBlobSignature({
        key,
        expires,
        signature: sig,
        ...(name === undefined ? {} : { downloadName: name }),
      });
      if (verdict === 'expired')
        throw new HttpProblem(403, 'signed_url_expired', 'The link has expired; ask for the file again.');
      if (verdict === 'invalid')
        throw new HttpProblem(403, 'signed_url_invalid', 'The link is not one this API signed.');
      const found = await store.get(key);
      if (found === null) throw new HttpProblem(404, 'file_not_found', 'There is no such file.');
      return reply
        .type(found.object.contentType)
        .header('content-length', found.object.byteSize)
        .header('cache-control', 'private, no-store')
        .header('content-disposition', `attachment; filename="${name ?? key.split('/').pop()!}"`)
        .send(found.body);
    },
  );
}
