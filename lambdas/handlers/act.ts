// Placeholder until the act handler lands; replaced in the next commits.
export const handler = async (): Promise<unknown> => {
  throw new Error('act handler not implemented yet');
};
