export { stringify } from 'yaml';
