// Placeholder until the validate handler lands; replaced in the next commits.
export const handler = async (): Promise<unknown> => {
  throw new Error('validate handler not implemented yet');
};
