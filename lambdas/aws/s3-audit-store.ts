import { HeadObjectCommand, ListObjectsV2Command, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { auditKey, type AuditRecord } from '../core/audit-record.js';
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
}

/**
 * Layer 6 on S3. In AWS the bucket has Object Lock (COMPLIANCE) and the put is conditional
 * (`If-None-Match: *`). Local emulators accept both and enforce neither, so there the store
 * also refuses to write a key that exists (HEAD first): write-once holds locally by Seamwork's
 * own means, and the hash chain makes any edit detectable either way.
 */
export class S3AuditStore implements AuditStore {
  private readonly headBeforePut: boolean;

  constructor(private readonly bucket: string, options: S3AuditStoreOptions = {}) {
    this.headBeforePut = options.headBeforePut ?? Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  }

  async append(record: AuditRecord): Promise<void> {
    const key = auditKey(record);
    if (this.headBeforePut && (await this.exists(key))) {
      throw new AuditIntegrityError(`Audit record ${key} already exists; audit records are write-once.`);
    }
    try {
      await s3Client().send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json', IfNoneMatch: '*' }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412) throw new AuditIntegrityError(`Audit record ${key} already exists; audit records are write-once.`, { cause: err });
      throw new SeamworkError('AUDIT_WRITE_FAILED', `Could not write audit record ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }

  async listDecision(integration: string, decisionId: string): Promise<AuditRecord[]> {
    const prefix = `decisions/${integration}/${decisionId}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3Client().send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    keys.sort();
    return Promise.all(
      keys.map(async (Key) => {
        const res = await s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        return JSON.parse(await res.Body!.transformToString('utf8')) as AuditRecord;
      }),
    );
  }

  /** Lists decision ids of an integration (newest keys last). */
  async listDecisionIds(integration: string): Promise<string[]> {
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const page = await s3Client().send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `decisions/${integration}/`, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const id = o.Key?.split('/')[2];
        if (id) ids.add(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...ids].sort();
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await s3Client().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
      throw new SeamworkError('AUDIT_READ_FAILED', `Could not check audit record ${key}: ${(err as Error).message}`, true, { cause: err });
    }
  }
}
