// Where the default policy pack (policies/ at the package root) is installed.
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export const defaultPolicyDir = (): string => join(packageRoot, 'policies');
