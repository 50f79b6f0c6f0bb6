import { stringify } from 'yaml';

/**
 * Printing an object for `-o json|yaml`: JSON indented by two spaces, or YAML. Anything
 * else prints `text()`. Loaded with the commands, never by `skiff --help`.
 */
export async function printAs(format: string | undefined, value: unknown, text: () => string): Promise<void> {
  if (format === 'json') return void console.log(JSON.stringify(value, null, 2));
  if (format === 'yaml') {
    return void process.stdout.write(stringify(value));
  }
  console.log(text());
}
