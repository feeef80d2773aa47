import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SeamworkStack, type SeamworkStackProps } from '../../lib/cloud/seamwork-stack.js';

/** A Seamwork stack in an app that skips asset bundling: for tests about the template, not the bundle. */
export function synthSeamwork(props: SeamworkStackProps = {}): { app: App; stack: SeamworkStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new SeamworkStack(app, 'SeamworkTest', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The template logical id of a construct's default CloudFormation resource. */
export function logicalId(stack: SeamworkStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as never)) as string;
}
