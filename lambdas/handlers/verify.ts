// Placeholder until the verify handler lands; replaced in the next commits.
export const handler = async (): Promise<unknown> => {
  throw new Error('verify handler not implemented yet');
};
