// Placeholder until the infer handler lands; replaced in the next commits.
export const handler = async (): Promise<unknown> => {
  throw new Error('infer handler not implemented yet');
};
