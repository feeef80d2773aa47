/** One stored object of the audit bucket, as a listing shows it. */
export interface AuditObject {
  key: string;
  lastModified: Date;
}

/** Delete markers found under some prefixes, or why they could not be looked for. */
export type DeleteMarkerScan =
  | { supported: true; markers: Array<{ key: string; versionId?: string; at?: Date }> }
  | { supported: false; reason: string };

/**
 * The audit bucket as a whole, for the verifier and the checkpointer (not for stages, which only
 * append): list, read, write once, and look for delete markers. S3 and memory implement it.
 */
export interface AuditArchive {
  /** Every object under `prefix`, in key order. */
  listObjects(prefix: string): AsyncIterable<AuditObject>;
  /** The parsed JSON body of one object. */
  readObject(key: string): Promise<unknown>;
  /** Writes `body` as JSON at `key`; fails with AuditIntegrityError when the key exists. */
  writeOnce(key: string, body: unknown): Promise<void>;
  /** Delete markers under the prefixes (versioned buckets only). */
  deleteMarkers(prefixes: string[]): Promise<DeleteMarkerScan>;
}
