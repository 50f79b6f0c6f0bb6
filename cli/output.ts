/**
 * Printing an object for `-o json|yaml`: JSON indented by two spaces, or YAML. Anything
 * else prints `text()`. The YAML library is loaded only when asked for.
 */
export async function printAs(format: string | undefined, value: unknown, text: () => string): Promise<void> {
  if (format === 'json') return void console.log(JSON.stringify(value, null, 2));
  if (format === 'yaml') {
    const { stringify } = await yaml();
    return void process.stdout.write(stringify(value));
  }
  console.log(text());
}

/** The `yaml` package (CommonJS: its names sit on `default` when imported from a bundle). */
export async function yaml(): Promise<typeof import('yaml')> {
  const loaded = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  return loaded.default ?? loaded;
}
