// Placeholder until the ingest handler lands; replaced in the next commits.
export const handler = async (): Promise<unknown> => {
  throw new Error('ingest handler not implemented yet');
};
