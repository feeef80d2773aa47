import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { auditKey, type AuditRecord } from '../core/audit-record.js';
import type { AuditArchive, AuditObject, DeleteMarkerScan } from '../core/audit/archive.js';
import { keyOnce, sameRecord, withWriterMac, type AuditWriter } from '../core/audit/record-mac.js';
import { AuditIntegrityError, SeamworkError } from '../core/errors.js';
import type { AuditStore } from '../core/ports.js';
import { s3Client } from './clients.js';

/** Options of the S3 audit store. */
export interface S3AuditStoreOptions {
  /**
   * Check that a key does not exist (HEAD) before the conditional put. Needed where S3 is an
   * emulator that accepts `If-None-Match` and Object Lock but enforces neither; in AWS S3
   * enforces both, and the stages' role may then hold `s3:PutObject` alone.
   * @default true when AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) points at an emulator
   */
  headBeforePut?: boolean;
  /**
   * Seal every appended record with this writer's MAC (`writer` and `mac` on the stored object).
   * @default none: records are stored as sealed, without a MAC
   */
  writer?: AuditWriter;
  /**
   * Whether the bucket keeps versions (so deletes leave markers the verifier can list).
   * @default true unless AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) points at an emulator (fauxqs has no versioning)
   */
  versioned?: boolean;
}

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * Layer 6 on S3. In AWS the bucket has Object Lock (COMPLIANCE) and the put is conditional
 * (`If-None-Match: *`). Local emulators accept both and enforce neither, so there the store
 * also refuses to write a key that exists (HEAD first): write-once holds locally by Seamwork's
 * own means, and the hash chain makes any edit detectable either way. Re-appending the very same
 * record is not an overwrite: the stored copy is read back and compared, and `'exists'` returned.
 */
export class S3AuditStore implements AuditStore, AuditArchive {
  private readonly headBeforePut: boolean;
  private readonly versioned: boolean;
  private readonly writer?: { stage: string; key: () => Promise<Buffer> };

  constructor(private readonly bucket: string, options: S3AuditStoreOptions = {}) {
    const emulated = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
    this.headBeforePut = options.headBeforePut ?? emulated;
    this.versioned = options.versioned ?? !emulated;
    this.writer = options.writer && { stage: options.writer.stage, key: keyOnce(options.writer.key) };
  }

  async append(record: AuditRecord): Promise<void | 'exists'> {
    const key = auditKey(record);
    if (this.headBeforePut && (await this.exists(key))) return this.compareExisting(key, record);
    const body = await withWriterMac(record, key, this.writer);
    try {
      await s3Client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json', IfNoneMatch: '*' }));
    } catch (err) {
      if (statusOf(err) === 412) return this.compareExisting(key, record, err);
      throw new SeamworkError('AUDIT_WRITE_FAILED', `Could not write audit record ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }

  async listDecision(integration: string, decisionId: string): Promise<AuditRecord[]> {
    const keys: string[] = [];
    for await (const o of this.listObjects(`decisions/${integration}/${decisionId}/`)) keys.push(o.key);
    return Promise.all(keys.map(async (key) => (await this.readObject(key)) as AuditRecord));
  }

  /** Lists decision ids of an integration (newest keys last). */
  async listDecisionIds(integration: string): Promise<string[]> {
    const ids = new Set<string>();
    for await (const o of this.listObjects(`decisions/${integration}/`)) {
      const id = o.key.split('/')[2];
      if (id) ids.add(id);
    }
    return [...ids].sort();
  }

  async *listObjects(prefix: string): AsyncIterable<AuditObject> {
    let token: string | undefined;
    do {
      const page = await s3Client().send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, lastModified: o.LastModified ?? new Date(0) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async readObject(key: string): Promise<unknown> {
    try {
      const res = await s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await res.Body!.transformToString('utf8'));
    } catch (err) {
      throw new SeamworkError('AUDIT_READ_FAILED', `Could not read audit object ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }

  async writeOnce(key: string, body: unknown): Promise<void> {
    if (this.headBeforePut && (await this.exists(key))) throw new AuditIntegrityError(`Audit object ${key} already exists; audit objects are write-once.`);
    try {
      await s3Client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json', IfNoneMatch: '*' }));
    } catch (err) {
      if (statusOf(err) === 412) throw new AuditIntegrityError(`Audit object ${key} already exists; audit objects are write-once.`, { cause: err });
      throw new SeamworkError('AUDIT_WRITE_FAILED', `Could not write audit object ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }

  async deleteMarkers(prefixes: string[]): Promise<DeleteMarkerScan> {
    if (!this.versioned) return { supported: false, reason: 'the S3 endpoint is an emulator without versioning (fauxqs), so deletes leave no markers to list.' };
    const markers: Array<{ key: string; versionId?: string; at?: Date }> = [];
    for (const Prefix of prefixes) {
      let KeyMarker: string | undefined;
      let VersionIdMarker: string | undefined;
      do {
        const page = await s3Client().send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix, KeyMarker, VersionIdMarker }));
        for (const m of page.DeleteMarkers ?? []) if (m.Key) markers.push({ key: m.Key, versionId: m.VersionId, at: m.LastModified });
        KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
      } while (KeyMarker);
    }
    return { supported: true, markers };
  }

  // The key exists: the same record again (a stage re-appending what it committed) is fine, anything else is an overwrite.
  private async compareExisting(key: string, record: AuditRecord, cause?: unknown): Promise<'exists'> {
    let existing: AuditRecord;
    try {
      existing = (await this.readObject(key)) as AuditRecord;
    } catch (err) {
      throw new AuditIntegrityError(`Audit record ${key} already exists and could not be read back to compare (the writer needs s3:GetObject on its own records): ${(err as Error).message}`, { cause: err });
    }
    if (sameRecord(existing, record)) return 'exists';
    throw new AuditIntegrityError(`Audit record ${key} already exists with other content; audit records are write-once.`, { cause });
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await s3Client().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (statusOf(err) === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
      throw new SeamworkError('AUDIT_READ_FAILED', `Could not check audit record ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }
}
