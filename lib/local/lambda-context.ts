import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_REGION } from './emulators.js';

/** What a local invocation needs to look like a Lambda invocation to the handler. */
export interface LambdaContextOptions {
  functionName: string;
  /** Function timeout; `getRemainingTimeInMillis` counts down from it. */
  timeoutSeconds: number;
  /** @default 512 */
  memoryMb?: number;
}

/** A Lambda `Context` for one local invocation, with a fresh request id and a running deadline. */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is the callback-era API and is not supported locally; return a value instead`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

/** Thrown in place of a handler's result when it runs past its timeout, as Lambda reports it. */
export class LambdaTimedOut extends Error {
  constructor(functionName: string, timeoutSeconds: number) {
    super(`${functionName}: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'LambdaTimedOut';
  }
}

/**
 * Runs `invoke` and rejects with {@link LambdaTimedOut} if it outlasts the timeout, as Lambda
 * would. The handler's own promise keeps running (in-process there is no way to kill it);
 * `settled` resolves once it has, so a caller can wait for it before shutting down.
 */
export function invokeWithTimeout<T>(
  invoke: () => Promise<T> | T,
  functionName: string,
  timeoutSeconds: number,
): { result: Promise<T>; settled: Promise<void> } {
  const running = Promise.resolve().then(invoke);
  const settled = running.then(() => undefined, () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimedOut(functionName, timeoutSeconds)), timeoutSeconds * 1000);
  });
  const result = Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  return { result, settled };
}
